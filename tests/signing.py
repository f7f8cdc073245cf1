"""Load the webhook fixtures of tests/fixtures and sign them the way each provider does.

Standard library only, and independent of the code under test, so that tests check
the adapters against a second implementation of each provider's scheme::

    params = load("twilio/whatsapp-inbound-text.json", CHANNEL_NUMBER="+15550100000")
    signature = twilio_signature(auth_token, url, params)
    raw = body(load("messenger/message-text.json", PAGE_ID="101234567890123"))
    header = messenger_signature(app_secret, raw)
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

FIXTURES_DIR = Path(__file__).parent / "fixtures"
PLACEHOLDER = re.compile(r"\{\{([A-Z][A-Z0-9_]*)\}\}")


def fill_placeholders(node: Any, values: dict[str, Any]) -> Any:
    """Replace ``{{NAME}}`` placeholders. A string that is exactly one placeholder
    takes the value itself, type included (BOT_ID=7000000001 stays an int, as
    Telegram sends it); placeholders inside longer strings are replaced as text."""
    if isinstance(node, dict):
        return {key: fill_placeholders(value, values) for key, value in node.items()}
    if isinstance(node, list):
        return [fill_placeholders(value, values) for value in node]
    if isinstance(node, str):
        whole = PLACEHOLDER.fullmatch(node)
        if whole and whole.group(1) in values:
            return values[whole.group(1)]
        return PLACEHOLDER.sub(
            lambda m: str(values[m.group(1)]) if m.group(1) in values else m.group(0), node
        )
    return node


def load(name: str, **placeholders: Any) -> Any:
    """Read fixture ``name`` ("telegram/message-text.json") with placeholders filled."""
    with (FIXTURES_DIR / name).open(encoding="utf-8") as handle:
        return fill_placeholders(json.load(handle), placeholders)


def list_placeholders(node: Any) -> set[str]:
    """Names of the placeholders still present in ``node``."""
    return set(PLACEHOLDER.findall(json.dumps(node, ensure_ascii=False)))


def body(node: Any) -> bytes:
    """The raw JSON bytes to POST (and to sign): compact, UTF-8, non-ASCII kept."""
    return json.dumps(node, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def twilio_form_body(params: dict[str, Any]) -> bytes:
    """The application/x-www-form-urlencoded body Twilio posts for ``params``."""
    return urlencode(params, doseq=True).encode("utf-8")


def twilio_signature(auth_token: str, url: str, params: dict[str, Any] | None) -> str:
    """X-Twilio-Signature: base64(HMAC-SHA1(token, url + name+value for sorted names))."""
    signed = url
    for name in sorted(set(params or {})):
        value = params[name]  # type: ignore[index]
        values = value if isinstance(value, list | tuple) else [value]
        for item in sorted(set(values)):
            signed += name + item
    digest = hmac.new(auth_token.encode("utf-8"), signed.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def messenger_signature(app_secret: str, raw: bytes) -> str:
    """X-Hub-Signature-256: "sha256=" + hex HMAC-SHA256(app secret, raw body)."""
    return "sha256=" + hmac.new(app_secret.encode("utf-8"), raw, hashlib.sha256).hexdigest()


def stripe_signature(secret: str, raw: bytes, t: int | None = None) -> str:
    """Stripe-Signature: "t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>"."""
    timestamp = int(time.time()) if t is None else int(t)
    signed = f"{timestamp}.".encode() + raw
    digest = hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"
