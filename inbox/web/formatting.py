"""Turning stored values into what a person reads: links, times, sizes, initials.

Everything here returns plain text (escaped later by Jinja) except ``linkify``,
which escapes every piece itself and returns Markup.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from markupsafe import Markup, escape

CHANNEL_LABELS = {"whatsapp": "WhatsApp", "telegram": "Telegram", "messenger": "Messenger"}

# http(s) URLs and bare www. hosts; anything else (javascript:, data:) stays text.
URL_PATTERN = re.compile(r"(?i)\b((?:https?://|www\.)[^\s<>\"']+)")
# Punctuation that usually ends a sentence rather than a URL.
TRAILING_PUNCTUATION = ".,;:!?)]}'\""
MAX_LINK_LENGTH = 2048


def linkify(text: str | None) -> Markup:
    """Escape ``text`` and turn http(s) URLs into links that open a new tab.

    The text is split first and each piece escaped on its own, so nothing the
    sender wrote can become markup; only http and https targets are linked.
    """
    if not text:
        return Markup("")
    parts: list[str] = []
    position = 0
    for match in URL_PATTERN.finditer(text):
        url = match.group(1)
        trimmed = url.rstrip(TRAILING_PUNCTUATION)
        # Keep a closing parenthesis that belongs to the URL (wiki-style links).
        while trimmed.count("(") > trimmed.count(")") and url[len(trimmed) :].startswith(")"):
            trimmed += ")"
        start = match.start(1)
        end = start + len(trimmed)
        parts.append(str(escape(text[position:start])))
        href = trimmed if trimmed.lower().startswith("http") else "https://" + trimmed
        if len(href) > MAX_LINK_LENGTH:
            parts.append(str(escape(trimmed)))
        else:
            parts.append(
                f'<a href="{escape(href)}" rel="noopener noreferrer nofollow" '
                f'target="_blank">{escape(trimmed)}</a>'
            )
        position = end
    parts.append(str(escape(text[position:])))
    return Markup("".join(parts))  # noqa: S704 - every part was escaped above


def as_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def format_clock(value: datetime | None) -> str:
    """"14:05" (UTC on the server; the browser rewrites it in local time)."""
    if value is None:
        return ""
    return as_utc(value).strftime("%H:%M")


def format_day(value: datetime | None, now: datetime | None = None) -> str:
    """"Today", "Yesterday" or "12 Mar 2025" for day separators."""
    if value is None:
        return ""
    now = as_utc(now or datetime.now(UTC))
    day = as_utc(value).date()
    if day == now.date():
        return "Today"
    if day == now.date() - timedelta(days=1):
        return "Yesterday"
    return as_utc(value).strftime("%-d %b %Y")


def format_list_time(value: datetime | None, now: datetime | None = None) -> str:
    """The list's time column: clock time today, the date before."""
    if value is None:
        return ""
    now = as_utc(now or datetime.now(UTC))
    value = as_utc(value)
    if value.date() == now.date():
        return value.strftime("%H:%M")
    if value.year == now.year:
        return value.strftime("%-d %b")
    return value.strftime("%-d %b %Y")


def format_age(value: datetime | str | None, now: datetime | None = None) -> str:
    """"just now", "5 min ago", "2 h ago", "3 days ago"."""
    if value is None or value == "":
        return "unknown time"
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return "unknown time"
    seconds = (as_utc(now or datetime.now(UTC)) - as_utc(value)).total_seconds()
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    if seconds < 86400:
        return f"{int(seconds // 3600)} h ago"
    days = int(seconds // 86400)
    return "1 day ago" if days == 1 else f"{days} days ago"


def format_size(size: int | None) -> str:
    if size is None:
        return ""
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"


def initials(name: str | None) -> str:
    words = [word for word in (name or "").split() if word[:1].isalnum()]
    if not words:
        return "?"
    letters = words[0][:1] + (words[-1][:1] if len(words) > 1 else "")
    return letters.upper()


def channel_label(kind: str | None) -> str:
    return CHANNEL_LABELS.get(kind or "", kind or "")
