"""The running demo: the fake provider inside the inbox process, and its sample day.

Started by the app's lifespan when ``settings.demo`` is on (``inbox serve
--demo``). The fake provider is served on loopback and the settings' provider
base URLs point at it, so replies leave through the real send job and SDKs;
webhooks (sample messages, the simulator's messages, the fake's receipts) go
straight into this app through an ASGI transport, signed as the providers sign
them, so they take the real webhook routes whatever port the server listens on.
"""

from __future__ import annotations

import logging
import struct
import zlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx

from channels.fake import (
    FakeProviderState,
    build_app,
    build_messenger_message,
    build_telegram_update,
    build_twilio_inbound,
    deliver_messenger,
    deliver_telegram,
    deliver_twilio,
    serve_on_loopback,
)
from inbox.demo import (
    DEMO_EMAIL,
    MESSENGER_APP_SECRET,
    MESSENGER_PAGE_ID,
    MESSENGER_PAGE_TOKEN,
    SAMPLE_MESSAGES,
    TELEGRAM_BOT_TOKEN,
    TWILIO_ACCOUNT_SID,
    TWILIO_AUTH_TOKEN,
    WHATSAPP_NUMBER,
    Persona,
    all_personas,
    register_accounts,
    seed_demo,
)
from inbox.models import Channel, ChannelKind, Contact, Conversation, Message, User, Workspace
from inbox.models.base import utcnow
from inbox.settings import Settings
from inbox.tenancy import scoped

logger = logging.getLogger(__name__)

# Slow enough that a person sees the ticks advance one by one.
DEMO_RECEIPT_DELAY_SECONDS = 1.0
DELIVERY_TIMEOUT_SECONDS = 10.0
SAMPLE_LIMIT = 50  # the demo's own rows only


@dataclass
class PhoneEntry:
    """A message an end user sent, as their phone remembers it."""

    text: str
    at: datetime
    provider_message_id: str
    accepted: bool


@dataclass
class DemoRuntime:
    """The demo's running parts: the fake provider and how to reach the inbox."""

    settings: Settings
    state: FakeProviderState
    base_url: str
    workspace: Workspace
    channels: dict[str, Channel]
    # Webhooks go straight into this app (the fake's receipts too): no port to guess.
    http: httpx.AsyncClient
    broker: Any = None
    # (channel kind, user id) -> what that end user typed, oldest first.
    phone_log: dict[tuple[str, str], list[PhoneEntry]] = field(default_factory=dict)

    async def deliver(
        self, persona: Persona, text: str, media: tuple[tuple[str, str], ...] = ()
    ) -> httpx.Response:
        """Send ``text`` from ``persona`` through its channel's signed webhook."""
        response, provider_message_id = await self.post_webhook(persona, text, media)
        self.phone_log.setdefault((persona.kind, persona.user_id), []).append(
            PhoneEntry(text, utcnow(), provider_message_id, response.is_success)
        )
        return response

    async def post_webhook(
        self, persona: Persona, text: str, media: tuple[tuple[str, str], ...]
    ) -> tuple[httpx.Response, str]:
        from inbox.workspaces.channels import describe_channel

        channel = self.channels[persona.kind]
        url = describe_channel(self.settings, channel).webhook_url
        if persona.kind == ChannelKind.WHATSAPP:
            params = build_twilio_inbound(
                TWILIO_ACCOUNT_SID, WHATSAPP_NUMBER, persona.user_id, text,
                profile_name=persona.name, media=media,
            )
            response = await deliver_twilio(url, TWILIO_AUTH_TOKEN, params, http=self.http)
            return response, params["MessageSid"]
        if persona.kind == ChannelKind.TELEGRAM:
            hook = self.state.telegram_webhooks.get(TELEGRAM_BOT_TOKEN)
            update = build_telegram_update(
                int(persona.user_id), text, first_name=persona.first_name,
                last_name=persona.last_name or None, username=persona.username,
            )
            response = await deliver_telegram(
                hook.url if hook else url, hook.secret_token if hook else None, update,
                http=self.http,
            )
            return response, f"{persona.user_id}:{update['message']['message_id']}"
        payload = build_messenger_message(MESSENGER_PAGE_ID, persona.user_id, text)
        response = await deliver_messenger(url, MESSENGER_APP_SECRET, payload, http=self.http)
        return response, payload["entry"][0]["messaging"][0]["message"]["mid"]


@asynccontextmanager
async def run_demo(app: Any, settings: Settings) -> AsyncIterator[DemoRuntime | None]:
    """Inside the app's lifespan: the fake provider, the demo data, the samples."""
    if not settings.demo:
        yield None
        return
    state = FakeProviderState()
    state.auto_receipts = True
    state.receipt_delay = DEMO_RECEIPT_DELAY_SECONDS
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url=settings.public_url, timeout=DELIVERY_TIMEOUT_SECONDS
    ) as http:
        state.http = http
        async with serve_on_loopback(build_app(state)) as base_url:
            state.base_url = base_url
            settings.twilio_api_base = settings.telegram_api_base = base_url
            settings.graph_api_base = base_url
            register_accounts(state, settings)
            demo = await seed_demo(settings, provider=state)
            runtime = DemoRuntime(
                settings, state, base_url, demo.workspace, demo.channels, http,
                broker=app.state.runtime.broker,
            )
            await connect_to_fake(runtime)
            app.state.demo = runtime
            try:
                await deliver_samples(runtime)
            except Exception as exc:  # the demo still runs without its samples
                logger.warning(
                    "demo samples not delivered", extra={"error_type": type(exc).__name__}
                )
            try:
                yield runtime
            finally:
                app.state.demo = None
                await state.wait_background(1.0)
        state.http = None


async def connect_to_fake(runtime: DemoRuntime) -> None:
    """The fake starts empty each time: register the bot's webhook and the Page again."""
    from inbox.messaging.adapters import build_adapter
    from inbox.workspaces.channels import describe_channel

    telegram = runtime.channels[ChannelKind.TELEGRAM]
    setup = describe_channel(runtime.settings, telegram)
    async with build_adapter(runtime.settings, telegram) as adapter:
        await adapter.register_webhook(setup.webhook_url, telegram.webhook_secret or "")
    messenger = runtime.channels[ChannelKind.MESSENGER]
    runtime.state.add_messenger_page(
        MESSENGER_PAGE_ID, MESSENGER_PAGE_TOKEN, app_secret=MESSENGER_APP_SECRET,
        webhook_url=describe_channel(runtime.settings, messenger).webhook_url,
    )


async def deliver_samples(runtime: DemoRuntime) -> None:
    """A few conversations, once: through the webhooks, as the providers would send them."""
    if await scoped(Conversation, runtime.workspace).exists():
        return
    personas = all_personas()
    photo = runtime.state.add_twilio_media(
        TWILIO_ACCOUNT_SID, "MM" + "0" * 32, build_sample_png(), "image/png"
    )
    for index, text in SAMPLE_MESSAGES:
        media = ((photo, "image/png"),) if index == 3 else ()
        response = await runtime.deliver(personas[index], text, media)
        response.raise_for_status()
    await stage_samples(runtime)


async def stage_samples(runtime: DemoRuntime) -> None:
    """What a day in the inbox leaves behind: a reply, a note, a tag, a resolved
    conversation, and a WhatsApp window that closed (so the template picker shows)."""
    from inbox.conversations.service import ConversationChanges, add_note, update_conversation
    from inbox.messaging.outbound import queue_reply

    workspace = runtime.workspace
    admin = await User.get(email=DEMO_EMAIL)
    names = dict(
        await scoped(Contact, workspace).limit(SAMPLE_LIMIT).values_list("id", "display_name")
    )
    by_contact = {
        names.get(conversation.contact_id, ""): conversation
        for conversation in await scoped(Conversation, workspace).limit(SAMPLE_LIMIT)
    }
    broker = runtime.broker
    maria = by_contact.get("Maria Lopez")
    if maria is not None:
        await queue_reply(broker, workspace, maria.id, admin.id,
                          text="Yes, it left our warehouse this morning 📦")
        await add_note(broker, workspace, maria.id, admin.id, "VIP customer: offer free returns.")
        await update_conversation(broker, workspace, maria.id, ConversationChanges(tags=["vip"]))
    ana = by_contact.get("Ana Souza")
    if ana is not None:
        await update_conversation(broker, workspace, ana.id, ConversationChanges(status="resolved"))
    jonas = by_contact.get("Jonas Weber")
    if jonas is not None:
        earlier = utcnow() - timedelta(days=2)
        await scoped(Conversation, workspace).filter(id=jonas.id).update(
            last_inbound_at=earlier, last_message_at=earlier
        )
        await scoped(Message, workspace).filter(conversation_id=jonas.id).update(created_at=earlier)


def build_sample_png(width: int = 96, height: int = 64) -> bytes:
    """A small gradient picture, made here so the demo ships no binary file."""
    rows = b"".join(
        b"\x00" + b"".join(bytes((40 + x * 2, 90 + y * 2, 200)) for x in range(width))
        for y in range(height)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))
