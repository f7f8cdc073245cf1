"""What the fake provider knows and remembers: accounts, profiles, media, every
message "delivered to a phone", the webhooks it fired, and the faults to inject.

Tests and the demo register what the provider would know (accounts, tokens,
profiles, files) and read back what was sent.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

PROVIDERS = ("twilio", "telegram", "messenger")
# Messenger's API is Meta's Graph API; either name selects it.
PROVIDER_ALIASES = {"graph": "messenger"}
TWILIO_PUBLIC_BASE = "https://api.twilio.com"
TWILIO_API_VERSION = "2010-04-01"
# Telegram's getFile refuses files above 20 MB; the fake does the same.
TELEGRAM_MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024


@dataclass
class SentMessage:
    """One message the fake accepted for delivery.

    ``account`` is the Twilio account SID, the Telegram bot id or the Page id;
    ``fields`` is everything the client sent (form fields or JSON body).
    """

    provider: str
    account: str
    to: str
    sender: str | None
    text: str | None
    provider_message_id: str
    fields: dict[str, Any]
    at: datetime = field(default_factory=lambda: datetime.now(UTC))


@dataclass
class Fault:
    """A canned error answer for the next matching request(s)."""

    status: int
    body: Any
    retry_after: float | None
    remaining: int
    path_contains: str | None = None


@dataclass
class MediaFile:
    data: bytes
    content_type: str
    filename: str | None = None


@dataclass
class TelegramWebhook:
    url: str
    secret_token: str | None
    allowed_updates: list[str] | None


@dataclass
class MessengerPage:
    page_id: str
    access_token: str
    app_secret: str | None = None
    webhook_url: str | None = None


@dataclass
class FiredWebhook:
    """A webhook the fake sent on its own (receipts), and the answer it got."""

    provider: str
    url: str
    kind: str
    status: int | None


class FakeProviderState:
    """The shared, in-memory state behind the fake provider's routes."""

    def __init__(self) -> None:
        self.base_url = ""
        self.twilio_accounts: dict[str, str] = {}
        self.telegram_bots: dict[str, dict[str, Any]] = {}
        self.telegram_webhooks: dict[str, TelegramWebhook] = {}
        self.telegram_chats: dict[int, dict[str, Any]] = {}
        self.telegram_photos: dict[int, list[list[dict[str, Any]]]] = {}
        self.telegram_files: dict[str, tuple[str, MediaFile]] = {}
        self.messenger_pages: dict[str, MessengerPage] = {}
        self.messenger_profiles: dict[str, dict[str, str]] = {}
        self.media: dict[str, MediaFile] = {}
        self.sent: list[SentMessage] = []
        self.fired: list[FiredWebhook] = []
        # When on, accepted messages are followed by the provider's receipts
        # (Twilio status callbacks, Messenger delivery and read events).
        self.auto_receipts = False
        self.receipt_delay = 0.05
        self.http: httpx.AsyncClient | None = None
        self._faults: dict[str, list[Fault]] = {name: [] for name in PROVIDERS}
        self._tasks: set[asyncio.Task[None]] = set()
        self._telegram_message_ids: dict[int, int] = {}

    # -- registration --------------------------------------------------------
    def add_twilio_account(self, account_sid: str, auth_token: str) -> None:
        self.twilio_accounts[account_sid] = auth_token

    def add_twilio_media(
        self,
        account_sid: str,
        message_sid: str,
        data: bytes,
        content_type: str,
        *,
        media_sid: str | None = None,
    ) -> str:
        """Serve ``data`` as a message's media; returns the URL as Twilio writes it
        in webhooks (on api.twilio.com, which adapters rebase onto the fake)."""
        media_sid = media_sid or "ME" + secrets.token_hex(16)
        path = (
            f"/{TWILIO_API_VERSION}/Accounts/{account_sid}/Messages/{message_sid}/Media/{media_sid}"
        )
        self.media[path] = MediaFile(data, content_type)
        return TWILIO_PUBLIC_BASE + path

    def add_telegram_bot(
        self, token: str, *, username: str = "fake_support_bot", first_name: str = "Support"
    ) -> None:
        self.telegram_bots[token] = {
            "id": int(token.split(":", 1)[0]),
            "is_bot": True,
            "first_name": first_name,
            "username": username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    def add_telegram_chat(
        self,
        chat_id: int,
        first_name: str,
        *,
        last_name: str | None = None,
        username: str | None = None,
        bio: str | None = None,
    ) -> None:
        """A private chat (its id is the user's id), as getChat will describe it."""
        chat: dict[str, Any] = {"id": chat_id, "type": "private", "first_name": first_name}
        for key, value in (("last_name", last_name), ("username", username), ("bio", bio)):
            if value:
                chat[key] = value
        self.telegram_chats[chat_id] = chat

    def add_telegram_file(
        self,
        data: bytes,
        *,
        file_id: str | None = None,
        file_path: str | None = None,
        content_type: str = "application/octet-stream",
    ) -> str:
        """Make ``file_id`` resolvable with getFile and downloadable; returns the id."""
        file_id = file_id or "BQAC" + secrets.token_urlsafe(24)
        file_path = file_path or f"documents/file_{len(self.telegram_files)}"
        self.telegram_files[file_id] = (file_path, MediaFile(data, content_type))
        return file_id

    def add_telegram_profile_photo(self, user_id: int, data: bytes) -> str:
        """Give a user a profile photo (two sizes); returns the largest size's file id."""
        sizes = []
        for width in (160, 640):
            file_id = self.add_telegram_file(
                data, file_path=f"profile_photos/file_{user_id}_{width}.jpg"
            )
            sizes.append(
                {
                    "file_id": file_id,
                    "file_unique_id": secrets.token_hex(8),
                    "file_size": len(data),
                    "width": width,
                    "height": width,
                }
            )
        self.telegram_photos.setdefault(user_id, []).insert(0, sizes)
        return sizes[-1]["file_id"]

    def add_messenger_page(
        self,
        page_id: str,
        access_token: str,
        *,
        app_secret: str | None = None,
        webhook_url: str | None = None,
    ) -> None:
        """A Page; ``app_secret`` and ``webhook_url`` are needed for auto-receipts."""
        self.messenger_pages[access_token] = MessengerPage(
            page_id, access_token, app_secret, webhook_url
        )

    def add_messenger_profile(
        self,
        psid: str,
        first_name: str,
        *,
        last_name: str | None = None,
        picture: bytes | None = None,
    ) -> None:
        profile = {"id": psid, "first_name": first_name}
        if last_name:
            profile["last_name"] = last_name
        if picture is not None:
            profile["profile_pic"] = self.add_graph_media(picture, "image/jpeg", "profile.jpg")
        self.messenger_profiles[psid] = profile

    def add_graph_media(self, data: bytes, content_type: str, filename: str | None = None) -> str:
        """Serve ``data`` like Meta's CDN does; returns its absolute URL on the fake."""
        path = f"/cdn/{secrets.token_hex(12)}/{filename or 'attachment'}"
        self.media[path] = MediaFile(data, content_type, filename)
        return self.base_url + path

    # -- fault injection -----------------------------------------------------
    def fail_next(
        self,
        provider: str,
        status: int,
        body: Any = None,
        retry_after: float | None = None,
        times: int = 1,
        *,
        path_contains: str | None = None,
    ) -> None:
        """Answer the next ``times`` requests to ``provider`` ("twilio", "telegram",
        "messenger"; optionally only those whose path contains ``path_contains``)
        with ``status`` and ``body`` (a provider-shaped default when None), plus a
        Retry-After header when ``retry_after`` is given."""
        provider = PROVIDER_ALIASES.get(provider, provider)
        if provider not in PROVIDERS:
            raise ValueError(f"unknown provider {provider!r}")
        self._faults[provider].append(Fault(status, body, retry_after, times, path_contains))

    def take_fault(self, provider: str, path: str) -> Fault | None:
        """The fault to apply to this request, if any (consumes one use)."""
        for fault in self._faults[provider]:
            if fault.path_contains is None or fault.path_contains in path:
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults[provider].remove(fault)
                return fault
        return None

    # -- reading back --------------------------------------------------------
    def list_sent_messages(
        self, provider: str | None = None, to: str | None = None
    ) -> list[SentMessage]:
        """Messages the fake accepted, oldest first, optionally filtered."""
        return [
            message
            for message in self.sent
            if (provider is None or message.provider == provider)
            and (to is None or message.to == to)
        ]

    def allocate_telegram_message_id(self, chat_id: int) -> int:
        self._telegram_message_ids[chat_id] = self._telegram_message_ids.get(chat_id, 1000) + 1
        return self._telegram_message_ids[chat_id]

    # -- background work -----------------------------------------------------
    def start_background(self, work: Coroutine[Any, Any, None]) -> None:
        """Run ``work`` after the current answer, tracked so shutdown can wait for it."""
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def wait_background(self, grace_seconds: float = 5.0) -> None:
        """Wait for receipts still being fired (cancelled after ``grace_seconds``)."""
        if not self._tasks:
            return
        pending = set(self._tasks)
        _, still_running = await asyncio.wait(pending, timeout=grace_seconds)
        for task in still_running:
            task.cancel()
        if still_running:
            await asyncio.gather(*still_running, return_exceptions=True)
