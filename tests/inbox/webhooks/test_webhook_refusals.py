"""What a webhook answers when it cannot be stored: signatures, channels, sizes,
malformed payloads, an unreachable database, and the Messenger handshake."""

from __future__ import annotations

import uuid

import httpx
import pytest
from arq.connections import ArqRedis, RedisSettings
from tortoise import Tortoise

from inbox.broker import Broker
from inbox.database import close_database, open_database
from inbox.models import Channel, ChannelStatus, Message, WebhookEvent
from inbox.settings import Settings
from inbox.tenancy import scoped
from inbox.webhooks.requests import MAX_WEBHOOK_BYTES
from tests.channels.constants import APP_SECRET, AUTH_TOKEN, VERIFY_TOKEN
from tests.inbox.messaging.support import (
    CREDENTIALS,
    Setup,
    count_rows,
    fixture_request,
    make_channel,
    messenger_request,
    telegram_request,
    twilio_request,
    webhook_path,
)
from tests.signing import load, messenger_signature, twilio_signature

EMPTY = {"contacts": 0, "identities": 0, "conversations": 0, "messages": 0}
ONE_PER_PROVIDER = [
    "twilio/whatsapp-inbound-text.json",
    "telegram/message-text.json",
    "messenger/message-text.json",
]
SIGNATURE_HEADERS = {
    "twilio": "X-Twilio-Signature",
    "telegram": "X-Telegram-Bot-Api-Secret-Token",
    "messenger": "X-Hub-Signature-256",
}


async def assert_nothing_stored(setup: Setup) -> None:
    assert await count_rows(setup.workspace) == EMPTY
    assert await scoped(WebhookEvent, setup.workspace).count() == 0


@pytest.mark.parametrize("name", ONE_PER_PROVIDER)
async def test_a_wrong_signature_is_refused_with_403_and_stores_nothing(
    client: httpx.AsyncClient, settings: Settings, setup: Setup, name: str
) -> None:
    path, raw, headers = fixture_request(settings, setup, name)
    header = SIGNATURE_HEADERS[name.split("/")[0]]
    headers[header] = "sha256=" + "0" * 64 if "Hub" in header else "wrong-value"
    response = await client.post(path, content=raw, headers=headers)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "bad_signature"
    await assert_nothing_stored(setup)


@pytest.mark.parametrize("name", ONE_PER_PROVIDER)
async def test_a_missing_signature_is_refused_with_401(
    client: httpx.AsyncClient, settings: Settings, setup: Setup, name: str
) -> None:
    path, raw, headers = fixture_request(settings, setup, name)
    del headers[SIGNATURE_HEADERS[name.split("/")[0]]]
    response = await client.post(path, content=raw, headers=headers)
    assert response.status_code == 401
    await assert_nothing_stored(setup)


async def test_a_twilio_signature_over_another_url_is_refused(
    client: httpx.AsyncClient, settings: Settings, setup: Setup
) -> None:
    """Twilio signs the public URL: one signed for a different host does not pass."""
    other = settings.model_copy(update={"public_url": "http://elsewhere.test"})
    params = load("twilio/whatsapp-inbound-text.json", CHANNEL_NUMBER="+15550100000")
    path, raw, headers = twilio_request(other, setup.whatsapp, params)
    response = await client.post(path, content=raw, headers=headers)
    assert response.status_code == 403
    await assert_nothing_stored(setup)


async def test_the_twilio_signature_covers_the_query_string(
    client: httpx.AsyncClient, settings: Settings, setup: Setup
) -> None:
    params = load("twilio/whatsapp-inbound-text.json", CHANNEL_NUMBER="+15550100000")
    path, raw, headers = twilio_request(settings, setup.whatsapp, params)
    response = await client.post(path + "?tag=1", content=raw, headers=headers)
    assert response.status_code == 403  # signed without the query: refused
    headers["X-Twilio-Signature"] = twilio_signature(
        AUTH_TOKEN, settings.public_link(path) + "?tag=1", params
    )
    response = await client.post(path + "?tag=1", content=raw, headers=headers)
    assert response.status_code == 200
    assert (await count_rows(setup.workspace))["messages"] == 1


@pytest.mark.parametrize(
    "channel_id", [str(uuid.uuid4()), "not-a-uuid", "00000000-0000-0000-0000-000000000000"]
)
async def test_an_unknown_channel_answers_404(
    client: httpx.AsyncClient, settings: Settings, setup: Setup, channel_id: str
) -> None:
    path, raw, headers = fixture_request(settings, setup, "telegram/message-text.json")
    response = await client.post(
        path.replace(str(setup.telegram.id), channel_id), content=raw, headers=headers
    )
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    await assert_nothing_stored(setup)


async def test_a_channel_of_another_kind_or_deleted_answers_404(
    client: httpx.AsyncClient, settings: Settings, setup: Setup
) -> None:
    path, raw, headers = fixture_request(settings, setup, "telegram/message-text.json")
    wrong_kind = f"/webhooks/messenger/{setup.telegram.id}"
    assert (await client.post(wrong_kind, content=raw, headers=headers)).status_code == 404
    await (
        scoped(Channel, setup.workspace)
        .filter(id=setup.telegram.id)
        .update(status=ChannelStatus.DELETED.value)
    )
    assert (await client.post(path, content=raw, headers=headers)).status_code == 404
    await assert_nothing_stored(setup)


@pytest.mark.parametrize(
    "raw", [b"not json", b'{"object": "user", "entry": []}', b'{"object": "page", "entry": 3}']
)
async def test_a_signed_but_malformed_payload_answers_400(
    client: httpx.AsyncClient, setup: Setup, raw: bytes
) -> None:
    headers = {
        "Content-Type": "application/json",
        "X-Hub-Signature-256": messenger_signature(APP_SECRET, raw),
    }
    response = await client.post(webhook_path(setup.messenger), content=raw, headers=headers)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed_payload"
    await assert_nothing_stored(setup)


async def test_a_body_above_one_mebibyte_answers_413(
    client: httpx.AsyncClient, setup: Setup
) -> None:
    update = load("telegram/message-text.json")
    update["message"]["text"] = "x" * MAX_WEBHOOK_BYTES
    path, raw, headers = telegram_request(setup.telegram, update)
    response = await client.post(path, content=raw, headers=headers)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"

    async def chunks():  # no Content-Length: the stream itself is capped
        for _ in range(3):
            yield b"y" * (MAX_WEBHOOK_BYTES // 2)

    response = await client.post(path, content=chunks(), headers=headers)
    assert response.status_code == 413
    await assert_nothing_stored(setup)


async def test_an_unreachable_database_answers_503_so_the_provider_retries(
    client: httpx.AsyncClient, settings: Settings, setup: Setup
) -> None:
    path, raw, headers = fixture_request(settings, setup, "messenger/message-text.json")
    await close_database()
    # Nothing listens on port 1 of the loopback interface.
    await open_database(settings.model_copy(update={"database_url": "postgres://x@127.0.0.1:1/x"}))
    try:
        response = await client.post(path, content=raw, headers=headers)
    finally:
        await Tortoise.close_connections()
        await open_database(settings)
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "unavailable"
    await assert_nothing_stored(setup)


async def test_messenger_handshake_answers_the_challenge_for_our_verify_token(
    client: httpx.AsyncClient, setup: Setup
) -> None:
    path = webhook_path(setup.messenger)
    query = {
        "hub.mode": "subscribe",
        "hub.verify_token": VERIFY_TOKEN,
        "hub.challenge": "1158201444",
    }
    response = await client.get(path, params=query)
    assert (response.status_code, response.text) == (200, "1158201444")
    response = await client.get(path, params=query | {"hub.verify_token": "guess"})
    assert response.status_code == 403
    response = await client.get(f"/webhooks/messenger/{uuid.uuid4()}", params=query)
    assert response.status_code == 404


async def test_messenger_entries_are_routed_to_the_channel_of_their_page(
    client: httpx.AsyncClient, settings: Settings, setup: Setup
) -> None:
    """One app, two Pages: an entry of the second Page lands in its own channel
    (its app secret is the same); an entry of an unknown Page is ignored."""
    second_page = "202345678901234"
    second = await make_channel(
        settings,
        setup.workspace,
        "messenger",
        CREDENTIALS["messenger"] | {"page_id": second_page, "page_access_token": "EAAGsecond"},
    )
    foreign = await make_channel(
        settings,
        setup.workspace,
        "messenger",
        CREDENTIALS["messenger"] | {"page_id": "303345678901234", "app_secret": "other-app"},
    )
    payload = load("messenger/batched.json", PAGE_ID="101234567890123")
    payload["entry"][1]["id"] = second_page
    payload["entry"][2]["id"] = "303345678901234"
    path, raw, headers = messenger_request(setup.messenger, payload)
    response = await client.post(path, content=raw, headers=headers)
    assert response.status_code == 200
    by_channel = {
        channel_id: await scoped(Message, setup.workspace).filter(channel_id=channel_id).count()
        for channel_id in (setup.messenger.id, second.id, foreign.id)
    }
    assert by_channel == {setup.messenger.id: 1, second.id: 1, foreign.id: 0}


async def test_a_stored_delivery_is_acknowledged_even_if_redis_is_down(
    client: httpx.AsyncClient, settings: Settings, setup: Setup, runtime
) -> None:
    """Redis is used only after the commit: the message is stored, so the provider
    gets its 200 (a retry would only find a duplicate)."""
    connected = runtime.broker
    unreachable = ArqRedis(host="127.0.0.1", port=1, socket_connect_timeout=1)
    runtime.broker = Broker(redis=unreachable, redis_settings=RedisSettings(port=1))
    try:
        for name in ("telegram/message-text.json", "telegram/message-photo.json"):
            path, raw, headers = fixture_request(settings, setup, name)
            response = await client.post(path, content=raw, headers=headers)
            assert response.status_code == 200
    finally:
        runtime.broker = connected
        await unreachable.aclose()
    assert (await count_rows(setup.workspace))["messages"] == 2
    assert await scoped(WebhookEvent, setup.workspace).count() == 0
