"""The hot read of message ingest, as one SQL statement.

An inbound message needs its sender's contact, their conversation on the
channel, whether the message is already stored (the de-duplication key), and
the message it replies to. Through the ORM that is four round trips; here it is
one, on SQLite and PostgreSQL alike. Every table is filtered by workspace first.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

SENDER_SQL = """
SELECT i.contact_id AS contact_id,
       c.profile AS profile,
       c.last_activity_at AS last_activity_at,
       v.id AS conversation_id,
       v.status AS status,
       v.last_message_at AS last_message_at,
       v.last_inbound_at AS last_inbound_at,
       (SELECT m.id FROM message m
         WHERE m.workspace_id = {p} AND m.channel_id = {p} AND m.provider_message_id = {p})
         AS twin_id,
       (SELECT r.id FROM message r
         WHERE r.workspace_id = {p} AND r.channel_id = {p} AND r.provider_message_id = {p})
         AS reply_id
  FROM contact_identity i
  JOIN contact c ON c.id = i.contact_id AND c.workspace_id = i.workspace_id
  LEFT JOIN conversation v
    ON v.workspace_id = i.workspace_id AND v.channel_id = i.channel_id
   AND v.contact_id = i.contact_id
 WHERE i.workspace_id = {p} AND i.channel_id = {p} AND i.provider_user_id = {p}
"""


@dataclass
class Sender:
    """A known sender as the ingest path needs it."""

    contact_id: uuid.UUID
    profile: dict[str, Any]
    last_activity_at: datetime | None
    conversation_id: uuid.UUID | None
    status: str | None
    last_message_at: datetime | None
    last_inbound_at: datetime | None
    twin_id: uuid.UUID | None
    reply_id: uuid.UUID | None


def format_placeholders(connection: BaseDBAsyncClient, sql: str) -> str:
    """``{p}`` markers as the driver's placeholders ($1, $2 ... or ?)."""
    if connection.capabilities.dialect != "postgres":
        return sql.replace("{p}", "?")
    parts = sql.split("{p}")
    return "".join(
        part + (f"${index}" if index < len(parts) else "")
        for index, part in enumerate(parts, start=1)
    )


def read_uuid(value: object) -> uuid.UUID | None:
    return None if value is None else uuid.UUID(str(value))


def read_time(value: object) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


def read_json(value: object) -> dict[str, Any]:
    if isinstance(value, str | bytes):
        value = json.loads(value)
    return value if isinstance(value, dict) else {}


async def find_sender(
    connection: BaseDBAsyncClient,
    workspace_id: uuid.UUID,
    channel_id: uuid.UUID,
    provider_user_id: str,
    provider_message_id: str,
    reply_to_provider_id: str | None,
) -> Sender | None:
    """The sender of a message on a channel, with the message's twin and reply target."""
    workspace, channel = str(workspace_id), str(channel_id)
    rows = await connection.execute_query_dict(
        format_placeholders(connection, SENDER_SQL),
        [
            workspace, channel, provider_message_id,
            workspace, channel, reply_to_provider_id or "",
            workspace, channel, provider_user_id,
        ],
    )  # fmt: skip
    if not rows:
        return None
    row = rows[0]
    return Sender(
        contact_id=uuid.UUID(str(row["contact_id"])),
        profile=read_json(row["profile"]),
        last_activity_at=read_time(row["last_activity_at"]),
        conversation_id=read_uuid(row["conversation_id"]),
        status=row["status"],
        last_message_at=read_time(row["last_message_at"]),
        last_inbound_at=read_time(row["last_inbound_at"]),
        twin_id=read_uuid(row["twin_id"]),
        reply_id=read_uuid(row["reply_id"]) if reply_to_provider_id else None,
    )
