"""PostgreSQL: a known sender's text message stored by one SQL statement.

Most deliveries are one inbound message from someone we already talk to. On
PostgreSQL that case is one statement, hence one implicit transaction and one
round trip: find the sender's conversation, insert the message unless its
provider id is already stored (``ON CONFLICT DO NOTHING`` on the
de-duplication key, which also settles concurrent twins), update the
conversation's counters, and move the contact's activity time. The statement
returns the contact's recorded profile, so a changed profile name is written
after it (the one case that costs a second statement).

Everything else (first contact, attachments, echoes, several events, SQLite)
goes through :func:`inbox.messaging.ingest.store_events` in a transaction.
The result is the same either way; the tests run both paths.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise import connections

from channels.events import InboundMessage
from inbox.messaging.contacts import ACTIVITY_RESOLUTION, contact_changes, update_contact
from inbox.messaging.queries import read_json
from inbox.models import Channel, MessageStatus

STORE_SQL = """
WITH sender AS (
  SELECT v.id AS conversation_id, i.contact_id AS contact_id, c.profile AS profile
    FROM contact_identity i
    JOIN contact c ON c.id = i.contact_id AND c.workspace_id = i.workspace_id
    JOIN conversation v ON v.workspace_id = i.workspace_id AND v.channel_id = i.channel_id
                       AND v.contact_id = i.contact_id
   WHERE i.workspace_id = $1 AND i.channel_id = $2 AND i.provider_user_id = $3::varchar
),
inserted AS (
  INSERT INTO message (id, created_at, workspace_id, conversation_id, channel_id, direction,
                       kind, text, provider_message_id, status, latitude, longitude,
                       reply_to_id, metadata, reactions, sent_at)
  SELECT $4::uuid, $5::timestamptz, $1, sender.conversation_id, $2, 'inbound',
         $6::varchar, $7::text, $8::varchar, $9::varchar, $10::float8, $11::float8,
         (SELECT r.id FROM message r
           WHERE r.workspace_id = $1 AND r.channel_id = $2
             AND r.provider_message_id = $12::varchar),
         $13::jsonb, '[]'::jsonb, $14::timestamptz
    FROM sender
  ON CONFLICT (channel_id, provider_message_id) DO NOTHING
  RETURNING conversation_id
),
touched AS (
  UPDATE conversation v SET
    last_message_preview = CASE WHEN v.last_message_at IS NULL OR v.last_message_at <= $14
                                THEN $15::varchar ELSE v.last_message_preview END,
    last_message_at = GREATEST(v.last_message_at, $14),
    last_inbound_at = GREATEST(v.last_inbound_at, $14),
    unread_count = v.unread_count + 1,
    resolved_at = CASE WHEN v.status = 'resolved' THEN NULL ELSE v.resolved_at END,
    status = CASE WHEN v.status = 'resolved' THEN 'open' ELSE v.status END
    FROM inserted
   WHERE v.workspace_id = $1 AND v.id = inserted.conversation_id
  RETURNING v.id
),
active AS (
  UPDATE contact c SET last_activity_at = $5
    FROM sender
   WHERE c.workspace_id = $1 AND c.id = sender.contact_id
     AND EXISTS (SELECT 1 FROM touched)
     AND (c.last_activity_at IS NULL OR c.last_activity_at <= $5 - $16::interval)
  RETURNING c.id
)
SELECT sender.conversation_id AS conversation_id, sender.contact_id AS contact_id,
       sender.profile AS profile, EXISTS (SELECT 1 FROM touched) AS stored
  FROM sender
"""


@dataclass
class Stored:
    """What the statement did: ``stored`` is false for a duplicate."""

    stored: bool
    message_id: uuid.UUID
    conversation_id: uuid.UUID


def fits_one_statement(events: list[Any]) -> bool:
    """A single inbound message without media: the common case the statement covers."""
    if len(events) != 1 or not isinstance(events[0], InboundMessage):
        return False
    event = events[0]
    return event.direction == "inbound" and not event.attachments


def uses_postgres() -> bool:
    return connections.get("default").capabilities.dialect == "postgres"


async def store_known_sender_message(
    workspace_id: uuid.UUID,
    channel: Channel,
    event: InboundMessage,
    preview: str,
    now: datetime,
) -> Stored | None:
    """Store ``event`` if its sender and conversation exist; None if they do not."""
    message_id = uuid.uuid4()
    rows = await connections.get("default").execute_query_dict(
        STORE_SQL,
        [
            workspace_id,
            channel.id,
            event.provider_user_id,
            message_id,
            now,
            event.kind,
            event.text,
            event.provider_message_id,
            MessageStatus.RECEIVED.value,
            event.location[0] if event.location else None,
            event.location[1] if event.location else None,
            event.reply_to_provider_id or "",
            json.dumps(dict(event.metadata)),
            event.sent_at,
            preview,
            ACTIVITY_RESOLUTION,
        ],
    )
    if not rows:
        return None
    row = rows[0]
    if row["stored"]:
        changes = contact_changes(
            channel, event.profile, read_json(row["profile"]), now, now, active=False
        )
        await update_contact(workspace_id, row["contact_id"], changes)
    return Stored(bool(row["stored"]), message_id, uuid.UUID(str(row["conversation_id"])))
