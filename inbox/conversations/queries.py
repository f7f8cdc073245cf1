"""Reading conversations, their messages and notes: lists, search, one by id.

Every function takes the workspace first; lists use keyset pagination on
(last_message_at desc, id desc) for conversations and (created_at desc, id desc)
for messages, matching the indexes that lead with ``workspace_id``. Related rows
(channels, contacts, tags, attachments) are fetched in one query per page.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from tortoise.expressions import Q, Subquery
from tortoise.queryset import QuerySet

from inbox.contacts.search import contact_search, search_term
from inbox.conversations.keyset import Page, Position, clamp_limit, decode_cursor, encode_cursor
from inbox.errors import InvalidInput, NotFound
from inbox.messaging.outbound import window_open
from inbox.models import (
    Attachment,
    Channel,
    Contact,
    Conversation,
    ConversationStatus,
    ConversationTag,
    Message,
    Note,
    Tag,
)
from inbox.models.base import utcnow
from inbox.tenancy import WorkspaceRef, parse_id, scoped

# Free-text search looks at contacts and at the text of this many of the
# workspace's latest messages: a bounded scan, whatever the workspace's size.
SEARCH_MESSAGE_WINDOW = 20_000
NOTES_LIMIT = 200
ASSIGNEE_ME = "me"
ASSIGNEE_NONE = "none"


@dataclass(frozen=True)
class ConversationFilter:
    status: str | None = None
    assignee: str | None = None  # "me", "none" or a user id
    channel: str | None = None
    tag: str | None = None
    q: str | None = None


@dataclass
class ConversationView:
    conversation: Conversation
    channel: Channel
    contact: Contact
    tags: list[str]
    window_open: bool


@dataclass
class MessageView:
    message: Message
    contact_id: uuid.UUID
    attachments: list[Attachment] = field(default_factory=list)


def _filter_id(value: str, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise InvalidInput(f"{what} must be an id", code="invalid_filter") from None


def matching_conversations(workspace: WorkspaceRef, term: str) -> Q:
    """Conversations whose contact, or one of the latest messages, mentions ``term``."""
    contacts = scoped(Contact, workspace).filter(contact_search(term)).values("id")
    recent = scoped(Message, workspace).order_by("-created_at").limit(SEARCH_MESSAGE_WINDOW)
    messages = scoped(Message, workspace).filter(
        id__in=Subquery(recent.values("id")), text__icontains=term
    )
    return Q(contact_id__in=Subquery(contacts)) | Q(
        id__in=Subquery(messages.values("conversation_id"))
    )


async def filtered_conversations(
    workspace: WorkspaceRef, viewer_id: uuid.UUID, filters: ConversationFilter
) -> QuerySet[Conversation] | None:
    """The filtered (unordered) query, or None when a filter can match nothing."""
    query = scoped(Conversation, workspace)
    if filters.status:
        try:
            query = query.filter(status=ConversationStatus(filters.status).value)
        except ValueError:
            raise InvalidInput(
                "status must be open, pending or resolved", code="invalid_filter"
            ) from None
    if filters.assignee == ASSIGNEE_ME:
        query = query.filter(assignee_id=viewer_id)
    elif filters.assignee == ASSIGNEE_NONE:
        query = query.filter(assignee_id__isnull=True)
    elif filters.assignee:
        query = query.filter(assignee_id=_filter_id(filters.assignee, "assignee"))
    if filters.channel:
        query = query.filter(channel_id=_filter_id(filters.channel, "channel"))
    if filters.tag:
        tag = await scoped(Tag, workspace).filter(name=filters.tag.strip()).first()
        if tag is None:
            return None
        tagged = scoped(ConversationTag, workspace).filter(tag_id=tag.id).values("conversation_id")
        query = query.filter(id__in=Subquery(tagged))
    if filters.q and (term := search_term(filters.q)):
        query = query.filter(matching_conversations(workspace, term))
    return query


async def list_conversations(
    workspace: WorkspaceRef,
    viewer_id: uuid.UUID,
    filters: ConversationFilter,
    cursor: str | None = None,
    limit: int | None = None,
) -> Page[ConversationView]:
    """Newest activity first. Conversations without any message yet come last."""
    limit = clamp_limit(limit)
    position = decode_cursor(cursor)
    if position is not None and position.value is not None and not isinstance(
        position.value, datetime
    ):
        raise InvalidInput("the cursor is not valid", code="invalid_cursor")
    query = await filtered_conversations(workspace, viewer_id, filters)
    if query is None:
        return Page([], None)
    rows: list[Conversation] = []
    if position is None or position.value is not None:
        dated = query.filter(last_message_at__isnull=False)
        if position is not None:
            dated = dated.filter(
                Q(last_message_at__lt=position.value)
                | Q(last_message_at=position.value, id__lt=position.id)
            )
        rows = list(await dated.order_by("-last_message_at", "-id").limit(limit + 1))
    if len(rows) <= limit:
        undated = query.filter(last_message_at__isnull=True)
        if position is not None and position.value is None:
            undated = undated.filter(id__lt=position.id)
        rows += await undated.order_by("-id").limit(limit + 1 - len(rows))
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = encode_cursor(Position(last.last_message_at, last.id))
    return Page(await conversation_views(workspace, rows), next_cursor)


async def tag_names_by_conversation(
    workspace: WorkspaceRef, conversation_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[str]]:
    names: dict[uuid.UUID, list[str]] = defaultdict(list)
    if not conversation_ids:
        return names
    links = await scoped(ConversationTag, workspace).filter(
        conversation_id__in=conversation_ids
    ).values_list("conversation_id", "tag_id")
    tag_ids = {tag_id for _, tag_id in links}
    tags = dict(await scoped(Tag, workspace).filter(id__in=tag_ids).values_list("id", "name"))
    for conversation_id, tag_id in links:
        names[conversation_id].append(tags[tag_id])
    for value in names.values():
        value.sort()
    return names


async def conversation_views(
    workspace: WorkspaceRef, conversations: list[Conversation], now: datetime | None = None
) -> list[ConversationView]:
    """Conversations with their channel, contact and tags: three queries per page."""
    if not conversations:
        return []
    now = now or utcnow()
    channels = {
        channel.id: channel
        for channel in await scoped(Channel, workspace).filter(
            id__in={c.channel_id for c in conversations}
        )
    }
    contacts = {
        contact.id: contact
        for contact in await scoped(Contact, workspace).filter(
            id__in={c.contact_id for c in conversations}
        )
    }
    tags = await tag_names_by_conversation(workspace, [c.id for c in conversations])
    views = []
    for conversation in conversations:
        channel = channels[conversation.channel_id]
        views.append(
            ConversationView(
                conversation,
                channel,
                contacts[conversation.contact_id],
                tags.get(conversation.id, []),
                window_open(conversation, channel.kind, now),
            )
        )
    return views


async def get_conversation(workspace: WorkspaceRef, conversation_id: object) -> Conversation:
    query = scoped(Conversation, workspace).filter(id=parse_id(conversation_id))
    conversation = await query.first()
    if conversation is None:
        raise NotFound("no such conversation")
    return conversation


async def get_conversation_view(
    workspace: WorkspaceRef, conversation_id: object
) -> ConversationView:
    conversation = await get_conversation(workspace, conversation_id)
    return (await conversation_views(workspace, [conversation]))[0]


async def attachments_by_message(
    workspace: WorkspaceRef, message_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[Attachment]]:
    """The attachments of a page of messages, in provider order: one query."""
    grouped: dict[uuid.UUID, list[Attachment]] = defaultdict(list)
    if not message_ids:
        return grouped
    for attachment in await scoped(Attachment, workspace).filter(
        message_id__in=message_ids
    ).order_by("message_id", "position"):
        grouped[attachment.message_id].append(attachment)
    return grouped


async def message_views(
    workspace: WorkspaceRef, conversation: Conversation, messages: list[Message]
) -> list[MessageView]:
    attachments = await attachments_by_message(workspace, [m.id for m in messages])
    return [
        MessageView(message, conversation.contact_id, attachments.get(message.id, []))
        for message in messages
    ]


async def list_messages(
    workspace: WorkspaceRef,
    conversation_id: object,
    before: str | None = None,
    limit: int | None = None,
) -> Page[MessageView]:
    """A conversation's messages, newest first, with their attachments."""
    conversation = await get_conversation(workspace, conversation_id)
    limit = clamp_limit(limit)
    position = decode_cursor(before)
    query = scoped(Message, workspace).filter(conversation_id=conversation.id)
    if position is not None:
        if not isinstance(position.value, datetime):
            raise InvalidInput("the cursor is not valid", code="invalid_cursor")
        query = query.filter(
            Q(created_at__lt=position.value) | Q(created_at=position.value, id__lt=position.id)
        )
    rows = list(await query.order_by("-created_at", "-id").limit(limit + 1))
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor(Position(rows[-1].created_at, rows[-1].id))
    return Page(await message_views(workspace, conversation, rows), next_cursor)


async def get_message_view(workspace: WorkspaceRef, message_id: uuid.UUID) -> MessageView:
    message = await scoped(Message, workspace).filter(id=message_id).first()
    if message is None:
        raise NotFound("no such message")
    conversation = await get_conversation(workspace, message.conversation_id)
    return (await message_views(workspace, conversation, [message]))[0]


async def list_notes(workspace: WorkspaceRef, conversation_id: object) -> list[Note]:
    """A conversation's latest private notes, oldest first (they read as a thread)."""
    conversation = await get_conversation(workspace, conversation_id)
    latest = await scoped(Note, workspace).filter(conversation_id=conversation.id).order_by(
        "-created_at", "-id"
    ).limit(NOTES_LIMIT)
    return list(reversed(latest))


async def get_attachment(workspace: WorkspaceRef, attachment_id: object) -> Attachment:
    attachment = await scoped(Attachment, workspace).filter(id=parse_id(attachment_id)).first()
    if attachment is None:
        raise NotFound("no such attachment")
    return attachment
