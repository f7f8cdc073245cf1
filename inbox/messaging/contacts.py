"""Who wrote: contacts, their channel identities and their conversations.

Every "find or create" here is safe against a concurrent delivery of the same
sender: the insert runs in a savepoint, and a unique-constraint violation means
another transaction created the row first, so we read theirs. SQLite serialises
writers anyway; PostgreSQL does not, and this is what keeps one contact and one
conversation per sender there.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, TypeVar

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from channels.events import ContactProfile
from inbox.models import Channel, Contact, ContactIdentity, Conversation
from inbox.tenancy import WorkspaceRef, scoped, workspace_id_of

T = TypeVar("T")

# Where a profile value came from, by channel kind (the enrichment jobs use
# "<provider>.<api>" too); "agent" marks a value a team member typed in.
WEBHOOK_PROFILE_SOURCE = {
    "whatsapp": "twilio.webhook",
    "telegram": "telegram.webhook",
    "messenger": "messenger.webhook",
}
AGENT_SOURCE = "agent"
# Profile fields mirrored in Contact columns of the same name.
PROFILE_FIELDS = ("display_name", "username", "phone")


async def insert_or_find(
    create: Callable[[], Awaitable[T]], find: Callable[[], Awaitable[T | None]]
) -> tuple[T, bool]:
    """Run ``create`` in a savepoint; on a unique violation return what ``find`` sees.

    Must run inside a transaction. Returns (row, created).
    """
    try:
        async with in_transaction():
            return await create(), True
    except IntegrityError:
        found = await find()
        if found is None:
            raise  # not a concurrent twin: a real constraint failure
        return found, False


def profile_changes(
    contact: Contact | None, profile: ContactProfile, source: str, at: datetime
) -> dict[str, Any]:
    """Column and ``profile`` updates from what a provider said about the sender.

    A value an agent entered (source "agent") is never overwritten by the provider.
    Unchanged values produce no change, so a chatty contact costs no extra write.
    """
    current: dict[str, Any] = dict(contact.profile or {}) if contact is not None else {}
    changes: dict[str, Any] = {}
    stamp = at.isoformat()
    for name in PROFILE_FIELDS:
        value = getattr(profile, name)
        if not value:
            continue
        recorded = current.get(name)
        if isinstance(recorded, dict):
            if recorded.get("source") == AGENT_SOURCE or recorded.get("value") == value:
                continue
        current[name] = {"value": value, "source": source, "fetched_at": stamp}
        changes[name] = value
    if changes:
        changes["profile"] = current
    return changes


async def find_identity_contact(
    workspace: WorkspaceRef, channel_id: uuid.UUID, provider_user_id: str
) -> Contact | None:
    """The contact behind (channel, provider user id), if we know it."""
    identity = (
        await scoped(ContactIdentity, workspace)
        .filter(channel_id=channel_id, provider_user_id=provider_user_id)
        .only("contact_id")
        .first()
    )
    if identity is None:
        return None
    return await scoped(Contact, workspace).filter(id=identity.contact_id).first()


async def find_or_create_contact(
    workspace: WorkspaceRef,
    channel: Channel,
    provider_user_id: str,
    profile: ContactProfile,
    at: datetime,
) -> tuple[Contact, bool]:
    """The sender's contact, created with its identity on first contact.

    Returns (contact, created). An existing contact's profile is refreshed from
    ``profile`` (see :func:`profile_changes`); nothing else is touched here.
    """
    workspace_id = workspace_id_of(workspace)
    source = WEBHOOK_PROFILE_SOURCE[channel.kind]
    contact = await find_identity_contact(workspace_id, channel.id, provider_user_id)
    if contact is not None:
        changes = profile_changes(contact, profile, source, at)
        if changes:
            await scoped(Contact, workspace_id).filter(id=contact.id).update(**changes)
            for name, value in changes.items():
                setattr(contact, name, value)
        return contact, False

    async def create() -> Contact:
        changes = profile_changes(None, profile, source, at)
        new = await Contact.create(
            workspace_id=workspace_id,
            display_name=changes.get("display_name") or "",
            phone=changes.get("phone"),
            username=changes.get("username"),
            profile=changes.get("profile") or {},
            last_activity_at=at,
        )
        await ContactIdentity.create(
            workspace_id=workspace_id,
            contact_id=new.id,
            channel_id=channel.id,
            provider_user_id=provider_user_id,
        )
        return new

    return await insert_or_find(
        create, lambda: find_identity_contact(workspace_id, channel.id, provider_user_id)
    )


async def find_conversation(
    workspace: WorkspaceRef, channel_id: uuid.UUID, contact_id: uuid.UUID
) -> Conversation | None:
    return (
        await scoped(Conversation, workspace)
        .filter(channel_id=channel_id, contact_id=contact_id)
        .first()
    )


async def find_or_create_conversation(
    workspace: WorkspaceRef, channel_id: uuid.UUID, contact_id: uuid.UUID
) -> Conversation:
    """The one conversation of a contact on a channel (unique per channel x contact)."""
    workspace_id = workspace_id_of(workspace)
    found = await find_conversation(workspace_id, channel_id, contact_id)
    if found is not None:
        return found
    conversation, _ = await insert_or_find(
        lambda: Conversation.create(
            workspace_id=workspace_id, channel_id=channel_id, contact_id=contact_id
        ),
        lambda: find_conversation(workspace_id, channel_id, contact_id),
    )
    return conversation
