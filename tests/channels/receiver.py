"""A minimal inbox on loopback for the channel tests: it verifies and parses webhooks
with the adapters, answers as the real inbox will (401/403 on a bad signature, 400 on a
bad payload), and keeps the events it got."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from channels.base import ChannelAdapter, WebhookRequest
from channels.errors import ChannelError, SignatureError
from channels.events import Event
from channels.fake import serve_on_loopback


@dataclass
class InboxReceiver:
    """Where the receiver listens and what it got."""

    base_url: str = ""
    events: list[Event] = field(default_factory=list)
    refusals: list[int] = field(default_factory=list)

    def url(self, kind: str) -> str:
        return f"{self.base_url}/webhooks/{kind}"


@asynccontextmanager
async def serve_inbox_receiver(
    adapters: Mapping[str, ChannelAdapter],
) -> AsyncIterator[InboxReceiver]:
    """Serve POST /webhooks/{kind} with ``adapters[kind]`` on loopback."""
    receiver = InboxReceiver()

    async def receive(request: Request) -> Response:
        adapter = adapters[request.path_params["kind"]]
        webhook = WebhookRequest(
            url=str(request.url),
            body=await request.body(),
            headers=dict(request.headers),
            query=dict(request.query_params),
        )
        try:
            receiver.events.extend(adapter.verify_and_parse(webhook))
        except SignatureError as exc:
            receiver.refusals.append(exc.status)
            return PlainTextResponse("refused", status_code=exc.status)
        except ChannelError:
            return PlainTextResponse("bad payload", status_code=400)
        return PlainTextResponse("")

    app = Starlette(routes=[Route("/webhooks/{kind}", receive, methods=["POST"])])
    async with serve_on_loopback(app) as base_url:
        receiver.base_url = base_url
        yield receiver
