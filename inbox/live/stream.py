"""Server-sent events for one workspace, read from its Redis stream.

``XREAD BLOCK`` on the stream written by :func:`inbox.live.events.publish_event`
wakes every web process, whichever one published, and the stream's ids are the
SSE ``id:`` field, so a browser reconnecting with ``Last-Event-ID`` gets what it
missed (the stream keeps a few minutes of events). When nothing happens for
``heartbeat_seconds`` a comment line keeps proxies from closing the connection.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator

from inbox.broker import Broker
from inbox.live.events import stream_key
from inbox.tenancy import WorkspaceRef

HEARTBEAT_SECONDS = 15.0
RECONNECT_MILLISECONDS = 3000
READ_BATCH = 100
STREAM_ID = re.compile(r"^\d{1,20}-\d{1,20}$")


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def format_event(event_id: str, payload: str) -> str:
    """One SSE frame: ``event:`` is the type, ``data:`` the event's JSON."""
    decoded = json.loads(payload)
    data = json.dumps(decoded.get("data", {}), separators=(",", ":"))
    return f"id: {event_id}\nevent: {decoded.get('type', 'message')}\ndata: {data}\n\n"


async def latest_id(broker: Broker, key: str) -> str:
    """The id of the newest event, so a fresh stream starts after it."""
    newest = await broker.redis.xrevrange(key, count=1)
    return _text(newest[0][0]) if newest else "0-0"


async def stream_events(
    broker: Broker,
    workspace: WorkspaceRef,
    last_event_id: str | None = None,
    *,
    heartbeat_seconds: float = HEARTBEAT_SECONDS,
) -> AsyncIterator[str]:
    """Yield SSE frames for ``workspace`` until the consumer stops iterating."""
    key = stream_key(workspace)
    if last_event_id and STREAM_ID.match(last_event_id.strip()):
        cursor = last_event_id.strip()
    else:
        cursor = await latest_id(broker, key)
    yield f"retry: {RECONNECT_MILLISECONDS}\n\n"
    block_ms = max(1, int(heartbeat_seconds * 1000))
    while True:
        answer = await broker.redis.xread({key: cursor}, count=READ_BATCH, block=block_ms)
        if not answer:
            yield ": keep-alive\n\n"
            continue
        for _stream, entries in answer:
            for raw_id, fields in entries:
                cursor = _text(raw_id)
                payload = fields.get(b"payload") or fields.get("payload")
                if payload is not None:
                    yield format_event(cursor, _text(payload))
