"""The fake provider itself: signed deliveries reach an inbox over loopback, receipts
follow sends when asked, faults are injected as configured, and it stops cleanly."""

from __future__ import annotations

import httpx
import pytest

from channels.events import InboundMessage, OutboundMessage, StatusUpdate, Watermark
from channels.fake import (
    FakeProvider,
    build_messenger_message,
    build_telegram_update,
    build_twilio_inbound,
    deliver_messenger,
    deliver_telegram,
    deliver_twilio,
    run_fake_provider,
)
from channels.messenger import MessengerAdapter
from channels.telegram import TelegramAdapter
from channels.twilio import TwilioAdapter
from tests.channels.constants import (
    ACCOUNT_SID,
    APP_SECRET,
    AUTH_TOKEN,
    BOT_TOKEN,
    CHANNEL_NUMBER,
    PAGE_ID,
    PAGE_TOKEN,
    PLACEHOLDERS,
    TELEGRAM_SECRET,
)
from tests.channels.receiver import InboxReceiver
from tests.signing import load


async def test_deliver_twilio_is_verified_by_the_adapter(inbox_receiver: InboxReceiver) -> None:
    params = build_twilio_inbound(
        ACCOUNT_SID, CHANNEL_NUMBER, "+15555550123", "Hola!", profile_name="Maria Lopez"
    )
    response = await deliver_twilio(inbox_receiver.url("twilio"), AUTH_TOKEN, params)
    assert response.status_code == 200
    (event,) = inbox_receiver.events
    assert isinstance(event, InboundMessage)
    assert (event.text, event.provider_user_id, event.profile.display_name) == (
        "Hola!",
        "whatsapp:+15555550123",
        "Maria Lopez",
    )


async def test_deliver_with_wrong_secrets_is_refused(inbox_receiver: InboxReceiver) -> None:
    params = load("twilio/whatsapp-inbound-text.json", **PLACEHOLDERS)
    twilio = await deliver_twilio(inbox_receiver.url("twilio"), "wrong", params)
    telegram = await deliver_telegram(
        inbox_receiver.url("telegram"), "wrong", load("telegram/message-text.json")
    )
    missing = await deliver_telegram(
        inbox_receiver.url("telegram"), None, load("telegram/message-text.json")
    )
    messenger = await deliver_messenger(
        inbox_receiver.url("messenger"), "wrong", load("messenger/message-text.json")
    )
    assert [twilio.status_code, telegram.status_code, missing.status_code] == [403, 403, 401]
    assert messenger.status_code == 403
    assert inbox_receiver.events == []


async def test_deliver_fixtures_and_built_payloads(inbox_receiver: InboxReceiver) -> None:
    async with httpx.AsyncClient() as http:
        for payload in (
            load("messenger/batched.json", **PLACEHOLDERS),
            build_messenger_message(PAGE_ID, "31415926535897932", "Still there?"),
        ):
            response = await deliver_messenger(
                inbox_receiver.url("messenger"), APP_SECRET, payload, http=http
            )
            assert response.status_code == 200
        update = build_telegram_update(5511223344, "Olá", first_name="Ana", username="ana_souza")
        response = await deliver_telegram(
            inbox_receiver.url("telegram"), TELEGRAM_SECRET, update, http=http
        )
        assert response.status_code == 200
    texts = [event.text for event in inbox_receiver.events]
    assert texts == [
        "Hi, I have a question about my order",
        "It's order #2210",
        "Are you open on Sunday?",
        "Still there?",
        "Olá",
    ]


async def test_telegram_updates_go_to_the_registered_webhook(
    fake: FakeProvider, telegram_on_fake: TelegramAdapter, inbox_receiver: InboxReceiver
) -> None:
    await telegram_on_fake.register_webhook(inbox_receiver.url("telegram"), TELEGRAM_SECRET)
    update = build_telegram_update(5511223344, "Is it in stock?", first_name="Ana")
    response = await fake.send_telegram_update(BOT_TOKEN, update)
    assert response.status_code == 200
    (event,) = inbox_receiver.events
    assert isinstance(event, InboundMessage)
    assert event.text == "Is it in stock?"
    await telegram_on_fake.register_webhook(inbox_receiver.url("telegram"), "another-secret")
    response = await fake.send_telegram_update(BOT_TOKEN, update)
    assert response.status_code == 403


async def test_twilio_receipts_follow_a_send(
    fake: FakeProvider, twilio_on_fake: TwilioAdapter, inbox_receiver: InboxReceiver
) -> None:
    fake.state.auto_receipts = True
    fake.state.receipt_delay = 0
    result = await twilio_on_fake.send(
        OutboundMessage(
            to="whatsapp:+15555550123",
            text="Shipped!",
            status_callback_url=inbox_receiver.url("twilio-status"),
        )
    )
    await fake.wait_for_receipts()
    assert [
        (event.provider_message_id, event.status)
        for event in inbox_receiver.events
        if isinstance(event, StatusUpdate)
    ] == [(result.provider_message_id, s) for s in ("sent", "delivered", "read")]
    assert [fired.status for fired in fake.state.fired] == [200, 200, 200]


async def test_messenger_receipts_follow_a_send(
    fake: FakeProvider, messenger_on_fake: MessengerAdapter, inbox_receiver: InboxReceiver
) -> None:
    fake.state.auto_receipts = True
    fake.state.receipt_delay = 0
    fake.state.add_messenger_page(
        PAGE_ID, PAGE_TOKEN, app_secret=APP_SECRET, webhook_url=inbox_receiver.url("messenger")
    )
    result = await messenger_on_fake.send(OutboundMessage(to="24683579135792468", text="Hi"))
    await fake.wait_for_receipts()
    marks = [event for event in inbox_receiver.events if isinstance(event, Watermark)]
    assert [(mark.status, mark.provider_user_id, mark.account_id) for mark in marks] == [
        ("delivered", "24683579135792468", PAGE_ID),
        ("read", "24683579135792468", PAGE_ID),
    ]
    assert marks[0].provider_message_ids == (result.provider_message_id,)


async def test_no_receipts_unless_asked(
    fake: FakeProvider, twilio_on_fake: TwilioAdapter, inbox_receiver: InboxReceiver
) -> None:
    await twilio_on_fake.send(
        OutboundMessage(
            to="+15555550123", text="x", status_callback_url=inbox_receiver.url("twilio-status")
        )
    )
    await fake.wait_for_receipts()
    assert inbox_receiver.events == []
    assert fake.state.fired == []


async def test_fail_next_counts_and_filters(fake: FakeProvider) -> None:
    fake.fail_next("telegram", 502, times=2, path_contains="sendMessage")
    base = f"{fake.base_url}/bot{BOT_TOKEN}"
    async with httpx.AsyncClient() as http:
        assert (await http.post(f"{base}/getMe")).status_code == 200
        statuses = [
            (await http.post(f"{base}/sendMessage", data={"chat_id": "1", "text": "x"})).status_code
            for _ in range(3)
        ]
    assert statuses == [502, 502, 200]


async def test_fail_next_refuses_unknown_providers(fake: FakeProvider) -> None:
    with pytest.raises(ValueError, match="unknown provider"):
        fake.fail_next("sms", 500)


async def test_fake_answers_unknown_credentials_like_the_providers(fake: FakeProvider) -> None:
    async with httpx.AsyncClient() as http:
        telegram = await http.post(f"{fake.base_url}/bot1:unknown/getMe")
        graph = await http.post(
            f"{fake.base_url}/v21.0/me/messages",
            json={"recipient": {"id": "1"}, "message": {"text": "x"}},
            headers={"Authorization": "Bearer nope"},
        )
        twilio = await http.post(
            f"{fake.base_url}/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json",
            data={"To": "whatsapp:+15555550123", "From": "whatsapp:+15550100000", "Body": "x"},
            auth=(ACCOUNT_SID, "wrong"),
        )
    assert telegram.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}
    assert graph.json()["error"]["code"] == 190
    assert (twilio.status_code, twilio.json()["code"]) == (401, 20003)


async def test_run_fake_provider_stops_cleanly() -> None:
    async with run_fake_provider() as provider:
        base_url = provider.base_url
        async with httpx.AsyncClient() as http:
            assert (await http.get(f"{base_url}/bot1:x/getMe")).status_code == 401
    assert base_url.startswith("http://127.0.0.1:")
    async with httpx.AsyncClient() as http:
        with pytest.raises(httpx.ConnectError):
            await http.get(f"{base_url}/bot1:x/getMe")
