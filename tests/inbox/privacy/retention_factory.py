"""Rows for the retention, enrichment and worker tests, with times the test chooses."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from inbox.crypto import encrypt_json
from inbox.models import (
    Attachment,
    Channel,
    Contact,
    ContactIdentity,
    Conversation,
    Message,
    RetentionPolicy,
    Workspace,
)
from inbox.privacy.stored_files import storage_path, write_stored_file
from inbox.settings import Settings
from inbox.tenancy import scoped

# A fixed "now" for every rule test: the clock is passed explicitly.
NOW = datetime(2026, 11, 20, 12, 0, 0, tzinfo=UTC)


def ago(days: float = 0, seconds: float = 0) -> datetime:
    return NOW - timedelta(days=days, seconds=seconds)


async def make_workspace(slug: str = "acme", **policy: int | None) -> Workspace:
    workspace = await Workspace.create(name=slug.title(), slug=slug, created_at=ago(4000))
    await RetentionPolicy.create(workspace=workspace, **{"exports_days": None, **policy})
    return workspace


async def set_policy(workspace: Workspace, **days: int | None) -> None:
    await scoped(RetentionPolicy, workspace).update(**days)


async def make_channel(
    settings: Settings,
    workspace: Workspace,
    kind: str = "telegram",
    credentials: dict[str, str] | None = None,
) -> Channel:
    credentials = credentials or {"bot_token": "7000000001:test-token"}
    assert settings.master_key
    return await Channel.create(
        workspace=workspace,
        kind=kind,
        name=f"{kind} channel",
        credentials_encrypted=encrypt_json(settings.master_key, credentials),
    )


async def make_contact(workspace: Workspace, **fields: Any) -> Contact:
    fields.setdefault("created_at", ago(4000))
    fields.setdefault("last_activity_at", NOW)
    fields.setdefault("display_name", "Someone")
    return await Contact.create(workspace=workspace, **fields)


async def make_identity(
    workspace: Workspace, contact: Contact, channel: Channel, provider_user_id: str
) -> ContactIdentity:
    return await ContactIdentity.create(
        workspace=workspace, contact=contact, channel=channel, provider_user_id=provider_user_id
    )


async def make_conversation(
    workspace: Workspace, channel: Channel, contact: Contact | None = None, **fields: Any
) -> Conversation:
    if contact is None:
        contact = await make_contact(workspace)
    fields.setdefault("created_at", ago(4000))
    fields.setdefault("last_message_at", NOW)
    fields.setdefault("last_message_preview", "latest")
    return await Conversation.create(
        workspace=workspace, channel=channel, contact=contact, **fields
    )


async def make_message(
    conversation: Conversation,
    created_at: datetime,
    *,
    direction: str = "inbound",
    text: str = "hello",
    kind: str = "text",
) -> Message:
    return await Message.create(
        workspace_id=conversation.workspace_id,
        conversation=conversation,
        channel_id=conversation.channel_id,
        direction=direction,
        kind=kind,
        text=text,
        status="received" if direction == "inbound" else "sent",
        provider_message_id=uuid.uuid4().hex,
        created_at=created_at,
    )


async def make_attachment(
    settings: Settings, message: Message, created_at: datetime | None = None, *, data: bytes = b"x"
) -> Attachment:
    """An attachment whose file really exists under the storage folder."""
    attachment_id = uuid.uuid4()
    key = f"{message.workspace_id}/attachments/{attachment_id}.bin"
    write_stored_file(settings, key, data)
    return await Attachment.create(
        id=attachment_id,
        workspace_id=message.workspace_id,
        message=message,
        kind="file",
        media_type="application/octet-stream",
        size=len(data),
        storage_key=key,
        download_status="done",
        created_at=created_at or message.created_at,
    )


def stored(settings: Settings, key: str | None) -> bool:
    assert key
    return storage_path(settings, key).exists()
