"""PostgreSQL: known senders' text messages stored by one SQL statement per batch.

Most deliveries are one inbound message from someone we already talk to. On
PostgreSQL those are stored by one statement, hence one implicit transaction
and one round trip: find each sender's conversation, insert each message
unless its provider id is already stored (``ON CONFLICT DO NOTHING`` on the
de-duplication key, which also settles concurrent twins, even two in the same
statement), update each conversation's counters, and move each contact's
activity time. The statement returns the contacts' recorded profiles, so a
changed profile name is written after it (the one case that costs more).

Deliveries that arrive while a statement is running wait for the next one and
go in together (group commit): under load, many webhooks share one round trip,
and a lone webhook waits for nobody. Every request is still answered only after
the statement holding its message has committed. If a batch fails, its
messages are stored one by one, so one bad message fails only its own delivery.

Everything else (first contact, attachments, echoes, several events, SQLite)
goes through :func:`inbox.messaging.ingest.store_events` in a transaction; the
result is the same either way, and the tests run both paths.
"""

from __future__ import annotations

import asyncio
import json
import uuid
import weakref
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from tortoise import connections
from tortoise.backends.base.client import TransactionalDBClient

from channels.events import ContactProfile, InboundMessage
from inbox.broker import Broker
from inbox.live.events import build_conversation_event, build_message_event
from inbox.messaging.announce import publish_events
from inbox.messaging.contacts import ACTIVITY_RESOLUTION, contact_changes, update_contact
from inbox.messaging.queries import read_json
from inbox.models import Channel, MessageStatus
from inbox.models.base import utcnow

MAX_BATCH = 64  # messages per statement; a webhook burst beyond waits one round trip

STORE_SQL = """
WITH input AS (
  SELECT * FROM unnest($1::int[], $2::uuid[], $3::uuid[], $4::varchar[], $5::uuid[],
                       $6::timestamptz[], $7::varchar[], $8::text[], $9::varchar[],
                       $10::float8[], $11::float8[], $12::varchar[], $13::text[],
                       $14::timestamptz[], $15::varchar[])
    AS t(position, workspace_id, channel_id, provider_user_id, message_id, created_at, kind,
         text, provider_message_id, latitude, longitude, reply_to, metadata, sent_at, preview)
),
sender AS (
  SELECT input.*, v.id AS conversation_id, i.contact_id AS contact_id, c.profile AS profile
    FROM input
    JOIN contact_identity i ON i.workspace_id = input.workspace_id
                           AND i.channel_id = input.channel_id
                           AND i.provider_user_id = input.provider_user_id
    JOIN contact c ON c.workspace_id = i.workspace_id AND c.id = i.contact_id
    JOIN conversation v ON v.workspace_id = i.workspace_id AND v.channel_id = i.channel_id
                       AND v.contact_id = i.contact_id
),
inserted AS (
  INSERT INTO message (id, created_at, workspace_id, conversation_id, channel_id, direction,
                       kind, text, provider_message_id, status, latitude, longitude,
                       reply_to_id, metadata, reactions, sent_at)
  SELECT s.message_id, s.created_at, s.workspace_id, s.conversation_id, s.channel_id,
         'inbound', s.kind, s.text, s.provider_message_id, 'received', s.latitude, s.longitude,
         -- Only a reply looks for its target: the lookup per message is the one part
         -- of this statement whose cost grows with the message table.
         CASE WHEN s.reply_to <> '' THEN
           (SELECT r.id FROM message r
             WHERE r.workspace_id = s.workspace_id AND r.channel_id = s.channel_id
               AND r.provider_message_id = s.reply_to) END,
         s.metadata::jsonb, '[]'::jsonb, s.sent_at
    FROM sender s
   ORDER BY s.position
  ON CONFLICT (channel_id, provider_message_id) DO NOTHING
  RETURNING id, conversation_id, sent_at
),
newest AS (
  SELECT DISTINCT ON (ins.conversation_id)
         ins.conversation_id, ins.sent_at, s.preview, s.workspace_id
    FROM inserted ins JOIN sender s ON s.message_id = ins.id
   ORDER BY ins.conversation_id, ins.sent_at DESC, s.position DESC
),
counts AS (
  SELECT conversation_id, count(*) AS added FROM inserted GROUP BY conversation_id
),
touched AS (
  UPDATE conversation v SET
    last_message_preview = CASE WHEN v.last_message_at IS NULL
                                  OR v.last_message_at <= newest.sent_at
                                THEN newest.preview ELSE v.last_message_preview END,
    last_message_at = GREATEST(v.last_message_at, newest.sent_at),
    last_inbound_at = GREATEST(v.last_inbound_at, newest.sent_at),
    unread_count = v.unread_count + counts.added,
    resolved_at = CASE WHEN v.status = 'resolved' THEN NULL ELSE v.resolved_at END,
    status = CASE WHEN v.status = 'resolved' THEN 'open' ELSE v.status END
    FROM newest JOIN counts ON counts.conversation_id = newest.conversation_id
   WHERE v.workspace_id = newest.workspace_id AND v.id = newest.conversation_id
  RETURNING v.id
),
active AS (
  UPDATE contact c SET last_activity_at = $16::timestamptz
    FROM (SELECT DISTINCT s.workspace_id, s.contact_id
            FROM sender s JOIN inserted ins ON ins.id = s.message_id) AS moved
   WHERE c.workspace_id = moved.workspace_id AND c.id = moved.contact_id
     AND (c.last_activity_at IS NULL OR c.last_activity_at <= $16::timestamptz - $17::interval)
  RETURNING c.id
)
SELECT s.position AS position, s.conversation_id AS conversation_id,
       s.contact_id AS contact_id, s.profile AS profile, ins.id IS NOT NULL AS stored
  FROM sender s LEFT JOIN inserted ins ON ins.id = s.message_id
"""


@dataclass
class Stored:
    """What the statement did: ``stored`` is false for a duplicate."""

    stored: bool
    message_id: uuid.UUID
    conversation_id: uuid.UUID


@dataclass
class Pending:
    """One message waiting for its statement, and who waits for the outcome."""

    workspace_id: uuid.UUID
    channel: Channel
    event: InboundMessage
    preview: str
    message_id: uuid.UUID = field(default_factory=uuid.uuid4)
    outcome: asyncio.Future[Stored | None] | None = None


def fits_one_statement(events: list[Any]) -> bool:
    """A single inbound message without media: the common case the statement covers."""
    if len(events) != 1 or not isinstance(events[0], InboundMessage):
        return False
    event = events[0]
    return event.direction == "inbound" and not event.attachments


def uses_postgres() -> bool:
    """PostgreSQL, and not inside a caller's transaction (the statement commits itself)."""
    connection = connections.get("default")
    return connection.capabilities.dialect == "postgres" and not isinstance(
        connection, TransactionalDBClient
    )


async def store_known_sender_message(
    broker: Broker | None,
    workspace_id: uuid.UUID,
    channel: Channel,
    event: InboundMessage,
    preview: str,
) -> Stored | None:
    """Store ``event`` if its sender and conversation exist; None if they do not.

    Its live events are published before this returns.
    """
    return await batcher_for_this_loop().submit(
        broker, Pending(workspace_id, channel, event, preview)
    )


class Batcher:
    """Runs at most one store statement at a time; what arrives meanwhile goes next."""

    def __init__(self) -> None:
        self.waiting: list[tuple[Broker | None, Pending]] = []
        self.running = False

    async def submit(self, broker: Broker | None, pending: Pending) -> Stored | None:
        pending.outcome = asyncio.get_running_loop().create_future()
        self.waiting.append((broker, pending))
        if not self.running:
            self.running = True
            asyncio.get_running_loop().create_task(self.drain())
        return await pending.outcome

    async def drain(self) -> None:
        try:
            while self.waiting:
                batch, self.waiting = self.waiting[:MAX_BATCH], self.waiting[MAX_BATCH:]
                try:
                    await store_batch(batch)
                except BaseException as exc:
                    # Nobody may wait forever: whatever went wrong is their answer.
                    for _, pending in batch:
                        settle(pending, exc)
                    raise
        finally:
            self.running = False


_batchers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Batcher] = (
    weakref.WeakKeyDictionary()
)


def batcher_for_this_loop() -> Batcher:
    loop = asyncio.get_running_loop()
    batcher = _batchers.get(loop)
    if batcher is None:
        batcher = _batchers[loop] = Batcher()
    return batcher


async def store_batch(batch: list[tuple[Broker | None, Pending]]) -> None:
    """Store a batch; if it fails, store its messages one by one to isolate the cause."""
    try:
        outcomes = await run_statement([pending for _, pending in batch])
    except Exception as exc:
        if len(batch) == 1:
            settle(batch[0][1], exc)
            return
        for item in batch:
            await store_batch([item])
        return
    try:
        await finish(batch, outcomes)
    except Exception as exc:
        for _, pending in batch:
            settle(pending, exc)
        return
    for _, pending in batch:
        row = outcomes.get(pending.message_id)
        settle(pending, row.stored if row is not None else None)


def settle(pending: Pending, outcome: Stored | None | BaseException) -> None:
    if pending.outcome is None or pending.outcome.done():
        return
    if isinstance(outcome, asyncio.CancelledError):
        pending.outcome.cancel()
    elif isinstance(outcome, BaseException):
        pending.outcome.set_exception(outcome)
    else:
        pending.outcome.set_result(outcome)


@dataclass
class Row:
    stored: Stored
    contact_id: uuid.UUID
    profile: dict[str, Any]


async def run_statement(batch: list[Pending]) -> dict[uuid.UUID, Row]:
    """One statement for the whole batch; rows only for senders that exist."""
    now = utcnow()
    # Distinct creation times keep a batch's messages in their arrival order.
    columns: list[list[Any]] = [[] for _ in range(15)]
    for position, item in enumerate(batch):
        event = item.event
        values = (
            position,
            item.workspace_id,
            item.channel.id,
            event.provider_user_id,
            item.message_id,
            now + timedelta(microseconds=position),
            event.kind,
            event.text,
            event.provider_message_id,
            event.location[0] if event.location else None,
            event.location[1] if event.location else None,
            event.reply_to_provider_id or "",
            json.dumps(dict(event.metadata)),
            event.sent_at,
            item.preview,
        )
        for column, value in zip(columns, values, strict=True):
            column.append(value)
    rows = await connections.get("default").execute_query_dict(
        STORE_SQL, [*columns, now, ACTIVITY_RESOLUTION]
    )
    found: dict[uuid.UUID, Row] = {}
    for row in rows:
        item = batch[row["position"]]
        stored = Stored(
            bool(row["stored"]), item.message_id, uuid.UUID(str(row["conversation_id"]))
        )
        found[item.message_id] = Row(
            stored, uuid.UUID(str(row["contact_id"])), read_json(row["profile"])
        )
    return found


async def finish(batch: list[tuple[Broker | None, Pending]], rows: dict[uuid.UUID, Row]) -> None:
    """After the commit: changed profile names, then the live events per workspace."""
    events: dict[tuple[int, uuid.UUID], list[tuple[str, dict[str, Any]]]] = defaultdict(list)
    brokers: dict[int, Broker | None] = {}
    now = utcnow()
    for broker, pending in batch:
        row = rows.get(pending.message_id)
        if row is None or not row.stored.stored:
            continue
        await record_profile(pending.workspace_id, pending.channel, pending.event.profile, row, now)
        conversation_id = row.stored.conversation_id
        key = (id(broker), pending.workspace_id)
        brokers[id(broker)] = broker
        # STORE_SQL stores every message of this path as an inbound "received".
        events[key].append(("message.created", build_message_event(
            conversation_id, pending.message_id, MessageStatus.RECEIVED.value
        )))
        events[key].append(("conversation.updated", build_conversation_event(conversation_id)))
    for (broker_key, workspace_id), items in events.items():
        unique = [item for index, item in enumerate(items) if item not in items[:index]]
        await publish_events(brokers[broker_key], workspace_id, unique)


async def record_profile(
    workspace_id: uuid.UUID, channel: Channel, profile: ContactProfile, row: Row, now: datetime
) -> None:
    changes = contact_changes(channel, profile, row.profile, now, now, active=False)
    if changes:
        await update_contact(workspace_id, row.contact_id, changes)
