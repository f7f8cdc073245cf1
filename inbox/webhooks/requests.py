"""Turning a Starlette request into the adapters' WebhookRequest.

The body is read with a cap (a declared Content-Length above it is refused
before reading anything), and the URL is the PUBLIC one: providers sign the
URL they called (Twilio signs scheme, host, port, path and query), which
behind a proxy is not the URL this process sees, so it is rebuilt from
PUBLIC_URL, the request path and the raw query string.
"""

from __future__ import annotations

from starlette.requests import Request

from channels.base import WebhookRequest
from inbox.errors import InvalidInput, TooLarge
from inbox.settings import Settings

MAX_WEBHOOK_BYTES = 1024 * 1024  # no provider sends more than this in one webhook


def build_too_large_error() -> TooLarge:
    return TooLarge(
        f"webhook bodies are limited to {MAX_WEBHOOK_BYTES} bytes", code="payload_too_large"
    )


async def read_capped_body(request: Request, limit: int = MAX_WEBHOOK_BYTES) -> bytes:
    """The request body, refusing (413) anything above ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.strip().isdigit():
            raise InvalidInput("Content-Length is not a number", code="bad_request")
        if int(declared) > limit:
            raise build_too_large_error()
    chunks: list[bytes] = []
    received = 0
    async for chunk in request.stream():
        received += len(chunk)
        if received > limit:
            raise build_too_large_error()
        chunks.append(chunk)
    return b"".join(chunks)


def build_public_url(settings: Settings, request: Request) -> str:
    """The URL the provider called, as it was published to it."""
    query = request.scope.get("query_string", b"").decode("latin-1")
    url = settings.public_link(request.url.path)
    return f"{url}?{query}" if query else url


async def build_webhook_request(settings: Settings, request: Request) -> WebhookRequest:
    body = await read_capped_body(request)
    return WebhookRequest(
        url=build_public_url(settings, request),
        method=request.method,
        headers=dict(request.headers),
        query=dict(request.query_params),
        body=body,
    )
