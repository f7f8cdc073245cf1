"""queue_reply and retry_message: what is stored, what is refused, what is queued."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest

from inbox.broker import Broker
from inbox.errors import Conflict, InvalidInput, NotFound
from inbox.messaging.outbound import queue_reply, retry_message, window_open
from inbox.models import Conversation, Message, User
from inbox.models.base import utcnow
from inbox.settings import Settings
from inbox.tenancy import scoped
from tests.inbox.messaging.support import ANA, MARIA, Setup, make_setup, seed_outbound

TEMPLATE = "HX" + "0123456789abcdef" * 2


async def conversation_with(setup: Setup, channel, user_id: str, last_inbound_at=None):
    message = await seed_outbound(setup, channel, user_id, None, last_inbound_at=last_inbound_at)
    await scoped(Message, setup.workspace).filter(id=message.id).delete()
    return await scoped(Conversation, setup.workspace).get(id=message.conversation_id)


async def owner_of(setup: Setup) -> User:
    return await User.get(email="owner@acme.test")


async def job_args(broker: Broker, job_id: str) -> list | None:
    raw = await broker.redis.get(f"arq:job:{job_id}")
    return None if raw is None else json.loads(raw)["a"]


async def test_a_reply_is_stored_queued_and_its_send_job_enqueued(
    setup: Setup, broker: Broker
) -> None:
    conversation = await conversation_with(setup, setup.telegram, ANA)
    author = await owner_of(setup)
    message = await queue_reply(broker, setup.workspace, str(conversation.id), author.id, "Hello!")
    stored = await scoped(Message, setup.workspace).get(id=message.id)
    assert (stored.direction, stored.status, stored.text) == ("outbound", "queued", "Hello!")
    assert stored.author_user_id == author.id
    assert await job_args(broker, f"send:{message.id}") == [
        str(setup.workspace.id),
        str(message.id),
    ]
    events = await broker.redis.xrange(f"inbox:events:{setup.workspace.id}")
    assert [json.loads(fields[b"payload"])["type"] for _, fields in events] == [
        "message.created",
        "conversation.updated",
    ]
    conversation = await scoped(Conversation, setup.workspace).get(id=conversation.id)
    assert conversation.last_message_preview == "Hello!"


async def test_whatsapp_free_text_outside_the_window_is_refused_with_window_closed(
    setup: Setup, broker: Broker
) -> None:
    stale = utcnow() - timedelta(hours=25)
    conversation = await conversation_with(setup, setup.whatsapp, MARIA, stale)
    author = await owner_of(setup)
    with pytest.raises(Conflict) as refused:
        await queue_reply(broker, setup.workspace, conversation.id, author.id, text="Hi")
    assert (refused.value.status, refused.value.code) == (409, "window_closed")
    assert await scoped(Message, setup.workspace).count() == 0
    assert not window_open(conversation, "whatsapp", utcnow())
    assert window_open(conversation, "telegram", utcnow())

    message = await queue_reply(
        broker,
        setup.workspace,
        conversation.id,
        author.id,
        template=TEMPLATE,
        variables={"1": "1042"},
    )
    assert (message.template_id, message.template_variables) == (TEMPLATE, {"1": "1042"})
    assert await job_args(broker, f"send:{message.id}") is not None


async def test_whatsapp_free_text_inside_the_window_is_queued(setup: Setup, broker: Broker) -> None:
    recent = utcnow() - timedelta(hours=23)
    conversation = await conversation_with(setup, setup.whatsapp, MARIA, recent)
    assert window_open(conversation, "whatsapp", utcnow())
    message = await queue_reply(broker, setup.workspace, conversation.id, None, text="Sure")
    assert message.status == "queued"


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({}, "invalid_reply"),
        ({"text": "  "}, "invalid_text"),
        ({"text": "x" * 4097}, "invalid_text"),
        ({"text": "hi", "template": TEMPLATE}, "invalid_reply"),
        ({"template": TEMPLATE}, "template_unsupported"),
    ],
)
async def test_invalid_replies_are_refused(
    setup: Setup, broker: Broker, kwargs: dict, code: str
) -> None:
    conversation = await conversation_with(setup, setup.telegram, ANA)
    with pytest.raises(InvalidInput) as refused:
        await queue_reply(broker, setup.workspace, conversation.id, None, **kwargs)
    assert refused.value.code == code
    assert await scoped(Message, setup.workspace).count() == 0


async def test_another_workspaces_conversation_is_not_found(
    settings: Settings, setup: Setup, broker: Broker
) -> None:
    conversation = await conversation_with(setup, setup.telegram, ANA)
    other = await make_setup(settings, slug="other")
    for conversation_id in (conversation.id, uuid.uuid4(), "nope"):
        with pytest.raises(NotFound):
            await queue_reply(broker, other.workspace, conversation_id, None, text="hi")
    assert await scoped(Message, setup.workspace).count() == 0


async def test_a_failed_message_is_retried_under_a_new_job_id(setup: Setup, broker: Broker) -> None:
    failed = await seed_outbound(setup, setup.telegram, ANA, "5511223344:77", status="failed")
    await (
        scoped(Message, setup.workspace)
        .filter(id=failed.id)
        .update(error_code="403", error_message="bot was blocked")
    )
    retried = await retry_message(broker, setup.workspace, failed.id)
    stored = await scoped(Message, setup.workspace).get(id=failed.id)
    assert (stored.status, stored.error_code, stored.provider_message_id) == ("queued", None, None)
    assert retried.status == "queued"
    assert await job_args(broker, f"send:{failed.id}:2") is not None
    with pytest.raises(Conflict) as refused:
        await retry_message(broker, setup.workspace, failed.id)
    assert refused.value.code == "not_failed"
