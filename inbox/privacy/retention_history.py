"""A workspace's past retention runs, newest first (keyset pages)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from tortoise.expressions import Q

from inbox.errors import InvalidInput
from inbox.models import RetentionRun
from inbox.privacy.retention_selection import COUNT_KEYS
from inbox.tenancy import WorkspaceRef, scoped

RUNS_PAGE_MAX = 100
RUNS_PAGE_DEFAULT = 25


def describe_run(run: RetentionRun) -> dict[str, Any]:
    return {
        "id": str(run.id),
        "started_at": run.started_at.isoformat(),
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "status": run.status,
        "deleted": {key: (run.deleted or {}).get(key, 0) for key in COUNT_KEYS},
        "duration_ms": run.duration_ms,
    }


async def list_runs(
    workspace: WorkspaceRef, *, cursor: str | None = None, limit: int = RUNS_PAGE_DEFAULT
) -> dict[str, Any]:
    """Past runs, newest first: ``{items, next_cursor}`` (keyset on start time, id)."""
    if not 1 <= limit <= RUNS_PAGE_MAX:
        raise InvalidInput(f"limit must be between 1 and {RUNS_PAGE_MAX}", code="invalid_limit")
    query = scoped(RetentionRun, workspace)
    if cursor:
        started_at, last_id = decode_runs_cursor(cursor)
        query = query.filter(started_at__lte=started_at).filter(
            Q(started_at__lt=started_at) | Q(id__lt=last_id)
        )
    runs = await query.order_by("-started_at", "-id").limit(limit + 1)
    items = [describe_run(run) for run in runs[:limit]]
    next_cursor = None
    if len(runs) > limit:
        last = runs[limit - 1]
        next_cursor = f"{last.started_at.isoformat()}_{last.id}"
    return {"items": items, "next_cursor": next_cursor}


def decode_runs_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        at, _, run_id = cursor.rpartition("_")
        started_at = datetime.fromisoformat(at)
        if started_at.tzinfo is None:
            raise ValueError
        return started_at, uuid.UUID(run_id)
    except ValueError:
        raise InvalidInput("the cursor is not valid", code="invalid_cursor") from None
