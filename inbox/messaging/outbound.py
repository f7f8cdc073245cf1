"""Agents' replies: queued here, sent by the ``send_message`` job.

A reply is stored as ``queued`` and its job enqueued after the commit, so the
worker always finds the row. WhatsApp allows free text only within 24 hours of
the contact's last message; outside it only a template (a Twilio Content SID)
may be sent, and :func:`queue_reply` answers 409 ``window_closed``.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta

from inbox.broker import Broker
from inbox.errors import Conflict, InvalidInput, NotFound
from inbox.jobs import atomic
from inbox.live.events import (
    build_conversation_event,
    build_message_event,
    publish_event,
)
from inbox.models import (
    Channel,
    ChannelKind,
    ChannelStatus,
    Conversation,
    Direction,
    Message,
    MessageKind,
    MessageStatus,
)
from inbox.models.base import utcnow
from inbox.tenancy import WorkspaceRef, parse_id, scoped, workspace_id_of

WHATSAPP_WINDOW = timedelta(hours=24)
MAX_TEXT_LENGTH = 4096  # Telegram's limit, the smallest of the three providers
MAX_TEMPLATE_VARIABLES = 50
MAX_VARIABLE_LENGTH = 1024
TEMPLATE_ID = re.compile(r"HX[0-9a-fA-F]{32}")  # a Twilio Content SID
PREVIEW_LENGTH = 140
TEMPLATE_PREVIEW = "[template]"


def build_send_job_id(message_id: object, attempt: int = 1) -> str:
    """The send job's id: one job per message and attempt, never two at once."""
    return f"send:{message_id}" if attempt <= 1 else f"send:{message_id}:{attempt}"


def window_open(conversation: Conversation, channel_kind: str, now: datetime) -> bool:
    """Whether free text may be sent now (always, except on WhatsApp after 24 h)."""
    if channel_kind != ChannelKind.WHATSAPP:
        return True
    last_inbound = conversation.last_inbound_at
    return last_inbound is not None and now - last_inbound < WHATSAPP_WINDOW


def check_reply(
    kind: str, text: str | None, template: str | None, variables: Mapping[str, object] | None
) -> tuple[str | None, str | None, dict[str, str] | None]:
    """Validate a reply's content; returns (text, template, variables)."""
    if (text is None) == (template is None):
        raise InvalidInput("send either text or a template", code="invalid_reply")
    if text is not None:
        if not isinstance(text, str) or not text.strip():
            raise InvalidInput("the text must not be empty", code="invalid_text")
        if len(text) > MAX_TEXT_LENGTH:
            raise InvalidInput(
                f"the text must be at most {MAX_TEXT_LENGTH} characters", code="invalid_text"
            )
        if variables:
            raise InvalidInput("variables go with a template only", code="invalid_reply")
        return text, None, None
    if kind != ChannelKind.WHATSAPP:
        raise InvalidInput("templates exist on WhatsApp only", code="template_unsupported")
    if not isinstance(template, str) or not TEMPLATE_ID.fullmatch(template):
        raise InvalidInput(
            "the template must be a Twilio Content SID ('HX' and 32 hex digits)",
            code="invalid_template",
        )
    clean: dict[str, str] = {}
    for key, value in (variables or {}).items():
        if not isinstance(value, str | int | float) or len(str(value)) > MAX_VARIABLE_LENGTH:
            raise InvalidInput("template variables must be short texts", code="invalid_variables")
        clean[str(key)] = str(value)
    if len(clean) > MAX_TEMPLATE_VARIABLES:
        raise InvalidInput("too many template variables", code="invalid_variables")
    return None, template, clean or None


async def find_conversation_channel(
    workspace: WorkspaceRef, conversation_id: object
) -> tuple[Conversation, Channel]:
    conversation = (
        await scoped(Conversation, workspace).filter(id=parse_id(conversation_id)).first()
    )
    if conversation is None:
        raise NotFound("no such conversation")
    channel = await scoped(Channel, workspace).filter(id=conversation.channel_id).first()
    if channel is None or channel.status == ChannelStatus.DELETED:
        raise Conflict("the conversation's channel was removed", code="channel_removed")
    return conversation, channel


async def queue_reply(
    broker: Broker | None,
    workspace: WorkspaceRef,
    conversation_id: object,
    author_user_id: object,
    text: str | None = None,
    template: str | None = None,
    variables: Mapping[str, object] | None = None,
) -> Message:
    """Store an agent's reply as ``queued`` and enqueue its ``send_message`` job.

    Raises NotFound (another workspace's conversation too), InvalidInput, and
    Conflict ``window_closed`` for WhatsApp free text outside the 24-hour window.
    """
    workspace_id = workspace_id_of(workspace)
    conversation, channel = await find_conversation_channel(workspace_id, conversation_id)
    text, template, clean_variables = check_reply(channel.kind, text, template, variables)
    now = utcnow()
    if text is not None and not window_open(conversation, channel.kind, now):
        raise Conflict(
            "the 24-hour window of WhatsApp is closed: send a template instead",
            code="window_closed",
        )
    async with atomic(broker) as unit:
        message = await Message.create(
            workspace_id=workspace_id,
            conversation_id=conversation.id,
            channel_id=channel.id,
            direction=Direction.OUTBOUND.value,
            kind=MessageKind.TEXT.value,
            author_user_id=author_user_id,
            text=text or "",
            template_id=template,
            template_variables=clean_variables,
            status=MessageStatus.QUEUED.value,
        )
        preview = " ".join((text or TEMPLATE_PREVIEW).split())[:PREVIEW_LENGTH]
        await (
            scoped(Conversation, workspace_id)
            .filter(id=conversation.id)
            .update(last_message_at=now, last_message_preview=preview)
        )
        unit.enqueue(
            "send_message", str(workspace_id), str(message.id), job_id=build_send_job_id(message.id)
        )
        unit.on_commit(lambda: announce(broker, workspace_id, message, "message.created"))
    return message


async def announce(
    broker: Broker | None, workspace_id: uuid.UUID, message: Message, event_type: str
) -> None:
    await publish_event(
        broker,
        workspace_id,
        event_type,
        build_message_event(message.conversation_id, message.id, message.status),
    )
    await publish_event(
        broker, workspace_id, "conversation.updated",
        build_conversation_event(message.conversation_id),
    )


async def retry_message(
    broker: Broker | None, workspace: WorkspaceRef, message_id: object
) -> Message:
    """Send a failed outbound message again (a new job id per attempt).

    Raises NotFound, and Conflict ``not_failed`` unless the message failed.
    """
    workspace_id = workspace_id_of(workspace)
    message = (
        await scoped(Message, workspace_id)
        .filter(id=parse_id(message_id), direction=Direction.OUTBOUND.value)
        .first()
    )
    if message is None:
        raise NotFound("no such message")
    if message.status not in (MessageStatus.FAILED, MessageStatus.UNDELIVERED):
        raise Conflict("only a failed message can be sent again", code="not_failed")
    conversation, channel = await find_conversation_channel(workspace_id, message.conversation_id)
    if not message.template_id and not window_open(conversation, channel.kind, utcnow()):
        raise Conflict(
            "the 24-hour window of WhatsApp is closed: send a template instead",
            code="window_closed",
        )
    attempt = int((message.metadata or {}).get("send_attempt", 1)) + 1
    metadata = dict(message.metadata or {}) | {"send_attempt": attempt}
    async with atomic(broker) as unit:
        moved = (
            await scoped(Message, workspace_id)
            .filter(id=message.id, status=message.status)
            .update(
                status=MessageStatus.QUEUED.value,
                provider_message_id=None,
                error_code=None,
                error_message=None,
                failed_at=None,
                metadata=metadata,
            )
        )
        if not moved:
            raise Conflict("the message changed meanwhile; reload it", code="not_failed")
        unit.enqueue(
            "send_message",
            str(workspace_id),
            str(message.id),
            job_id=build_send_job_id(message.id, attempt),
        )
        unit.on_commit(lambda: announce(broker, workspace_id, message, "message.updated"))
    message.status = MessageStatus.QUEUED.value
    message.provider_message_id = None
    message.error_code = message.error_message = None
    message.failed_at = None
    message.metadata = metadata
    return message
