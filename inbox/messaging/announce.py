"""Publishing the live events of one delivery in a single Redis round trip.

Same effect as :func:`inbox.live.events.publish_event` called once per event
(same stream, trim, expiry and pub/sub channel, same payload), but done by one
server-side script: a delivery's "message.created" and "conversation.updated"
cost one round trip instead of six, which matters on the webhook hot path.
"""

from __future__ import annotations

import json
from typing import Any

from inbox.broker import Broker
from inbox.live.events import (
    STREAM_MAX_LENGTH,
    STREAM_TTL_SECONDS,
    channel_key,
    check_event,
    stream_key,
)
from inbox.tenancy import WorkspaceRef

# KEYS: the stream, the pub/sub channel. ARGV: max length, TTL, then one payload
# per event; each is appended (approximate trim) and its id published, in order.
PUBLISH_SCRIPT = """
for index = 3, #ARGV do
  local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'payload', ARGV[index])
  redis.call('EXPIRE', KEYS[1], ARGV[2])
  redis.call('PUBLISH', KEYS[2], id)
end
return #ARGV - 2
"""


async def publish_events(
    broker: Broker | None, workspace: WorkspaceRef, events: list[tuple[str, dict[str, Any]]]
) -> None:
    """Record and announce ``events`` ((type, data) pairs, ids only) in order."""
    if broker is None or not events:
        return
    payloads = []
    for event_type, data in events:
        check_event(event_type, data)
        payloads.append(json.dumps({"type": event_type, "data": data}, default=str))
    # Registering only hashes the script; it is sent to Redis once (EVALSHA after).
    script = broker.redis.register_script(PUBLISH_SCRIPT)
    await script(
        keys=[stream_key(workspace), channel_key(workspace)],
        args=[STREAM_MAX_LENGTH, STREAM_TTL_SECONDS, *payloads],
    )
