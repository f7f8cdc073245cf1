"""WhatsApp through Twilio: signed form webhooks in, the Messages REST API out.

Twilio sends two kinds of form posts: inbound messages (``SmsStatus=received``, no
``MessageStatus``) and status callbacks of our own outbound messages (with
``MessageStatus``). A number configured with one URL for both sends status callbacks
to the inbound URL, so the two are told apart by ``MessageStatus``, not by the URL.

The end user's ``provider_user_id`` is their WhatsApp address as Twilio writes it
("whatsapp:+15555550123"): it is what Twilio expects back in ``To``.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit, urlunsplit

import httpx
from twilio.base.exceptions import TwilioException, TwilioRestException, TwilioServiceException
from twilio.http import AsyncHttpClient
from twilio.http.response import Response as TwilioResponse
from twilio.request_validator import (
    SIGNATURE_HEADER,
    SIGNATURE_SETTINGS_HEADER,
    RequestValidator,
    get_signature_algorithm,
)
from twilio.rest import Client

from channels.base import ChannelAdapter, WebhookRequest, build_transport_error
from channels.errors import (
    MalformedPayload,
    ProviderError,
    SignatureError,
    build_http_error,
    parse_retry_after,
    redact_personal_data,
)
from channels.events import (
    ContactProfile,
    DeliveryStatus,
    DownloadedMedia,
    Event,
    Ignored,
    InboundMessage,
    MediaKind,
    MediaRef,
    OutboundMessage,
    ProviderProfile,
    SendResult,
    StatusUpdate,
)

WHATSAPP_PREFIX = "whatsapp:"
# Twilio's media URLs point at its API host; we fetch them through the configured base.
TWILIO_MEDIA_HOSTS = frozenset({"api.twilio.com"})
E164 = re.compile(r"\+[1-9]\d{6,14}")
CREATE_FAILED_PREFIX = "Unable to create record"

# Twilio's status vocabulary folded into ours. "sending" and "accepted" are steps
# before "sent" that the inbox shows as queued; a canceled scheduled message failed.
STATUS_MAP: dict[str, DeliveryStatus] = {
    "accepted": "queued",
    "scheduled": "queued",
    "queued": "queued",
    "sending": "queued",
    "sent": "sent",
    "delivered": "delivered",
    "partially_delivered": "delivered",
    "read": "read",
    "failed": "failed",
    "undelivered": "undelivered",
    "canceled": "failed",
}

# Explanations shown to agents for the error codes they can act on.
KNOWN_ERRORS = {
    "21211": "Invalid 'To' number",
    "21610": "The recipient has opted out of messages from this sender",
    "30003": "Unreachable destination handset",
    "30005": "Unknown destination handset",
    "30006": "Landline or unreachable carrier",
    "30007": "Message filtered by the carrier",
    "30008": "Unknown error from the carrier",
    "63003": "The recipient is not reachable on WhatsApp",
    "63016": "Outside the 24-hour window: use a template",
}


class FormParams(dict[str, list[str]]):
    """Form fields with every value kept, in the shape RequestValidator reads
    (``getlist``), so repeated fields are signed the way Twilio signs them."""

    def getlist(self, name: str) -> list[str]:
        return self[name]

    def get_first(self, name: str, default: str | None = None) -> str | None:
        values = self.get(name)
        return values[0] if values else default


def read_form(body: bytes) -> FormParams:
    """Decode an application/x-www-form-urlencoded body, keeping blank values."""
    return FormParams(parse_qs(body.decode("utf-8"), keep_blank_values=True))


def to_whatsapp_address(to: str) -> str:
    """Normalize "+1555…", "1555…" or "whatsapp:+1555…" to Twilio's "whatsapp:+1555…"."""
    number = to.removeprefix(WHATSAPP_PREFIX)
    if not number.startswith("+"):
        number = "+" + number
    if not E164.fullmatch(number):
        raise ProviderError(
            "invalid_recipient", "recipient is not an E.164 number", retryable=False
        )
    return WHATSAPP_PREFIX + number


def read_media_kind(media_type: str | None) -> MediaKind:
    """Our attachment kind for a MIME type."""
    major = (media_type or "").split("/", 1)[0]
    if major in ("image", "audio", "video"):
        return major  # type: ignore[return-value]
    return "file"


class HttpxTwilioClient(AsyncHttpClient):
    """Lets twilio's REST classes talk through our httpx client.

    We keep the last answer's headers because TwilioRestException drops them, and the
    Retry-After of a 429 is what the job queue needs. One instance serves one call.
    """

    def __init__(self, http: httpx.AsyncClient) -> None:
        # twilio's own request logging is never called: it would log URLs and params.
        super().__init__(logger=logging.getLogger(__name__), is_async=True)
        self._client = http
        self.last_headers: Mapping[str, str] = {}

    async def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 - twilio's HttpClient signature
        allow_redirects: bool = False,
    ) -> TwilioResponse:
        response = await self._client.request(
            method,
            url,
            params=params,  # type: ignore[arg-type]
            data=data,
            headers=headers,
            auth=auth,
            timeout=timeout if timeout is not None else httpx.USE_CLIENT_DEFAULT,
            follow_redirects=allow_redirects,
        )
        self.last_headers = response.headers
        return TwilioResponse(response.status_code, response.text, response.headers)


class TwilioAdapter(ChannelAdapter):
    """WhatsApp channel through Twilio's Programmable Messaging."""

    kind = "whatsapp"

    @property
    def _account_sid(self) -> str:
        return self._credentials["account_sid"]

    @property
    def _auth_token(self) -> str:
        return self._credentials["auth_token"]

    # -- inbound ----------------------------------------------------------------
    def verify(self, request: WebhookRequest) -> None:
        signature = request.headers.get(SIGNATURE_HEADER)
        if not signature:
            raise SignatureError(401, "missing X-Twilio-Signature header")
        try:
            params = read_form(request.body)
        except UnicodeDecodeError:
            raise SignatureError(403, "body is not a form Twilio could have signed") from None
        # SharedKey signatures announce their algorithm (HMAC-SHA256) in this header.
        algorithm = get_signature_algorithm(request.headers.get(SIGNATURE_SETTINGS_HEADER))
        validator = RequestValidator(self._auth_token)
        if not validator.validate(request.url, params, signature, algorithm=algorithm):
            raise SignatureError(403, "X-Twilio-Signature does not match")

    def parse(self, request: WebhookRequest) -> list[Event]:
        try:
            params = read_form(request.body)
        except UnicodeDecodeError:
            raise MalformedPayload("body is not UTF-8 form data") from None
        if params.get_first("MessageStatus") is not None:
            return [parse_status_callback(params)]
        return [parse_inbound(params)]

    # -- outbound ---------------------------------------------------------------
    async def send(self, message: OutboundMessage) -> SendResult:
        fields: dict[str, Any] = {
            "to": to_whatsapp_address(message.to),
            "from_": self._credentials["from_number"],
        }
        if "messaging_service_sid" in self._credentials:
            fields["messaging_service_sid"] = self._credentials["messaging_service_sid"]
        if message.template_id:
            fields["content_sid"] = message.template_id
            if message.template_variables:
                fields["content_variables"] = json.dumps(dict(message.template_variables))
        else:
            fields["body"] = message.text
        if message.status_callback_url:
            fields["status_callback"] = message.status_callback_url

        http_client = HttpxTwilioClient(self._http_client())
        client = Client(self._account_sid, self._auth_token, http_client=http_client)
        client.api.base_url = self.endpoints.twilio_api_base.rstrip("/")
        try:
            created = await client.messages.create_async(**fields)
        except TwilioRestException as exc:
            # The SDK prefixes the provider's text with its own "Unable to ..." phrase.
            message = exc.msg.removeprefix(f"{CREATE_FAILED_PREFIX}: ")
            raise build_twilio_error(
                exc.status, exc.code, message, http_client.last_headers
            ) from None
        except TwilioServiceException as exc:
            raise build_twilio_error(
                exc.status, exc.code, exc.detail or exc.title, http_client.last_headers
            ) from None
        except httpx.HTTPError as exc:
            raise build_transport_error(exc) from None
        except (TwilioException, ValueError):
            # An answer the SDK could not read (not JSON, unexpected shape).
            raise ProviderError(
                "invalid_response", "unexpected answer from Twilio", retryable=True
            ) from None
        if not created.sid:
            raise ProviderError(
                "invalid_response", "Twilio returned no message sid", retryable=True
            )
        return SendResult(created.sid, STATUS_MAP.get(created.status or "", "queued"))

    async def fetch_profile(self, provider_user_id: str) -> ProviderProfile:
        # Twilio has no profile API for WhatsApp users: the profile name arrives with
        # each inbound message, and the address is the phone number.
        number = provider_user_id.removeprefix(WHATSAPP_PREFIX)
        return ProviderProfile(
            phone=number if E164.fullmatch(number) else None,
            source="twilio.webhook",
            fetched_at=datetime.now(UTC),
        )

    async def download_media(self, ref: MediaRef, max_bytes: int) -> DownloadedMedia:
        if not ref.url:
            raise ProviderError("invalid_media", "media reference has no URL", retryable=False)
        url = self._rebase_media_url(ref.url)
        return await self._stream_media(
            url, max_bytes, ref=ref, auth=(self._account_sid, self._auth_token)
        )

    def _rebase_media_url(self, url: str) -> str:
        """Send Twilio-hosted media URLs to the configured API base.

        The account credentials go along as Basic auth, so any other host is refused.
        """
        parts = urlsplit(url)
        base = urlsplit(self.endpoints.twilio_api_base)
        if parts.hostname in TWILIO_MEDIA_HOSTS or parts.netloc == base.netloc:
            path = base.path.rstrip("/") + parts.path
            return urlunsplit((base.scheme, base.netloc, path, parts.query, ""))
        raise ProviderError("invalid_media", "media URL is not on Twilio's host", retryable=False)

    def _error_from_response(
        self, status: int, headers: Mapping[str, str], body: bytes
    ) -> ProviderError:
        code: object = None
        message = f"HTTP {status}"
        try:
            payload = json.loads(body)
        except ValueError:
            payload = None
        if isinstance(payload, dict):
            code = payload.get("code")
            message = str(payload.get("message") or message)
        return build_twilio_error(status, code, message, headers)


def build_twilio_error(
    status: int, code: object, message: str, headers: Mapping[str, str]
) -> ProviderError:
    """Classify a Twilio error answer (429 and 5xx retryable, other 4xx permanent)."""
    return build_http_error(
        status,
        None if code is None else str(code),
        message,
        retry_after=parse_retry_after(headers.get("retry-after")),
    )


def parse_status_callback(params: FormParams) -> Event:
    """A status callback of one of our outbound messages."""
    sid = params.get_first("MessageSid") or params.get_first("SmsSid")
    if not sid:
        raise MalformedPayload("status callback without MessageSid")
    raw_status = (params.get_first("MessageStatus") or "").lower()
    status = STATUS_MAP.get(raw_status)
    if status is None:
        return Ignored(f"twilio status {raw_status or 'empty'}")
    error_code = params.get_first("ErrorCode") or None
    error_message = None
    if error_code:
        error_message = KNOWN_ERRORS.get(error_code)
        if error_message is None and params.get_first("ErrorMessage"):
            error_message = redact_personal_data(params.get_first("ErrorMessage") or "")
    return StatusUpdate(
        provider_message_id=sid,
        status=status,
        at=datetime.now(UTC),
        error_code=error_code,
        error_message=error_message,
    )


def parse_inbound(params: FormParams) -> InboundMessage:
    """An inbound WhatsApp message: text, media, location, button or reply."""
    sid = params.get_first("MessageSid") or params.get_first("SmsMessageSid")
    sender = params.get_first("From")
    if not sid or not sender:
        raise MalformedPayload("inbound message without MessageSid or From")
    text = params.get_first("Body", "") or ""
    message_type = (params.get_first("MessageType") or "").lower()
    metadata: dict[str, Any] = {}

    attachments = read_attachments(params)
    location = read_location(params)
    kind: str
    if message_type == "sticker":
        # Stickers are shown as a placeholder and not downloaded, as on every channel.
        kind, text, attachments = "unsupported", "[sticker]", ()
    elif location is not None:
        kind = "location"
        for field_name, key in (("Address", "address"), ("Label", "label")):
            if params.get_first(field_name):
                metadata[key] = params.get_first(field_name)
    elif attachments:
        kind = attachments[0].kind
    elif text:
        kind = "text"
    else:
        kind, text = "unsupported", "[unsupported]"
    if params.get_first("ButtonPayload"):
        metadata["button_payload"] = params.get_first("ButtonPayload")

    wa_id = params.get_first("WaId") or ""
    phone = "+" + wa_id if wa_id.isdigit() else sender.removeprefix(WHATSAPP_PREFIX)
    profile = ContactProfile(
        display_name=params.get_first("ProfileName") or None,
        phone=phone if E164.fullmatch(phone) else None,
    )
    return InboundMessage(
        provider_message_id=sid,
        provider_user_id=sender,
        account_id=params.get_first("To"),
        # Twilio's inbound webhook carries no timestamp: it is posted as it arrives.
        sent_at=datetime.now(UTC),
        kind=kind,  # type: ignore[arg-type]
        text=text,
        profile=profile,
        attachments=attachments,
        location=location,
        reply_to_provider_id=params.get_first("OriginalRepliedMessageSid") or None,
        metadata=metadata,
    )


def read_attachments(params: FormParams) -> tuple[MediaRef, ...]:
    """MediaUrlN / MediaContentTypeN for N below NumMedia, in Twilio's order."""
    try:
        count = int(params.get_first("NumMedia", "0") or "0")
    except ValueError:
        raise MalformedPayload("NumMedia is not a number") from None
    refs = []
    for index in range(count):
        url = params.get_first(f"MediaUrl{index}")
        if not url:
            raise MalformedPayload("NumMedia announces more media than the form holds")
        media_type = params.get_first(f"MediaContentType{index}")
        refs.append(MediaRef(kind=read_media_kind(media_type), media_type=media_type, url=url))
    return tuple(refs)


def read_location(params: FormParams) -> tuple[float, float] | None:
    """The shared pin (Latitude, Longitude), if any."""
    latitude, longitude = params.get_first("Latitude"), params.get_first("Longitude")
    if not latitude or not longitude:
        return None
    try:
        return float(latitude), float(longitude)
    except ValueError:
        raise MalformedPayload("Latitude/Longitude are not numbers") from None
