"""Send webhooks to an inbox exactly as the providers do: same body encoding, same
signature headers. Used by tests, by the fake provider's receipts and by the demo's
phone simulator. The ``build_*`` functions make minimal realistic payloads.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

import httpx
from twilio.request_validator import RequestValidator

DELIVERY_TIMEOUT_SECONDS = 10.0


async def post_webhook(
    url: str, body: bytes, headers: dict[str, str], http: httpx.AsyncClient | None
) -> httpx.Response:
    """POST ``body`` to ``url``, on ``http`` or on a short-lived client."""
    if http is not None:
        return await http.post(url, content=body, headers=headers)
    async with httpx.AsyncClient(timeout=DELIVERY_TIMEOUT_SECONDS) as client:
        return await client.post(url, content=body, headers=headers)


async def deliver_twilio(
    url: str,
    auth_token: str,
    params: Mapping[str, str],
    *,
    http: httpx.AsyncClient | None = None,
) -> httpx.Response:
    """POST a Twilio form webhook to ``url`` with its X-Twilio-Signature."""
    signature = RequestValidator(auth_token).compute_signature(url, dict(params))
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Twilio-Signature": signature,
        "User-Agent": "TwilioProxy/1.1",
    }
    return await post_webhook(url, urlencode(params).encode(), headers, http)


async def deliver_telegram(
    url: str,
    secret: str | None,
    update: Mapping[str, Any],
    *,
    http: httpx.AsyncClient | None = None,
) -> httpx.Response:
    """POST a Telegram Update to ``url`` with the secret token header."""
    headers = {"Content-Type": "application/json"}
    if secret:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    body = json.dumps(update, ensure_ascii=False).encode()
    return await post_webhook(url, body, headers, http)


async def deliver_messenger(
    url: str,
    app_secret: str,
    payload: Mapping[str, Any],
    *,
    http: httpx.AsyncClient | None = None,
) -> httpx.Response:
    """POST a Messenger webhook to ``url`` signed with X-Hub-Signature-256."""
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    digest = hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    headers = {"Content-Type": "application/json", "X-Hub-Signature-256": "sha256=" + digest}
    return await post_webhook(url, body, headers, http)


# ---------------------------------------------------------------- payload builders
def build_twilio_inbound(
    account_sid: str,
    channel_number: str,
    user_number: str,
    text: str,
    *,
    profile_name: str | None = None,
    media: tuple[tuple[str, str], ...] = (),
) -> dict[str, str]:
    """An inbound WhatsApp message form. Numbers are E.164 ("+1555..."); ``media``
    holds (url, content type) pairs."""
    sid = ("MM" if media else "SM") + secrets.token_hex(16)
    params = {
        "SmsMessageSid": sid,
        "NumMedia": str(len(media)),
        "SmsSid": sid,
        "SmsStatus": "received",
        "Body": text,
        "To": f"whatsapp:{channel_number}",
        "NumSegments": "1",
        "MessageSid": sid,
        "AccountSid": account_sid,
        "From": f"whatsapp:{user_number}",
        "WaId": user_number.lstrip("+"),
        "ApiVersion": "2010-04-01",
        "MessageType": "text" if not media else media[0][1].split("/", 1)[0],
    }
    if profile_name:
        params["ProfileName"] = profile_name
    for index, (media_url, content_type) in enumerate(media):
        params[f"MediaUrl{index}"] = media_url
        params[f"MediaContentType{index}"] = content_type
    return params


def build_telegram_update(
    user_id: int,
    text: str,
    *,
    first_name: str,
    last_name: str | None = None,
    username: str | None = None,
    message_id: int | None = None,
    update_id: int | None = None,
) -> dict[str, Any]:
    """A private-chat text message Update."""
    user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
    if last_name:
        user["last_name"] = last_name
    if username:
        user["username"] = username
    chat = {key: value for key, value in user.items() if key != "is_bot"} | {"type": "private"}
    return {
        "update_id": update_id if update_id is not None else secrets.randbelow(2**31),
        "message": {
            "message_id": message_id if message_id is not None else secrets.randbelow(2**31),
            "from": user,
            "chat": chat,
            "date": int(time.time()),
            "text": text,
        },
    }


def build_messenger_message(page_id: str, psid: str, text: str) -> dict[str, Any]:
    """A Page webhook carrying one text message from ``psid``."""
    now = int(time.time() * 1000)
    return {
        "object": "page",
        "entry": [
            {
                "id": page_id,
                "time": now,
                "messaging": [
                    {
                        "sender": {"id": psid},
                        "recipient": {"id": page_id},
                        "timestamp": now,
                        "message": {"mid": "m_" + secrets.token_urlsafe(32), "text": text},
                    }
                ],
            }
        ],
    }


def build_messenger_receipt(
    page_id: str, psid: str, kind: str, watermark_ms: int, mids: tuple[str, ...] = ()
) -> dict[str, Any]:
    """A Page webhook with a delivery (``kind="delivery"``) or read receipt."""
    body: dict[str, Any] = {"watermark": watermark_ms}
    if kind == "delivery" and mids:
        body["mids"] = list(mids)
    return {
        "object": "page",
        "entry": [
            {
                "id": page_id,
                "time": watermark_ms,
                "messaging": [
                    {
                        "sender": {"id": psid},
                        "recipient": {"id": page_id},
                        "timestamp": watermark_ms,
                        kind: body,
                    }
                ],
            }
        ],
    }
