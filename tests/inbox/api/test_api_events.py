"""Live events over real HTTP, across two web processes sharing Redis."""

from __future__ import annotations

import asyncio
import json
from contextlib import asynccontextmanager

import httpx
import pytest

from channels.fake import serve_on_loopback
from inbox.app import create_app
from inbox.broker import connect_broker
from inbox.live.events import build_message_event, publish_event
from inbox.live.stream import stream_events
from inbox.runtime import Runtime
from tests.inbox.api.seed import seed_world

READ_TIMEOUT = 10


@asynccontextmanager
async def web_process(settings):
    """Another app instance with its own Redis connection: a second web process."""
    broker = await connect_broker(settings)
    app = create_app(settings, with_worker=False)
    app.state.runtime = Runtime(settings=settings, broker=broker)
    try:
        async with serve_on_loopback(app) as base:
            yield base
    finally:
        await broker.close()


async def read_events(answer: httpx.Response, count: int) -> list[dict[str, str]]:
    """The next ``count`` events (comments and retry lines skipped)."""
    events: list[dict[str, str]] = []
    current: dict[str, str] = {}
    async with asyncio.timeout(READ_TIMEOUT):
        async for line in answer.aiter_lines():
            if not line:
                if "event" in current:
                    events.append(current)
                    if len(events) == count:
                        return events
                current = {}
                continue
            if line.startswith(":"):
                continue
            name, _, value = line.partition(": ")
            current[name] = value
    return events


async def blocked_readers(broker) -> int:
    clients = await broker.redis.client_list()
    return sum(1 for c in clients if c.get("cmd") == "xread")


@pytest.fixture
async def world(settings, db):
    return await seed_world(settings, "alpha")


async def test_an_event_from_one_process_reaches_a_stream_of_another(
    settings, world, client, broker
):
    url = f"/api/v1/conversations/{world.conversation.id}"
    async with web_process(settings) as other, httpx.AsyncClient(base_url=other) as http:
        async with http.stream("GET", "/api/v1/events", headers=world.agent.headers) as answer:
            assert answer.status_code == 200
            assert answer.headers["content-type"].startswith("text/event-stream")
            # Wait until the stream is reading, then act through the first process.
            async with asyncio.timeout(READ_TIMEOUT):
                while await blocked_readers(broker) == 0:  # noqa: ASYNC110 - polling Redis
                    await asyncio.sleep(0.02)
            patched = await client.patch(url, json={"status": "pending"},
                                         headers=world.admin.headers)
            assert patched.status_code == 200
            [event] = await read_events(answer, 1)
        assert event["event"] == "conversation.updated"
        assert json.loads(event["data"]) == {"conversation_id": str(world.conversation.id)}
        first_id = event["id"]

        # Missed while disconnected: replayed from Last-Event-ID.
        await client.post(f"{url}/notes", json={"text": "a"}, headers=world.admin.headers)
        await publish_event(broker, world.workspace, "message.created",
                            build_message_event(world.conversation.id, world.message.id,
                                                "received"))
        headers = world.agent.headers | {"Last-Event-ID": first_id}
        async with http.stream("GET", "/api/v1/events", headers=headers) as answer:
            replayed = await read_events(answer, 2)
        assert [e["event"] for e in replayed] == ["conversation.updated", "message.created"]
        assert first_id not in {e["id"] for e in replayed}

        # The server stops reading once the client has gone.
        async with asyncio.timeout(READ_TIMEOUT):
            while await blocked_readers(broker):  # noqa: ASYNC110 - polling Redis
                await asyncio.sleep(0.05)


async def test_streams_require_a_member(settings, world):
    async with web_process(settings) as other, httpx.AsyncClient(base_url=other) as http:
        answer = await http.get("/api/v1/events")
        assert answer.status_code == 401


async def test_heartbeats_when_idle(settings, world, broker):
    frames = stream_events(broker, world.workspace, heartbeat_seconds=0.05)
    try:
        assert (await anext(frames)).startswith("retry: ")
        assert await anext(frames) == ": keep-alive\n\n"
    finally:
        await frames.aclose()


async def test_a_malformed_last_event_id_starts_from_now(settings, world, broker):
    await publish_event(broker, world.workspace, "message.created",
                        build_message_event(world.conversation.id, "old", "received"))
    frames = stream_events(broker, world.workspace, "not-an-id", heartbeat_seconds=0.05)
    try:
        await anext(frames)
        assert await anext(frames) == ": keep-alive\n\n"  # the old event is not replayed
        new_id = await publish_event(broker, world.workspace, "message.created",
                                     build_message_event(world.conversation.id, "new", "received"))
        frame = await anext(frames)
        while frame.startswith(":"):
            frame = await anext(frames)
        assert frame.startswith(f"id: {new_id}\nevent: message.created\n")
        assert '"message_id":"new"' in frame
    finally:
        await frames.aclose()
