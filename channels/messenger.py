"""Facebook Messenger: signed JSON webhooks in, the Graph API (through httpx) out.

One POST can carry several entries, for several Pages (the callback URL is set per
Meta app), so every event carries its entry's Page id as ``account_id`` and the
caller routes on it. Echoes (``is_echo``) are the Page's own messages sent from
elsewhere: they become outbound messages in the end user's conversation.

The Page access token travels in an ``Authorization: Bearer`` header, never in a
URL, so it cannot end up in access logs or error messages that quote URLs.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

from channels.base import (
    MAX_ERROR_BODY_BYTES,
    ChannelAdapter,
    WebhookRequest,
    build_transport_error,
)
from channels.errors import (
    MalformedPayload,
    ProviderError,
    SignatureError,
    build_http_error,
    is_retryable_status,
    parse_retry_after,
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
    Watermark,
)

GRAPH_API_VERSION = "v21.0"
SIGNATURE_HEADER = "X-Hub-Signature-256"
SIGNATURE_PREFIX = "sha256="
# Replies to a user's message within Meta's standard messaging window.
MESSAGING_TYPE = "RESPONSE"
PROFILE_FIELDS = ("first_name", "last_name", "profile_pic")
MEDIA_ATTACHMENT_TYPES = ("image", "audio", "video", "file")
# Graph reports throttling and transient failures with these codes, often under a
# plain 400 status: 1 unknown, 2 service unavailable, 4/17/32/613 rate limits,
# 341 application limit reached.
RETRYABLE_GRAPH_CODES = frozenset({1, 2, 4, 17, 32, 341, 613})
STICKER_PLACEHOLDER = "[sticker]"
UNSUPPORTED_PLACEHOLDER = "[unsupported]"
# The keys every messaging event has; the remaining one names the event type.
ENVELOPE_KEYS = frozenset({"sender", "recipient", "timestamp"})


def verify_subscription(query: Mapping[str, str], verify_token: str) -> str:
    """Answer Meta's GET handshake: return ``hub.challenge`` if the token matches.

    Raises SignatureError(403) otherwise, as Meta expects.
    """
    mode = query.get("hub.mode")
    presented = query.get("hub.verify_token") or ""
    challenge = query.get("hub.challenge")
    if (
        mode != "subscribe"
        or not challenge
        or not verify_token
        or not hmac.compare_digest(presented.encode(), verify_token.encode())
    ):
        raise SignatureError(403, "subscription handshake refused")
    return challenge


def read_time(milliseconds: object) -> datetime:
    """A Messenger timestamp (milliseconds since the epoch) as a UTC datetime."""
    if isinstance(milliseconds, bool) or not isinstance(milliseconds, int | float):
        raise MalformedPayload("timestamp is not a number")
    return datetime.fromtimestamp(milliseconds / 1000, UTC)


def read_id(node: object, name: str) -> str:
    """``node[name]["id"]`` as a string (sender, recipient)."""
    party = node.get(name) if isinstance(node, dict) else None
    value = party.get("id") if isinstance(party, dict) else None
    if value is None or value == "":
        raise MalformedPayload(f"event without {name}.id")
    return str(value)


class MessengerAdapter(ChannelAdapter):
    """A Facebook Page's Messenger conversations."""

    kind = "messenger"

    # -- inbound ----------------------------------------------------------------
    def verify(self, request: WebhookRequest) -> None:
        presented = request.headers.get(SIGNATURE_HEADER)
        if not presented:
            raise SignatureError(401, "missing X-Hub-Signature-256 header")
        digest = hmac.new(
            self._credentials["app_secret"].encode(), request.body, hashlib.sha256
        ).hexdigest()
        if not hmac.compare_digest(presented.encode(), (SIGNATURE_PREFIX + digest).encode()):
            raise SignatureError(403, "X-Hub-Signature-256 does not match")

    def verify_subscription(self, query: Mapping[str, str]) -> str:
        """The GET handshake with this channel's verify token."""
        return verify_subscription(query, self._credentials["verify_token"])

    def parse(self, request: WebhookRequest) -> list[Event]:
        try:
            data = json.loads(request.body)
        except (ValueError, UnicodeDecodeError):
            raise MalformedPayload("body is not JSON") from None
        if not isinstance(data, dict) or data.get("object") != "page":
            raise MalformedPayload("not a Page webhook (object must be 'page')")
        entries = data.get("entry")
        if not isinstance(entries, list):
            raise MalformedPayload("entry is not a list")
        events: list[Event] = []
        for entry in entries:
            if not isinstance(entry, dict):
                raise MalformedPayload("entry item is not an object")
            page_id = str(entry["id"]) if entry.get("id") is not None else None
            messaging = entry.get("messaging")
            if messaging is None:
                # Handover "standby" and Page feed "changes" entries are not conversations.
                events.append(Ignored("messenger entry without messaging"))
                continue
            if not isinstance(messaging, list):
                raise MalformedPayload("entry.messaging is not a list")
            # Meta sends one event per entry, but nothing stops it from batching more.
            events.extend(parse_event(item, page_id) for item in messaging)
        return events

    # -- outbound ---------------------------------------------------------------
    async def send(self, message: OutboundMessage) -> SendResult:
        if message.template_id or not message.text:
            raise ProviderError(
                "unsupported", "Messenger has no message templates", retryable=False
            )
        payload = await self._call_graph(
            "POST",
            "me/messages",
            json={
                "recipient": {"id": message.to},
                "messaging_type": MESSAGING_TYPE,
                "message": {"text": message.text},
            },
        )
        mid = payload.get("message_id")
        if not isinstance(mid, str) or not mid:
            raise ProviderError("invalid_response", "Graph returned no message_id", retryable=True)
        return SendResult(mid, "sent")

    async def fetch_profile(self, provider_user_id: str) -> ProviderProfile:
        if not provider_user_id.isdigit():
            raise ProviderError("invalid_recipient", "recipient is not a PSID", retryable=False)
        payload = await self._call_graph(
            "GET", provider_user_id, params={"fields": ",".join(PROFILE_FIELDS)}
        )
        fields = {
            name: payload[name]
            for name in PROFILE_FIELDS
            if isinstance(payload.get(name), str) and payload[name]
        }
        name = " ".join(fields[key] for key in ("first_name", "last_name") if key in fields)
        picture = fields.get("profile_pic")
        return ProviderProfile(
            display_name=name or None,
            avatar_url=picture,
            avatar=MediaRef(kind="image", url=picture) if picture else None,
            source="messenger.user_profile",
            fields=fields,
            fetched_at=datetime.now(UTC),
        )

    async def download_media(self, ref: MediaRef, max_bytes: int) -> DownloadedMedia:
        # Attachment URLs are signed CDN links: fetched as they are, without our token.
        if not ref.url or urlsplit(ref.url).scheme not in ("http", "https"):
            raise ProviderError("invalid_media", "media reference has no http URL", retryable=False)
        return await self._stream_media(ref.url, max_bytes, ref=ref)

    async def _call_graph(
        self,
        method: str,
        path: str,
        *,
        json: dict[str, Any] | None = None,
        params: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        url = f"{self.endpoints.graph_api_base.rstrip('/')}/{GRAPH_API_VERSION}/{path}"
        headers = {"Authorization": f"Bearer {self._credentials['page_access_token']}"}
        try:
            response = await self._http_client().request(
                method, url, json=json, params=params, headers=headers
            )
        except httpx.HTTPError as exc:
            raise build_transport_error(exc) from None
        if response.status_code >= 300:
            raise self._error_from_response(
                response.status_code, response.headers, response.content[:MAX_ERROR_BODY_BYTES]
            )
        try:
            payload = response.json()
        except ValueError:
            payload = None
        if not isinstance(payload, dict):
            raise ProviderError("invalid_response", "Graph answer is not an object", retryable=True)
        return payload

    def _error_from_response(
        self, status: int, headers: Mapping[str, str], body: bytes
    ) -> ProviderError:
        code: object = None
        message = f"HTTP {status}"
        retryable = is_retryable_status(status)
        try:
            payload = json.loads(body)
        except ValueError:
            payload = None
        error = payload.get("error") if isinstance(payload, dict) else None
        if isinstance(error, dict):
            code = error.get("code")
            message = str(error.get("message") or message)
            transient = code in RETRYABLE_GRAPH_CODES or bool(error.get("is_transient"))
            retryable = retryable or transient
        return build_http_error(
            status,
            None if code is None else str(code),
            message,
            retry_after=parse_retry_after(headers.get("retry-after")),
            retryable=retryable,
        )


def parse_event(item: object, page_id: str | None) -> Event:
    """One ``entry[].messaging[]`` event."""
    if not isinstance(item, dict):
        raise MalformedPayload("messaging item is not an object")
    if isinstance(item.get("message"), dict):
        return parse_message(item, page_id)
    if isinstance(item.get("postback"), dict):
        return parse_postback(item, page_id)
    for receipt, status in (("delivery", "delivered"), ("read", "read")):
        if isinstance(item.get(receipt), dict):
            body = item[receipt]
            mids = body.get("mids") or []
            if not isinstance(mids, list):
                raise MalformedPayload(f"{receipt}.mids is not a list")
            return Watermark(
                account_id=page_id,
                provider_user_id=read_id(item, "sender"),
                status=status,  # type: ignore[arg-type]
                watermark=read_time(body.get("watermark")),
                provider_message_ids=tuple(str(mid) for mid in mids),
            )
    if isinstance(item.get("message_edit"), dict):
        edit = item["message_edit"]
        if not edit.get("mid"):
            raise MalformedPayload("message_edit without mid")
        return MessageEdited(
            provider_message_id=str(edit["mid"]),
            provider_user_id=read_id(item, "sender"),
            text=str(edit.get("text") or ""),
            edited_at=read_time(item.get("timestamp")),
        )
    event_type = next((key for key in item if key not in ENVELOPE_KEYS), "empty")
    return Ignored(f"messenger {event_type} event")


def parse_message(item: dict[str, Any], page_id: str | None) -> InboundMessage:
    """A message from the user, or an echo of the Page's own message."""
    message = item["message"]
    mid = message.get("mid")
    if not isinstance(mid, str) or not mid:
        raise MalformedPayload("message without mid")
    echo = bool(message.get("is_echo"))
    # On an echo the Page is the sender and the end user the recipient.
    user_id = read_id(item, "recipient" if echo else "sender")
    text = message.get("text")
    text = text if isinstance(text, str) else ""
    metadata: dict[str, Any] = {}
    refs: list[MediaRef] = []
    location = None
    sticker = False
    attachments = message.get("attachments") or []
    if not isinstance(attachments, list):
        raise MalformedPayload("message.attachments is not a list")
    for attachment in attachments:
        if not isinstance(attachment, dict):
            raise MalformedPayload("attachment is not an object")
        kind = attachment.get("type")
        payload = attachment.get("payload") if isinstance(attachment.get("payload"), dict) else {}
        # Until 2026-08-30 stickers also came as images carrying a sticker_id.
        if kind == "sticker" or (kind == "image" and payload.get("sticker_id")):
            sticker = True
            if payload.get("sticker_id"):
                metadata["sticker_id"] = str(payload["sticker_id"])
        elif kind in MEDIA_ATTACHMENT_TYPES:
            refs.append(MediaRef(kind=kind, url=payload.get("url")))
        elif kind == "location":
            coordinates = payload.get("coordinates")
            try:
                location = (float(coordinates["lat"]), float(coordinates["long"]))
            except (TypeError, KeyError, ValueError):
                raise MalformedPayload("location attachment without coordinates") from None
    if refs:
        message_kind = refs[0].kind
    elif location is not None:
        message_kind = "location"
    elif sticker and not text:
        message_kind, text = "unsupported", STICKER_PLACEHOLDER
    elif text:
        message_kind = "text"
    else:
        message_kind, text = "unsupported", UNSUPPORTED_PLACEHOLDER

    quick_reply = message.get("quick_reply")
    if isinstance(quick_reply, dict) and quick_reply.get("payload"):
        metadata["quick_reply_payload"] = quick_reply["payload"]
    if echo and message.get("app_id") is not None:
        # Lets the inbox tell its own sends from the Page's other tools.
        metadata["app_id"] = str(message["app_id"])
    reply_to = message.get("reply_to")
    return InboundMessage(
        provider_message_id=mid,
        provider_user_id=user_id,
        account_id=page_id,
        sent_at=read_time(item.get("timestamp")),
        kind=message_kind,  # type: ignore[arg-type]
        text=text,
        profile=ContactProfile(),
        attachments=tuple(refs),
        location=location,
        reply_to_provider_id=(
            str(reply_to["mid"]) if isinstance(reply_to, dict) and reply_to.get("mid") else None
        ),
        metadata=metadata,
        direction="outbound" if echo else "inbound",
    )


def parse_postback(item: dict[str, Any], page_id: str | None) -> InboundMessage:
    """A tap on a button: stored as the user's message with the button's title."""
    postback = item["postback"]
    sender = read_id(item, "sender")
    timestamp = item.get("timestamp")
    sent_at = read_time(timestamp)
    # Older postbacks carry no mid; sender and time identify the tap instead.
    mid = postback.get("mid") or f"postback:{sender}:{timestamp}"
    title = postback.get("title")
    payload = postback.get("payload")
    metadata = {"postback_payload": payload} if payload is not None else {}
    return InboundMessage(
        provider_message_id=str(mid),
        provider_user_id=sender,
        account_id=page_id,
        sent_at=sent_at,
        kind="text",
        text=str(title or payload or ""),
        attachments=(),
        metadata=metadata,
    )
