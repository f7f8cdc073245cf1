"""The demo's phone simulator: the end users' side of the demo channels.

Mounted only with ``settings.demo``. Each demo channel gets a phone: what the
visitor types is sent as that channel's end user through the fake provider's
signed webhook into the inbox; what agents answer is read back from what the
fake provider recorded as sent, with the delivery state the inbox shows.
The page works without JavaScript (a form per phone); ``simulator.js``
refreshes the phones every second and sends without a reload.
"""

from __future__ import annotations

import hmac
import json
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from inbox.demo import DEMO_TEMPLATES, PERSONAS, Persona
from inbox.errors import InvalidInput, NotFound, Unavailable
from inbox.models import Message
from inbox.tenancy import scoped
from inbox.web.access import read_form
from inbox.web.demo_runtime import DemoRuntime
from inbox.web.pages_auth import LOGIN_CSRF_COOKIE, attach_login_csrf, new_login_csrf
from inbox.web.templating import iso, redirect, render

MAX_PHONE_TEXT = 1000
PROVIDER_OF_KIND = {"whatsapp": "twilio", "telegram": "telegram", "messenger": "messenger"}
SIMULATOR_CSRF_HEADER = "x-simulator-token"


def demo_of(request: Request) -> DemoRuntime:
    demo = getattr(request.app.state, "demo", None)
    if demo is None:
        raise Unavailable("the demo is starting; reload in a moment", code="demo_not_ready")
    return demo


def persona_for(kind: str) -> Persona:
    for persona in PERSONAS:
        if persona.kind == kind:
            return persona
    raise NotFound("no demo phone for that channel")


def recipient_of(persona: Persona) -> str:
    return f"whatsapp:{persona.user_id}" if persona.kind == "whatsapp" else persona.user_id


def template_text(fields: dict[str, Any]) -> str:
    """What a template message reads like on the phone."""
    sid = fields.get("ContentSid", "")
    try:
        variables = json.loads(fields.get("ContentVariables") or "{}")
    except ValueError:
        variables = {}
    for template in DEMO_TEMPLATES:
        if template["id"] == sid:
            text = template["preview"]
            for key, value in variables.items():
                text = text.replace("{{" + str(key) + "}}", str(value))
            return text
    return "[template message]"


async def phone_chat(demo: DemoRuntime, persona: Persona) -> list[dict[str, Any]]:
    """The persona's side of the conversation, oldest first."""
    entries: list[dict[str, Any]] = [
        {"id": e.provider_message_id, "mine": True, "text": e.text, "at": e.at,
         "status": "delivered" if e.accepted else "failed"}
        for e in demo.phone_log.get((persona.kind, persona.user_id), [])
    ]
    replies = demo.state.list_sent_messages(
        PROVIDER_OF_KIND[persona.kind], to=recipient_of(persona)
    )
    statuses: dict[str, str] = {}
    if replies:
        # What the inbox knows of each reply's delivery (the ticks its agent sees).
        statuses = dict(
            await scoped(Message, demo.workspace)
            .filter(provider_message_id__in=[r.provider_message_id for r in replies])
            .values_list("provider_message_id", "status")
        )
    for reply in replies:
        entries.append(
            {"id": reply.provider_message_id, "mine": False,
             "text": reply.text if reply.text else template_text(reply.fields),
             "at": reply.at, "status": statuses.get(reply.provider_message_id, "sent")}
        )
    entries.sort(key=lambda entry: entry["at"])
    return entries


async def phones(demo: DemoRuntime) -> list[dict[str, Any]]:
    result = []
    for persona in PERSONAS:
        channel = demo.channels[persona.kind]
        result.append(
            {
                "kind": persona.kind,
                "name": persona.name,
                "address": persona.user_id if persona.kind == "whatsapp"
                else ("@" + persona.username if persona.username else persona.name),
                "channel_name": channel.name,
                "chat": await phone_chat(demo, persona),
            }
        )
    return result


async def simulator_page(request: Request) -> Response:
    demo = demo_of(request)
    token = new_login_csrf(request)
    response = render(
        request,
        "demo/simulator.html",
        {"phones": await phones(demo), "token": token},
        headers={"Cache-Control": "no-store"},
    )
    return attach_login_csrf(request, response, token)


async def chats(request: Request) -> Response:
    demo = demo_of(request)
    data = {
        phone["kind"]: [
            {**entry, "at": iso(entry["at"])} for entry in phone["chat"]
        ]
        for phone in await phones(demo)
    }
    return JSONResponse(data, headers={"Cache-Control": "no-store"})


def check_token(request: Request, sent: str) -> None:
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not cookie or not sent or not hmac.compare_digest(cookie, sent):
        raise InvalidInput("the page expired; reload it", code="csrf")


async def send(request: Request) -> Response:
    """The end user sends a message: through the signed webhook into the inbox."""
    demo = demo_of(request)
    persona = persona_for(request.path_params["kind"])
    wants_json = "application/json" in request.headers.get("content-type", "")
    if wants_json:
        try:
            body = json.loads(await request.body())
        except ValueError:
            raise InvalidInput("the body must be JSON") from None
        text = str(body.get("text", "")) if isinstance(body, dict) else ""
        check_token(request, request.headers.get(SIMULATOR_CSRF_HEADER, ""))
    else:
        form = await read_form(request)
        text = str(form.get("text", ""))
        check_token(request, str(form.get("token", "")))
    text = text.strip()
    if not text or len(text) > MAX_PHONE_TEXT:
        raise InvalidInput(f"type 1 to {MAX_PHONE_TEXT} characters")
    response = await demo.deliver(persona, text)
    if not response.is_success:
        raise Unavailable("the inbox did not accept the message", code="webhook_refused")
    if wants_json:
        return JSONResponse({"ok": True, "at": iso(datetime.now().astimezone())}, status_code=202)
    return redirect(f"/demo/simulator#phone-{persona.kind}")


routes = [
    Route("/demo/simulator", simulator_page, methods=["GET"]),
    Route("/demo/simulator/chats", chats, methods=["GET"]),
    Route("/demo/simulator/{kind}/send", send, methods=["POST"]),
]
