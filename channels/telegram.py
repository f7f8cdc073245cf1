"""Telegram bots: JSON updates in (webhook with a secret token), the Bot API out.

Only private chats are conversations: a bot added to a group sees group chatter that
is nobody's support request, so group, supergroup and channel messages are ignored,
as are callback queries and every other update type.

Message ids: Telegram's ``message_id`` is unique only inside one chat, and one bot
talks to many chats, so two users' messages can share an id. The inbox de-duplicates
on the provider message id per channel, so we use ``"{chat_id}:{message_id}"``.

Calls go through python-telegram-bot's ``Bot``. Each operation opens its own HTTP
pool and closes it at the end, without ``Bot.initialize`` (which would spend a
``getMe`` round trip on every call).
"""

from __future__ import annotations

import hmac
import json
import posixpath
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

from telegram import Bot, Message, Update
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.request import HTTPXRequest

from channels.base import (
    HTTP_CONNECT_TIMEOUT_SECONDS,
    HTTP_TIMEOUT_SECONDS,
    ChannelAdapter,
    WebhookRequest,
    build_too_large_error,
)
from channels.errors import (
    MalformedPayload,
    ProviderError,
    SignatureError,
    build_http_error,
)
from channels.events import (
    ContactProfile,
    DownloadedMedia,
    Event,
    Ignored,
    InboundMessage,
    MediaRef,
    MessageEdited,
    OutboundMessage,
    ProviderProfile,
    SendResult,
)
from channels.log_redaction import install_log_redaction

WEBHOOK_AUTH_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# The update types we subscribe to; everything else would only be ignored.
ALLOWED_UPDATES = ("message", "edited_message")
# Telegram re-encodes every photo as JPEG.
PHOTO_MEDIA_TYPE = "image/jpeg"
VOICE_MEDIA_TYPE = "audio/ogg"
VIDEO_NOTE_MEDIA_TYPE = "video/mp4"
PRIVATE_CHAT = "private"
# Content we show as a placeholder instead of storing it.
PLACEHOLDERS = {
    "sticker": "[sticker]",
    "contact": "[contact]",
    "poll": "[poll]",
    "dice": "[dice]",
    "game": "[game]",
    "story": "[story]",
}
UNSUPPORTED_PLACEHOLDER = "[unsupported]"

# Bot API URLs embed the token and the library logs message texts: filter both.
install_log_redaction()


def build_message_key(chat_id: int, message_id: int) -> str:
    """Our provider message id: message ids are only unique within a chat."""
    return f"{chat_id}:{message_id}"


def read_chat_id(provider_user_id: str) -> int:
    """The numeric chat id of a private chat (equal to the user's id)."""
    try:
        return int(provider_user_id)
    except ValueError:
        raise ProviderError(
            "invalid_recipient", "recipient is not a Telegram chat id", retryable=False
        ) from None


class FloodControl(TelegramError):
    """Telegram answered 429; ``retry_after_seconds`` is the wait it asked for."""

    def __init__(self, retry_after_seconds: float | None) -> None:
        super().__init__("flood control")
        self.retry_after_seconds = retry_after_seconds


class FloodAwareRequest(HTTPXRequest):
    """python-telegram-bot's HTTP client, reading 429 answers itself.

    python-telegram-bot 22.8 builds its RetryAfter in a way that always emits a
    deprecation warning (it reads its own deprecated int-valued attribute), so a 429
    is turned into FloodControl here, before the library sees it. Being a
    TelegramError, it passes through the library unchanged.
    """

    async def do_request(self, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        code, payload = await super().do_request(*args, **kwargs)
        if code == HTTPStatus.TOO_MANY_REQUESTS:
            raise FloodControl(read_retry_after(payload))
        return code, payload


def read_retry_after(payload: bytes) -> float | None:
    """``parameters.retry_after`` of a Bot API error answer, in seconds."""
    try:
        answer = json.loads(payload)
    except ValueError:
        return None
    parameters = answer.get("parameters") if isinstance(answer, dict) else None
    value = parameters.get("retry_after") if isinstance(parameters, dict) else None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def build_telegram_error(exc: TelegramError) -> ProviderError:
    """Classify python-telegram-bot's exceptions (Telegram's error_code is the HTTP status).

    The library's own text is not kept for token and network errors: it can quote the
    bot token or request URLs.
    """
    if isinstance(exc, FloodControl):
        return ProviderError(
            "429",
            "flood control",
            retryable=True,
            retry_after=exc.retry_after_seconds,
            status=429,
        )
    if isinstance(exc, RetryAfter):
        # Not reached through FloodAwareRequest; kept for any other request class.
        return ProviderError("429", "flood control", retryable=True, status=429)
    if isinstance(exc, TimedOut):
        return ProviderError("timeout", "Telegram timed out", retryable=True)
    if isinstance(exc, InvalidToken):
        return ProviderError("401", "bot token rejected", retryable=False, status=401)
    if isinstance(exc, EndPointNotFound):
        return ProviderError("404", "Bot API method not found", retryable=False, status=404)
    if isinstance(exc, Forbidden):
        return ProviderError("403", exc.message, retryable=False, status=403)
    if isinstance(exc, ChatMigrated):
        return ProviderError("400", "chat migrated to a supergroup", retryable=False, status=400)
    if isinstance(exc, BadRequest):
        return ProviderError("400", exc.message, retryable=False, status=400)
    if isinstance(exc, Conflict):
        return ProviderError("409", exc.message, retryable=False, status=409)
    if isinstance(exc, NetworkError):
        # Connection failures and 5xx answers alike: worth another try.
        return ProviderError(None, "Telegram unavailable", retryable=True)
    return ProviderError(None, "Telegram error", retryable=False)


class TelegramAdapter(ChannelAdapter):
    """A Telegram bot's private chats."""

    kind = "telegram"

    @property
    def bot_id(self) -> str:
        """The bot's own user id: the part of the token before the colon."""
        return self._credentials["bot_token"].split(":", 1)[0]

    # -- inbound ----------------------------------------------------------------
    def verify(self, request: WebhookRequest) -> None:
        if not self._webhook_secret:
            raise SignatureError(401, "no webhook secret configured for this channel")
        presented = request.headers.get(WEBHOOK_AUTH_HEADER)
        if not presented:
            raise SignatureError(401, "missing X-Telegram-Bot-Api-Secret-Token header")
        if not hmac.compare_digest(presented.encode(), self._webhook_secret.encode()):
            raise SignatureError(403, "X-Telegram-Bot-Api-Secret-Token does not match")

    def parse(self, request: WebhookRequest) -> list[Event]:
        try:
            data = json.loads(request.body)
        except (ValueError, UnicodeDecodeError):
            raise MalformedPayload("body is not JSON") from None
        if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
            raise MalformedPayload("not a Telegram Update (no integer update_id)")
        try:
            update = Update.de_json(data, None)
        except (KeyError, TypeError, ValueError, AttributeError):
            raise MalformedPayload("Telegram Update with missing or malformed fields") from None
        if update.message is not None:
            return [self._parse_message(update.message)]
        if update.edited_message is not None:
            return [parse_edit(update.edited_message)]
        update_type = next((key for key in data if key != "update_id"), "empty")
        return [Ignored(f"telegram {update_type} update")]

    def _parse_message(self, message: Message) -> Event:
        chat = message.chat
        if chat.type != PRIVATE_CHAT:
            return Ignored(f"telegram {chat.type} chat message")
        user = message.from_user
        text = message.text or message.caption or ""
        metadata: dict[str, Any] = {}
        attachments: tuple[MediaRef, ...] = ()
        location = None
        kind: str

        if message.sticker is not None:
            kind, text = "unsupported", PLACEHOLDERS["sticker"]
            if message.sticker.emoji:
                metadata["sticker_emoji"] = message.sticker.emoji
        elif (media := read_media(message)) is not None:
            attachments = (media,)
            kind = media.kind
        elif message.location is not None:
            kind = "location"
            location = (message.location.latitude, message.location.longitude)
            if message.venue is not None:
                metadata["venue_title"] = message.venue.title
                metadata["venue_address"] = message.venue.address
        elif message.text is not None:
            kind = "text"
        elif message.effective_attachment is not None:
            kind = "unsupported"
            text = next(
                (label for name, label in PLACEHOLDERS.items() if getattr(message, name, None)),
                UNSUPPORTED_PLACEHOLDER,
            )
        else:
            # Service messages (pins, auto-delete timer changes...) hold no content.
            return Ignored("telegram service message")

        if message.media_group_id:
            # Albums arrive as one message per item sharing this id.
            metadata["media_group_id"] = message.media_group_id
        reply = message.reply_to_message
        return InboundMessage(
            provider_message_id=build_message_key(chat.id, message.message_id),
            provider_user_id=str(user.id if user else chat.id),
            account_id=self.bot_id,
            sent_at=message.date.astimezone(UTC),
            kind=kind,  # type: ignore[arg-type]
            text=text,
            profile=ContactProfile(
                display_name=(user.full_name if user else chat.full_name) or None,
                username=(user.username if user else chat.username) or None,
            ),
            attachments=attachments,
            location=location,
            reply_to_provider_id=(
                build_message_key(chat.id, reply.message_id) if reply is not None else None
            ),
            metadata=metadata,
        )

    # -- outbound ---------------------------------------------------------------
    @asynccontextmanager
    async def _open_bot(self) -> AsyncIterator[Bot]:
        """A Bot on the configured API base whose HTTP pool is closed on exit, with
        python-telegram-bot's errors translated to ProviderError."""
        request = FloodAwareRequest(
            connect_timeout=HTTP_CONNECT_TIMEOUT_SECONDS,
            read_timeout=HTTP_TIMEOUT_SECONDS,
            write_timeout=HTTP_TIMEOUT_SECONDS,
        )
        base = self.endpoints.telegram_api_base.rstrip("/")
        bot = Bot(
            self._credentials["bot_token"],
            base_url=f"{base}/bot",
            base_file_url=f"{base}/file/bot",
            request=request,
            get_updates_request=request,
        )
        try:
            yield bot
        except TelegramError as exc:
            # Not chained: the library's exceptions can quote the token-bearing URL.
            raise build_telegram_error(exc) from None
        finally:
            await request.shutdown()

    async def send(self, message: OutboundMessage) -> SendResult:
        if message.template_id or not message.text:
            raise ProviderError("unsupported", "Telegram has no message templates", retryable=False)
        chat_id = read_chat_id(message.to)
        async with self._open_bot() as bot:
            sent = await bot.send_message(chat_id=chat_id, text=message.text)
        return SendResult(build_message_key(sent.chat.id, sent.message_id), "sent")

    async def fetch_profile(self, provider_user_id: str) -> ProviderProfile:
        chat_id = read_chat_id(provider_user_id)
        async with self._open_bot() as bot:
            chat = await bot.get_chat(chat_id)
            photos = await bot.get_user_profile_photos(user_id=chat_id, limit=1)
        avatar = None
        if photos.photos and photos.photos[0]:
            largest = photos.photos[0][-1]
            avatar = MediaRef(
                kind="image",
                media_type=PHOTO_MEDIA_TYPE,
                file_id=largest.file_id,
                size=largest.file_size,
            )
        fields = {
            name: value
            for name in ("first_name", "last_name", "username", "bio")
            if (value := getattr(chat, name, None))
        }
        name = " ".join(part for part in (chat.first_name, chat.last_name) if part)
        return ProviderProfile(
            display_name=name or None,
            username=chat.username or None,
            avatar=avatar,
            source="telegram.getChat",
            fields=fields,
            fetched_at=datetime.now(UTC),
        )

    async def download_media(self, ref: MediaRef, max_bytes: int) -> DownloadedMedia:
        if not ref.file_id:
            raise ProviderError("invalid_media", "media reference has no file id", retryable=False)
        if ref.size is not None and ref.size > max_bytes:
            raise build_too_large_error(max_bytes)
        async with self._open_bot() as bot:
            file = await bot.get_file(ref.file_id)
        if file.file_size is not None and file.file_size > max_bytes:
            raise build_too_large_error(max_bytes)
        if not file.file_path:
            raise ProviderError("invalid_response", "getFile returned no path", retryable=True)
        # file_path is the full download URL on base_file_url (it embeds the token).
        downloaded = await self._stream_media(file.file_path, max_bytes, ref=ref)
        return DownloadedMedia(
            downloaded.data,
            # Telegram's file server answers with generic types; the message knew better.
            ref.media_type or downloaded.media_type,
            ref.filename or posixpath.basename(file.file_path.split("?", 1)[0]) or None,
        )

    async def register_webhook(self, url: str, secret: str) -> None:
        async with self._open_bot() as bot:
            await bot.set_webhook(
                url=url, secret_token=secret, allowed_updates=list(ALLOWED_UPDATES)
            )

    async def unregister_webhook(self) -> None:
        async with self._open_bot() as bot:
            await bot.delete_webhook()

    def _error_from_response(
        self, status: int, headers: Mapping[str, str], body: bytes
    ) -> ProviderError:
        description = f"HTTP {status}"
        retry_after = None
        try:
            payload = json.loads(body)
        except ValueError:
            payload = None
        if isinstance(payload, dict):
            description = str(payload.get("description") or description)
            parameters = payload.get("parameters")
            if isinstance(parameters, dict) and isinstance(parameters.get("retry_after"), int):
                retry_after = float(parameters["retry_after"])
        return build_http_error(status, str(status), description, retry_after=retry_after)


def read_media(message: Message) -> MediaRef | None:
    """The downloadable attachment of a message, if it has one."""
    if message.photo:
        largest = message.photo[-1]  # sizes come smallest first
        return MediaRef(
            kind="image",
            media_type=PHOTO_MEDIA_TYPE,
            file_id=largest.file_id,
            size=largest.file_size,
        )
    # An animation also fills ``document``, so it is looked at first.
    if message.animation is not None:
        item = message.animation
        return MediaRef("video", item.mime_type, None, item.file_id, item.file_name, item.file_size)
    if message.video is not None:
        item = message.video
        return MediaRef("video", item.mime_type, None, item.file_id, item.file_name, item.file_size)
    if message.video_note is not None:
        note = message.video_note
        return MediaRef("video", VIDEO_NOTE_MEDIA_TYPE, None, note.file_id, None, note.file_size)
    if message.voice is not None:
        voice = message.voice
        media_type = voice.mime_type or VOICE_MEDIA_TYPE
        return MediaRef("audio", media_type, None, voice.file_id, None, voice.file_size)
    if message.audio is not None:
        item = message.audio
        return MediaRef("audio", item.mime_type, None, item.file_id, item.file_name, item.file_size)
    if message.document is not None:
        doc = message.document
        return MediaRef("file", doc.mime_type, None, doc.file_id, doc.file_name, doc.file_size)
    return None


def parse_edit(message: Message) -> Event:
    """An edit of an earlier private-chat message."""
    if message.chat.type != PRIVATE_CHAT:
        return Ignored(f"telegram {message.chat.type} chat edit")
    user = message.from_user
    edited_at = message.edit_date or message.date
    return MessageEdited(
        provider_message_id=build_message_key(message.chat.id, message.message_id),
        provider_user_id=str(user.id if user else message.chat.id),
        text=message.text or message.caption or "",
        edited_at=edited_at.astimezone(UTC),
    )
