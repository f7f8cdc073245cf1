"""What the inbox templates receive: the API's own resource shapes, plus display extras.

Conversations and messages go through the API's serializers
(``ConversationOut.of``, ``MessageOut.of``) so a page and an API client see the
same fields; the extras are what only a page needs (member names, whether a
Retry button fits, day separators).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel

from inbox.api.schemas.contacts import AVATAR_PATH
from inbox.api.schemas.conversations import (
    ATTACHMENT_PATH,
    ConversationOut,
    MessageOut,
)
from inbox.conversations.queries import ConversationView, MessageView
from inbox.models import Contact, Note
from inbox.settings import Settings
from inbox.web.formatting import format_day

FAILED_STATUSES = ("failed", "undelivered")
PROVIDER_LABELS = {"twilio": "WhatsApp", "telegram": "Telegram", "messenger": "Messenger"}
PROFILE_LABELS = {
    "display_name": "Name",
    "phone": "Phone",
    "username": "Username",
    "bio": "Bio",
    "language": "Language",
    "locale": "Language",
}
SOURCE_LABELS = {
    "agent": "typed by an agent",
    "twilio.webhook": "WhatsApp message",
    "telegram.webhook": "Telegram message",
    "messenger.webhook": "Messenger message",
    "telegram.getChat": "Telegram profile",
    "messenger.profile": "Messenger profile",
}


def plain(value: Any) -> Any:
    """A pydantic dump with ids as text, ready for templates."""
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="python")
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def conversation_item(view: ConversationView, names: dict[str, str]) -> dict[str, Any]:
    item = plain(ConversationOut.of(view))
    item["preview"] = item.get("last_message_preview") or ""
    item["assignee_name"] = names.get(item["assignee_id"] or "", "")
    return item


def message_item(view: MessageView, settings: Settings, names: dict[str, str]) -> dict[str, Any]:
    item = plain(MessageOut.of(view, settings))
    # Same-origin paths: the page may be served under another host than PUBLIC_URL.
    for attachment in item["attachments"]:
        attachment["url"] = (
            ATTACHMENT_PATH.format(id=attachment["id"])
            if attachment.get("download_status") == "stored"
            else ""
        )
    author_id = item["author"]["id"] if item["author"]["type"] == "member" else None
    item["author_id"] = author_id
    item["author_name"] = names.get(author_id or "", "") if author_id else ""
    item["can_retry"] = item["status"] in FAILED_STATUSES and item["direction"] == "outbound"
    return item


def note_item(note: Note, names: dict[str, str]) -> dict[str, Any]:
    author = str(note.author_id) if note.author_id else ""
    return {
        "id": str(note.id),
        "conversation_id": str(note.conversation_id),
        "text": note.text,
        "created_at": note.created_at,
        "author_name": names.get(author, ""),
    }


def build_timeline(
    messages: list[dict[str, Any]], notes: list[dict[str, Any]], *, complete: bool
) -> list[dict[str, Any]]:
    """Messages and notes in time order, with a separator at each new day.

    ``messages`` is oldest first. When older messages remain unloaded
    (``complete`` false), notes older than the first loaded message wait too.
    """
    start = messages[0]["created_at"] if messages and not complete else None
    entries = [("message", m["created_at"], m) for m in messages]
    entries += [
        ("note", n["created_at"], n) for n in notes if start is None or n["created_at"] >= start
    ]
    entries.sort(key=lambda entry: as_aware(entry[1]))
    timeline: list[dict[str, Any]] = []
    last_day = None
    for kind, at, item in entries:
        day = as_aware(at).date()
        if day != last_day:
            timeline.append({"type": "day", "label": format_day(at)})
            last_day = day
        timeline.append({"type": kind, "item": item})
    return timeline


def as_aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def contact_fields(contact: Contact) -> list[dict[str, Any]]:
    """Each known value with where it came from and when (the panel's list)."""
    profile = contact.profile or {}
    fields: list[dict[str, Any]] = []
    for name in ("phone", "username"):
        recorded = profile.get(name) if isinstance(profile.get(name), dict) else None
        value = getattr(contact, name)
        if value:
            fields.append(
                {
                    "label": PROFILE_LABELS[name],
                    "value": value,
                    "source": describe_source(recorded.get("source") if recorded else None),
                    "fetched_at": recorded.get("fetched_at") if recorded else None,
                }
            )
    if isinstance(profile.get("display_name"), dict):
        recorded = profile["display_name"]
        fields.insert(
            0,
            {
                "label": "Name",
                "value": contact.display_name,
                "source": describe_source(recorded.get("source")),
                "fetched_at": recorded.get("fetched_at"),
            },
        )
    for name, recorded in sorted(profile.items()):
        if name in ("display_name", "phone", "username") or not isinstance(recorded, dict):
            continue
        value = recorded.get("value")
        if value in (None, ""):
            continue
        fields.append(
            {
                "label": PROFILE_LABELS.get(name, name.replace("_", " ").capitalize()),
                "value": str(value),
                "source": describe_source(recorded.get("source")),
                "fetched_at": recorded.get("fetched_at"),
            }
        )
    return fields


def describe_source(source: str | None) -> str:
    """"messenger.user_profile" → "Messenger profile", "twilio.webhook" → "WhatsApp message"."""
    if not source:
        return "channel"
    if source in SOURCE_LABELS:
        return SOURCE_LABELS[source]
    provider, _, api = source.partition(".")
    label = PROVIDER_LABELS.get(provider)
    if label is None:
        return source
    return f"{label} message" if api == "webhook" else f"{label} profile"


def contact_card(contact: Contact) -> dict[str, Any]:
    return {
        "id": str(contact.id),
        "display_name": contact.display_name,
        "avatar_url": AVATAR_PATH.format(id=contact.id) if contact.avatar_key else None,
        "restricted": contact.restricted,
        "legal_hold": contact.legal_hold,
    }


def day_label(value: datetime | None) -> str:
    return format_day(value) if value else ""


def iso_now() -> str:
    return datetime.now(UTC).isoformat()
