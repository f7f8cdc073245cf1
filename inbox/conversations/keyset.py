"""Keyset pagination: opaque cursors over (sort value, id), newest first.

A cursor is the position of the last row of a page, base64url-encoded JSON. It
is opaque to clients and carries no personal data: a timestamp or a sort value
and a row id. Anything that does not decode answers 400.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from inbox.errors import InvalidInput

T = TypeVar("T")

DEFAULT_LIMIT = 25
MAX_LIMIT = 100


@dataclass
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


@dataclass(frozen=True)
class Position:
    """Where a page ended: the sort value (None for rows without one) and the id."""

    value: datetime | str | None
    id: uuid.UUID


def encode_cursor(position: Position) -> str:
    value = position.value.isoformat() if isinstance(position.value, datetime) else position.value
    kind = "t" if isinstance(position.value, datetime) else "s"
    raw = json.dumps([kind, value, str(position.id)], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> Position | None:
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        kind, value, row_id = json.loads(raw)
        if value is not None and kind == "t":
            value = datetime.fromisoformat(value)
        elif value is not None and not isinstance(value, str):
            raise ValueError("bad cursor value")
        return Position(value, uuid.UUID(row_id))
    except (ValueError, TypeError, binascii.Error, json.JSONDecodeError):
        raise InvalidInput("the cursor is not valid", code="invalid_cursor") from None


def clamp_limit(limit: int | None) -> int:
    if limit is None:
        return DEFAULT_LIMIT
    return max(1, min(MAX_LIMIT, limit))
