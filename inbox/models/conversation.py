"""Conversations and everything said in them."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from tortoise import fields

from inbox.models.base import TenantModel
from inbox.privacy.rules import Disposal, PrivacyRule, Scope


class ConversationStatus(StrEnum):
    OPEN = "open"
    PENDING = "pending"
    RESOLVED = "resolved"


class Direction(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


class MessageKind(StrEnum):
    TEXT = "text"
    IMAGE = "image"
    AUDIO = "audio"
    VIDEO = "video"
    FILE = "file"
    LOCATION = "location"
    UNSUPPORTED = "unsupported"


class MessageStatus(StrEnum):
    RECEIVED = "received"
    QUEUED = "queued"
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    FAILED = "failed"
    UNDELIVERED = "undelivered"


# Delivery status only moves forward: a late "delivered" never overwrites
# "read", and nothing overwrites a failure. Equal ranks do not replace each other.
STATUS_RANK: dict[str, int] = {
    MessageStatus.RECEIVED: 0,
    MessageStatus.QUEUED: 0,
    MessageStatus.SENT: 1,
    MessageStatus.DELIVERED: 2,
    MessageStatus.FAILED: 2,
    MessageStatus.UNDELIVERED: 2,
    MessageStatus.READ: 3,
}


def statuses_below(status: str) -> list[str]:
    """The statuses a message may move to ``status`` from."""
    rank = STATUS_RANK[status]
    return [s for s, r in STATUS_RANK.items() if r < rank and s != MessageStatus.RECEIVED]


class Conversation(TenantModel):
    """One contact on one channel: the unit agents assign, answer and resolve."""

    channel: Any = fields.ForeignKeyField(
        "models.Channel", related_name=False, on_delete=fields.CASCADE
    )
    contact: Any = fields.ForeignKeyField(
        "models.Contact", related_name=False, on_delete=fields.CASCADE
    )
    status = fields.CharField(max_length=16, default=ConversationStatus.OPEN.value)
    assignee: Any = fields.ForeignKeyField(
        "models.User", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    last_message_at = fields.DatetimeField(null=True)
    last_message_preview = fields.CharField(max_length=140, default="")
    last_inbound_at = fields.DatetimeField(null=True)
    unread_count = fields.IntField(default=0)
    resolved_at = fields.DatetimeField(null=True)

    privacy = PrivacyRule(
        scope=Scope.TENANT,
        purpose="answering the contact",
        retention="resolved_conversations_days",
        contact_export=True,
        on_erasure=Disposal.DELETE,
        personal_fields=("last_message_preview",),
    )

    class Meta:
        table = "conversation"
        unique_together = (("channel", "contact"),)
        indexes = (
            ("workspace_id", "last_message_at", "id"),
            ("workspace_id", "status", "last_message_at", "id"),
            ("workspace_id", "assignee_id", "status", "last_message_at"),
            ("workspace_id", "contact_id"),
            # Deleting a contact makes the database find its conversations by this
            # column alone (the foreign key's cascade): retention, erasure, purge.
            ("contact_id",),
        )


class Message(TenantModel):
    conversation: Any = fields.ForeignKeyField(
        "models.Conversation", related_name=False, on_delete=fields.CASCADE
    )
    # Denormalised from the conversation: the de-duplication key is per channel.
    channel: Any = fields.ForeignKeyField(
        "models.Channel", related_name=False, on_delete=fields.CASCADE
    )
    direction = fields.CharField(max_length=8)
    kind = fields.CharField(max_length=16, default=MessageKind.TEXT.value)
    author_user: Any = fields.ForeignKeyField(
        "models.User", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    text = fields.TextField(default="")
    provider_message_id = fields.CharField(max_length=128, null=True)
    status = fields.CharField(max_length=16)
    error_code = fields.CharField(max_length=32, null=True)
    error_message = fields.CharField(max_length=500, null=True)
    latitude = fields.FloatField(null=True)
    longitude = fields.FloatField(null=True)
    reply_to_id = fields.UUIDField(null=True)
    template_id = fields.CharField(max_length=64, null=True)
    template_variables: Any = fields.JSONField(null=True)
    metadata: Any = fields.JSONField(default=dict)
    reactions: Any = fields.JSONField(default=list)
    sent_at = fields.DatetimeField(null=True)
    delivered_at = fields.DatetimeField(null=True)
    read_at = fields.DatetimeField(null=True)
    failed_at = fields.DatetimeField(null=True)
    edited_at = fields.DatetimeField(null=True)

    privacy = PrivacyRule(
        scope=Scope.TENANT,
        purpose="the conversation itself",
        retention="messages_days",
        contact_export=True,
        on_erasure=Disposal.DELETE,
        personal_fields=("text", "latitude", "longitude", "metadata", "template_variables"),
    )

    class Meta:
        table = "message"
        unique_together = (("channel", "provider_message_id"),)
        indexes = (
            ("workspace_id", "conversation_id", "created_at", "id"),
            ("workspace_id", "created_at"),
            ("conversation_id",),  # the cascade from a deleted conversation
        )


class Attachment(TenantModel):
    message: Any = fields.ForeignKeyField(
        "models.Message", related_name=False, on_delete=fields.CASCADE
    )
    position = fields.SmallIntField(default=0)
    kind = fields.CharField(max_length=16, default="file")
    media_type = fields.CharField(max_length=127, null=True)
    filename = fields.CharField(max_length=255, null=True)
    size = fields.BigIntField(null=True)
    checksum = fields.CharField(max_length=64, null=True)  # sha256 hex
    storage_key = fields.CharField(max_length=255, null=True)
    # Where to fetch it from: a provider URL (Twilio, Messenger) or file id (Telegram).
    source_url = fields.TextField(null=True)
    source_file_id = fields.CharField(max_length=255, null=True)
    download_status = fields.CharField(max_length=16, default="pending")

    privacy = PrivacyRule(
        scope=Scope.TENANT,
        purpose="files the contact or the team sent",
        retention="attachments_days",
        contact_export=True,
        on_erasure=Disposal.DELETE,
        personal_fields=("filename", "storage_key", "source_url"),
    )

    class Meta:
        table = "attachment"
        indexes = (
            ("workspace_id", "message_id"),
            ("workspace_id", "created_at"),
            ("message_id",),  # the cascade from a deleted message
        )


class Note(TenantModel):
    """A private note between agents, never sent to the contact."""

    conversation: Any = fields.ForeignKeyField(
        "models.Conversation", related_name=False, on_delete=fields.CASCADE
    )
    author: Any = fields.ForeignKeyField(
        "models.User", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    text = fields.TextField()

    privacy = PrivacyRule(
        scope=Scope.TENANT,
        purpose="internal notes about the conversation",
        retention="with its conversation",
        contact_export=True,
        on_erasure=Disposal.DELETE,
        personal_fields=("text",),
    )

    class Meta:
        table = "note"
        indexes = (
            ("workspace_id", "conversation_id", "created_at"),
            ("conversation_id",),  # the cascade from a deleted conversation
        )


class Tag(TenantModel):
    name = fields.CharField(max_length=64)
    color = fields.CharField(max_length=16, default="")

    privacy = PrivacyRule(
        scope=Scope.TENANT,
        purpose="organising conversations and contacts",
        retention="while the workspace exists",
    )

    class Meta:
        table = "tag"
        unique_together = (("workspace", "name"),)


class ConversationTag(TenantModel):
    conversation: Any = fields.ForeignKeyField(
        "models.Conversation", related_name=False, on_delete=fields.CASCADE
    )
    tag: Any = fields.ForeignKeyField("models.Tag", related_name=False, on_delete=fields.CASCADE)

    privacy = PrivacyRule(
        scope=Scope.TENANT,
        purpose="organising conversations",
        retention="with its conversation",
        contact_export=True,
        on_erasure=Disposal.DELETE,
    )

    class Meta:
        table = "conversation_tag"
        unique_together = (("conversation", "tag"),)
        indexes = (("workspace_id", "tag_id", "conversation_id"),)


class ContactTag(TenantModel):
    contact: Any = fields.ForeignKeyField(
        "models.Contact", related_name=False, on_delete=fields.CASCADE
    )
    tag: Any = fields.ForeignKeyField("models.Tag", related_name=False, on_delete=fields.CASCADE)

    privacy = PrivacyRule(
        scope=Scope.TENANT,
        purpose="organising contacts",
        retention="with its contact",
        contact_export=True,
        on_erasure=Disposal.DELETE,
    )

    class Meta:
        table = "contact_tag"
        unique_together = (("contact", "tag"),)
        indexes = (("workspace_id", "tag_id", "contact_id"),)


class CannedResponse(TenantModel):
    shortcut = fields.CharField(max_length=64)
    text = fields.TextField()
    created_by: Any = fields.ForeignKeyField(
        "models.User", related_name=False, null=True, on_delete=fields.SET_NULL
    )

    privacy = PrivacyRule(
        scope=Scope.TENANT,
        purpose="saved answers the team reuses",
        retention="while the workspace exists",
    )

    class Meta:
        table = "canned_response"
        unique_together = (("workspace", "shortcut"),)


class WebhookEvent(TenantModel):
    """A verified webhook that failed to process, kept so it can be replayed."""

    channel: Any = fields.ForeignKeyField(
        "models.Channel", related_name=False, on_delete=fields.CASCADE
    )
    route = fields.CharField(max_length=32)
    content_type = fields.CharField(max_length=100, default="")
    body = fields.BinaryField()
    error = fields.CharField(max_length=200, default="")  # exception class only
    attempts = fields.IntField(default=1)
    processed_at = fields.DatetimeField(null=True)

    privacy = PrivacyRule(
        scope=Scope.TENANT,
        purpose="replaying provider deliveries that failed to process",
        retention="7 days after it is processed",
        export=False,
        on_erasure=Disposal.DELETE,
        personal_fields=("body",),
    )

    class Meta:
        table = "webhook_event"
        indexes = (("workspace_id", "processed_at", "created_at"),)
