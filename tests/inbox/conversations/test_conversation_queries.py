"""Conversation queries: cursors, tags, and a constant number of queries per page."""

from __future__ import annotations

import logging
import uuid
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
from tortoise.transactions import in_transaction

from inbox.conversations.keyset import Position, decode_cursor, encode_cursor
from inbox.conversations.queries import ConversationFilter, list_conversations, list_messages
from inbox.conversations.tags import ensure_tags
from inbox.errors import InvalidInput
from inbox.models import Attachment, Message, Tag
from inbox.tenancy import scoped
from tests.inbox.api.seed import add_conversation, seed_world


@contextmanager
def counted_queries():
    """Count the SQL statements the ORM sends."""
    seen: list[str] = []

    class Counter(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(str(record.msg))

    logger = logging.getLogger("tortoise.db_client")
    handler, level = Counter(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield seen
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def test_cursors_round_trip_and_reject_garbage():
    at = datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC)
    row = uuid.uuid4()
    assert decode_cursor(encode_cursor(Position(at, row))) == Position(at, row)
    assert decode_cursor(encode_cursor(Position("Ana", row))) == Position("Ana", row)
    assert decode_cursor(encode_cursor(Position(None, row))) == Position(None, row)
    assert decode_cursor(None) is None
    for bad in ("x", "bm9uc2Vuc2U", encode_cursor(Position(at, row))[:-4]):
        with pytest.raises(InvalidInput):
            decode_cursor(bad)


async def test_ensure_tags_creates_once(settings, db):
    world = await seed_world(settings, "alpha")
    async with in_transaction() as connection:
        first = await ensure_tags(world.workspace, ["vip", world.tag.name], connection)
    async with in_transaction() as connection:
        second = await ensure_tags(world.workspace, ["vip"], connection)
    assert {t.name for t in first} == {"vip", world.tag.name}
    assert second[0].id in {t.id for t in first}
    assert await scoped(Tag, world.workspace).count() == 2


async def test_a_page_costs_the_same_queries_whatever_its_size(settings, db):
    world = await seed_world(settings, "alpha")
    viewer = world.agent.user.id
    with counted_queries() as small:
        page = await list_conversations(world.workspace, viewer, ConversationFilter(), limit=1)
    assert len(page.items) == 1
    for n in range(10):
        await add_conversation(settings, world.workspace, world.channel, f"N{n}")
    with counted_queries() as large:
        page = await list_conversations(world.workspace, viewer, ConversationFilter(), limit=11)
    assert len(page.items) == 11
    assert len(large) == len(small)


async def test_messages_fetch_attachments_in_one_query(settings, db):
    world = await seed_world(settings, "alpha")
    with counted_queries() as one:
        await list_messages(world.workspace, world.conversation.id)
    for n in range(5):
        message = await Message.create(
            workspace=world.workspace, conversation=world.conversation, channel=world.channel,
            direction="inbound", text=f"m{n}", status="received")
        for position in range(2):
            await Attachment.create(workspace=world.workspace, message=message,
                                    position=position, filename=f"f{n}-{position}")
    with counted_queries() as many:
        page = await list_messages(world.workspace, world.conversation.id)
    assert len(many) == len(one)
    newest = page.items[0]
    assert [a.filename for a in newest.attachments] == ["f4-0", "f4-1"]
