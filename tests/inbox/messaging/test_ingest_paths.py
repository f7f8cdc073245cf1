"""The one-statement path (PostgreSQL) and the transaction path store the same thing.

A known sender's text message takes the one-statement path on PostgreSQL; these
tests run on both databases, so each expectation is checked on both paths.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
import pytest
from tortoise import connections

from channels.base import WebhookRequest
from inbox.broker import Broker
from inbox.messaging.adapters import get_parser
from inbox.messaging.ingest import ingest_events, ingest_in_one_statement
from inbox.models import Contact, Conversation, Message, WebhookEvent
from inbox.models.base import utcnow
from inbox.settings import Settings
from inbox.tenancy import scoped
from tests.inbox.messaging.support import (
    Setup,
    count_rows,
    fixture_request,
    list_messages,
    messenger_request,
    post_fixture,
    telegram_request,
    twilio_request,
)
from tests.signing import load


def on_postgres() -> bool:
    return connections.get("default").capabilities.dialect == "postgres"


def parse(settings: Settings, setup: Setup, name: str) -> list:
    path, raw, headers = fixture_request(settings, setup, name)
    channel = {"twilio": setup.whatsapp, "telegram": setup.telegram}.get(
        name.split("/")[0], setup.messenger
    )
    return get_parser(settings, channel).parse(WebhookRequest(url="", headers=headers, body=raw))


async def test_a_known_senders_text_takes_the_one_statement_path_on_postgres(
    client: httpx.AsyncClient, settings: Settings, setup: Setup, broker: Broker
) -> None:
    first = parse(settings, setup, "telegram/message-text.json")
    assert await ingest_in_one_statement(broker, setup.workspace.id, setup.telegram, first) is None
    await ingest_events(setup.workspace, setup.telegram, first, broker)  # creates the contact

    update = load("telegram/message-text.json")
    update["message"]["message_id"] = 1300
    update["message"]["text"] = "Second message"
    path, raw, headers = telegram_request(setup.telegram, update)
    events = get_parser(settings, setup.telegram).parse(
        WebhookRequest(url="", headers=headers, body=raw)
    )
    quick = await ingest_in_one_statement(broker, setup.workspace.id, setup.telegram, events)
    if not on_postgres():
        assert quick is None
        return
    assert quick is not None
    [message_id] = quick.created
    stored = await scoped(Message, setup.workspace).get(id=message_id)
    assert (stored.text, stored.status, stored.direction) == (
        "Second message",
        "received",
        "inbound",
    )
    assert stored.provider_message_id == "5511223344:1300"
    again = await ingest_in_one_statement(broker, setup.workspace.id, setup.telegram, events)
    assert (again.created, again.duplicates) == ([], 1)
    conversation = await scoped(Conversation, setup.workspace).get()
    assert conversation.unread_count == 2
    assert conversation.last_message_preview == "Second message"


async def test_a_text_reopens_a_resolved_conversation_and_counts_as_unread(
    client: httpx.AsyncClient, settings: Settings, setup: Setup
) -> None:
    await post_fixture(client, settings, setup, "twilio/whatsapp-inbound-text.json")
    await scoped(Conversation, setup.workspace).update(
        status="resolved", unread_count=0, resolved_at=utcnow()
    )
    await post_fixture(client, settings, setup, "twilio/whatsapp-inbound-location.json")
    conversation = await scoped(Conversation, setup.workspace).get()
    assert (conversation.status, conversation.unread_count) == ("open", 1)
    assert conversation.resolved_at is None
    assert conversation.last_message_preview == "[location]"
    location = (await list_messages(setup.workspace))[-1]
    assert (location.kind, location.latitude, location.longitude) == (
        "location",
        40.748440,
        -73.985664,
    )


async def test_a_new_profile_name_of_a_known_sender_is_recorded(
    client: httpx.AsyncClient, settings: Settings, setup: Setup
) -> None:
    await post_fixture(client, settings, setup, "twilio/whatsapp-inbound-text.json")
    params = load("twilio/whatsapp-inbound-reply.json", CHANNEL_NUMBER="+15550100000")
    params["ProfileName"] = "Maria L."
    path, raw, headers = twilio_request(settings, setup.whatsapp, params)
    assert (await client.post(path, content=raw, headers=headers)).status_code == 200
    contact = await scoped(Contact, setup.workspace).get()
    assert contact.display_name == "Maria L."
    assert contact.profile["display_name"]["value"] == "Maria L."
    assert contact.profile["display_name"]["source"] == "twilio.webhook"
    assert (await count_rows(setup.workspace))["messages"] == 2


async def test_activity_time_moves_in_steps_of_a_minute(
    client: httpx.AsyncClient, settings: Settings, setup: Setup
) -> None:
    await post_fixture(client, settings, setup, "messenger/message-text.json")
    long_ago = utcnow() - timedelta(hours=3)
    await scoped(Contact, setup.workspace).update(last_activity_at=long_ago)
    await post_fixture(client, settings, setup, "messenger/postback.json")
    moved = (await scoped(Contact, setup.workspace).get()).last_activity_at
    assert moved > long_ago + timedelta(hours=2)
    await post_fixture(client, settings, setup, "messenger/batched.json")  # other senders
    recent = utcnow() - timedelta(seconds=10)
    await (
        scoped(Contact, setup.workspace)
        .filter(last_activity_at=moved)
        .update(last_activity_at=recent)
    )
    params = load("messenger/message-text.json", PAGE_ID="101234567890123")
    params["entry"][0]["messaging"][0]["message"]["mid"] = "m_another"
    path, raw, headers = messenger_request(setup.messenger, params)
    assert (await client.post(path, content=raw, headers=headers)).status_code == 200
    unchanged = await scoped(Contact, setup.workspace).filter(last_activity_at=recent).count()
    assert unchanged == 1


async def test_concurrent_messages_of_known_senders_are_all_stored_and_counted(
    client: httpx.AsyncClient, settings: Settings, setup: Setup
) -> None:
    """On PostgreSQL these share statements; a message the database refuses (a NUL
    character) fails alone and is kept for replay, the others are stored."""
    await post_fixture(client, settings, setup, "telegram/message-text.json")
    requests = []
    for number in range(6):
        update = load("telegram/message-text.json")
        update["update_id"] += 100 + number
        update["message"]["message_id"] += 100 + number
        update["message"]["text"] = f"burst {number}" if number != 3 else "bad \u0000 byte"
        requests.append(telegram_request(setup.telegram, update))
    responses = await asyncio.gather(
        *(client.post(path, content=raw, headers=headers) for path, raw, headers in requests)
    )
    assert [r.status_code for r in responses] == [200] * 6
    texts = {m.text for m in await list_messages(setup.workspace)}
    assert {f"burst {n}" for n in (0, 1, 2, 4, 5)} <= texts
    stored = len(texts) - 1  # the first message
    kept = await scoped(WebhookEvent, setup.workspace).count()
    assert stored + kept == 6
    if on_postgres():
        assert kept == 1  # PostgreSQL refuses NUL in text; SQLite stores it
    conversation = await scoped(Conversation, setup.workspace).get()
    assert conversation.unread_count == 1 + stored


async def test_one_statement_stores_twins_of_the_same_batch_once(
    settings: Settings, setup: Setup, broker: Broker
) -> None:
    if not on_postgres():
        pytest.skip("the one-statement path exists on PostgreSQL only")
    from inbox.messaging.ingest_postgres import Pending, run_statement

    [first] = parse(settings, setup, "messenger/message-text.json")
    await ingest_events(setup.workspace, setup.messenger, [first], broker)
    [twin] = parse(settings, setup, "messenger/postback.json")
    batch = [
        Pending(setup.workspace.id, setup.messenger, twin, "a"),
        Pending(setup.workspace.id, setup.messenger, twin, "b"),
        Pending(setup.workspace.id, setup.messenger, first, "c"),
    ]
    rows = await run_statement(batch)
    assert [rows[item.message_id].stored.stored for item in batch] == [True, False, False]
    assert (await count_rows(setup.workspace))["messages"] == 2
    conversation = await scoped(Conversation, setup.workspace).get()
    assert (conversation.unread_count, conversation.last_message_preview) == (2, "a")
