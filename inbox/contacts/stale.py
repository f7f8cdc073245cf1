"""Finding contacts whose enriched profile is out of date, a bounded batch at a time.

Only contacts active recently are refreshed: a profile is fetched to help the
team recognise who is writing, not to keep watching people who stopped. The
walk over workspaces resumes where the previous batch stopped (a cursor kept
in Redis), so every workspace gets its turn however many there are.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from redis.asyncio import Redis
from tortoise.expressions import Q

from inbox.models import Contact, Workspace
from inbox.tenancy import scoped

STALE_BATCH = 500  # contacts queued per cron run
WORKSPACES_PER_RUN = 1000  # workspaces looked at per cron run
REFRESH_ACTIVE_DAYS = 30  # only contacts active this recently are refreshed
CURSOR_KEY = "inbox:enrich:stale-cursor"
CURSOR_TTL_SECONDS = 7 * 86400


async def find_stale_contacts(
    redis: Redis,
    now: datetime,
    max_age_days: int,
    *,
    limit: int = STALE_BATCH,
    workspaces: int = WORKSPACES_PER_RUN,
) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """Up to ``limit`` (workspace id, contact id) pairs to enrich again."""
    raw = await redis.get(CURSOR_KEY)
    after = uuid.UUID(raw.decode() if isinstance(raw, bytes) else raw) if raw else None
    query = Workspace.all().order_by("id").limit(workspaces)
    if after is not None:
        query = query.filter(id__gt=after)
    workspace_ids = await query.values_list("id", flat=True)
    stale_before = now - timedelta(days=max_age_days)
    found: list[tuple[uuid.UUID, uuid.UUID]] = []
    cursor: uuid.UUID | None = None
    for workspace_id in workspace_ids:
        wanted = limit - len(found)
        contact_ids = await (
            scoped(Contact, workspace_id)
            .filter(
                restricted=False,
                objected=False,
                last_activity_at__gte=now - timedelta(days=REFRESH_ACTIVE_DAYS),
            )
            .filter(Q(profile_fetched_at__lt=stale_before) | Q(profile_fetched_at__isnull=True))
            .order_by("id")
            .limit(wanted)
            .values_list("id", flat=True)
        )
        found += [(workspace_id, contact_id) for contact_id in contact_ids]
        if len(found) >= limit:
            break  # this workspace may hold more: the next run starts with it again
        cursor = workspace_id
    if len(workspace_ids) < workspaces and len(found) < limit:
        cursor = None  # walked to the end: start over next time
    if cursor is None:
        await redis.delete(CURSOR_KEY)
    else:
        await redis.set(CURSOR_KEY, str(cursor), ex=CURSOR_TTL_SECONDS)
    return found
