"""Retention jobs: an hourly cron that queues one job per workspace, and the job
that applies the workspace's policy (see inbox.privacy.retention).

A job works for at most RETENTION_BUDGET_SECONDS, then queues its own
continuation: arq's in-progress key lives as long as the longest job timeout,
and a short one keeps a crashed worker's jobs (of every kind) from waiting long
before another worker picks them up.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from inbox.errors import NotFound
from inbox.models.base import utcnow
from inbox.privacy.retention import OUTCOME_PAUSED, iter_workspace_ids, run_retention

RETENTION_BUDGET_SECONDS = 240
RETENTION_TIMEOUT_SECONDS = 300
RETENTION_MAX_TRIES = 3


def retention_job_id(workspace_id: object, now: datetime) -> str:
    """One job per workspace and hour, however many workers run the cron."""
    return f"retention:{workspace_id}:{now:%Y%m%d%H}"


def continuation_job_id(workspace_id: object, run_id: object, done: int) -> str:
    """The next slice of a paused run (``done``: rows deleted so far, so each slice
    has its own id and a repeated enqueue of the same slice is dropped)."""
    return f"retention:{workspace_id}:{run_id}:{done}"


async def apply_retention(ctx: dict[str, Any], workspace_id: str) -> dict[str, Any]:
    """Delete what the workspace's policy says has expired; returns counts only."""
    try:
        result = await run_retention(
            ctx["settings"],
            ctx["broker"].redis,
            workspace_id,
            now=ctx.get("now"),
            max_seconds=ctx.get("retention_budget_seconds", RETENTION_BUDGET_SECONDS),
        )
    except NotFound:
        return {"status": "missing"}  # purged since the job was queued
    if result.status == OUTCOME_PAUSED:
        await ctx["broker"].enqueue(
            "apply_retention",
            workspace_id,
            job_id=continuation_job_id(workspace_id, result.run_id, sum(result.deleted.values())),
        )
    return result.as_dict()


async def schedule_retention(ctx: dict[str, Any]) -> int:
    """Cron, hourly: queue ``apply_retention`` for every workspace."""
    now = ctx.get("now") or utcnow()
    broker = ctx["broker"]
    queued = 0
    async for workspace_id in iter_workspace_ids():
        if await broker.enqueue(
            "apply_retention", str(workspace_id), job_id=retention_job_id(workspace_id, now)
        ):
            queued += 1
    return queued
