"""Conversations, messages and notes as the API shows them (API.md, resource shapes)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

from inbox.api.schemas.common import Body, PageQuery, Query
from inbox.conversations.keyset import DEFAULT_LIMIT, MAX_LIMIT
from inbox.conversations.queries import ConversationView, MessageView
from inbox.models import Direction, Note
from inbox.settings import Settings

ATTACHMENT_PATH = "/api/v1/attachments/{id}"
REPLY_MAX_LENGTH = 4096

Status = Literal["open", "pending", "resolved"]


class ChannelRef(BaseModel):
    id: uuid.UUID
    kind: str
    name: str


class ContactRef(BaseModel):
    id: uuid.UUID
    display_name: str


class ConversationOut(BaseModel):
    id: uuid.UUID
    channel: ChannelRef
    contact: ContactRef
    status: Status
    assignee_id: uuid.UUID | None
    tags: list[str]
    last_message_at: datetime | None
    last_message_preview: str
    last_inbound_at: datetime | None
    unread_count: int
    window_open: bool = Field(description="WhatsApp 24-hour window; true for other kinds")
    created_at: datetime

    @classmethod
    def of(cls, view: ConversationView) -> ConversationOut:
        conversation = view.conversation
        return cls(
            id=conversation.id,
            channel=ChannelRef(id=view.channel.id, kind=view.channel.kind, name=view.channel.name),
            contact=ContactRef(id=view.contact.id, display_name=view.contact.display_name),
            status=conversation.status,
            assignee_id=conversation.assignee_id,
            tags=view.tags,
            last_message_at=conversation.last_message_at,
            last_message_preview=conversation.last_message_preview,
            last_inbound_at=conversation.last_inbound_at,
            unread_count=conversation.unread_count,
            window_open=view.window_open,
            created_at=conversation.created_at,
        )


class ConversationPage(BaseModel):
    items: list[ConversationOut]
    next_cursor: str | None


class ConversationQuery(PageQuery):
    status: Status | None = None
    assignee: str | None = Field(default=None, max_length=64, description="me, none or a user id")
    channel: str | None = Field(default=None, max_length=64)
    tag: str | None = Field(default=None, max_length=64)
    q: str | None = Field(default=None, max_length=100)


class ConversationPatch(Body):
    status: Status | None = None
    assignee_id: uuid.UUID | None = Field(default=None, description="null unassigns")
    tags: list[str] | None = Field(default=None, description="the complete list of tag names")

    @model_validator(mode="after")
    def status_not_null(self) -> ConversationPatch:
        if "status" in self.model_fields_set and self.status is None:
            raise ValueError("status cannot be null")
        return self


class AttachmentOut(BaseModel):
    id: uuid.UUID
    media_type: str | None
    size: int | None
    filename: str | None
    url: str
    download_status: str


class MessageError(BaseModel):
    code: str | None
    message: str | None


class Location(BaseModel):
    latitude: float
    longitude: float


class Author(BaseModel):
    type: Literal["contact", "member"]
    id: uuid.UUID | None


class MessageOut(BaseModel):
    id: uuid.UUID
    conversation_id: uuid.UUID
    direction: Literal["inbound", "outbound"]
    kind: str
    text: str
    status: str
    error: MessageError | None
    attachments: list[AttachmentOut]
    location: Location | None
    reply_to_id: uuid.UUID | None
    reactions: list[dict[str, Any]]
    provider_message_id: str | None
    author: Author
    template: str | None
    created_at: datetime
    sent_at: datetime | None
    delivered_at: datetime | None
    read_at: datetime | None
    edited_at: datetime | None

    @classmethod
    def of(cls, view: MessageView, settings: Settings) -> MessageOut:
        message = view.message
        inbound = message.direction == Direction.INBOUND
        has_location = message.latitude is not None and message.longitude is not None
        return cls(
            id=message.id,
            conversation_id=message.conversation_id,
            direction=message.direction,
            kind=message.kind,
            text=message.text,
            status=message.status,
            error=MessageError(code=message.error_code, message=message.error_message)
            if message.error_code or message.error_message
            else None,
            attachments=[
                AttachmentOut(
                    id=a.id,
                    media_type=a.media_type,
                    size=a.size,
                    filename=a.filename,
                    url=settings.public_link(ATTACHMENT_PATH.format(id=a.id)),
                    download_status=a.download_status,
                )
                for a in view.attachments
            ],
            location=Location(latitude=message.latitude, longitude=message.longitude)
            if has_location
            else None,
            reply_to_id=message.reply_to_id,
            reactions=list(message.reactions or []),
            provider_message_id=message.provider_message_id,
            author=Author(type="contact", id=view.contact_id)
            if inbound
            else Author(type="member", id=message.author_user_id),
            template=message.template_id,
            created_at=message.created_at,
            sent_at=message.sent_at,
            delivered_at=message.delivered_at,
            read_at=message.read_at,
            edited_at=message.edited_at,
        )


class MessagePage(BaseModel):
    items: list[MessageOut]
    next_cursor: str | None


class MessagesQuery(Query):
    before: str | None = Field(default=None, max_length=512)
    limit: int = Field(default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)


class ReplyIn(Body):
    text: str | None = Field(default=None, min_length=1, max_length=REPLY_MAX_LENGTH)
    template: str | None = Field(default=None, min_length=1, max_length=64)
    variables: dict[str, str] | None = None

    @model_validator(mode="after")
    def text_or_template(self) -> ReplyIn:
        if (self.text is None) == (self.template is None):
            raise ValueError("send either text or a template")
        if self.variables is not None and self.template is None:
            raise ValueError("variables go with a template")
        return self


class NoteIn(Body):
    text: str = Field(min_length=1, max_length=10_000)


class NoteOut(BaseModel):
    id: uuid.UUID
    conversation_id: uuid.UUID
    author_id: uuid.UUID | None
    text: str
    created_at: datetime

    @classmethod
    def of(cls, note: Note) -> NoteOut:
        return cls(
            id=note.id,
            conversation_id=note.conversation_id,
            author_id=note.author_id,
            text=note.text,
            created_at=note.created_at,
        )
