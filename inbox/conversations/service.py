"""Handling a conversation: status, assignee, tags, read state and private notes.

Each function is one transaction; the ``conversation.updated`` live event is
published after it commits.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from inbox.accounts.members import is_member
from inbox.broker import Broker
from inbox.conversations.queries import get_conversation
from inbox.conversations.tags import clean_tag_names, ensure_tags
from inbox.errors import InvalidInput
from inbox.jobs import atomic
from inbox.live.events import build_conversation_event, publish_event
from inbox.models import Conversation, ConversationStatus, ConversationTag, Note
from inbox.models.base import utcnow
from inbox.tenancy import WorkspaceRef, scoped, workspace_id_of

NOTE_MAX_LENGTH = 10_000
UNSET: Any = object()


@dataclass
class ConversationChanges:
    """What a PATCH asks for; ``UNSET`` fields stay as they are."""

    status: Any = UNSET
    assignee_id: Any = UNSET  # None unassigns
    tags: Any = UNSET  # the complete list of names


def announce(broker: Broker | None, workspace: WorkspaceRef, conversation: Conversation):
    """The after-commit callback publishing ``conversation.updated``."""

    async def publish() -> None:
        await publish_event(
            broker, workspace, "conversation.updated", build_conversation_event(conversation.id)
        )

    return publish


async def update_conversation(
    broker: Broker | None,
    workspace: WorkspaceRef,
    conversation_id: object,
    changes: ConversationChanges,
) -> Conversation:
    conversation = await get_conversation(workspace, conversation_id)
    fields: dict[str, Any] = {}
    if changes.status is not UNSET:
        try:
            status = ConversationStatus(changes.status).value
        except ValueError:
            raise InvalidInput(
                "status must be open, pending or resolved", code="invalid_status"
            ) from None
        if status != conversation.status:
            fields["status"] = status
            fields["resolved_at"] = utcnow() if status == ConversationStatus.RESOLVED else None
    if changes.assignee_id is not UNSET:
        assignee = None
        if changes.assignee_id is not None:
            assignee = parse_id_or_invalid(changes.assignee_id)
            if not await is_member(workspace, assignee):
                raise InvalidInput(
                    "the assignee must be a member of this workspace", code="invalid_assignee"
                )
        fields["assignee_id"] = assignee
    names = clean_tag_names(changes.tags) if changes.tags is not UNSET else None
    async with atomic(broker) as unit:
        if fields:
            await scoped(Conversation, workspace).filter(id=conversation.id).using_db(
                unit.connection
            ).update(**fields)
            for name, value in fields.items():
                setattr(conversation, name, value)
        if names is not None:
            await replace_conversation_tags(workspace, conversation.id, names, unit.connection)
        unit.on_commit(announce(broker, workspace, conversation))
    return conversation


def parse_id_or_invalid(value: object) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise InvalidInput("assignee_id must be a member's id", code="invalid_assignee") from None


async def replace_conversation_tags(
    workspace: WorkspaceRef, conversation_id: uuid.UUID, names: list[str], connection
) -> None:  # noqa: ANN001
    tags = await ensure_tags(workspace, names, connection)
    wanted = {tag.id for tag in tags}
    links = scoped(ConversationTag, workspace).using_db(connection).filter(
        conversation_id=conversation_id
    )
    current = set(await links.values_list("tag_id", flat=True))
    if current - wanted:
        await links.filter(tag_id__in=current - wanted).delete()
    if wanted - current:
        await scoped(ConversationTag, workspace).using_db(connection).bulk_create(
            [
                ConversationTag(
                    workspace_id=workspace_id_of(workspace),
                    conversation_id=conversation_id,
                    tag_id=tag_id,
                )
                for tag_id in wanted - current
            ],
            ignore_conflicts=True,
        )


async def mark_read(
    broker: Broker | None, workspace: WorkspaceRef, conversation_id: object
) -> Conversation:
    """The agent opened the conversation: nothing is unread any more."""
    conversation = await get_conversation(workspace, conversation_id)
    if conversation.unread_count == 0:
        return conversation
    async with atomic(broker) as unit:
        await scoped(Conversation, workspace).filter(id=conversation.id).using_db(
            unit.connection
        ).update(unread_count=0)
        conversation.unread_count = 0
        unit.on_commit(announce(broker, workspace, conversation))
    return conversation


async def add_note(
    broker: Broker | None,
    workspace: WorkspaceRef,
    conversation_id: object,
    author_id: uuid.UUID,
    text: str,
) -> Note:
    conversation = await get_conversation(workspace, conversation_id)
    text = text.strip()
    if not text or len(text) > NOTE_MAX_LENGTH:
        raise InvalidInput(f"a note is 1 to {NOTE_MAX_LENGTH} characters", code="invalid_note")
    async with atomic(broker) as unit:
        note = await Note.create(
            workspace_id=workspace_id_of(workspace),
            conversation_id=conversation.id,
            author_id=author_id,
            text=text,
            using_db=unit.connection,
        )
        unit.on_commit(announce(broker, workspace, conversation))
    return note
