"""Storing what a provider told us: messages, statuses, receipts and edits.

:func:`ingest_events` takes the normalized events of one verified webhook and
stores them in one transaction. Inbound messages are idempotent on the
provider's message id (unique per channel): a delivery repeated three times,
at once or a day later, stores one message. Jobs (media downloads, contact
enrichment) are queued and live events published only after the commit.

A transaction that loses a race with a concurrent delivery (a unique violation
on the message, the contact identity or the conversation) is run again and
then finds the winner's rows. On PostgreSQL, a known sender's text message
takes a shorter road with the same outcome: see ``inbox.messaging.ingest_postgres``.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F

from channels.events import (
    Event,
    Ignored,
    InboundMessage,
    MessageEdited,
    StatusUpdate,
    Watermark,
)
from inbox.broker import Broker
from inbox.jobs import Unit, atomic
from inbox.live.events import build_conversation_event, build_message_event
from inbox.messaging.announce import publish_events
from inbox.messaging.contacts import (
    contact_changes,
    create_contact,
    create_conversation,
    update_contact,
)
from inbox.messaging.ingest_postgres import (
    fits_one_statement,
    store_known_sender_message,
    uses_postgres,
)
from inbox.messaging.queries import find_sender
from inbox.messaging.receipts import (
    find_message_id,
    store_edit,
    store_status,
    store_watermark,
)
from inbox.models import (
    Attachment,
    Channel,
    Conversation,
    ConversationStatus,
    Direction,
    Message,
    MessageKind,
    MessageStatus,
)
from inbox.models.base import utcnow
from inbox.tenancy import WorkspaceRef, scoped, workspace_id_of

T = TypeVar("T")
RACE_ATTEMPTS = 3  # a delivery that loses a race finds the winner's rows on its retry
PREVIEW_LENGTH = 140  # Conversation.last_message_preview's column size
# What the conversation list shows for a message without text.
KIND_PREVIEWS = {
    MessageKind.IMAGE: "[image]",
    MessageKind.AUDIO: "[audio]",
    MessageKind.VIDEO: "[video]",
    MessageKind.FILE: "[file]",
    MessageKind.LOCATION: "[location]",
    MessageKind.UNSUPPORTED: "[unsupported]",
}


@dataclass
class IngestResult:
    """What one delivery changed (ids only)."""

    created: list[uuid.UUID] = field(default_factory=list)
    duplicates: int = 0
    updated: int = 0
    ignored: int = 0
    new_contacts: list[uuid.UUID] = field(default_factory=list)


@dataclass
class LiveEvents:
    """Events to publish once the transaction has committed, in order."""

    items: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def add(self, event_type: str, data: dict[str, Any]) -> None:
        if (event_type, data) not in self.items:
            self.items.append((event_type, data))


async def ingest_events(
    workspace: WorkspaceRef, channel: Channel, events: list[Event], broker: Broker | None
) -> IngestResult:
    """Store ``events`` of one delivery to ``channel`` in one transaction."""
    workspace_id = workspace_id_of(workspace)
    quick = await ingest_in_one_statement(broker, workspace_id, channel, events)
    if quick is not None:
        return quick

    async def work(unit: Unit) -> IngestResult:
        return await store_events(unit, broker, workspace, channel, events)

    return await run_with_retry(broker, work)


async def ingest_in_one_statement(
    broker: Broker | None, workspace_id: uuid.UUID, channel: Channel, events: list[Event]
) -> IngestResult | None:
    """The PostgreSQL shortcut for one message of a known sender (None: not taken)."""
    if not fits_one_statement(events) or not uses_postgres():
        return None
    event = events[0]
    assert isinstance(event, InboundMessage)
    stored = await store_known_sender_message(
        broker, workspace_id, channel, event, build_preview(event.kind, event.text)
    )
    if stored is None:
        return None
    result = IngestResult()
    if stored.stored:
        result.created.append(stored.message_id)
    else:
        result.duplicates += 1
    return result


async def run_with_retry(broker: Broker | None, work: Callable[[Unit], Awaitable[T]]) -> T:
    """Run ``work`` in one transaction, again if a concurrent delivery won a race.

    A unique violation means another transaction inserted the same message,
    contact or conversation first; once it has committed, running again finds
    those rows and stores nothing twice. A violation that persists is raised.
    """
    for attempt in range(1, RACE_ATTEMPTS + 1):
        try:
            async with atomic(broker) as unit:
                return await work(unit)
        except IntegrityError:
            if attempt == RACE_ATTEMPTS:
                raise
    raise AssertionError("unreachable")


async def store_events(
    unit: Unit,
    broker: Broker | None,
    workspace: WorkspaceRef,
    channel: Channel,
    events: list[Event],
    result: IngestResult | None = None,
) -> IngestResult:
    """Store ``events`` inside the caller's transaction ``unit``."""
    workspace_id = workspace_id_of(workspace)
    result = result if result is not None else IngestResult()
    live = LiveEvents()
    for event in events:
        if isinstance(event, InboundMessage):
            await store_message(unit, workspace_id, channel, event, result, live)
        elif isinstance(event, StatusUpdate):
            await store_status(workspace_id, channel, event, result, live)
        elif isinstance(event, Watermark):
            await store_watermark(workspace_id, channel, event, result, live)
        elif isinstance(event, MessageEdited):
            await store_edit(workspace_id, channel, event, result, live)
        elif isinstance(event, Ignored):
            result.ignored += 1
    if live.items:
        unit.on_commit(lambda: publish_events(broker, workspace_id, live.items))
    return result


def build_preview(kind: str, text: str) -> str:
    preview = " ".join(text.split()) or KIND_PREVIEWS.get(MessageKind(kind), "")
    return preview[:PREVIEW_LENGTH]


async def store_message(
    unit: Unit,
    workspace_id: uuid.UUID,
    channel: Channel,
    event: InboundMessage,
    result: IngestResult,
    live: LiveEvents,
) -> None:
    """One message from (or, for an echo, to) the end user; idempotent.

    A known sender costs one read (:func:`find_sender`), the message insert and
    the conversation update. An echo names the end user as recipient and
    carries no profile: the Page never becomes a contact.
    """
    inbound = event.direction == Direction.INBOUND
    now = utcnow()
    sender = await find_sender(
        unit.connection,
        workspace_id,
        channel.id,
        event.provider_user_id,
        event.provider_message_id,
        event.reply_to_provider_id,
    )
    if sender is not None:
        if sender.twin_id is not None:
            result.duplicates += 1
            return
        contact_id = sender.contact_id
        changes = contact_changes(
            channel, event.profile, sender.profile, sender.last_activity_at, now, active=inbound
        )
        await update_contact(workspace_id, contact_id, changes)
        conversation = ConversationState(
            sender.conversation_id, sender.status, sender.last_message_at, sender.last_inbound_at
        )
        reply_to_id = sender.reply_id
    else:
        if await find_message_id(workspace_id, channel.id, event.provider_message_id):
            result.duplicates += 1
            return
        contact = await create_contact(
            workspace_id, channel, event.provider_user_id, event.profile, now
        )
        contact_id = contact.id
        result.new_contacts.append(contact_id)
        unit.enqueue(
            "enrich_contact", str(workspace_id), str(contact_id), job_id=f"enrich:{contact_id}"
        )
        conversation = ConversationState(None)
        reply_to_id = None
        if event.reply_to_provider_id:
            reply_to_id = await find_message_id(
                workspace_id, channel.id, event.reply_to_provider_id
            )
    if conversation.id is None:
        created = await create_conversation(workspace_id, channel.id, contact_id)
        conversation = ConversationState(created.id, created.status)

    message = Message(
        workspace_id=workspace_id,
        conversation_id=conversation.id,
        channel_id=channel.id,
        direction=Direction.INBOUND.value if inbound else Direction.OUTBOUND.value,
        kind=event.kind,
        text=event.text,
        provider_message_id=event.provider_message_id,
        status=MessageStatus.RECEIVED.value if inbound else MessageStatus.SENT.value,
        latitude=event.location[0] if event.location else None,
        longitude=event.location[1] if event.location else None,
        reply_to_id=reply_to_id,
        metadata=dict(event.metadata),
        sent_at=event.sent_at,
    )
    # A concurrent twin makes this raise IntegrityError: the caller retries the
    # whole transaction, which then sees the twin above.
    await message.save()
    result.created.append(message.id)

    for position, ref in enumerate(event.attachments):
        attachment = await Attachment.create(
            workspace_id=workspace_id,
            message_id=message.id,
            position=position,
            kind=ref.kind,
            media_type=ref.media_type,
            filename=ref.filename,
            size=ref.size,
            source_url=ref.url,
            source_file_id=ref.file_id,
        )
        unit.enqueue(
            "download_media",
            str(workspace_id),
            str(attachment.id),
            job_id=f"media:{attachment.id}",
        )

    await touch_conversation(workspace_id, conversation, message, inbound)
    live.add("message.created", build_message_event(conversation.id, message.id, message.status))
    live.add("conversation.updated", build_conversation_event(conversation.id))


@dataclass
class ConversationState:
    """What a new message changes on its conversation depends on these."""

    id: uuid.UUID | None
    status: str | None = ConversationStatus.OPEN.value
    last_message_at: datetime | None = None
    last_inbound_at: datetime | None = None


async def touch_conversation(
    workspace_id: uuid.UUID, conversation: ConversationState, message: Message, inbound: bool
) -> None:
    """Counters and ordering of the conversation after a new message (one UPDATE)."""
    at: datetime = message.sent_at or utcnow()
    changes: dict[str, Any] = {}
    if conversation.last_message_at is None or at >= conversation.last_message_at:
        changes["last_message_at"] = at
        changes["last_message_preview"] = build_preview(message.kind, message.text)
    if inbound:
        changes["unread_count"] = F("unread_count") + 1
        if conversation.last_inbound_at is None or at > conversation.last_inbound_at:
            changes["last_inbound_at"] = at
        if conversation.status == ConversationStatus.RESOLVED:
            changes["status"] = ConversationStatus.OPEN.value
            changes["resolved_at"] = None
    if changes:
        await scoped(Conversation, workspace_id).filter(id=conversation.id).update(**changes)
