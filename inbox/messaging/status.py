"""Delivery status of outbound messages: it only ever moves forward.

The move is one conditional UPDATE (``... WHERE status IN (lower statuses)``),
so two callbacks racing, or arriving out of order, can never take a message
back from "read" to "delivered", whatever the interleaving.
"""

from __future__ import annotations

from datetime import datetime

from tortoise.queryset import QuerySet

from inbox.models import Message, MessageStatus, statuses_below
from inbox.tenancy import WorkspaceRef, scoped

TIMESTAMP_FIELD = {
    MessageStatus.SENT: "sent_at",
    MessageStatus.DELIVERED: "delivered_at",
    MessageStatus.READ: "read_at",
    MessageStatus.FAILED: "failed_at",
    MessageStatus.UNDELIVERED: "failed_at",
}


def status_changes(
    status: str, at: datetime, error_code: str | None = None, error_message: str | None = None
) -> dict[str, object]:
    changes: dict[str, object] = {"status": status}
    field = TIMESTAMP_FIELD.get(MessageStatus(status))
    if field:
        changes[field] = at
    if status in (MessageStatus.FAILED, MessageStatus.UNDELIVERED):
        changes["error_code"] = error_code
        changes["error_message"] = (error_message or "")[:500] or None
    return changes


async def advance_status(
    workspace: WorkspaceRef,
    message_id: object,
    status: str,
    at: datetime,
    *,
    error_code: str | None = None,
    error_message: str | None = None,
) -> bool:
    """Move one message to ``status`` if that is forward; return whether it moved."""
    messages = scoped(Message, workspace).filter(id=message_id)
    return await advance_matching(messages, status, at, error_code, error_message)


async def advance_status_by_provider_id(
    workspace: WorkspaceRef,
    channel_id: object,
    provider_message_id: str,
    status: str,
    at: datetime,
    *,
    error_code: str | None = None,
    error_message: str | None = None,
) -> bool:
    """The same, finding the message by the provider's id on one channel."""
    messages = scoped(Message, workspace).filter(
        channel_id=channel_id, provider_message_id=provider_message_id
    )
    return await advance_matching(messages, status, at, error_code, error_message)


async def advance_matching(
    messages: QuerySet[Message],
    status: str,
    at: datetime,
    error_code: str | None = None,
    error_message: str | None = None,
) -> bool:
    """Move every message of ``messages`` whose status is below ``status``."""
    updated = await messages.filter(status__in=statuses_below(status)).update(
        **status_changes(status, at, error_code, error_message)
    )
    return updated > 0
