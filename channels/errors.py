"""Errors raised by the channel adapters.

Every exception here is safe to log: its text never carries message bodies, phone
numbers, names or tokens. The provider's own error text is kept on
``ProviderError.message`` (redacted) for showing to agents, and stays out of
``str(exc)`` because providers sometimes echo the recipient back in it.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

# Providers answer throttling with 429 and outages with 5xx; both clear by themselves.
RETRYABLE_STATUS_MIN = 500
TOO_MANY_REQUESTS = 429

# What we redact from a provider's error text before keeping it: e-mail addresses,
# Telegram bot tokens (digits, colon, secret) and any run of 6+ digits (phone numbers,
# chat ids, PSIDs), with or without a leading "+".
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_BOT_TOKEN = re.compile(r"\d+:[A-Za-z0-9_-]{20,}")
_LONG_NUMBER = re.compile(r"\+?\d[\d ().-]{4,}\d")
_MIN_REDACTED_DIGITS = 6
MAX_PROVIDER_MESSAGE_LENGTH = 300


class ChannelError(Exception):
    """Base class of every error raised by ``channels``."""


class SignatureError(ChannelError):
    """The request is not proven to come from the provider.

    ``status`` is 401 when the proof is missing (no header, no secret configured)
    and 403 when it is present but wrong.
    """

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class MalformedPayload(ChannelError):
    """The request is authentic but its payload cannot be understood (HTTP 400)."""

    status = 400


class InvalidCredentials(ValueError):
    """Channel credentials miss a key, carry an unknown one or have a bad format.

    The message names the key, never its value.
    """


class ProviderError(ChannelError):
    """A provider API call failed.

    ``retryable`` is true for throttling, provider outages, timeouts and connection
    errors; ``retry_after`` is the delay the provider asked for, in seconds.
    ``code`` is the provider's own error code when it gave one (Twilio 21211, Graph 100,
    Telegram's HTTP-like error_code) or one of ours: ``too_large``, ``timeout``,
    ``network``, ``unsupported``, ``invalid_recipient``, ``invalid_response``.
    ``message`` is the provider's explanation with personal data redacted.
    """

    def __init__(
        self,
        code: str | None,
        message: str,
        retryable: bool,
        retry_after: float | None = None,
        status: int | None = None,
    ) -> None:
        self.code = code
        self.message = redact_personal_data(message)
        self.retryable = retryable
        self.retry_after = retry_after
        self.status = status
        # The exception text stays generic: logs and error trackers see only this.
        super().__init__(
            f"provider call failed (status={status}, code={code}, retryable={retryable})"
        )


def redact_personal_data(text: str) -> str:
    """Blank out e-mail addresses, bot tokens and long digit runs in ``text``."""

    def replace_number(match: re.Match[str]) -> str:
        digits = sum(ch.isdigit() for ch in match.group(0))
        return "[number]" if digits >= _MIN_REDACTED_DIGITS else match.group(0)

    text = _EMAIL.sub("[email]", text)
    text = _BOT_TOKEN.sub("[token]", text)
    text = _LONG_NUMBER.sub(replace_number, text)
    return text[:MAX_PROVIDER_MESSAGE_LENGTH]


def parse_retry_after(value: str | None) -> float | None:
    """Read a Retry-After header: delay in seconds or an HTTP date (RFC 9110)."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - datetime.now(UTC)).total_seconds()
    return max(seconds, 0.0)


def is_retryable_status(status: int) -> bool:
    """Whether an HTTP status means "try again later"."""
    return status == TOO_MANY_REQUESTS or status >= RETRYABLE_STATUS_MIN


def build_http_error(
    status: int,
    code: str | int | None,
    message: str,
    *,
    retry_after: float | None = None,
    retryable: bool | None = None,
) -> ProviderError:
    """Classify an HTTP error answer of a provider into a ProviderError."""
    if retryable is None:
        retryable = is_retryable_status(status)
    return ProviderError(
        None if code is None else str(code),
        message or f"HTTP {status}",
        retryable=retryable,
        retry_after=retry_after,
        status=status,
    )
