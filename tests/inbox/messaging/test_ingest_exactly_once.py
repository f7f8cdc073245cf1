"""Exactly once: repeated and concurrent deliveries, kept failures and their replay."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from tortoise import connections

from channels.base import WebhookRequest
from inbox.broker import Broker
from inbox.messaging.adapters import get_parser
from inbox.messaging.ingest import ingest_events
from inbox.messaging.receive import replay_webhook_events
from inbox.models import Contact, Conversation, Message, WebhookEvent
from inbox.settings import Settings
from inbox.tenancy import scoped
from tests.inbox.messaging.support import (
    Setup,
    count_rows,
    fixture_request,
    list_messages,
    post_fixture,
    telegram_request,
    twilio_request,
)
from tests.signing import load
from workers.messaging import replay_kept_webhooks

ONE_PER_PROVIDER = [
    "twilio/whatsapp-inbound-text.json",
    "telegram/message-text.json",
    "messenger/message-text.json",
]
DELIVERIES = 3


@pytest.mark.parametrize("name", ONE_PER_PROVIDER)
async def test_the_same_payload_three_times_at_once_stores_one_message(
    client: httpx.AsyncClient, settings: Settings, setup: Setup, name: str
) -> None:
    path, raw, headers = fixture_request(settings, setup, name)
    responses = await asyncio.gather(
        *(client.post(path, content=raw, headers=headers) for _ in range(DELIVERIES))
    )
    assert [r.status_code for r in responses] == [200] * DELIVERIES
    assert await count_rows(setup.workspace) == {
        "contacts": 1,
        "identities": 1,
        "conversations": 1,
        "messages": 1,
    }
    conversation = await scoped(Conversation, setup.workspace).get()
    assert conversation.unread_count == 1
    assert await scoped(WebhookEvent, setup.workspace).count() == 0


async def test_three_deliveries_of_one_event_list_through_the_domain_store_one_message(
    settings: Settings, setup: Setup, broker: Broker
) -> None:
    path, raw, headers = fixture_request(settings, setup, "messenger/batched.json")
    events = get_parser(settings, setup.messenger).parse(
        WebhookRequest(url="", headers=headers, body=raw)
    )
    results = await asyncio.gather(
        *(
            ingest_events(setup.workspace, setup.messenger, events, broker)
            for _ in range(DELIVERIES)
        )
    )
    assert sorted(len(result.created) for result in results) == [0, 0, 3]
    assert sum(result.duplicates for result in results) == 6
    assert await count_rows(setup.workspace) == {
        "contacts": 2,
        "identities": 2,
        "conversations": 2,
        "messages": 3,
    }


async def test_a_new_sender_writing_three_messages_at_once_gets_one_contact(
    client: httpx.AsyncClient, setup: Setup
) -> None:
    requests = []
    for number in range(DELIVERIES):
        update = load("telegram/message-text.json")
        update["update_id"] += number
        update["message"]["message_id"] += number
        update["message"]["text"] = f"message {number}"
        requests.append(telegram_request(setup.telegram, update))
    responses = await asyncio.gather(
        *(client.post(path, content=raw, headers=headers) for path, raw, headers in requests)
    )
    assert [r.status_code for r in responses] == [200] * DELIVERIES
    assert await count_rows(setup.workspace) == {
        "contacts": 1,
        "identities": 1,
        "conversations": 1,
        "messages": 3,
    }
    assert (await scoped(Conversation, setup.workspace).get()).unread_count == DELIVERIES


async def test_a_later_redelivery_stores_nothing_and_keeps_the_counters(
    client: httpx.AsyncClient, settings: Settings, setup: Setup
) -> None:
    await post_fixture(client, settings, setup, "twilio/whatsapp-inbound-text.json")
    await scoped(Conversation, setup.workspace).update(unread_count=0)
    response = await post_fixture(client, settings, setup, "twilio/whatsapp-inbound-text.json")
    assert response.status_code == 200
    assert (await scoped(Conversation, setup.workspace).get()).unread_count == 0
    assert (await count_rows(setup.workspace))["messages"] == 1


@asynccontextmanager
async def refusing_message_inserts() -> AsyncIterator[None]:
    """A database trigger that refuses every new message: a processing failure
    that has nothing to do with the payload, and that an operator can fix."""
    connection = connections.get("default")
    postgres = connection.capabilities.dialect == "postgres"
    if postgres:
        await connection.execute_script(
            "CREATE FUNCTION refuse_message() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$;"
            "CREATE TRIGGER refuse_message BEFORE INSERT ON message "
            "FOR EACH ROW EXECUTE FUNCTION refuse_message();"
        )
    else:
        await connection.execute_script(
            "CREATE TRIGGER refuse_message BEFORE INSERT ON message "
            "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END;"
        )
    try:
        yield
    finally:
        await connection.execute_script(
            "DROP TRIGGER refuse_message ON message; DROP FUNCTION refuse_message();"
            if postgres
            else "DROP TRIGGER refuse_message;"
        )


async def test_a_processing_failure_is_kept_answered_200_and_replayed_later(
    client: httpx.AsyncClient, settings: Settings, setup: Setup, broker: Broker
) -> None:
    name = "messenger/batched.json"
    path, raw, headers = fixture_request(settings, setup, name)
    async with refusing_message_inserts():
        response = await client.post(path, content=raw, headers=headers)
        assert response.status_code == 200
        assert response.text == "EVENT_RECEIVED"
        # Nothing half-written: the delivery's transaction was rolled back whole.
        assert await count_rows(setup.workspace) == {
            "contacts": 0,
            "identities": 0,
            "conversations": 0,
            "messages": 0,
        }
        [kept] = await scoped(WebhookEvent, setup.workspace)
        assert (kept.route, kept.channel_id, kept.processed_at) == (
            "messenger",
            setup.messenger.id,
            None,
        )
        assert bytes(kept.body) == raw
        assert kept.content_type == "application/json"
        assert kept.error in ("IntegrityError", "RaiseError")
        # While the cause is still there, a replay counts an attempt and keeps it.
        outcome = await replay_webhook_events(setup.workspace, settings, broker)
        assert (outcome.replayed, outcome.failed) == (0, 1)
        assert (await scoped(WebhookEvent, setup.workspace).get()).attempts == 2

    replayed = await replay_kept_webhooks({"settings": settings, "broker": broker, "job_try": 1})
    assert replayed == 1
    assert [m.text for m in await list_messages(setup.workspace)] == [
        "Hi, I have a question about my order",
        "It's order #2210",
        "Are you open on Sunday?",
    ]
    assert (await scoped(WebhookEvent, setup.workspace).get()).processed_at is not None
    # Replaying again stores nothing more; a provider retry of the same body neither.
    assert (await replay_webhook_events(setup.workspace, settings, broker)).replayed == 0
    assert (await client.post(path, content=raw, headers=headers)).status_code == 200
    assert (await count_rows(setup.workspace))["messages"] == 3


async def test_live_events_are_published_after_commit(
    client: httpx.AsyncClient, settings: Settings, setup: Setup, broker: Broker
) -> None:
    await post_fixture(client, settings, setup, "telegram/message-text.json")
    await post_fixture(client, settings, setup, "telegram/edited-message.json")
    entries = await broker.redis.xrange(f"inbox:events:{setup.workspace.id}")
    published = [json.loads(fields[b"payload"]) for _, fields in entries]
    message = await scoped(Message, setup.workspace).get()
    assert [event["type"] for event in published] == [
        "message.created",
        "conversation.updated",
        "message.updated",
    ]
    assert published[0]["data"] == {
        "conversation_id": str(message.conversation_id),
        "message_id": str(message.id),
        "status": "received",
    }
    assert published[1]["data"] == {"conversation_id": str(message.conversation_id)}
    assert published[2]["data"] == published[0]["data"]  # the edit: same message, same status
    assert "text" not in json.dumps(published)


async def test_an_agent_edited_profile_field_is_not_overwritten_by_the_provider(
    client: httpx.AsyncClient, settings: Settings, setup: Setup
) -> None:
    await post_fixture(client, settings, setup, "twilio/whatsapp-inbound-text.json")
    contact = await scoped(Contact, setup.workspace).get()
    profile = dict(contact.profile)
    profile["display_name"] = {"value": "Maria L. (VIP)", "source": "agent", "fetched_at": None}
    await (
        scoped(Contact, setup.workspace)
        .filter(id=contact.id)
        .update(display_name="Maria L. (VIP)", profile=profile)
    )
    params = load("twilio/whatsapp-inbound-image.json", CHANNEL_NUMBER="+15550100000")
    params["ProfileName"] = "Maria"
    path, raw, headers = twilio_request(settings, setup.whatsapp, params)
    assert (await client.post(path, content=raw, headers=headers)).status_code == 200
    contact = await scoped(Contact, setup.workspace).get()
    assert contact.display_name == "Maria L. (VIP)"
    assert contact.profile["display_name"]["source"] == "agent"
    assert contact.profile["phone"]["value"] == "+15555550123"


async def test_a_resolved_conversation_reopens_on_a_new_inbound_message(
    client: httpx.AsyncClient, settings: Settings, setup: Setup
) -> None:
    await post_fixture(client, settings, setup, "messenger/message-text.json")
    await scoped(Conversation, setup.workspace).update(status="resolved", unread_count=0)
    await post_fixture(client, settings, setup, "messenger/message-attachment-image.json")
    conversation = await scoped(Conversation, setup.workspace).get()
    assert (conversation.status, conversation.unread_count) == ("open", 1)
    assert conversation.last_message_preview == "[image]"
