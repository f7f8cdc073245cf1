"""Webhook endpoints. Each is thin: build the request, hand it to the domain,
answer what the provider expects once the data is committed.

- ``POST /webhooks/twilio/{channel_id}``: 200 with an empty TwiML ``<Response/>``
- ``POST /webhooks/twilio/{channel_id}/status``: 200, empty body
- ``POST /webhooks/telegram/{channel_id}``: 200
- ``GET /webhooks/messenger/{channel_id}``: the subscription handshake
- ``POST /webhooks/messenger/{channel_id}``: 200 ``EVENT_RECEIVED``

Errors are the app's JSON errors: 404 unknown channel, 401/403 signature,
400 malformed payload, 413 body above 1 MiB, 503 database unavailable.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Mount, Route

from inbox.app import runtime_of
from inbox.messaging.receive import WebhookRoute, answer_messenger_handshake, receive_webhook
from inbox.webhooks.requests import build_webhook_request

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'
MESSENGER_ACK = "EVENT_RECEIVED"


async def receive(request: Request, route: WebhookRoute) -> None:
    runtime = runtime_of(request)
    webhook = await build_webhook_request(runtime.settings, request)
    await receive_webhook(
        runtime.settings, runtime.broker, route, request.path_params["channel_id"], webhook
    )


async def twilio_inbound(request: Request) -> Response:
    await receive(request, WebhookRoute.TWILIO)
    return Response(EMPTY_TWIML, media_type="text/xml")


async def twilio_status(request: Request) -> Response:
    await receive(request, WebhookRoute.TWILIO_STATUS)
    return Response(status_code=200)


async def telegram_update(request: Request) -> Response:
    await receive(request, WebhookRoute.TELEGRAM)
    return Response(status_code=200)


async def messenger_events(request: Request) -> Response:
    await receive(request, WebhookRoute.MESSENGER)
    return PlainTextResponse(MESSENGER_ACK)


async def messenger_handshake(request: Request) -> Response:
    challenge = await answer_messenger_handshake(
        runtime_of(request).settings, request.path_params["channel_id"], request.query_params
    )
    return PlainTextResponse(challenge)


routes = [
    Mount(
        "/webhooks",
        routes=[
            Route("/twilio/{channel_id}", twilio_inbound, methods=["POST"]),
            Route("/twilio/{channel_id}/status", twilio_status, methods=["POST"]),
            Route("/telegram/{channel_id}", telegram_update, methods=["POST"]),
            Route("/messenger/{channel_id}", messenger_handshake, methods=["GET"]),
            Route("/messenger/{channel_id}", messenger_events, methods=["POST"]),
        ],
    )
]
