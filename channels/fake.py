"""A local stand-in for the Twilio, Telegram and Graph APIs, served over loopback HTTP.

Tests and the demo point ``ProviderEndpoints`` at it, so the adapters run their real
SDK code paths (twilio's Client, python-telegram-bot's Bot, httpx for Graph) against
a server that answers like the providers do::

    async with run_fake_provider() as fake:
        fake.state.add_twilio_account(sid, token)
        adapter = get_adapter("whatsapp", credentials, fake.endpoints)
        ...
        fake.state.list_sent_messages("twilio")   # what reached the phone

Routes (all on one host):
- Twilio: ``POST /2010-04-01/Accounts/{sid}/Messages.json``, media at
  ``GET /2010-04-01/Accounts/{sid}/Messages/{msid}/Media/{id}`` (Basic auth, then a
  307 to unauthenticated storage, as Twilio does).
- Telegram: ``/bot{token}/{method}`` (getMe, setWebhook, deleteWebhook,
  getWebhookInfo, sendMessage, getChat, getUserProfilePhotos, getFile) and
  ``/file/bot{token}/{path}``.
- Graph: ``POST /{version}/me/messages``, ``GET /{version}/{psid}``, CDN-like media
  at ``/cdn/{key}/{name}``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.types import ASGIApp
from uvicorn.protocols.http.h11_impl import H11Protocol

from channels import fake_graph, fake_telegram, fake_twilio
from channels.base import ProviderEndpoints
from channels.fake_deliver import (
    build_messenger_message,
    build_messenger_receipt,
    build_telegram_update,
    build_twilio_inbound,
    deliver_messenger,
    deliver_telegram,
    deliver_twilio,
)
from channels.fake_state import FakeProviderState, SentMessage

LOOPBACK_HOST = "127.0.0.1"
# Upper bound on waiting for open connections and receipts when stopping.
SHUTDOWN_GRACE_SECONDS = 5
FAKE_HTTP_TIMEOUT_SECONDS = 10.0

__all__ = [
    "FakeProvider",
    "FakeProviderState",
    "SentMessage",
    "build_app",
    "build_messenger_message",
    "build_messenger_receipt",
    "build_telegram_update",
    "build_twilio_inbound",
    "deliver_messenger",
    "deliver_telegram",
    "deliver_twilio",
    "run_fake_provider",
    "serve_on_loopback",
]


class QuietH11Protocol(H11Protocol):
    """uvicorn's HTTP/1.1 protocol without access log lines for this server only:
    the fake's paths carry tokens (/bot<token>/...), and uvicorn's access logger is
    shared with the inbox's own server, so it cannot be switched off globally."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.access_log = False


def build_app(state: FakeProviderState) -> Starlette:
    """The fake provider's ASGI app over ``state``."""
    # Order matters: the Graph catch-all "/{version}/{node}" comes last.
    routes = (
        fake_twilio.make_routes(state)
        + fake_telegram.make_routes(state)
        + fake_graph.make_routes(state)
    )
    return Starlette(routes=routes)


@asynccontextmanager
async def serve_on_loopback(app: ASGIApp, *, port: int = 0) -> AsyncIterator[str]:
    """Serve ``app`` with uvicorn on 127.0.0.1 in the running event loop; yields
    its base URL ("http://127.0.0.1:PORT").

    The server is driven step by step (startup, main loop, shutdown) rather than with
    ``serve()``, which would take over the process's signal handlers: the demo runs
    this inside the inbox's own server.
    """
    config = uvicorn.Config(
        app,
        host=LOOPBACK_HOST,
        port=port,
        lifespan="off",
        http=QuietH11Protocol,
        ws="none",
        # No logging configuration at all: the demo runs this inside the inbox's
        # server, whose logging setup must stay as it is.
        log_config=None,
        timeout_graceful_shutdown=SHUTDOWN_GRACE_SECONDS,
    )
    server = uvicorn.Server(config)
    config.load()
    server.lifespan = config.lifespan_class(config)
    await server.startup()
    main_loop = asyncio.create_task(server.main_loop())
    try:
        bound_port = server.servers[0].sockets[0].getsockname()[1]
        yield f"http://{LOOPBACK_HOST}:{bound_port}"
    finally:
        server.should_exit = True
        await main_loop
        await server.shutdown()


class FakeProvider:
    """A running fake provider: its base URL, its state and a few shortcuts."""

    def __init__(self, base_url: str, state: FakeProviderState) -> None:
        self.base_url = base_url
        self.state = state

    @property
    def endpoints(self) -> ProviderEndpoints:
        """Provider endpoints that all point at this fake."""
        return ProviderEndpoints(self.base_url, self.base_url, self.base_url)

    def fail_next(
        self,
        provider: str,
        status: int,
        body: Any = None,
        retry_after: float | None = None,
        times: int = 1,
        *,
        path_contains: str | None = None,
    ) -> None:
        """See ``FakeProviderState.fail_next``."""
        self.state.fail_next(
            provider, status, body, retry_after, times, path_contains=path_contains
        )

    async def send_telegram_update(self, token: str, update: Mapping[str, Any]) -> httpx.Response:
        """Deliver ``update`` to the webhook the bot registered with setWebhook."""
        hook = self.state.telegram_webhooks.get(token)
        if hook is None:
            raise LookupError("this bot has no webhook registered with the fake")
        return await deliver_telegram(hook.url, hook.secret_token, update, http=self.state.http)

    async def wait_for_receipts(self) -> None:
        """Wait until every receipt scheduled so far has been fired."""
        await self.state.wait_background()


@asynccontextmanager
async def run_fake_provider(*, auto_receipts: bool = False) -> AsyncIterator[FakeProvider]:
    """Run the fake provider on loopback for the duration of the block."""
    state = FakeProviderState()
    state.auto_receipts = auto_receipts
    async with httpx.AsyncClient(timeout=FAKE_HTTP_TIMEOUT_SECONDS) as http:
        state.http = http
        async with serve_on_loopback(build_app(state)) as base_url:
            state.base_url = base_url
            try:
                yield FakeProvider(base_url, state)
            finally:
                await state.wait_background(SHUTDOWN_GRACE_SECONDS)
        state.http = None
