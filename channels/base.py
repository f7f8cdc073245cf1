"""The one interface every channel adapter implements, and the pieces around it.

An adapter only translates: a verified webhook request becomes normalized events,
an ``OutboundMessage`` becomes a provider API call. It never touches the database,
the queue or the inbox's models; the caller decides what to store and when.

Use an adapter as an async context manager (or call ``aclose``) when it makes API
calls, so the HTTP connections it opened are closed.
"""

from __future__ import annotations

import abc
import importlib
import re
import secrets
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from email.message import Message
from types import TracebackType
from typing import ClassVar, Self

import httpx

from channels.errors import (
    InvalidCredentials,
    ProviderError,
    build_http_error,
    parse_retry_after,
)
from channels.events import (
    DownloadedMedia,
    Event,
    MediaRef,
    OutboundMessage,
    ProviderProfile,
    SendResult,
)

DEFAULT_TWILIO_API_BASE = "https://api.twilio.com"
DEFAULT_TELEGRAM_API_BASE = "https://api.telegram.org"
DEFAULT_GRAPH_API_BASE = "https://graph.facebook.com"

# Provider calls are short; a stuck one should fail and be retried by the job queue.
HTTP_TIMEOUT_SECONDS = 15.0
HTTP_CONNECT_TIMEOUT_SECONDS = 5.0
# How much of an error answer we read to find the provider's error code.
MAX_ERROR_BODY_BYTES = 64 * 1024
# 32 random bytes -> 43 URL-safe characters, all within Telegram's secret_token alphabet.
WEBHOOK_SECRET_BYTES = 32
DEFAULT_MEDIA_TYPE = "application/octet-stream"

CHANNEL_KINDS = ("whatsapp", "telegram", "messenger")


@dataclass(frozen=True)
class ProviderEndpoints:
    """Base URLs of the provider APIs; tests and the demo point them at the fake."""

    twilio_api_base: str = DEFAULT_TWILIO_API_BASE
    telegram_api_base: str = DEFAULT_TELEGRAM_API_BASE
    graph_api_base: str = DEFAULT_GRAPH_API_BASE


class Headers(Mapping[str, str]):
    """Read-only header mapping with case-insensitive lookups."""

    def __init__(self, headers: Mapping[str, str] | None = None) -> None:
        self._items = {name.lower(): value for name, value in (headers or {}).items()}

    def __getitem__(self, name: str) -> str:
        return self._items[name.lower()]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        # Header values can be secrets (signatures, tokens): show names only.
        return f"Headers({sorted(self._items)})"


@dataclass(frozen=True)
class WebhookRequest:
    """A provider's webhook request as the web layer received it.

    ``url`` is the public URL the provider requested (scheme, host, port, path and
    query), rebuilt by the caller behind proxies: Twilio signs exactly that URL.
    """

    url: str
    method: str = "POST"
    headers: Mapping[str, str] = field(default_factory=dict)
    query: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""

    def __post_init__(self) -> None:
        if not isinstance(self.headers, Headers):
            object.__setattr__(self, "headers", Headers(self.headers))


# --------------------------------------------------------------------- credentials
@dataclass(frozen=True)
class CredentialKey:
    """One credentials key: its format and how to describe that format."""

    pattern: str
    description: str


_ANY_TEXT = CredentialKey(r"\S(?:.*\S)?", "a non-empty string")

# Mirrors the credentials table of API.md; a change here is a change of the public API.
REQUIRED_CREDENTIALS: dict[str, dict[str, CredentialKey]] = {
    "whatsapp": {
        "account_sid": CredentialKey(r"AC[0-9a-fA-F]{32}", "'AC' followed by 32 hex digits"),
        "auth_token": _ANY_TEXT,
        "from_number": CredentialKey(r"whatsapp:\+[1-9]\d{6,14}", "'whatsapp:+' and E.164 digits"),
    },
    "telegram": {
        "bot_token": CredentialKey(r"\d+:[A-Za-z0-9_-]+", "a bot token like '123456:ABC-def'"),
    },
    "messenger": {
        "page_id": CredentialKey(r"\d+", "a numeric Page id"),
        "page_access_token": _ANY_TEXT,
        "app_secret": _ANY_TEXT,
        "verify_token": _ANY_TEXT,
    },
}
OPTIONAL_CREDENTIALS: dict[str, dict[str, CredentialKey]] = {
    "whatsapp": {
        "messaging_service_sid": CredentialKey(
            r"MG[0-9a-fA-F]{32}", "'MG' followed by 32 hex digits"
        ),
    },
    "telegram": {},
    "messenger": {},
}


def validate_credentials(kind: str, credentials: Mapping[str, object]) -> dict[str, str]:
    """Check ``credentials`` for a channel of ``kind``; return a clean copy.

    Raises InvalidCredentials naming the first offending key (never its value).
    """
    if kind not in REQUIRED_CREDENTIALS:
        raise InvalidCredentials(f"unknown channel kind {kind!r}; expected one of {CHANNEL_KINDS}")
    if not isinstance(credentials, Mapping):
        raise InvalidCredentials("credentials must be an object")
    required = REQUIRED_CREDENTIALS[kind]
    optional = OPTIONAL_CREDENTIALS[kind]
    for key in credentials:
        if key not in required and key not in optional:
            raise InvalidCredentials(f"unknown credentials key {key!r} for a {kind} channel")
    for key in required:
        if key not in credentials:
            raise InvalidCredentials(f"missing credentials key {key!r} for a {kind} channel")
    clean: dict[str, str] = {}
    for key, value in credentials.items():
        spec = required.get(key) or optional[key]
        if not isinstance(value, str) or not re.fullmatch(spec.pattern, value):
            raise InvalidCredentials(f"credentials key {key!r} must be {spec.description}")
        clean[key] = value
    return clean


def generate_webhook_secret() -> str:
    """A fresh webhook secret, valid as Telegram's ``secret_token`` (A-Z a-z 0-9 _ -)."""
    return secrets.token_urlsafe(WEBHOOK_SECRET_BYTES)


# ------------------------------------------------------------------------ adapters
class ChannelAdapter(abc.ABC):
    """Translate between one provider and the normalized types of ``channels.events``."""

    kind: ClassVar[str]

    def __init__(
        self,
        credentials: Mapping[str, object],
        endpoints: ProviderEndpoints | None = None,
        webhook_secret: str | None = None,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        self._credentials = validate_credentials(self.kind, credentials)
        self.endpoints = endpoints or ProviderEndpoints()
        self._webhook_secret = webhook_secret
        self._http = http
        self._owns_http = False

    # -- the interface --------------------------------------------------------
    @abc.abstractmethod
    def verify(self, request: WebhookRequest) -> None:
        """Prove the request comes from the provider; raise SignatureError if not."""

    @abc.abstractmethod
    def parse(self, request: WebhookRequest) -> list[Event]:
        """Translate a verified request into events; raise MalformedPayload."""

    @abc.abstractmethod
    async def send(self, message: OutboundMessage) -> SendResult:
        """Send ``message``; raise ProviderError."""

    @abc.abstractmethod
    async def fetch_profile(self, provider_user_id: str) -> ProviderProfile:
        """Fetch the public profile the provider offers for this user."""

    @abc.abstractmethod
    async def download_media(self, ref: MediaRef, max_bytes: int) -> DownloadedMedia:
        """Download an attachment, refusing anything above ``max_bytes``."""

    async def register_webhook(self, url: str, secret: str) -> None:  # noqa: B027
        """Tell the provider where to send updates. Only Telegram has an API for it;
        Twilio and Meta webhooks are configured in their consoles."""

    async def unregister_webhook(self) -> None:  # noqa: B027
        """Stop the provider from sending updates (when a channel is deleted)."""

    def verify_and_parse(self, request: WebhookRequest) -> list[Event]:
        """``verify`` then ``parse``: nothing is parsed before the signature holds."""
        self.verify(request)
        return self.parse(request)

    # -- resources ------------------------------------------------------------
    def _http_client(self) -> httpx.AsyncClient:
        if self._http is None:
            self._http = httpx.AsyncClient(
                timeout=httpx.Timeout(HTTP_TIMEOUT_SECONDS, connect=HTTP_CONNECT_TIMEOUT_SECONDS)
            )
            self._owns_http = True
        return self._http

    async def aclose(self) -> None:
        """Close the HTTP client this adapter opened itself (not one it was given)."""
        if self._owns_http and self._http is not None:
            await self._http.aclose()
            self._http = None
            self._owns_http = False

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    # -- helpers for subclasses -----------------------------------------------
    def _error_from_response(
        self, status: int, headers: Mapping[str, str], body: bytes
    ) -> ProviderError:
        """Classify a provider's non-2xx answer; subclasses read their error format."""
        retry_after = parse_retry_after(headers.get("retry-after"))
        return build_http_error(status, None, f"HTTP {status}", retry_after=retry_after)

    async def _stream_media(
        self,
        url: str,
        max_bytes: int,
        *,
        ref: MediaRef,
        auth: httpx.Auth | tuple[str, str] | None = None,
    ) -> DownloadedMedia:
        """GET ``url`` in chunks, stopping as soon as it exceeds ``max_bytes``."""
        client = self._http_client()
        try:
            async with client.stream("GET", url, auth=auth, follow_redirects=True) as response:
                if response.status_code >= 300:
                    body = await read_bounded(response, MAX_ERROR_BODY_BYTES)
                    raise self._error_from_response(response.status_code, response.headers, body)
                declared = response.headers.get("content-length")
                if declared and declared.isdigit() and int(declared) > max_bytes:
                    raise build_too_large_error(max_bytes)
                chunks: list[bytes] = []
                received = 0
                async for chunk in response.aiter_bytes():
                    received += len(chunk)
                    if received > max_bytes:
                        raise build_too_large_error(max_bytes)
                    chunks.append(chunk)
                media_type = read_media_type(response.headers.get("content-type"))
                filename = read_filename(response.headers.get("content-disposition"))
        except httpx.HTTPError as exc:
            raise build_transport_error(exc) from None
        return DownloadedMedia(
            b"".join(chunks),
            media_type or ref.media_type or DEFAULT_MEDIA_TYPE,
            filename or ref.filename,
        )


async def read_bounded(response: httpx.Response, limit: int) -> bytes:
    """Read at most ``limit`` bytes of a streamed response body."""
    data = b""
    async for chunk in response.aiter_bytes():
        data += chunk
        if len(data) >= limit:
            return data[:limit]
    return data


def read_media_type(content_type: str | None) -> str | None:
    """The bare media type of a Content-Type header ("image/jpeg")."""
    if not content_type:
        return None
    return content_type.split(";", 1)[0].strip().lower() or None


def read_filename(content_disposition: str | None) -> str | None:
    """The filename of a Content-Disposition header (plain or RFC 5987 form)."""
    if not content_disposition:
        return None
    parsed = Message()
    parsed["content-disposition"] = content_disposition
    return parsed.get_filename()


def build_too_large_error(max_bytes: int) -> ProviderError:
    """The refusal of a download above the size limit (never worth retrying)."""
    return ProviderError("too_large", f"media larger than {max_bytes} bytes", retryable=False)


def build_transport_error(exc: Exception) -> ProviderError:
    """Map a timeout or connection failure to a retryable ProviderError.

    The original exception is not chained by callers: its text can hold request URLs,
    and Telegram's URLs contain the bot token.
    """
    if isinstance(exc, httpx.TimeoutException):
        return ProviderError("timeout", "provider timed out", retryable=True)
    return ProviderError("network", f"network error ({type(exc).__name__})", retryable=True)


# Adapters are imported on first use so that importing ``channels.base`` stays cheap
# and the provider SDKs load only for the kinds in use.
ADAPTER_CLASSES = {
    "whatsapp": "channels.twilio:TwilioAdapter",
    "telegram": "channels.telegram:TelegramAdapter",
    "messenger": "channels.messenger:MessengerAdapter",
}


def get_adapter(
    kind: str,
    credentials: Mapping[str, object],
    endpoints: ProviderEndpoints | None = None,
    webhook_secret: str | None = None,
    http: httpx.AsyncClient | None = None,
) -> ChannelAdapter:
    """Build the adapter of a channel ``kind`` (credentials are validated)."""
    if kind not in ADAPTER_CLASSES:
        raise InvalidCredentials(f"unknown channel kind {kind!r}; expected one of {CHANNEL_KINDS}")
    module_name, class_name = ADAPTER_CLASSES[kind].split(":")
    adapter_class = getattr(importlib.import_module(module_name), class_name)
    return adapter_class(credentials, endpoints, webhook_secret, http)
