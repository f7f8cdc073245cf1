"""The fake Graph API for Messenger: Send API, user profiles, and CDN-style media."""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import time
from http import HTTPStatus
from typing import Any

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from channels.fake_deliver import build_messenger_receipt, deliver_messenger
from channels.fake_state import FakeProviderState, FiredWebhook, MessengerPage, SentMessage

GRAPH_VERSION = re.compile(r"v\d+\.\d+")
# Graph's error codes for the checks the fake makes.
ERROR_INVALID_PARAMETER = 100
ERROR_INVALID_TOKEN = 190
ERROR_RATE_LIMITED = 4
ERROR_SERVICE_UNAVAILABLE = 2
SUBCODE_NO_MATCHING_USER = 2018001


def build_error(
    status: int,
    code: int,
    message: str,
    *,
    subcode: int | None = None,
    retry_after: float | None = None,
) -> Response:
    """An error in Graph's shape."""
    error: dict[str, Any] = {
        "message": message,
        "type": "OAuthException",
        "code": code,
        "fbtrace_id": secrets.token_urlsafe(8),
    }
    if subcode is not None:
        error["error_subcode"] = subcode
    headers = {"Retry-After": f"{retry_after:g}"} if retry_after is not None else None
    return JSONResponse({"error": error}, status_code=status, headers=headers)


def build_fault_response(state: FakeProviderState, request: Request) -> Response | None:
    fault = state.take_fault("messenger", request.url.path)
    if fault is None:
        return None
    if fault.body is not None:
        headers = {"Retry-After": f"{fault.retry_after:g}"} if fault.retry_after else None
        return JSONResponse(fault.body, status_code=fault.status, headers=headers)
    code = ERROR_RATE_LIMITED if fault.status == 429 else ERROR_SERVICE_UNAVAILABLE
    return build_error(
        fault.status, code, HTTPStatus(fault.status).phrase, retry_after=fault.retry_after
    )


def find_page(
    state: FakeProviderState, request: Request, body: dict[str, Any]
) -> MessengerPage | None:
    """The Page whose access token came with the request (header, query or body)."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() not in ("bearer", "oauth"):
        token = request.query_params.get("access_token") or str(body.get("access_token") or "")
    return state.messenger_pages.get(token)


def make_routes(state: FakeProviderState) -> list[Route]:
    async def send_message(request: Request) -> Response:
        if (fault := build_fault_response(state, request)) is not None:
            return fault
        try:
            body = json.loads(await request.body() or b"{}")
        except ValueError:
            return build_error(400, ERROR_INVALID_PARAMETER, "(#100) Invalid JSON")
        page = find_page(state, request, body)
        if page is None:
            return build_error(
                400, ERROR_INVALID_TOKEN, "Invalid OAuth access token - Cannot parse access token"
            )
        if not GRAPH_VERSION.fullmatch(request.path_params["version"]):
            return build_error(400, 2500, "Unknown path components")
        recipient = str((body.get("recipient") or {}).get("id") or "")
        text = (body.get("message") or {}).get("text")
        if not recipient:
            return build_error(
                400, ERROR_INVALID_PARAMETER, "(#100) The parameter recipient is required"
            )
        if not recipient.isdigit():
            return build_error(
                400,
                ERROR_INVALID_PARAMETER,
                "(#100) No matching user found",
                subcode=SUBCODE_NO_MATCHING_USER,
            )
        if not text:
            return build_error(
                400, ERROR_INVALID_PARAMETER, "(#100) Param message must be non-empty"
            )
        mid = "m_" + secrets.token_urlsafe(48)
        state.sent.append(
            SentMessage(
                provider="messenger",
                account=page.page_id,
                to=recipient,
                sender=page.page_id,
                text=text,
                provider_message_id=mid,
                fields={k: v for k, v in body.items() if k != "access_token"},
            )
        )
        if state.auto_receipts and page.webhook_url and page.app_secret:
            state.start_background(fire_receipts(state, page, recipient, mid))
        return JSONResponse({"recipient_id": recipient, "message_id": mid})

    async def get_node(request: Request) -> Response:
        if (fault := build_fault_response(state, request)) is not None:
            return fault
        if not GRAPH_VERSION.fullmatch(request.path_params["version"]):
            return Response(status_code=404)
        if find_page(state, request, {}) is None:
            return build_error(
                400, ERROR_INVALID_TOKEN, "Invalid OAuth access token - Cannot parse access token"
            )
        profile = state.messenger_profiles.get(request.path_params["node"])
        if profile is None:
            return build_error(
                400,
                ERROR_INVALID_PARAMETER,
                "Unsupported get request. Object with ID "
                f"'{request.path_params['node']}' does not exist",
                subcode=33,
            )
        wanted = request.query_params.get("fields", "first_name,last_name,profile_pic").split(",")
        return JSONResponse({k: v for k, v in profile.items() if k in wanted or k == "id"})

    async def get_media(request: Request) -> Response:
        if (fault := build_fault_response(state, request)) is not None:
            return fault
        media = state.media.get(request.url.path)
        if media is None:
            return Response(status_code=404)
        return Response(media.data, media_type=media.content_type)

    return [
        Route("/cdn/{key}/{name}", get_media),
        Route("/{version}/me/messages", send_message, methods=["POST"]),
        Route("/{version}/{node}", get_node),
    ]


async def fire_receipts(state: FakeProviderState, page: MessengerPage, psid: str, mid: str) -> None:
    """Post a delivery then a read receipt for ``mid`` to the Page's webhook."""
    if not page.webhook_url or not page.app_secret:
        return
    for kind in ("delivery", "read"):
        await asyncio.sleep(state.receipt_delay)
        watermark = int(time.time() * 1000)
        payload = build_messenger_receipt(page.page_id, psid, kind, watermark, (mid,))
        answer = None
        try:
            response = await deliver_messenger(
                page.webhook_url, page.app_secret, payload, http=state.http
            )
            answer = response.status_code
        except httpx.HTTPError:
            answer = None  # an unreachable inbox is recorded, not raised
        state.fired.append(FiredWebhook("messenger", page.webhook_url, kind, answer))
