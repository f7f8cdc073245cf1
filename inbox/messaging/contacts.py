"""Who wrote: contacts, their channel identities and their conversations.

Creating a contact, its identity or its conversation can race with a
concurrent delivery from the same new sender: the unique constraints
(channel, provider user id) and (channel, contact) refuse the second insert,
and the caller retries its whole transaction, which then finds the rows the
other one committed (see ``inbox.messaging.ingest.run_with_retry``).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from channels.events import ContactProfile
from inbox.models import Channel, Contact, ContactIdentity, Conversation
from inbox.tenancy import WorkspaceRef, scoped, workspace_id_of

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
ACTIVITY_RESOLUTION = timedelta(minutes=1)


def profile_changes(
    recorded: dict[str, Any] | None, profile: ContactProfile, source: str, at: datetime
) -> dict[str, Any]:
    """Column and ``profile`` updates from what a provider said about the sender.

    A value an agent entered (source "agent") is never overwritten by the provider.
    Unchanged values produce no change, so a chatty contact costs no extra write.
    """
    current: dict[str, Any] = dict(recorded or {})
    changes: dict[str, Any] = {}
    stamp = at.isoformat()
    for name in PROFILE_FIELDS:
        value = getattr(profile, name)
        if not value:
            continue
        entry = current.get(name)
        if isinstance(entry, dict) and (
            entry.get("source") == AGENT_SOURCE or entry.get("value") == value
        ):
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


async def create_contact(
    workspace: WorkspaceRef,
    channel: Channel,
    provider_user_id: str,
    profile: ContactProfile,
    at: datetime,
) -> Contact:
    """A first-time sender: the contact, with its profile, and its identity."""
    workspace_id = workspace_id_of(workspace)
    changes = profile_changes(None, profile, WEBHOOK_PROFILE_SOURCE[channel.kind], at)
    contact = await Contact.create(
        workspace_id=workspace_id,
        display_name=changes.get("display_name") or "",
        phone=changes.get("phone"),
        username=changes.get("username"),
        profile=changes.get("profile") or {},
        last_activity_at=at,
    )
    await ContactIdentity.create(
        workspace_id=workspace_id,
        contact_id=contact.id,
        channel_id=channel.id,
        provider_user_id=provider_user_id,
    )
    return contact


def contact_changes(
    channel: Channel,
    profile: ContactProfile,
    recorded: dict[str, Any],
    last_activity_at: datetime | None,
    at: datetime,
    *,
    active: bool,
) -> dict[str, Any]:
    """What to update on a known contact: its profile, and its activity time.

    The activity time moves in steps of ACTIVITY_RESOLUTION: it serves retention
    (counted in days) and sorting, and a chatty contact should not cost a write
    per message.
    """
    changes = profile_changes(recorded, profile, WEBHOOK_PROFILE_SOURCE[channel.kind], at)
    if active and (last_activity_at is None or at - last_activity_at >= ACTIVITY_RESOLUTION):
        changes["last_activity_at"] = at
    return changes


async def update_contact(
    workspace: WorkspaceRef, contact_id: uuid.UUID, changes: dict[str, Any]
) -> None:
    if changes:
        await scoped(Contact, workspace).filter(id=contact_id).update(**changes)


async def create_conversation(
    workspace: WorkspaceRef, channel_id: uuid.UUID, contact_id: uuid.UUID
) -> Conversation:
    return await Conversation.create(
        workspace_id=workspace_id_of(workspace), channel_id=channel_id, contact_id=contact_id
    )
