"""Receipts and edits: what providers tell us about messages already stored.

Status callbacks and watermarks only move delivery status forward (see
``inbox.messaging.status``); an edit replaces the text of the contact's message.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from tortoise.expressions import Q

from channels.events import MessageEdited, StatusUpdate, Watermark
from inbox.live.events import WATERMARK_EVENTS_MAX, build_message_event
from inbox.messaging.contacts import find_identity_contact
from inbox.messaging.status import advance_status
from inbox.models import (
    Channel,
    Conversation,
    Direction,
    Message,
    MessageStatus,
    statuses_below,
)
from inbox.tenancy import scoped

if TYPE_CHECKING:
    from inbox.messaging.ingest import IngestResult, LiveEvents

# Failed messages never turn "delivered" or "read" because of a later receipt.
WATERMARK_EXCLUDED = (MessageStatus.FAILED.value, MessageStatus.UNDELIVERED.value)


async def find_message_id(
    workspace_id: uuid.UUID, channel_id: uuid.UUID, provider_message_id: str
) -> uuid.UUID | None:
    found = (
        await scoped(Message, workspace_id)
        .filter(channel_id=channel_id, provider_message_id=provider_message_id)
        .only("id")
        .first()
    )
    return found.id if found is not None else None


async def find_message_ref(
    workspace_id: uuid.UUID, channel_id: uuid.UUID, provider_message_id: str
) -> Message | None:
    """The message's id and conversation id (what its live event names), or None."""
    return (
        await scoped(Message, workspace_id)
        .filter(channel_id=channel_id, provider_message_id=provider_message_id)
        .only("id", "conversation_id")
        .first()
    )


async def store_status(
    workspace_id: uuid.UUID,
    channel: Channel,
    event: StatusUpdate,
    result: IngestResult,
    live: LiveEvents,
) -> None:
    """A provider's status callback for one of our outbound messages (monotonic)."""
    message = await find_message_ref(workspace_id, channel.id, event.provider_message_id)
    if message is None:
        # Not ours (sent from the provider's console) or already deleted.
        result.ignored += 1
        return
    moved = await advance_status(
        workspace_id,
        message.id,
        event.status,
        event.at,
        error_code=event.error_code,
        error_message=event.error_message,
    )
    if moved:
        result.updated += 1
        data = build_message_event(message.conversation_id, message.id, event.status)
        live.add("message.updated", data)


async def store_watermark(
    workspace_id: uuid.UUID,
    channel: Channel,
    event: Watermark,
    result: IngestResult,
    live: LiveEvents,
) -> None:
    """Every outbound message of the conversation up to the watermark moves forward.

    One UPDATE: the messages sent at or before the watermark, plus those the
    receipt names; only statuses below the new one move, failures never do.
    """
    contact = await find_identity_contact(workspace_id, channel.id, event.provider_user_id)
    if contact is None:
        result.ignored += 1
        return
    conversation = (
        await scoped(Conversation, workspace_id)
        .filter(channel_id=channel.id, contact_id=contact.id)
        .only("id")
        .first()
    )
    if conversation is None:
        result.ignored += 1
        return
    covered = Q(sent_at__lte=event.watermark) | Q(
        sent_at__isnull=True, provider_message_id__isnull=False, created_at__lte=event.watermark
    )
    if event.provider_message_ids:
        covered = covered | Q(provider_message_id__in=list(event.provider_message_ids))
    lower = [s for s in statuses_below(event.status) if s not in WATERMARK_EXCLUDED]
    field_name = "delivered_at" if event.status == MessageStatus.DELIVERED else "read_at"
    moved = (
        await scoped(Message, workspace_id)
        .filter(
            covered,
            conversation_id=conversation.id,
            direction=Direction.OUTBOUND.value,
            status__in=lower,
        )
        .exclude(status=MessageStatus.QUEUED.value, provider_message_id__isnull=True)
        .update(status=event.status, **{field_name: event.watermark})
    )
    if moved:
        result.updated += moved
        # The rows this watermark moved carry its time; the newest get an event each.
        moved_ids = await (
            scoped(Message, workspace_id)
            .filter(covered, conversation_id=conversation.id, direction=Direction.OUTBOUND.value,
                    status=event.status, **{field_name: event.watermark})
            .order_by("-created_at", "-id")
            .limit(WATERMARK_EVENTS_MAX)
            .values_list("id", flat=True)
        )
        for message_id in moved_ids:
            live.add(
                "message.updated", build_message_event(conversation.id, message_id, event.status)
            )


async def store_edit(
    workspace_id: uuid.UUID,
    channel: Channel,
    event: MessageEdited,
    result: IngestResult,
    live: LiveEvents,
) -> None:
    """The end user edited a message: new text, the edit time; no new message."""
    message = await find_message_ref(workspace_id, channel.id, event.provider_message_id)
    if message is None:
        result.ignored += 1
        return
    edited = await (
        scoped(Message, workspace_id)
        .filter(id=message.id, direction=Direction.INBOUND.value)
        .update(text=event.text, edited_at=event.edited_at)
    )
    result.updated += 1
    if edited:
        # Only the contact's own (inbound) messages change here, and those stay "received".
        live.add(
            "message.updated",
            build_message_event(message.conversation_id, message.id, MessageStatus.RECEIVED.value),
        )
