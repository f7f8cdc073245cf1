"""Live updates: server-sent events for the caller's workspace."""

from __future__ import annotations

from starlette.responses import StreamingResponse

from inbox.api.routing import Call, api_route
from inbox.live.stream import stream_events

LAST_EVENT_ID_HEADER = "last-event-id"


async def events(call: Call) -> StreamingResponse:
    last_event_id = call.request.headers.get(LAST_EVENT_ID_HEADER)
    return StreamingResponse(
        stream_events(call.broker, call.workspace, last_event_id),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


routes = [
    api_route("/events", events, method="GET", tag="events", stream="text/event-stream",
              summary="Server-sent events: message.created, message.updated, "
                      "conversation.updated (Last-Event-ID replays recent ones)"),
]
