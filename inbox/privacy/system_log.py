"""Connection data (SystemLog): written on sign-in events only, kept 365 days at most.

The ceiling is the law's (French rules on connection data), not a setting: the
daily purge deletes every row older than SYSTEM_LOG_MAX_DAYS and nothing can
lengthen it. Within that year, the platform operator can extract the rows of a
period for a lawful request (``inbox syslog export``), as NDJSON.
"""

from __future__ import annotations

import ipaddress
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta

from tortoise.expressions import Q

from inbox.accounts.tokens import normalize_email
from inbox.errors import InvalidInput
from inbox.models import SystemLog, User
from inbox.models.base import utcnow
from inbox.models.privacy import SYSTEM_LOG_MAX_DAYS

PURGE_BATCH = 1000
EXPORT_PAGE = 1000


async def purge_expired_system_logs(now: datetime | None = None) -> int:
    """Delete rows older than the legal ceiling, in bounded batches; return the count."""
    cutoff = (now or utcnow()) - timedelta(days=SYSTEM_LOG_MAX_DAYS)
    deleted = 0
    while True:
        ids = await SystemLog.filter(at__lt=cutoff).limit(PURGE_BATCH).values_list("id", flat=True)
        if not ids:
            return deleted
        deleted += await SystemLog.filter(id__in=ids).delete()
        if len(ids) < PURGE_BATCH:
            return deleted


def parse_moment(value: str, *, name: str, end_of_day: bool = False) -> datetime:
    """A date (``2026-01-31``) or an ISO 8601 time; UTC when no offset is given.

    A date alone means its whole day: ``end_of_day`` turns it into the next midnight,
    so ``--until 2026-01-31`` includes the 31st.
    """
    text = value.strip()
    try:
        if len(text) == len("YYYY-MM-DD"):
            day = date.fromisoformat(text)
            moment = datetime(day.year, day.month, day.day, tzinfo=UTC)
            return moment + timedelta(days=1) if end_of_day else moment
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(
            f"{name} must be a date (YYYY-MM-DD) or an ISO 8601 time", code="invalid_date"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def parse_ip(value: str) -> str:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        raise InvalidInput("--ip must be an IPv4 or IPv6 address", code="invalid_ip") from None


def parse_period(since: str, until: str) -> tuple[datetime, datetime]:
    start = parse_moment(since, name="--since")
    end = parse_moment(until, name="--until", end_of_day=True)
    if start >= end:
        raise InvalidInput("--since must be before --until", code="invalid_period")
    return start, end


async def export_system_logs(
    since: datetime, until: datetime, ip: str | None = None, email: str | None = None
) -> AsyncIterator[str]:
    """NDJSON lines for the rows with ``since <= at < until``, oldest first, optionally
    of one IP address or one user (by e-mail). Streams page by page (keyset)."""
    address = parse_ip(ip) if ip is not None else None
    user_id: uuid.UUID | None = None
    if email is not None:
        user = await User.filter(email=normalize_email(email)).only("id").first()
        if user is None:
            return  # nobody with that address: no connection data either
        user_id = user.id
    last: tuple[datetime, uuid.UUID] | None = None
    while True:
        query = SystemLog.filter(at__gte=since, at__lt=until)
        if address is not None:
            query = query.filter(ip=address)
        if user_id is not None:
            query = query.filter(user_id=user_id)
        if last is not None:
            query = query.filter(at__gte=last[0]).filter(Q(at__gt=last[0]) | Q(id__gt=last[1]))
        rows = await query.order_by("at", "id").limit(EXPORT_PAGE).values(
            "id", "at", "event", "ip", "user_agent", "user_id", "workspace_id"
        )
        if not rows:
            return
        user_ids = {row["user_id"] for row in rows if row["user_id"]}
        emails = dict(
            await User.filter(id__in=list(user_ids)).values_list("id", "email")
        ) if user_ids else {}
        for row in rows:
            yield json.dumps(
                {
                    "time": row["at"].astimezone(UTC).isoformat(),
                    "event": row["event"],
                    "ip": row["ip"],
                    "user_agent": row["user_agent"],
                    "user_email": emails.get(row["user_id"]),
                    "workspace_id": str(row["workspace_id"]) if row["workspace_id"] else None,
                }
            ) + "\n"
        if len(rows) < EXPORT_PAGE:
            return
        last = (rows[-1]["at"], rows[-1]["id"])
