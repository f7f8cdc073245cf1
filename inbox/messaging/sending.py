"""Sending one queued reply through its channel's adapter (the ``send_message`` job).

Never twice: the job returns at once unless the message is still ``queued``;
a message that already holds a provider message id was accepted by the
provider before a crash, so it is only marked sent. The provider id and the
``sent`` status are written in one conditional UPDATE.

Provider errors are classified by the adapter: throttling, outages and
timeouts are retried with exponential backoff (never sooner than the
provider's Retry-After) up to MAX_SEND_TRIES; anything else fails the message
with the provider's code and explanation, which the inbox shows to the agent.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from tortoise.exceptions import IntegrityError

from channels.errors import ProviderError
from channels.events import OutboundMessage
from inbox.broker import Broker
from inbox.live.events import build_message_event, publish_event
from inbox.messaging.adapters import build_adapter
from inbox.messaging.status import advance_status, status_changes
from inbox.models import (
    Channel,
    ChannelKind,
    ChannelStatus,
    ContactIdentity,
    Conversation,
    Direction,
    Message,
    MessageStatus,
)
from inbox.models.base import utcnow
from inbox.settings import Settings
from inbox.tenancy import scoped

logger = logging.getLogger(__name__)

MAX_SEND_TRIES = 6  # below the worker's max_tries, so the last try can mark failure
BACKOFF_BASE_SECONDS = 5.0
BACKOFF_CAP_SECONDS = 600.0
RETRY_AFTER_CAP_SECONDS = 3600.0


def backoff_seconds(job_try: int) -> float:
    """5 s, 10 s, 20 s ... capped at 10 minutes."""
    return min(BACKOFF_BASE_SECONDS * 2 ** max(job_try - 1, 0), BACKOFF_CAP_SECONDS)


class SendLater(Exception):
    """A transient provider failure: try again in ``defer`` seconds."""

    def __init__(self, defer: float) -> None:
        super().__init__(f"retry in {defer:.0f} s")
        self.defer = defer


@dataclass
class SendOutcome:
    status: str  # "sent", "failed", "skipped" or "missing"
    provider_message_id: str | None = None


def build_status_callback_url(settings: Settings, channel: Channel) -> str | None:
    """Where Twilio posts this message's status callbacks."""
    if channel.kind != ChannelKind.WHATSAPP:
        return None
    return settings.public_link(f"/webhooks/twilio/{channel.id}/status")


async def find_recipient(message: Message) -> str | None:
    """The end user's provider id on the message's channel."""
    conversation = (
        await scoped(Conversation, message.workspace_id)
        .filter(id=message.conversation_id)
        .only("contact_id")
        .first()
    )
    if conversation is None:
        return None
    identity = (
        await scoped(ContactIdentity, message.workspace_id)
        .filter(channel_id=message.channel_id, contact_id=conversation.contact_id)
        .only("provider_user_id")
        .first()
    )
    return identity.provider_user_id if identity is not None else None


async def send_queued_message(
    settings: Settings,
    broker: Broker | None,
    workspace_id: str,
    message_id: str,
    job_try: int = 1,
) -> SendOutcome:
    """Send one queued message; raises SendLater for a transient failure."""
    message = (
        await scoped(Message, workspace_id)
        .filter(id=uuid.UUID(message_id), direction=Direction.OUTBOUND.value)
        .first()
    )
    if message is None:
        return SendOutcome("missing")
    if message.status != MessageStatus.QUEUED:
        return SendOutcome("skipped", message.provider_message_id)
    if message.provider_message_id:
        # Accepted by the provider before a crash: mark it, never send it again.
        if await advance_status(workspace_id, message.id, MessageStatus.SENT.value, utcnow()):
            await announce_update(broker, message, MessageStatus.SENT.value)
        return SendOutcome("sent", message.provider_message_id)

    channel = await scoped(Channel, workspace_id).filter(id=message.channel_id).first()
    recipient = await find_recipient(message)
    if channel is None or channel.status == ChannelStatus.DELETED or recipient is None:
        await mark_failed(broker, message, "channel_removed", "the channel or contact is gone")
        return SendOutcome("failed")

    outbound = OutboundMessage(
        to=recipient,
        text=message.text or None,
        template_id=message.template_id,
        template_variables=message.template_variables,
        status_callback_url=build_status_callback_url(settings, channel),
    )
    try:
        async with build_adapter(settings, channel) as adapter:
            result = await adapter.send(outbound)
    except ProviderError as exc:
        if exc.retryable and job_try < MAX_SEND_TRIES:
            delay = max(
                min(exc.retry_after or 0.0, RETRY_AFTER_CAP_SECONDS), backoff_seconds(job_try)
            )
            logger.info(
                "send deferred",
                extra={"message_id": message_id, "code": exc.code, "defer": delay, "try": job_try},
            )
            raise SendLater(delay) from None
        await mark_failed(broker, message, exc.code or "provider_error", exc.message)
        return SendOutcome("failed")

    await record_sent(message, result.provider_message_id)
    await announce_update(broker, message, MessageStatus.SENT.value)
    return SendOutcome("sent", result.provider_message_id)


async def record_sent(message: Message, provider_message_id: str) -> None:
    """Provider id and ``sent`` in one UPDATE, only from ``queued``.

    A Messenger echo of this very message may have been stored first (Meta can
    post it before we get here); that copy is dropped so the message exists once.
    """
    rows = scoped(Message, message.workspace_id).filter(
        id=message.id, status=MessageStatus.QUEUED.value
    )
    changes = status_changes(MessageStatus.SENT.value, utcnow())
    try:
        await rows.update(provider_message_id=provider_message_id, **changes)
    except IntegrityError:
        await (
            scoped(Message, message.workspace_id)
            .filter(
                channel_id=message.channel_id,
                provider_message_id=provider_message_id,
                author_user_id__isnull=True,
                direction=Direction.OUTBOUND.value,
            )
            .exclude(id=message.id)
            .delete()
        )
        await rows.update(provider_message_id=provider_message_id, **changes)


async def mark_failed(broker: Broker | None, message: Message, code: str, explanation: str) -> None:
    moved = await advance_status(
        message.workspace_id,
        message.id,
        MessageStatus.FAILED.value,
        utcnow(),
        error_code=code,
        error_message=explanation,
    )
    if moved:
        logger.info("send failed", extra={"message_id": str(message.id), "code": code})
        await announce_update(broker, message, MessageStatus.FAILED.value)


async def announce_update(broker: Broker | None, message: Message, status: str) -> None:
    await publish_event(
        broker,
        message.workspace_id,
        "message.updated",
        build_message_event(message.conversation_id, message.id, status),
    )
