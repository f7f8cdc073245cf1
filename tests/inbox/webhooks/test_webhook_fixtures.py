"""Every provider fixture through the real HTTP endpoint, with real signatures,
checked against the expectations of the fixtures README."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from inbox.broker import Broker
from inbox.models import Attachment, Contact, ContactIdentity, Conversation, Message
from inbox.settings import Settings
from inbox.tenancy import scoped
from tests.inbox.messaging.support import (
    ANA,
    MARIA,
    PSID,
    Setup,
    count_rows,
    list_messages,
    post_fixture,
    seed_outbound,
)
from tests.signing import FIXTURES_DIR

ALL_FIXTURES = sorted(
    f"{path.parent.name}/{path.name}"
    for provider in ("twilio", "telegram", "messenger")
    for path in (FIXTURES_DIR / provider).glob("*.json")
)
SENT_SID = "SMe2caa8aceff37ee8555ee797657f79f8"
FAILED_SID = "SMd55e68f10ff9e0ccedd8ebed4568ef3a"
DELIVERED_MID = (
    "m_9iQHqdEACfbw2kBJQyrwBi84kWgEX3O97BW5fUfOKU2_qHG7tw5opnwCe0Ocfnv_bBoFO_D_ob3tFgGa6GILcw"
)
ECHO_MID = (
    "m_lC1gSDyqeB32N39klw_8l9xSltGuXTggUB8QMJE2Yssy2cJsrryCtFSSssOL-CDyzPNl7d6p8os3MVqD-xTYeQ"
)
# delivery.json and read.json carry this watermark (ms since the epoch).
WATERMARK = datetime.fromtimestamp(1795169039000 / 1000, UTC)


async def post_ok(client: httpx.AsyncClient, settings: Settings, setup: Setup, name: str):
    response = await post_fixture(client, settings, setup, name)
    assert response.status_code == 200, response.text
    return response


async def job_exists(broker: Broker, job_id: str) -> bool:
    return bool(await broker.redis.exists(f"arq:job:{job_id}"))


def test_every_fixture_is_covered() -> None:
    assert len(ALL_FIXTURES) == 22
    assert all(Path(FIXTURES_DIR / name).exists() for name in ALL_FIXTURES)


@pytest.mark.parametrize("name", ALL_FIXTURES)
async def test_every_fixture_twice_stores_nothing_new_the_second_time(
    client: httpx.AsyncClient, settings: Settings, setup: Setup, name: str
) -> None:
    await seed_outbound(setup, setup.whatsapp, MARIA, SENT_SID, status="queued")
    await seed_outbound(setup, setup.whatsapp, MARIA, FAILED_SID, status="sent")
    await seed_outbound(setup, setup.messenger, PSID, DELIVERED_MID, sent_at=WATERMARK)
    if name == "telegram/edited-message.json":
        await post_ok(client, settings, setup, "telegram/message-text.json")
    await post_ok(client, settings, setup, name)
    counts = await count_rows(setup.workspace)
    snapshot = [(m.id, m.text, m.status, m.edited_at) for m in await list_messages(setup.workspace)]
    await post_ok(client, settings, setup, name)
    assert await count_rows(setup.workspace) == counts
    assert [
        (m.id, m.text, m.status, m.edited_at) for m in await list_messages(setup.workspace)
    ] == snapshot


# ----------------------------------------------------------------------- Twilio
async def test_twilio_inbound_text_creates_contact_conversation_and_message(
    client: httpx.AsyncClient, settings: Settings, setup: Setup, broker: Broker
) -> None:
    response = await post_ok(client, settings, setup, "twilio/whatsapp-inbound-text.json")
    assert response.headers["content-type"].startswith("text/xml")
    assert response.text.endswith("<Response/>")

    assert await count_rows(setup.workspace) == {
        "contacts": 1,
        "identities": 1,
        "conversations": 1,
        "messages": 1,
    }
    contact = await scoped(Contact, setup.workspace).get()
    assert (contact.display_name, contact.phone) == ("Maria Lopez", "+15555550123")
    assert contact.profile["display_name"]["value"] == "Maria Lopez"
    assert contact.profile["display_name"]["source"] == "twilio.webhook"
    assert contact.last_activity_at is not None
    identity = await scoped(ContactIdentity, setup.workspace).get()
    assert (identity.channel_id, identity.provider_user_id) == (setup.whatsapp.id, MARIA)
    [message] = await list_messages(setup.workspace)
    assert message.provider_message_id == "SM342ec3d12900c089b9522607fffe816c"
    assert (message.direction, message.kind, message.status) == ("inbound", "text", "received")
    assert message.text == "Hi! Has my order #1042 shipped yet?"
    conversation = await scoped(Conversation, setup.workspace).get()
    assert (conversation.status, conversation.unread_count) == ("open", 1)
    assert conversation.last_inbound_at is not None
    assert conversation.last_message_preview == message.text
    assert await job_exists(broker, f"enrich:{contact.id}")


async def test_twilio_image_location_and_reply_join_the_same_conversation(
    client: httpx.AsyncClient, settings: Settings, setup: Setup, broker: Broker
) -> None:
    ours = await seed_outbound(setup, setup.whatsapp, MARIA, SENT_SID)
    for name in ("text", "image", "location", "reply"):
        await post_ok(client, settings, setup, f"twilio/whatsapp-inbound-{name}.json")

    counts = await count_rows(setup.workspace)
    assert (counts["contacts"], counts["conversations"], counts["messages"]) == (1, 1, 5)
    inbound = await list_messages(setup.workspace, direction="inbound")
    assert [m.kind for m in inbound] == ["text", "image", "location", "text"]
    image, location, reply = inbound[1:]
    assert image.text == "The box arrived damaged"
    [attachment] = await scoped(Attachment, setup.workspace).filter(message_id=image.id)
    assert attachment.media_type == "image/jpeg"
    assert attachment.source_url.endswith("/Media/ME0ae9e334a89305f086643275da96e1e9")
    assert (attachment.position, attachment.download_status) == (0, "pending")
    assert await job_exists(broker, f"media:{attachment.id}")
    assert (location.latitude, location.longitude) == (40.748440, -73.985664)
    assert location.text == ""
    assert reply.reply_to_id == ours.id
    assert reply.text == "Yes please, send it to the new address."
    conversation = await scoped(Conversation, setup.workspace).get()
    assert conversation.unread_count == 4


async def test_twilio_reply_to_an_unknown_message_is_stored_without_link(
    client: httpx.AsyncClient, settings: Settings, setup: Setup
) -> None:
    await post_ok(client, settings, setup, "twilio/whatsapp-inbound-reply.json")
    [message] = await list_messages(setup.workspace)
    assert message.reply_to_id is None
    assert message.text == "Yes please, send it to the new address."


async def test_twilio_status_callbacks_move_forward_only(
    client: httpx.AsyncClient, settings: Settings, setup: Setup
) -> None:
    ours = await seed_outbound(setup, setup.whatsapp, MARIA, SENT_SID, status="queued")
    seen = []
    for name in ("sent", "delivered", "read", "delivered", "sent"):
        response = await post_ok(client, settings, setup, f"twilio/whatsapp-status-{name}.json")
        assert response.text == ""
        seen.append((await scoped(Message, setup.workspace).get(id=ours.id)).status)
    assert seen == ["sent", "delivered", "read", "read", "read"]
    final = await scoped(Message, setup.workspace).get(id=ours.id)
    assert final.sent_at and final.delivered_at and final.read_at


async def test_twilio_failed_status_keeps_63016_for_the_agent(
    client: httpx.AsyncClient, settings: Settings, setup: Setup
) -> None:
    ours = await seed_outbound(setup, setup.whatsapp, MARIA, FAILED_SID, status="sent")
    await post_ok(client, settings, setup, "twilio/whatsapp-status-failed.json")
    failed = await scoped(Message, setup.workspace).get(id=ours.id)
    assert (failed.status, failed.error_code) == ("failed", "63016")
    assert "template" in failed.error_message
    assert failed.failed_at is not None


async def test_twilio_status_callback_on_the_inbound_url_is_recognised(
    client: httpx.AsyncClient, settings: Settings, setup: Setup
) -> None:
    from tests.inbox.messaging.support import twilio_request
    from tests.signing import load

    ours = await seed_outbound(setup, setup.whatsapp, MARIA, SENT_SID, status="queued")
    params = load("twilio/whatsapp-status-sent.json", CHANNEL_NUMBER="+15550100000")
    path, raw, headers = twilio_request(settings, setup.whatsapp, params)
    response = await client.post(path, content=raw, headers=headers)
    assert response.status_code == 200
    assert (await scoped(Message, setup.workspace).get(id=ours.id)).status == "sent"
    assert await scoped(Contact, setup.workspace).count() == 1  # the seeded one only


# ---------------------------------------------------------------------- Telegram
async def test_telegram_text_photo_document_sticker_and_edit(
    client: httpx.AsyncClient, settings: Settings, setup: Setup, broker: Broker
) -> None:
    for name in ("message-text", "message-photo", "message-document", "message-sticker"):
        await post_ok(client, settings, setup, f"telegram/{name}.json")
    contact = await scoped(Contact, setup.workspace).get()
    assert (contact.display_name, contact.username) == ("Ana Souza", "ana_souza")
    identity = await scoped(ContactIdentity, setup.workspace).get()
    assert identity.provider_user_id == ANA
    text, photo, document, sticker = await list_messages(setup.workspace)
    assert text.provider_message_id == f"{ANA}:1201"
    assert text.text == "Hi, is the blue jacket still available in size M?"
    assert (photo.kind, photo.text) == ("image", "This is the one I mean")
    [photo_file] = await scoped(Attachment, setup.workspace).filter(message_id=photo.id)
    assert photo_file.source_file_id.startswith("AgACAgQAAxkBAAIfjl6Vu1sV")  # the largest size
    assert (photo_file.size, photo_file.media_type) == (176342, "image/jpeg")
    assert (document.kind, document.text) == ("file", "My receipt")
    [pdf] = await scoped(Attachment, setup.workspace).filter(message_id=document.id)
    assert (pdf.media_type, pdf.filename) == ("application/pdf", "receipt-1042.pdf")
    assert (sticker.kind, sticker.text) == ("unsupported", "[sticker]")
    assert await scoped(Attachment, setup.workspace).filter(message_id=sticker.id).count() == 0
    assert await scoped(Attachment, setup.workspace).count() == 2

    await post_ok(client, settings, setup, "telegram/edited-message.json")
    assert await scoped(Message, setup.workspace).count() == 4
    edited = await scoped(Message, setup.workspace).get(id=text.id)
    assert edited.text == "Hi, is the blue jacket still available in size L?"
    assert edited.edited_at == datetime.fromtimestamp(1795169100, UTC)


@pytest.mark.parametrize("name", ["group-message.json", "callback-query.json"])
async def test_telegram_updates_outside_private_chats_are_ignored(
    client: httpx.AsyncClient, settings: Settings, setup: Setup, name: str
) -> None:
    await post_ok(client, settings, setup, f"telegram/{name}")
    assert await count_rows(setup.workspace) == {
        "contacts": 0,
        "identities": 0,
        "conversations": 0,
        "messages": 0,
    }


# --------------------------------------------------------------------- Messenger
async def test_messenger_text_image_and_postback(
    client: httpx.AsyncClient, settings: Settings, setup: Setup
) -> None:
    response = await post_ok(client, settings, setup, "messenger/message-text.json")
    assert response.text == "EVENT_RECEIVED"
    for name in ("message-attachment-image", "postback"):
        await post_ok(client, settings, setup, f"messenger/{name}.json")
    assert await count_rows(setup.workspace) == {
        "contacts": 1,
        "identities": 1,
        "conversations": 1,
        "messages": 3,
    }
    identity = await scoped(ContactIdentity, setup.workspace).get()
    assert identity.provider_user_id == PSID
    text, image, postback = await list_messages(setup.workspace)
    assert text.text == "Hello! Do you ship to Canada?"
    assert text.provider_message_id.startswith("m__sK5zpRyLCg")
    assert image.kind == "image"
    [attachment] = await scoped(Attachment, setup.workspace).filter(message_id=image.id)
    assert attachment.source_url.startswith("https://scontent.xx.fbcdn.net/")
    assert (postback.text, postback.metadata) == (
        "Talk to an agent",
        {"postback_payload": "TALK_TO_AGENT"},
    )


async def test_messenger_echo_is_an_outbound_message_without_a_page_contact(
    client: httpx.AsyncClient, settings: Settings, setup: Setup
) -> None:
    await post_ok(client, settings, setup, "messenger/message-text.json")
    await post_ok(client, settings, setup, "messenger/message-echo.json")
    assert await count_rows(setup.workspace) == {
        "contacts": 1,
        "identities": 1,
        "conversations": 1,
        "messages": 2,
    }
    [echo] = await list_messages(setup.workspace, direction="outbound")
    assert (echo.status, echo.author_user_id) == ("sent", None)
    assert echo.text == "Yes, we ship to Canada. Delivery takes 5-7 business days."
    conversation = await scoped(Conversation, setup.workspace).get()
    assert conversation.unread_count == 1  # the echo is not news for the agents


async def test_messenger_echo_of_our_own_message_is_not_stored_twice(
    client: httpx.AsyncClient, settings: Settings, setup: Setup
) -> None:
    ours = await seed_outbound(setup, setup.messenger, PSID, ECHO_MID, status="delivered")
    await post_ok(client, settings, setup, "messenger/message-echo.json")
    [only] = await list_messages(setup.workspace)
    assert (only.id, only.status, only.text) == (ours.id, "delivered", "Our reply")


@pytest.mark.parametrize(("name", "status"), [("delivery", "delivered"), ("read", "read")])
async def test_messenger_receipts_move_messages_up_to_the_watermark(
    client: httpx.AsyncClient, settings: Settings, setup: Setup, name: str, status: str
) -> None:
    named = await seed_outbound(
        setup, setup.messenger, PSID, DELIVERED_MID, sent_at=WATERMARK.replace(second=0)
    )
    earlier = await seed_outbound(
        setup, setup.messenger, PSID, "m_earlier", sent_at=WATERMARK.replace(minute=0)
    )
    later = await seed_outbound(
        setup, setup.messenger, PSID, "m_later", sent_at=WATERMARK.replace(year=2027)
    )
    failed = await seed_outbound(
        setup, setup.messenger, PSID, "m_failed", status="failed", sent_at=WATERMARK
    )
    await post_ok(client, settings, setup, f"messenger/{name}.json")
    statuses = {m.id: m.status for m in await list_messages(setup.workspace)}
    assert statuses == {
        named.id: status,
        earlier.id: status,
        later.id: "sent",
        failed.id: "failed",
    }


async def test_messenger_read_never_goes_back_to_delivered(
    client: httpx.AsyncClient, settings: Settings, setup: Setup
) -> None:
    ours = await seed_outbound(setup, setup.messenger, PSID, DELIVERED_MID, sent_at=WATERMARK)
    await post_ok(client, settings, setup, "messenger/read.json")
    await post_ok(client, settings, setup, "messenger/delivery.json")
    assert (await scoped(Message, setup.workspace).get(id=ours.id)).status == "read"


async def test_messenger_batched_entries_store_three_messages_for_two_contacts(
    client: httpx.AsyncClient, settings: Settings, setup: Setup
) -> None:
    await post_ok(client, settings, setup, "messenger/batched.json")
    assert await count_rows(setup.workspace) == {
        "contacts": 2,
        "identities": 2,
        "conversations": 2,
        "messages": 3,
    }
    by_user = {
        identity.provider_user_id: identity.contact_id
        for identity in await scoped(ContactIdentity, setup.workspace)
    }
    first = await scoped(Conversation, setup.workspace).get(contact_id=by_user["31415926535897932"])
    second = await scoped(Conversation, setup.workspace).get(
        contact_id=by_user["27182818284590452"]
    )
    assert [m.text for m in await list_messages(setup.workspace, conversation_id=first.id)] == [
        "Hi, I have a question about my order",
        "It's order #2210",
    ]
    assert [m.text for m in await list_messages(setup.workspace, conversation_id=second.id)] == [
        "Are you open on Sunday?",
    ]
    assert (first.unread_count, second.unread_count) == (2, 1)
