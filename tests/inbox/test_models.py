"""Database-level guarantees of the data model."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from tortoise.exceptions import IntegrityError

from inbox.crypto import encrypt_json
from inbox.messaging.status import advance_status, advance_status_by_provider_id
from inbox.models import Channel, Contact, Conversation, Message, MessageStatus
from inbox.tenancy import scoped
from inbox.workspaces.service import create_workspace

T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


async def make_conversation() -> tuple[Conversation, Channel]:
    workspace = (await create_workspace("Shop", "owner@shop.test", "password-1")).workspace
    channel = await Channel.create(
        workspace=workspace, kind="telegram", name="Bot", credentials_encrypted=encrypt_json(
            "k", {"bot_token": "1:x"}
        ),
    )
    contact = await Contact.create(workspace=workspace, display_name="Ana")
    conversation = await Conversation.create(workspace=workspace, channel=channel, contact=contact)
    return conversation, channel


async def outbound(conversation: Conversation, provider_id: str | None, status: str) -> Message:
    return await Message.create(
        workspace_id=conversation.workspace_id, conversation=conversation,
        channel_id=conversation.channel_id, direction="outbound", text="hello",
        provider_message_id=provider_id, status=status,
    )


async def test_a_duplicate_provider_message_id_is_rejected_by_the_database(db: None) -> None:
    conversation, _ = await make_conversation()
    await outbound(conversation, "42:1201", MessageStatus.SENT)
    with pytest.raises(IntegrityError):
        await outbound(conversation, "42:1201", MessageStatus.SENT)
    # Queued messages have no provider id yet, and any number of them may wait.
    await outbound(conversation, None, MessageStatus.QUEUED)
    await outbound(conversation, None, MessageStatus.QUEUED)
    assert await scoped(Message, conversation.workspace_id).count() == 3


async def test_status_never_moves_backwards(db: None) -> None:
    conversation, channel = await make_conversation()
    message = await outbound(conversation, "SM1", MessageStatus.QUEUED)
    ws = conversation.workspace_id

    assert await advance_status(ws, message.id, MessageStatus.SENT, T0)
    assert await advance_status(ws, message.id, MessageStatus.READ, T0 + timedelta(seconds=2))
    # A late "delivered" and a late "sent" change nothing.
    assert not await advance_status(ws, message.id, MessageStatus.DELIVERED, T0)
    assert not await advance_status_by_provider_id(ws, channel.id, "SM1", MessageStatus.SENT, T0)
    stored = await scoped(Message, ws).get(id=message.id)
    assert stored.status == MessageStatus.READ
    assert stored.read_at == T0 + timedelta(seconds=2)
    assert stored.delivered_at is None


async def test_a_failure_is_final_and_keeps_its_error(db: None) -> None:
    conversation, _ = await make_conversation()
    message = await outbound(conversation, "SM2", MessageStatus.SENT)
    ws = conversation.workspace_id
    assert await advance_status(
        ws, message.id, MessageStatus.FAILED, T0, error_code="63016", error_message="window"
    )
    assert not await advance_status(ws, message.id, MessageStatus.DELIVERED, T0)
    stored = await scoped(Message, ws).get(id=message.id)
    assert (stored.status, stored.error_code) == (MessageStatus.FAILED, "63016")


async def test_racing_status_updates_end_at_the_highest(db: None) -> None:
    conversation, _ = await make_conversation()
    message = await outbound(conversation, "SM3", MessageStatus.QUEUED)
    ws = conversation.workspace_id
    order = [MessageStatus.READ, MessageStatus.SENT, MessageStatus.DELIVERED] * 3
    await asyncio.gather(*(advance_status(ws, message.id, s, T0) for s in order))
    assert (await scoped(Message, ws).get(id=message.id)).status == MessageStatus.READ


async def test_message_from_another_workspace_is_not_moved(db: None) -> None:
    conversation, _ = await make_conversation()
    other = (await create_workspace("Other", "o@other.test", "password-1")).workspace
    message = await outbound(conversation, "SM4", MessageStatus.QUEUED)
    assert not await advance_status(other, message.id, MessageStatus.SENT, T0)
