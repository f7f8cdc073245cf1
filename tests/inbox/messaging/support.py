"""Shared by the messaging, webhook and messaging-job tests: a workspace with one
channel of each kind, and helpers that post signed fixtures like the providers do."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
import pytest

from inbox.crypto import encrypt_json
from inbox.models import (
    Channel,
    ChannelKind,
    Contact,
    ContactIdentity,
    Conversation,
    Membership,
    Message,
    Role,
    User,
    Workspace,
)
from inbox.settings import Settings
from inbox.tenancy import scoped
from inbox.workspaces.channels import external_id_for
from tests.channels.constants import (
    ACCOUNT_SID,
    APP_SECRET,
    AUTH_TOKEN,
    BOT_TOKEN,
    CHANNEL_NUMBER,
    PAGE_ID,
    PAGE_TOKEN,
    PLACEHOLDERS,
    TELEGRAM_SECRET,
    VERIFY_TOKEN,
)
from tests.signing import body, load, messenger_signature, twilio_form_body, twilio_signature

CREDENTIALS: dict[str, dict[str, str]] = {
    "whatsapp": {
        "account_sid": ACCOUNT_SID,
        "auth_token": AUTH_TOKEN,
        "from_number": f"whatsapp:{CHANNEL_NUMBER}",
    },
    "telegram": {"bot_token": BOT_TOKEN},
    "messenger": {
        "page_id": PAGE_ID,
        "page_access_token": PAGE_TOKEN,
        "app_secret": APP_SECRET,
        "verify_token": VERIFY_TOKEN,
    },
}
MARIA = "whatsapp:+15555550123"
ANA = "5511223344"
PSID = "24683579135792468"


@dataclass
class Setup:
    workspace: Workspace
    whatsapp: Channel
    telegram: Channel
    messenger: Channel


async def make_channel(
    settings: Settings,
    workspace: Workspace,
    kind: str,
    credentials: dict[str, str] | None = None,
    name: str | None = None,
) -> Channel:
    """A stored channel (the Telegram webhook registration is not what is tested here)."""
    assert settings.master_key
    clean = credentials or CREDENTIALS[kind]
    return await Channel.create(
        workspace_id=workspace.id,
        kind=kind,
        name=name or f"{kind} channel",
        credentials_encrypted=encrypt_json(settings.master_key, clean),
        webhook_secret=TELEGRAM_SECRET if kind == "telegram" else None,
        external_id=external_id_for(ChannelKind(kind), clean),
    )


async def make_setup(settings: Settings, slug: str = "acme") -> Setup:
    """A workspace, its owner and a channel of each kind (no password hashing: fast)."""
    workspace = await Workspace.create(name=slug.title(), slug=slug)
    owner = await User.create(email=f"owner@{slug}.test", password_hash="not-a-password-hash")
    await Membership.create(workspace=workspace, user=owner, role=Role.OWNER.value)
    return Setup(
        workspace,
        await make_channel(settings, workspace, "whatsapp"),
        await make_channel(settings, workspace, "telegram"),
        await make_channel(settings, workspace, "messenger"),
    )


@pytest.fixture
async def setup(settings: Settings, db: None) -> Setup:
    return await make_setup(settings)


# ------------------------------------------------------------------ posting fixtures
def webhook_path(channel: Channel, suffix: str = "") -> str:
    provider = {"whatsapp": "twilio", "telegram": "telegram", "messenger": "messenger"}
    return f"/webhooks/{provider[channel.kind]}/{channel.id}{suffix}"


def twilio_request(
    settings: Settings, channel: Channel, params: dict[str, str], suffix: str = ""
) -> tuple[str, bytes, dict[str, str]]:
    path = webhook_path(channel, suffix)
    signature = twilio_signature(AUTH_TOKEN, settings.public_link(path), params)
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Twilio-Signature": signature,
    }
    return path, twilio_form_body(params), headers


def telegram_request(channel: Channel, update: dict[str, Any]) -> tuple[str, bytes, dict[str, str]]:
    headers = {
        "Content-Type": "application/json",
        "X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET,
    }
    return webhook_path(channel), body(update), headers


def messenger_request(
    channel: Channel, payload: dict[str, Any], secret: str = APP_SECRET
) -> tuple[str, bytes, dict[str, str]]:
    raw = body(payload)
    headers = {
        "Content-Type": "application/json",
        "X-Hub-Signature-256": messenger_signature(secret, raw),
    }
    return webhook_path(channel), raw, headers


def fixture_request(
    settings: Settings, setup: Setup, name: str
) -> tuple[str, bytes, dict[str, str]]:
    """The signed request a provider would send for fixture ``name`` ("twilio/...")."""
    payload = load(name, **PLACEHOLDERS)
    provider = name.split("/", 1)[0]
    if provider == "twilio":
        suffix = "/status" if "MessageStatus" in payload else ""
        return twilio_request(settings, setup.whatsapp, payload, suffix)
    if provider == "telegram":
        return telegram_request(setup.telegram, payload)
    return messenger_request(setup.messenger, payload)


async def post_fixture(
    client: httpx.AsyncClient, settings: Settings, setup: Setup, name: str
) -> httpx.Response:
    path, raw, headers = fixture_request(settings, setup, name)
    return await client.post(path, content=raw, headers=headers)


# ------------------------------------------------------------------ reading back
async def count_rows(workspace: Workspace) -> dict[str, int]:
    return {
        "contacts": await scoped(Contact, workspace).count(),
        "identities": await scoped(ContactIdentity, workspace).count(),
        "conversations": await scoped(Conversation, workspace).count(),
        "messages": await scoped(Message, workspace).count(),
    }


async def list_messages(workspace: Workspace, **filters: Any) -> list[Message]:
    return await scoped(Message, workspace).filter(**filters).order_by("created_at", "id")


async def seed_outbound(
    setup: Setup,
    channel: Channel,
    provider_user_id: str,
    provider_message_id: str | None,
    *,
    status: str = "sent",
    sent_at: datetime | None = None,
    text: str = "Our reply",
    last_inbound_at: datetime | None = None,
) -> Message:
    """An outbound message of ours in the conversation with ``provider_user_id``."""
    workspace = setup.workspace
    identity = (
        await scoped(ContactIdentity, workspace)
        .filter(channel_id=channel.id, provider_user_id=provider_user_id)
        .first()
    )
    if identity is None:
        contact = await Contact.create(workspace_id=workspace.id, display_name="")
        await ContactIdentity.create(
            workspace_id=workspace.id,
            contact_id=contact.id,
            channel_id=channel.id,
            provider_user_id=provider_user_id,
        )
        contact_id = contact.id
    else:
        contact_id = identity.contact_id
    conversation = (
        await scoped(Conversation, workspace)
        .filter(channel_id=channel.id, contact_id=contact_id)
        .first()
    )
    if conversation is None:
        conversation = await Conversation.create(
            workspace_id=workspace.id,
            channel_id=channel.id,
            contact_id=contact_id,
            last_inbound_at=last_inbound_at,
        )
    return await Message.create(
        workspace_id=workspace.id,
        conversation_id=conversation.id,
        channel_id=channel.id,
        direction="outbound",
        kind="text",
        text=text,
        provider_message_id=provider_message_id,
        status=status,
        sent_at=sent_at,
    )
