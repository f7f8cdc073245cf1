"""The fake Twilio REST API: create a message, fetch its media, fire status callbacks."""

from __future__ import annotations

import asyncio
import base64
import binascii
import re
import secrets
from datetime import UTC, datetime
from email.utils import format_datetime
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from channels.fake_deliver import deliver_twilio
from channels.fake_state import TWILIO_API_VERSION, FakeProviderState, FiredWebhook, SentMessage

WHATSAPP_ADDRESS = re.compile(r"whatsapp:\+[1-9]\d{6,14}")
# Twilio's error codes for the checks the fake makes.
ERROR_AUTHENTICATE = 20003
ERROR_TOO_MANY_REQUESTS = 20429
ERROR_SERVICE_UNAVAILABLE = 20500
ERROR_INVALID_TO = 21211
ERROR_NO_BODY = 21602
ERROR_NO_FROM = 21603
ERROR_NO_TO = 21604
RECEIPT_STATUSES = ("sent", "delivered", "read")


def build_error(status: int, code: int, message: str, retry_after: float | None = None) -> Response:
    """An error in Twilio's JSON shape."""
    headers = {"Retry-After": f"{retry_after:g}"} if retry_after is not None else None
    return JSONResponse(
        {
            "code": code,
            "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        },
        status_code=status,
        headers=headers,
    )


def build_fault_response(state: FakeProviderState, request: Request) -> Response | None:
    """The injected fault for this request, if one is pending."""
    fault = state.take_fault("twilio", request.url.path)
    if fault is None:
        return None
    if fault.body is not None:
        headers = {"Retry-After": f"{fault.retry_after:g}"} if fault.retry_after else None
        return JSONResponse(fault.body, status_code=fault.status, headers=headers)
    code = {429: ERROR_TOO_MANY_REQUESTS}.get(fault.status, ERROR_SERVICE_UNAVAILABLE)
    return build_error(fault.status, code, HTTPStatus(fault.status).phrase, fault.retry_after)


def read_basic_auth(request: Request) -> tuple[str, str] | None:
    header = request.headers.get("authorization", "")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, _, password = base64.b64decode(encoded).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return user, password


def check_account(state: FakeProviderState, request: Request) -> Response | None:
    """401 unless Basic auth names the account of the path with its auth token."""
    credentials = read_basic_auth(request)
    account_sid = request.path_params["account_sid"]
    if (
        credentials is None
        or credentials[0] != account_sid
        or state.twilio_accounts.get(account_sid) != credentials[1]
    ):
        return build_error(401, ERROR_AUTHENTICATE, "Authenticate")
    return None


def build_message_resource(sid: str, account_sid: str, fields: dict[str, str]) -> dict[str, Any]:
    """The Message resource as Twilio answers a create."""
    now = format_datetime(datetime.now(UTC), usegmt=True)
    uri = f"/{TWILIO_API_VERSION}/Accounts/{account_sid}/Messages/{sid}"
    return {
        "account_sid": account_sid,
        "api_version": TWILIO_API_VERSION,
        "body": fields.get("Body", ""),
        "date_created": now,
        "date_sent": None,
        "date_updated": now,
        "direction": "outbound-api",
        "error_code": None,
        "error_message": None,
        "from": fields.get("From"),
        "messaging_service_sid": fields.get("MessagingServiceSid"),
        "num_media": "0",
        "num_segments": "1",
        "price": None,
        "price_unit": "USD",
        "sid": sid,
        "status": "queued",
        "subresource_uris": {"media": f"{uri}/Media.json"},
        "to": fields.get("To"),
        "uri": f"{uri}.json",
    }


def make_routes(state: FakeProviderState) -> list[Route]:
    async def create_message(request: Request) -> Response:
        if (fault := build_fault_response(state, request)) is not None:
            return fault
        if (denied := check_account(state, request)) is not None:
            return denied
        account_sid = request.path_params["account_sid"]
        form = parse_qs((await request.body()).decode(), keep_blank_values=True)
        fields = {name: values[0] for name, values in form.items()}
        to = fields.get("To")
        sender = fields.get("From") or fields.get("MessagingServiceSid")
        if not to:
            return build_error(400, ERROR_NO_TO, "A 'To' phone number is required.")
        if not sender:
            return build_error(400, ERROR_NO_FROM, "A 'From' phone number is required.")
        if not fields.get("Body") and not fields.get("ContentSid"):
            return build_error(400, ERROR_NO_BODY, "Message body is required.")
        if sender.startswith("whatsapp:") and not WHATSAPP_ADDRESS.fullmatch(to):
            return build_error(400, ERROR_INVALID_TO, f"Invalid 'To' Phone Number: {to}")
        sid = "SM" + secrets.token_hex(16)
        state.sent.append(
            SentMessage(
                provider="twilio",
                account=account_sid,
                to=to,
                sender=sender,
                text=fields.get("Body"),
                provider_message_id=sid,
                fields=fields,
            )
        )
        callback = fields.get("StatusCallback")
        if state.auto_receipts and callback:
            state.start_background(fire_receipts(state, account_sid, sid, fields, callback))
        return JSONResponse(build_message_resource(sid, account_sid, fields), status_code=201)

    async def get_media(request: Request) -> Response:
        if (fault := build_fault_response(state, request)) is not None:
            return fault
        if (denied := check_account(state, request)) is not None:
            return denied
        if request.url.path not in state.media:
            return build_error(404, 20404, "The requested resource was not found")
        # Twilio answers with a redirect to its media storage, which needs no auth.
        return RedirectResponse(f"/twilio-media-store{request.url.path}", status_code=307)

    async def get_stored_media(request: Request) -> Response:
        media = state.media.get("/" + request.path_params["path"])
        if media is None:
            return Response(status_code=404)
        return Response(media.data, media_type=media.content_type)

    prefix = f"/{TWILIO_API_VERSION}/Accounts/{{account_sid}}"
    return [
        Route(f"{prefix}/Messages.json", create_message, methods=["POST"]),
        Route(f"{prefix}/Messages/{{message_sid}}/Media/{{media_sid}}", get_media),
        Route("/twilio-media-store/{path:path}", get_stored_media),
    ]


async def fire_receipts(
    state: FakeProviderState, account_sid: str, sid: str, fields: dict[str, str], url: str
) -> None:
    """Post sent, delivered and read status callbacks, signed like Twilio signs them."""
    token = state.twilio_accounts[account_sid]
    for status in RECEIPT_STATUSES:
        await asyncio.sleep(state.receipt_delay)
        params = {
            "AccountSid": account_sid,
            "ApiVersion": TWILIO_API_VERSION,
            "ChannelPrefix": "whatsapp",
            "From": fields.get("From", ""),
            "To": fields.get("To", ""),
            "MessageSid": sid,
            "SmsSid": sid,
            "MessageStatus": status,
            "SmsStatus": status,
        }
        if fields.get("MessagingServiceSid"):
            params["MessagingServiceSid"] = fields["MessagingServiceSid"]
        if status != "sent":
            params["EventType"] = status.upper()
        answer = None
        try:
            response = await deliver_twilio(url, token, params, http=state.http)
            answer = response.status_code
        except httpx.HTTPError:
            answer = None  # an unreachable inbox is recorded, not raised
        state.fired.append(FiredWebhook("twilio", url, f"status:{status}", answer))
