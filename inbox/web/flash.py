"""One-shot notices carried across a redirect in a signed cookie.

After a form POST the page redirects (303) and the next page shows what
happened ("Invitation created", or the error's message). The cookie is signed
with SECRET_KEY so nobody can make the inbox display text of their choosing;
it holds only our own fixed notices and error messages, never personal data.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json

from starlette.requests import Request
from starlette.responses import Response

FLASH_COOKIE = "inbox_flash"
FLASH_MAX_AGE_SECONDS = 60
FLASH_MAX_LENGTH = 300


def sign(secret: str, payload: bytes) -> str:
    return hmac.new(secret.encode(), b"flash:" + payload, hashlib.sha256).hexdigest()[:32]


def set_flash(response: Response, secret: str, kind: str, text: str, *, secure: bool) -> None:
    """Attach a notice (``kind`` "notice" or "error") to ``response``."""
    payload = json.dumps({"k": kind, "t": text[:FLASH_MAX_LENGTH]}).encode()
    value = base64.urlsafe_b64encode(payload).decode().rstrip("=") + "." + sign(secret, payload)
    response.set_cookie(
        FLASH_COOKIE,
        value,
        max_age=FLASH_MAX_AGE_SECONDS,
        httponly=True,
        samesite="lax",
        secure=secure,
        path="/",
    )


def read_flash(request: Request, secret: str) -> dict[str, str]:
    """The pending notice as template values ({"notice": ...} or {"error": ...})."""
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw or "." not in raw:
        return {}
    encoded, signature = raw.rsplit(".", 1)
    try:
        payload = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
    except (binascii.Error, ValueError):
        return {}
    if not hmac.compare_digest(sign(secret, payload), signature):
        return {}
    try:
        data = json.loads(payload)
    except json.JSONDecodeError:
        return {}
    kind = "error" if data.get("k") == "error" else "notice"
    return {kind: str(data.get("t", ""))[:FLASH_MAX_LENGTH]}


def clear_flash(response: Response) -> None:
    response.delete_cookie(FLASH_COOKIE, path="/")
