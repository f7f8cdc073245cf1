"""The fake Telegram Bot API: /bot<token>/<method> and /file/bot<token>/<path>.

Answers carry every field python-telegram-bot 22.8 requires to build its objects
(getChat's ChatFullInfo needs accent_color_id, max_reaction_count and all five
accepted_gift_types booleans). Telegram has no delivery receipts, so none are fired.
"""

from __future__ import annotations

import json
import secrets
import time
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from channels.fake_state import (
    TELEGRAM_MAX_DOWNLOAD_BYTES,
    FakeProviderState,
    SentMessage,
    TelegramWebhook,
)

ACCEPTED_GIFT_TYPES = {
    "unlimited_gifts": True,
    "limited_gifts": True,
    "unique_gifts": True,
    "premium_subscription": True,
    "gifts_from_channels": True,
}
MAX_TEXT_LENGTH = 4096


def build_error(status: int, description: str, retry_after: float | None = None) -> Response:
    """An error in the Bot API's shape (error_code mirrors the HTTP status)."""
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if retry_after is not None:
        body["parameters"] = {"retry_after": int(retry_after)}
    return JSONResponse(body, status_code=status)


def build_ok(result: Any) -> Response:
    return JSONResponse({"ok": True, "result": result})


async def read_params(request: Request) -> dict[str, Any]:
    """Method parameters from the query string and a form or JSON body.

    python-telegram-bot posts form fields whose non-string values are JSON-encoded.
    """
    params: dict[str, Any] = dict(request.query_params)
    body = await request.body()
    if not body:
        return params
    if request.headers.get("content-type", "").startswith("application/json"):
        params.update(json.loads(body))
    else:
        params.update({k: v[0] for k, v in parse_qs(body.decode(), keep_blank_values=True).items()})
    return params


def read_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def describe_chat(chat: dict[str, Any]) -> dict[str, Any]:
    """The short Chat object embedded in messages."""
    return {
        k: v for k, v in chat.items() if k in ("id", "type", "first_name", "last_name", "username")
    }


def make_routes(state: FakeProviderState) -> list[Route]:
    def get_me(bot: dict[str, Any], params: dict[str, Any]) -> Response:
        return build_ok(bot)

    def set_webhook(bot: dict[str, Any], params: dict[str, Any]) -> Response:
        allowed = params.get("allowed_updates")
        if isinstance(allowed, str):
            allowed = json.loads(allowed)
        state.telegram_webhooks[params["_token"]] = TelegramWebhook(
            url=params.get("url", ""),
            secret_token=params.get("secret_token"),
            allowed_updates=allowed,
        )
        return build_ok(True)

    def delete_webhook(bot: dict[str, Any], params: dict[str, Any]) -> Response:
        state.telegram_webhooks.pop(params["_token"], None)
        return build_ok(True)

    def get_webhook_info(bot: dict[str, Any], params: dict[str, Any]) -> Response:
        hook = state.telegram_webhooks.get(params["_token"])
        info: dict[str, Any] = {
            "url": hook.url if hook else "",
            "has_custom_certificate": False,
            "pending_update_count": 0,
        }
        if hook and hook.allowed_updates is not None:
            info["allowed_updates"] = hook.allowed_updates
        return build_ok(info)

    def send_message(bot: dict[str, Any], params: dict[str, Any]) -> Response:
        chat_id = read_int(params.get("chat_id"))
        text = params.get("text") or ""
        if chat_id is None:
            return build_error(400, "Bad Request: chat not found")
        if not text.strip():
            return build_error(400, "Bad Request: message text is empty")
        if len(text) > MAX_TEXT_LENGTH:
            return build_error(400, "Bad Request: message is too long")
        chat = state.telegram_chats.get(
            chat_id, {"id": chat_id, "type": "private", "first_name": "User"}
        )
        message_id = state.allocate_telegram_message_id(chat_id)
        state.sent.append(
            SentMessage(
                provider="telegram",
                account=str(bot["id"]),
                to=str(chat_id),
                sender=str(bot["id"]),
                text=text,
                provider_message_id=f"{chat_id}:{message_id}",
                fields={k: v for k, v in params.items() if k != "_token"},
            )
        )
        sender = {k: bot[k] for k in ("id", "is_bot", "first_name", "username")}
        return build_ok(
            {
                "message_id": message_id,
                "from": sender,
                "chat": describe_chat(chat),
                "date": int(time.time()),
                "text": text,
            }
        )

    def get_chat(bot: dict[str, Any], params: dict[str, Any]) -> Response:
        chat = state.telegram_chats.get(read_int(params.get("chat_id")) or 0)
        if chat is None:
            return build_error(400, "Bad Request: chat not found")
        full = dict(chat)
        full.update(
            accent_color_id=0,
            max_reaction_count=11,
            accepted_gift_types=dict(ACCEPTED_GIFT_TYPES),
        )
        photos = state.telegram_photos.get(chat["id"])
        if photos:
            small, big = photos[0][0], photos[0][-1]
            full["photo"] = {
                "small_file_id": small["file_id"],
                "small_file_unique_id": small["file_unique_id"],
                "big_file_id": big["file_id"],
                "big_file_unique_id": big["file_unique_id"],
            }
        return build_ok(full)

    def get_user_profile_photos(bot: dict[str, Any], params: dict[str, Any]) -> Response:
        photos = state.telegram_photos.get(read_int(params.get("user_id")) or 0, [])
        offset = read_int(params.get("offset")) or 0
        limit = read_int(params.get("limit")) or 100
        return build_ok({"total_count": len(photos), "photos": photos[offset : offset + limit]})

    def get_file(bot: dict[str, Any], params: dict[str, Any]) -> Response:
        found = state.telegram_files.get(str(params.get("file_id")))
        if found is None:
            return build_error(400, "Bad Request: invalid file_id")
        path, media = found
        if len(media.data) > TELEGRAM_MAX_DOWNLOAD_BYTES:
            return build_error(400, "Bad Request: file is too big")
        return build_ok(
            {
                "file_id": params["file_id"],
                "file_unique_id": secrets.token_hex(8),
                "file_size": len(media.data),
                "file_path": path,
            }
        )

    methods = {
        "getme": get_me,
        "setwebhook": set_webhook,
        "deletewebhook": delete_webhook,
        "getwebhookinfo": get_webhook_info,
        "sendmessage": send_message,
        "getchat": get_chat,
        "getuserprofilephotos": get_user_profile_photos,
        "getfile": get_file,
    }

    async def call_method(request: Request) -> Response:
        fault = state.take_fault("telegram", request.url.path)
        if fault is not None:
            if fault.body is not None:
                return JSONResponse(fault.body, status_code=fault.status)
            return build_error(
                fault.status,
                HTTPStatus(fault.status).phrase,
                fault.retry_after if fault.status == 429 else None,
            )
        token = request.path_params["token"]
        bot = state.telegram_bots.get(token)
        if bot is None:
            return build_error(401, "Unauthorized")
        # Bot API method names are case-insensitive.
        handler = methods.get(request.path_params["method"].lower())
        if handler is None:
            return build_error(404, "Not Found")
        params = await read_params(request)
        params["_token"] = token
        return handler(bot, params)

    async def download_file(request: Request) -> Response:
        fault = state.take_fault("telegram", request.url.path)
        if fault is not None:
            return build_error(fault.status, HTTPStatus(fault.status).phrase)
        if request.path_params["token"] not in state.telegram_bots:
            return build_error(401, "Unauthorized")
        path = request.path_params["path"]
        for file_path, media in state.telegram_files.values():
            if file_path == path:
                return Response(media.data, media_type=media.content_type)
        return build_error(404, "Not Found")

    return [
        Route("/bot{token}/{method}", call_method, methods=["GET", "POST"]),
        Route("/file/bot{token}/{path:path}", download_file),
    ]
