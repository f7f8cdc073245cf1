"""Connection data (SystemLog): written on sign-in events only, kept 365 days at most."""

from __future__ import annotations

from datetime import datetime, timedelta

from inbox.models import SystemLog
from inbox.models.base import utcnow
from inbox.models.privacy import SYSTEM_LOG_MAX_DAYS

PURGE_BATCH = 1000


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
