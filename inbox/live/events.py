"""Live events for the web inbox, fanned out through Redis.

Each event is appended to the workspace's Redis stream (trimmed to a few
minutes' worth, so a reconnecting browser can replay what it missed with
``Last-Event-ID``) and its id published on the workspace's channel, so any
number of web processes wake up their server-sent-event streams.
Payloads carry ids and statuses only; browsers fetch content through the API.
"""

from __future__ import annotations

import json
from typing import Any

from inbox.broker import Broker
from inbox.tenancy import WorkspaceRef, workspace_id_of

EVENT_TYPES = frozenset({"message.created", "message.updated", "conversation.updated"})
STREAM_MAX_LENGTH = 5000  # events kept per workspace for Last-Event-ID replay
STREAM_TTL_SECONDS = 600


def stream_key(workspace: WorkspaceRef) -> str:
    return f"inbox:events:{workspace_id_of(workspace)}"


def channel_key(workspace: WorkspaceRef) -> str:
    return f"inbox:live:{workspace_id_of(workspace)}"


async def publish_event(
    broker: Broker | None, workspace: WorkspaceRef, event_type: str, data: dict[str, Any]
) -> str | None:
    """Record and announce one event; returns its id (the SSE ``id:`` field)."""
    if broker is None:
        return None
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown live event type {event_type}")
    payload = json.dumps({"type": event_type, "data": data}, default=str)
    key = stream_key(workspace)
    event_id = await broker.redis.xadd(
        key, {"payload": payload}, maxlen=STREAM_MAX_LENGTH, approximate=True
    )
    await broker.redis.expire(key, STREAM_TTL_SECONDS)
    event_id = event_id.decode() if isinstance(event_id, bytes) else str(event_id)
    await broker.redis.publish(channel_key(workspace), event_id)
    return event_id
