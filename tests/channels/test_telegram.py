"""Telegram: secret-token checks, fixture parsing with Update.de_json, and Bot API
calls through python-telegram-bot's Bot against the fake provider."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

import pytest

from channels.base import WebhookRequest
from channels.errors import MalformedPayload, ProviderError, SignatureError
from channels.events import (
    Ignored,
    InboundMessage,
    MediaRef,
    MessageEdited,
    OutboundMessage,
)
from channels.fake import FakeProvider
from channels.telegram import ALLOWED_UPDATES, TelegramAdapter
from tests.channels.constants import BOT_ID, BOT_TOKEN, PLACEHOLDERS, TELEGRAM_SECRET
from tests.signing import body, load

URL = "https://inbox.example.test/webhooks/telegram/7"
ANA = 5511223344


def make_request(update: object, secret: str | None = TELEGRAM_SECRET) -> WebhookRequest:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    raw = update if isinstance(update, bytes) else body(update)
    return WebhookRequest(url=URL, body=raw, headers=headers)


def parse_fixture(adapter: TelegramAdapter, name: str):
    events = adapter.verify_and_parse(make_request(load(f"telegram/{name}", **PLACEHOLDERS)))
    assert len(events) == 1
    return events[0]


# ------------------------------------------------------------------------- verify
def test_verify_accepts_the_secret_token(telegram_adapter: TelegramAdapter) -> None:
    telegram_adapter.verify(make_request(load("telegram/message-text.json")))


def test_verify_header_name_is_case_insensitive(telegram_adapter: TelegramAdapter) -> None:
    request = WebhookRequest(
        url=URL,
        body=b"{}",
        headers={"x-telegram-bot-api-secret-token": TELEGRAM_SECRET},
    )
    telegram_adapter.verify(request)


def test_verify_refuses_missing_token_with_401(telegram_adapter: TelegramAdapter) -> None:
    with pytest.raises(SignatureError) as caught:
        telegram_adapter.verify(make_request(load("telegram/message-text.json"), secret=None))
    assert caught.value.status == 401


def test_verify_refuses_wrong_token_with_403(telegram_adapter: TelegramAdapter) -> None:
    with pytest.raises(SignatureError) as caught:
        telegram_adapter.verify(make_request(load("telegram/message-text.json"), secret="nope"))
    assert caught.value.status == 403
    assert TELEGRAM_SECRET not in str(caught.value)


def test_verify_without_configured_secret_refuses_with_401(
    telegram_credentials: dict[str, str],
) -> None:
    adapter = TelegramAdapter(telegram_credentials, webhook_secret=None)
    with pytest.raises(SignatureError) as caught:
        adapter.verify(make_request(load("telegram/message-text.json")))
    assert caught.value.status == 401


# -------------------------------------------------------------------------- parse
def test_parse_private_text(telegram_adapter: TelegramAdapter) -> None:
    event = parse_fixture(telegram_adapter, "message-text.json")
    assert isinstance(event, InboundMessage)
    assert event.provider_message_id == f"{ANA}:1201"
    assert event.provider_user_id == str(ANA)
    assert event.account_id == str(BOT_ID)
    assert event.kind == "text"
    assert event.text == "Hi, is the blue jacket still available in size M?"
    assert event.sent_at == datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
    assert event.profile.display_name == "Ana Souza"
    assert event.profile.username == "ana_souza"
    assert event.profile.phone is None
    assert event.direction == "inbound"


def test_parse_photo_keeps_largest_size_and_caption(telegram_adapter: TelegramAdapter) -> None:
    event = parse_fixture(telegram_adapter, "message-photo.json")
    assert isinstance(event, InboundMessage)
    assert event.provider_message_id == f"{ANA}:1202"
    assert event.kind == "image"
    assert event.text == "This is the one I mean"
    (photo,) = event.attachments
    assert photo.kind == "image"
    assert photo.media_type == "image/jpeg"
    assert photo.file_id == (
        "AgACAgQAAxkBAAIfjl6Vu1sVnQ9k0MPNes4C8UXG-VQ2Ltmpir94g-EQZ9I9M6StsvG5rQ"
    )
    assert photo.size == 176342
    assert photo.url is None


def test_parse_document_is_a_file_attachment(telegram_adapter: TelegramAdapter) -> None:
    event = parse_fixture(telegram_adapter, "message-document.json")
    assert isinstance(event, InboundMessage)
    assert event.kind == "file"
    assert event.text == "My receipt"
    (document,) = event.attachments
    assert (document.kind, document.media_type, document.filename, document.size) == (
        "file",
        "application/pdf",
        "receipt-1042.pdf",
        48213,
    )


def test_parse_edited_message(telegram_adapter: TelegramAdapter) -> None:
    event = parse_fixture(telegram_adapter, "edited-message.json")
    assert event == MessageEdited(
        provider_message_id=f"{ANA}:1201",
        provider_user_id=str(ANA),
        text="Hi, is the blue jacket still available in size L?",
        edited_at=datetime(2026, 11, 20, 10, 5, tzinfo=UTC),
    )


def test_parse_sticker_is_unsupported_without_download(telegram_adapter: TelegramAdapter) -> None:
    event = parse_fixture(telegram_adapter, "message-sticker.json")
    assert isinstance(event, InboundMessage)
    assert event.kind == "unsupported"
    assert event.text == "[sticker]"
    assert event.attachments == ()
    assert event.metadata["sticker_emoji"] == "👍"


@pytest.mark.parametrize("name", ["group-message.json", "callback-query.json"])
def test_parse_ignores_groups_and_callback_queries(
    telegram_adapter: TelegramAdapter, name: str
) -> None:
    assert isinstance(parse_fixture(telegram_adapter, name), Ignored)


def test_parse_keeps_bot_id_placeholder_as_integer() -> None:
    update = load("telegram/callback-query.json", **PLACEHOLDERS)
    assert update["callback_query"]["message"]["from"]["id"] == BOT_ID


def test_parse_message_ids_are_unique_across_chats(telegram_adapter: TelegramAdapter) -> None:
    first = load("telegram/message-text.json")
    second = load("telegram/message-text.json")
    second["message"]["chat"]["id"] = second["message"]["from"]["id"] = 6622334455
    ids = {
        telegram_adapter.parse(make_request(update))[0].provider_message_id
        for update in (first, second)
    }
    assert ids == {f"{ANA}:1201", "6622334455:1201"}


def test_parse_reply_voice_video_location(telegram_adapter: TelegramAdapter) -> None:
    base = load("telegram/message-text.json")["message"]
    del base["text"]
    voice = dict(
        base,
        voice={"file_id": "AwAD", "file_unique_id": "u1", "duration": 3, "file_size": 900},
        reply_to_message=dict(base, message_id=1190, text="earlier"),
    )
    video = dict(
        base,
        video={
            "file_id": "BAAD",
            "file_unique_id": "u2",
            "width": 640,
            "height": 480,
            "duration": 5,
            "mime_type": "video/mp4",
        },
    )
    location = dict(base, location={"latitude": -23.5505, "longitude": -46.6333})
    events = [
        telegram_adapter.parse(make_request({"update_id": 1, "message": message}))[0]
        for message in (voice, video, location)
    ]
    assert [event.kind for event in events] == ["audio", "video", "location"]
    assert events[0].attachments[0].media_type == "audio/ogg"
    assert events[0].reply_to_provider_id == f"{ANA}:1190"
    assert events[1].attachments[0].file_id == "BAAD"
    assert events[2].location == (-23.5505, -46.6333)


def test_parse_other_update_types_are_ignored(telegram_adapter: TelegramAdapter) -> None:
    update = {"update_id": 9, "my_chat_member": {"chat": {"id": 1, "type": "private"}}}
    (event,) = telegram_adapter.parse(make_request(update))
    assert isinstance(event, Ignored)


@pytest.mark.parametrize(
    "raw",
    [
        b"not json",
        b"[1, 2]",
        b'{"message": {}}',
        json.dumps({"update_id": 1, "message": {"message_id": 5}}).encode(),
        json.dumps({"update_id": "1"}).encode(),
    ],
)
def test_parse_refuses_malformed_updates(telegram_adapter: TelegramAdapter, raw: bytes) -> None:
    with pytest.raises(MalformedPayload):
        telegram_adapter.parse(make_request(raw))


# --------------------------------------------------------------------------- send
async def test_send_through_bot(fake: FakeProvider, telegram_on_fake: TelegramAdapter) -> None:
    result = await telegram_on_fake.send(
        OutboundMessage(to=str(ANA), text="Yes, size M is in stock.")
    )
    (sent,) = fake.state.list_sent_messages("telegram")
    assert sent.to == str(ANA)
    assert sent.text == "Yes, size M is in stock."
    assert sent.account == str(BOT_ID)
    assert result.provider_message_id == sent.provider_message_id == f"{ANA}:1001"
    assert result.status == "sent"


async def test_send_refuses_templates(telegram_on_fake: TelegramAdapter) -> None:
    with pytest.raises(ProviderError) as caught:
        await telegram_on_fake.send(OutboundMessage(to=str(ANA), template_id="HX1"))
    assert (caught.value.code, caught.value.retryable) == ("unsupported", False)


async def test_send_429_is_retryable_with_retry_after(
    fake: FakeProvider, telegram_on_fake: TelegramAdapter
) -> None:
    fake.fail_next("telegram", 429, retry_after=5)
    with pytest.raises(ProviderError) as caught:
        await telegram_on_fake.send(OutboundMessage(to=str(ANA), text="hi"))
    error = caught.value
    assert (error.status, error.retryable, error.retry_after) == (429, True, 5.0)
    assert error.__cause__ is None


async def test_send_500_is_retryable(fake: FakeProvider, telegram_on_fake: TelegramAdapter) -> None:
    fake.fail_next("telegram", 500)
    with pytest.raises(ProviderError) as caught:
        await telegram_on_fake.send(OutboundMessage(to=str(ANA), text="hi"))
    assert caught.value.retryable


@pytest.mark.parametrize(
    ("status", "description", "message"),
    [
        (400, "Bad Request: chat not found", "Chat not found"),
        (403, "Forbidden: bot was blocked by the user", "Forbidden: bot was blocked by the user"),
    ],
)
async def test_send_4xx_is_permanent_with_code_and_description(
    fake: FakeProvider,
    telegram_on_fake: TelegramAdapter,
    status: int,
    description: str,
    message: str,
) -> None:
    fake.fail_next(
        "telegram", status, {"ok": False, "error_code": status, "description": description}
    )
    with pytest.raises(ProviderError) as caught:
        await telegram_on_fake.send(OutboundMessage(to=str(ANA), text="hi"))
    error = caught.value
    assert (error.status, error.code, error.retryable) == (status, str(status), False)
    assert error.message == message


async def test_send_with_rejected_token_never_shows_the_token(
    fake: FakeProvider,
) -> None:
    other_token = "7000000002:AAH-unknown_token_0123456789abcdef"
    async with TelegramAdapter({"bot_token": other_token}, fake.endpoints) as adapter:
        with pytest.raises(ProviderError) as caught:
            await adapter.send(OutboundMessage(to=str(ANA), text="hi"))
    error = caught.value
    assert (error.code, error.retryable) == ("401", False)
    assert other_token not in str(error)
    assert other_token not in error.message
    assert error.__cause__ is None


async def test_send_to_a_non_numeric_chat_is_refused(telegram_on_fake: TelegramAdapter) -> None:
    with pytest.raises(ProviderError) as caught:
        await telegram_on_fake.send(OutboundMessage(to="@ana_souza", text="hi"))
    assert caught.value.code == "invalid_recipient"


# ------------------------------------------------------------ profile, media, webhook
async def test_fetch_profile_with_avatar(
    fake: FakeProvider, telegram_on_fake: TelegramAdapter
) -> None:
    fake.state.add_telegram_chat(
        ANA, "Ana", last_name="Souza", username="ana_souza", bio="Loves jackets"
    )
    avatar_file = fake.state.add_telegram_profile_photo(ANA, b"\xff\xd8avatar")
    profile = await telegram_on_fake.fetch_profile(str(ANA))
    assert profile.display_name == "Ana Souza"
    assert profile.username == "ana_souza"
    assert profile.avatar_url is None  # file URLs embed the bot token
    assert profile.avatar is not None
    assert profile.avatar.file_id == avatar_file
    assert profile.source == "telegram.getChat"
    assert profile.fields == {
        "first_name": "Ana",
        "last_name": "Souza",
        "username": "ana_souza",
        "bio": "Loves jackets",
    }
    data, media_type, _ = await telegram_on_fake.download_media(profile.avatar, max_bytes=1000)
    assert (data, media_type) == (b"\xff\xd8avatar", "image/jpeg")


async def test_fetch_profile_without_photo(
    fake: FakeProvider, telegram_on_fake: TelegramAdapter
) -> None:
    fake.state.add_telegram_chat(ANA, "Ana")
    profile = await telegram_on_fake.fetch_profile(str(ANA))
    assert (profile.display_name, profile.username, profile.avatar) == ("Ana", None, None)


async def test_fetch_profile_of_unknown_chat_is_permanent(
    telegram_on_fake: TelegramAdapter,
) -> None:
    with pytest.raises(ProviderError) as caught:
        await telegram_on_fake.fetch_profile("42")
    assert (caught.value.code, caught.value.retryable) == ("400", False)


async def test_download_document_of_a_parsed_message(
    fake: FakeProvider, telegram_on_fake: TelegramAdapter
) -> None:
    event = parse_fixture(telegram_on_fake, "message-document.json")
    ref = event.attachments[0]
    pdf = b"%PDF-1.7 receipt"
    fake.state.add_telegram_file(pdf, file_id=ref.file_id, file_path="documents/file_12.pdf")
    data, media_type, filename = await telegram_on_fake.download_media(ref, max_bytes=50_000)
    assert (data, media_type, filename) == (pdf, "application/pdf", "receipt-1042.pdf")


async def test_download_refuses_more_than_max_bytes(
    fake: FakeProvider, telegram_on_fake: TelegramAdapter
) -> None:
    file_id = fake.state.add_telegram_file(b"y" * 300)
    # Known size: refused before any call. Unknown size: getFile's size decides.
    for ref in (
        MediaRef(kind="file", file_id=file_id, size=300),
        MediaRef(kind="file", file_id=file_id),
    ):
        with pytest.raises(ProviderError) as caught:
            await telegram_on_fake.download_media(ref, max_bytes=299)
        assert (caught.value.code, caught.value.retryable) == ("too_large", False)


async def test_download_of_unknown_file_is_permanent(telegram_on_fake: TelegramAdapter) -> None:
    with pytest.raises(ProviderError) as caught:
        await telegram_on_fake.download_media(MediaRef(kind="file", file_id="nope"), 100)
    assert (caught.value.code, caught.value.retryable) == ("400", False)


async def test_register_webhook_sets_secret_and_update_types(
    fake: FakeProvider, telegram_on_fake: TelegramAdapter
) -> None:
    await telegram_on_fake.register_webhook(URL, TELEGRAM_SECRET)
    hook = fake.state.telegram_webhooks[BOT_TOKEN]
    assert hook.url == URL
    assert hook.secret_token == TELEGRAM_SECRET
    assert hook.allowed_updates == list(ALLOWED_UPDATES) == ["message", "edited_message"]
    await telegram_on_fake.unregister_webhook()
    assert BOT_TOKEN not in fake.state.telegram_webhooks


async def test_logs_never_carry_the_token_or_the_text(
    fake: FakeProvider, telegram_on_fake: TelegramAdapter, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    file_id = fake.state.add_telegram_file(b"data", file_path="documents/a.bin")
    await telegram_on_fake.send(OutboundMessage(to=str(ANA), text="Private words here"))
    await telegram_on_fake.download_media(MediaRef(kind="file", file_id=file_id), 100)
    assert "HTTP Request" in caplog.text  # httpx did log the calls...
    assert BOT_TOKEN not in caplog.text  # ...without the token
    assert BOT_TOKEN.split(":", 1)[1] not in caplog.text
    assert "Private words here" not in caplog.text
