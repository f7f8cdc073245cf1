"""Every live event has the one payload shape of its type, whoever publishes it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from inbox.broker import Broker
from inbox.conversations.service import ConversationChanges, update_conversation
from inbox.live.events import (
    EVENT_FIELDS,
    WATERMARK_EVENTS_MAX,
    build_conversation_event,
    build_message_event,
    publish_event,
    stream_key,
)
from inbox.models import Conversation, Message
from inbox.settings import Settings
from inbox.tenancy import scoped
from tests.inbox.messaging.support import MARIA, PSID, Setup, post_fixture, seed_outbound

SENT_SID = "SMe2caa8aceff37ee8555ee797657f79f8"  # the sid of twilio/whatsapp-status-*.json
# delivery.json and read.json carry this watermark (ms since the epoch).
WATERMARK = datetime.fromtimestamp(1795169039000 / 1000, UTC)


async def published(broker: Broker, setup: Setup) -> list[dict[str, Any]]:
    entries = await broker.redis.xrange(stream_key(setup.workspace))
    return [json.loads(fields[b"payload"]) for _, fields in entries]


def assert_shapes(events: list[dict[str, Any]]) -> None:
    for event in events:
        assert set(event["data"]) == EVENT_FIELDS[event["type"]], event


async def test_a_payload_of_another_shape_is_refused(setup: Setup, broker: Broker) -> None:
    with pytest.raises(ValueError, match="carries exactly"):
        await publish_event(broker, setup.workspace, "conversation.updated",
                            {"id": "x", "conversation_id": "y"})
    with pytest.raises(ValueError, match="unknown"):
        await publish_event(broker, setup.workspace, "message.deleted",
                            build_conversation_event("y"))
    assert await published(broker, setup) == []
    assert build_message_event("c", "m", "sent") == {
        "conversation_id": "c", "message_id": "m", "status": "sent"
    }


async def test_a_status_callback_names_the_message_its_conversation_and_status(
    client: httpx.AsyncClient, settings: Settings, setup: Setup, broker: Broker
) -> None:
    ours = await seed_outbound(setup, setup.whatsapp, MARIA, SENT_SID, status="queued")
    answer = await post_fixture(client, settings, setup, "twilio/whatsapp-status-delivered.json")
    assert answer.status_code == 200, answer.text
    events = await published(broker, setup)
    assert events == [{
        "type": "message.updated",
        "data": build_message_event(ours.conversation_id, ours.id, "delivered"),
    }]


@pytest.mark.parametrize(("name", "status"), [("delivery", "delivered"), ("read", "read")])
async def test_a_watermark_announces_each_message_it_moved(
    client: httpx.AsyncClient, settings: Settings, setup: Setup, broker: Broker,
    name: str, status: str,
) -> None:
    earlier = await seed_outbound(setup, setup.messenger, PSID, "m_earlier",
                                  sent_at=WATERMARK - timedelta(minutes=5))
    latest = await seed_outbound(setup, setup.messenger, PSID, "m_latest",
                                 sent_at=WATERMARK - timedelta(minutes=1))
    await seed_outbound(setup, setup.messenger, PSID, "m_after",
                        sent_at=WATERMARK + timedelta(days=1))
    await seed_outbound(setup, setup.messenger, PSID, "m_failed", status="failed",
                        sent_at=WATERMARK - timedelta(minutes=2))
    answer = await post_fixture(client, settings, setup, f"messenger/{name}.json")
    assert answer.status_code == 200, answer.text
    events = await published(broker, setup)
    assert events == [
        {"type": "message.updated",
         "data": build_message_event(message.conversation_id, message.id, status)}
        for message in (latest, earlier)  # newest first
    ]
    # A repeated receipt moves nothing and announces nothing.
    await post_fixture(client, settings, setup, f"messenger/{name}.json")
    assert len(await published(broker, setup)) == len(events)


async def test_a_watermark_over_a_long_conversation_announces_the_newest_only(
    client: httpx.AsyncClient, settings: Settings, setup: Setup, broker: Broker
) -> None:
    total = WATERMARK_EVENTS_MAX + 5
    seeded = [
        await seed_outbound(setup, setup.messenger, PSID, f"m_{index}",
                            sent_at=WATERMARK - timedelta(minutes=total - index))
        for index in range(total)
    ]
    answer = await post_fixture(client, settings, setup, "messenger/read.json")
    assert answer.status_code == 200, answer.text
    moved = await scoped(Message, setup.workspace).filter(status="read").count()
    assert moved == total
    events = await published(broker, setup)
    assert len(events) == WATERMARK_EVENTS_MAX
    newest = {str(m.id) for m in seeded[-WATERMARK_EVENTS_MAX:]}
    assert {event["data"]["message_id"] for event in events} == newest


async def test_inbound_messages_edits_and_agent_changes_use_the_same_shapes(
    client: httpx.AsyncClient, settings: Settings, setup: Setup, broker: Broker
) -> None:
    # The second WhatsApp message comes from a known sender: on PostgreSQL, the
    # one-statement path stores it.
    for name in ("telegram/message-text.json", "telegram/edited-message.json",
                 "twilio/whatsapp-inbound-text.json", "twilio/whatsapp-inbound-reply.json"):
        assert (await post_fixture(client, settings, setup, name)).status_code == 200
    conversation = await scoped(Conversation, setup.workspace).filter(
        channel_id=setup.telegram.id).get()
    await update_conversation(broker, setup.workspace, conversation.id,
                              ConversationChanges(status="pending"))
    events = await published(broker, setup)
    assert_shapes(events)
    assert [event["type"] for event in events] == [
        "message.created", "conversation.updated", "message.updated",
        "message.created", "conversation.updated",
        "message.created", "conversation.updated",
        "conversation.updated",
    ]
    assert events[-1]["data"] == build_conversation_event(conversation.id)
    messages = [event["data"] for event in events if event["type"].startswith("message.")]
    assert {data["status"] for data in messages} == {"received"}
    stored = {str(m.id) for m in await scoped(Message, setup.workspace)}
    assert {data["message_id"] for data in messages} == stored
