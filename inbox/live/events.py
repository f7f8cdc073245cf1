"""Live events for the web inbox, fanned out through Redis.

Each event is appended to the workspace's Redis stream (trimmed to a few
minutes' worth, so a reconnecting browser can replay what it missed with
``Last-Event-ID``) and its id published on the workspace's channel, so any
number of web processes wake up their server-sent-event streams.

One payload shape per event type, built only by the functions below (ids and
statuses only: never text, names, numbers or addresses; clients fetch content
through the API):

``message.created`` ``{"conversation_id", "message_id", "status"}``
    A message was stored: inbound, a reply queued by an agent, an echo; a
    ``conversation.updated`` for its conversation follows. ``status`` is the
    message's delivery status (``received`` for the contact's messages).
``message.updated`` ``{"conversation_id", "message_id", "status"}``
    A stored message changed: its delivery status moved (a status callback, a
    send, a failure; a read or delivery watermark publishes one event per
    message it moved, the newest first, at most ``WATERMARK_EVENTS_MAX``), an
    attachment finished downloading, or the contact edited it.
``conversation.updated`` ``{"conversation_id"}``
    Something a list item or the thread header shows changed: status, assignee,
    tags, unread count, last message. The new values are not in the event: the
    fast ingest path moves them in one statement without reading them back, and
    a client must fetch the conversation anyway to know whether it still
    matches its filters.
"""

from __future__ import annotations

import json
from typing import Any

from inbox.broker import Broker
from inbox.tenancy import WorkspaceRef, workspace_id_of

MESSAGE_FIELDS = frozenset({"conversation_id", "message_id", "status"})
CONVERSATION_FIELDS = frozenset({"conversation_id"})
EVENT_FIELDS: dict[str, frozenset[str]] = {
    "message.created": MESSAGE_FIELDS,
    "message.updated": MESSAGE_FIELDS,
    "conversation.updated": CONVERSATION_FIELDS,
}
EVENT_TYPES = frozenset(EVENT_FIELDS)
STREAM_MAX_LENGTH = 5000  # events kept per workspace for Last-Event-ID replay
STREAM_TTL_SECONDS = 600
# A watermark can move a long conversation at once; the page shows the latest
# messages only, so the newest this many get their own message.updated.
WATERMARK_EVENTS_MAX = 50


def build_message_event(
    conversation_id: object, message_id: object, status: str
) -> dict[str, str]:
    """The data of ``message.created`` and ``message.updated``."""
    return {
        "conversation_id": str(conversation_id),
        "message_id": str(message_id),
        "status": str(status),
    }


def build_conversation_event(conversation_id: object) -> dict[str, str]:
    """The data of ``conversation.updated``."""
    return {"conversation_id": str(conversation_id)}


def check_event(event_type: str, data: dict[str, Any]) -> None:
    """Raise ValueError unless ``data`` has the one shape of ``event_type``."""
    fields = EVENT_FIELDS.get(event_type)
    if fields is None:
        raise ValueError(f"unknown live event type {event_type}")
    if set(data) != fields:
        raise ValueError(f"{event_type} carries exactly {sorted(fields)}")


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
    check_event(event_type, data)
    payload = json.dumps({"type": event_type, "data": data}, default=str)
    key = stream_key(workspace)
    event_id = await broker.redis.xadd(
        key, {"payload": payload}, maxlen=STREAM_MAX_LENGTH, approximate=True
    )
    await broker.redis.expire(key, STREAM_TTL_SECONDS)
    event_id = event_id.decode() if isinstance(event_id, bytes) else str(event_id)
    await broker.redis.publish(channel_key(workspace), event_id)
    return event_id
