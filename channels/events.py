"""Normalized types that the channel adapters translate provider payloads into and from.

The inbox only ever sees these types; nothing provider-specific crosses this line.
All datetimes are timezone-aware UTC.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, NamedTuple

MessageKind = Literal["text", "image", "audio", "video", "file", "location", "unsupported"]
MediaKind = Literal["image", "audio", "video", "file", "sticker"]
Direction = Literal["inbound", "outbound"]
DeliveryStatus = Literal["queued", "sent", "delivered", "read", "failed", "undelivered"]
WatermarkStatus = Literal["delivered", "read"]


@dataclass(frozen=True)
class ContactProfile:
    """What a provider tells about the end user. ``phone`` is E.164 ("+15555550123")."""

    display_name: str | None = None
    username: str | None = None
    phone: str | None = None
    avatar_url: str | None = None


@dataclass(frozen=True)
class MediaRef:
    """Where a piece of media can be fetched: ``url`` (Twilio, Messenger) or
    ``file_id`` (Telegram). Nothing is downloaded while parsing."""

    kind: MediaKind
    media_type: str | None = None
    url: str | None = None
    file_id: str | None = None
    filename: str | None = None
    size: int | None = None


@dataclass(frozen=True)
class InboundMessage:
    """A message in a conversation with an end user.

    ``direction`` is "outbound" only for a Messenger echo: the Page answered from
    somewhere else (Meta Business Suite), and the inbox shows it in that user's
    conversation. ``account_id`` is our own side of the channel: the Twilio receiving
    address ("whatsapp:+1..."), the Telegram bot id, or the Messenger Page id.
    ``text`` is exactly as received: the caption for media, the button title for a
    postback, a placeholder such as "[sticker]" for unsupported content.
    """

    provider_message_id: str
    provider_user_id: str
    account_id: str | None
    sent_at: datetime
    kind: MessageKind
    text: str
    profile: ContactProfile = field(default_factory=ContactProfile)
    attachments: tuple[MediaRef, ...] = ()
    location: tuple[float, float] | None = None
    reply_to_provider_id: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    direction: Direction = "inbound"


@dataclass(frozen=True)
class StatusUpdate:
    """The provider's news about one of our outbound messages."""

    provider_message_id: str
    status: DeliveryStatus
    at: datetime
    error_code: str | None = None
    error_message: str | None = None


@dataclass(frozen=True)
class Watermark:
    """Every outbound message to this user sent at or before ``watermark`` reached
    ``status`` (Messenger delivery and read receipts). ``provider_message_ids`` lists
    the ones the provider named, which may be none."""

    account_id: str | None
    provider_user_id: str
    status: WatermarkStatus
    watermark: datetime
    provider_message_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class MessageEdited:
    """The end user edited a message they sent earlier."""

    provider_message_id: str
    provider_user_id: str
    text: str
    edited_at: datetime


@dataclass(frozen=True)
class Ignored:
    """A verified update that the inbox deliberately does not store.

    ``reason`` names the update type only, never its content."""

    reason: str


Event = InboundMessage | StatusUpdate | Watermark | MessageEdited | Ignored


@dataclass(frozen=True)
class OutboundMessage:
    """A reply to send. ``to`` is the provider_user_id of the end user. Either ``text``
    or ``template_id`` (a Twilio Content SID) must be set."""

    to: str
    text: str | None = None
    template_id: str | None = None
    template_variables: Mapping[str, str] | None = None
    status_callback_url: str | None = None

    def __post_init__(self) -> None:
        if not self.text and not self.template_id:
            raise ValueError("an outbound message needs text or a template")


@dataclass(frozen=True)
class SendResult:
    """The provider accepted the message under this id, in this status."""

    provider_message_id: str
    status: DeliveryStatus


@dataclass(frozen=True)
class ProviderProfile(ContactProfile):
    """A profile fetched from the provider's API.

    ``avatar`` points at the picture to download with ``download_media`` (Telegram
    avatars are file ids whose URLs embed the bot token, so no ``avatar_url`` is
    given for them). ``fields`` holds the raw profile fields by name, each from
    ``source``, as of ``fetched_at``.
    """

    avatar: MediaRef | None = None
    source: str = ""
    fields: Mapping[str, str] = field(default_factory=dict)
    fetched_at: datetime | None = None


class DownloadedMedia(NamedTuple):
    """Bytes of a downloaded attachment; unpacks as (data, media_type, filename)."""

    data: bytes
    media_type: str
    filename: str | None = None
