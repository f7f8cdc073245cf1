"""Enforcing a workspace's retention policy: the run, its preview, its history.

The hourly cron, ``inbox retention run`` and the API's preview all go through
this module. A run deletes what :mod:`inbox.privacy.retention_selection` says
has expired, rule by rule, in transactions of at most ``BATCH_SIZE`` rows
(:mod:`inbox.privacy.retention_steps`), so the inbox stays responsive while it
works. Each batch updates the run's counts and checkpoint in its own
transaction: a run that crashes is resumed from that checkpoint by the next one
(the RetentionRun row stays ``running`` until then). A Redis lock with a TTL,
renewed after every batch, keeps two workers from running one workspace at once.
A legal hold on the workspace suspends the whole run (recorded as ``held``).
"""

from __future__ import annotations

import asyncio
import secrets
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from redis.asyncio import Redis
from tortoise.transactions import in_transaction

from inbox.errors import InvalidInput, NotFound
from inbox.models import RetentionRun, Workspace
from inbox.models.base import utcnow
from inbox.privacy.legal_hold import is_workspace_held
from inbox.privacy.retention_policy import get_policy
from inbox.privacy.retention_preview import count_doomed
from inbox.privacy.retention_selection import (
    COUNT_KEYS,
    RUN_STATUS_RUNNING,
    Selection,
    empty_counts,
)
from inbox.privacy.retention_steps import STEPS
from inbox.privacy.stored_files import remove_stored_files
from inbox.settings import Settings
from inbox.tenancy import WorkspaceRef, scoped, workspace_id_of

BATCH_SIZE = 1000  # rows per transaction, at most
PARENT_BATCH = 100  # conversations or contacts taken at once (contents go by BATCH_SIZE)
LOCK_TTL_MS = 120_000  # a crashed worker's lock frees itself after this
LOCK_EXTEND_SECONDS = 5.0  # how often a running batch loop renews it
CAPPED_MEMORY = 200_000  # conversation ids remembered per run (a few MB)
WORKSPACE_PAGE = 500  # workspaces read per query when scheduling

# Contacts before resolved conversations: deleting a conversation must not be
# what makes its contact look inactive within the same run (the preview could
# not foresee that). Each rule's cutoff has the rule's name.
RULE_ORDER = tuple(STEPS)

STATUS_FINISHED = "finished"
STATUS_NOTHING_EXPIRED = "nothing_expired"
STATUS_HELD = "held"
# An hourly run that found nothing (or a hold) replaces the previous one of its
# kind, so the history shows every deletion without thousands of empty rows.
REPLACEABLE_STATUSES = (STATUS_NOTHING_EXPIRED, STATUS_HELD)
# Outcomes of one call that are not stored on a run row:
OUTCOME_PAUSED = "paused"  # the batch budget ran out; the row stays "running"
OUTCOME_BUSY = "busy"  # another worker holds this workspace's lock
OUTCOME_LOCK_LOST = "lock_lost"  # our lock expired; whoever took it resumes the row

_EXTEND_SCRIPT = (
    "if redis.call('get', KEYS[1]) == ARGV[1] then "
    "return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end"
)
_RELEASE_SCRIPT = (
    "if redis.call('get', KEYS[1]) == ARGV[1] then "
    "return redis.call('del', KEYS[1]) else return 0 end"
)


class LockLost(RuntimeError):
    """Our lock expired before the batch finished (the worker stalled too long)."""


@dataclass
class RunLock:
    """SET NX PX lock on one workspace's retention, owned by a random token."""

    redis: Redis
    workspace_id: uuid.UUID
    ttl_ms: int = LOCK_TTL_MS
    token: str = field(default_factory=lambda: secrets.token_hex(16))
    extended: float = field(default_factory=time.monotonic)

    @property
    def key(self) -> str:
        return f"inbox:retention:lock:{self.workspace_id}"

    async def acquire(self) -> bool:
        return bool(await self.redis.set(self.key, self.token, nx=True, px=self.ttl_ms))

    async def extend(self) -> bool:
        """Renew the TTL if we still own the lock (checked at most every quarter TTL)."""
        now = time.monotonic()
        if now - self.extended < min(LOCK_EXTEND_SECONDS, self.ttl_ms / 4000):
            return True
        self.extended = now
        return bool(await self.redis.eval(_EXTEND_SCRIPT, 1, self.key, self.token, self.ttl_ms))

    async def release(self) -> None:
        await self.redis.eval(_RELEASE_SCRIPT, 1, self.key, self.token)


@dataclass(frozen=True)
class BatchReport:
    """Handed to ``on_batch`` after each committed batch."""

    rule: str
    deleted: dict[str, int]
    totals: dict[str, int]


@dataclass
class RunResult:
    status: str  # finished, nothing_expired, held, paused, busy, lock_lost
    run_id: uuid.UUID | None = None
    deleted: dict[str, int] = field(default_factory=empty_counts)
    duration_ms: int = 0
    resumed: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "run_id": str(self.run_id) if self.run_id else None,
            "deleted": self.deleted,
            "duration_ms": self.duration_ms,
            "resumed": self.resumed,
        }


OnBatch = Callable[[BatchReport], Awaitable[None]]


@dataclass
class RunState:
    """The progress of one run: what the steps record after each batch."""

    settings: Settings
    selection: Selection
    run: RetentionRun
    lock: RunLock
    batch_size: int
    parent_batch: int
    on_batch: OnBatch | None
    rule: str
    cursor: dict[str, str] | None
    deleted: dict[str, int]
    elapsed_before_ms: int
    started: float = field(default_factory=time.monotonic)
    batches: int = 0
    unread_capped: set[uuid.UUID] = field(default_factory=set)

    def remember_capped(self, conversation_ids: set[uuid.UUID]) -> None:
        """Conversations whose unread count this run already capped (bounded memory:
        forgetting only means capping again, which changes nothing)."""
        if len(self.unread_capped) > CAPPED_MEMORY:
            self.unread_capped.clear()
        self.unread_capped |= conversation_ids

    def elapsed_ms(self) -> int:
        return self.elapsed_before_ms + int((time.monotonic() - self.started) * 1000)

    async def record(self, counts: dict[str, int], files: list[str]) -> None:
        """Inside the batch's transaction: counts and where to resume."""
        for key, value in counts.items():
            self.deleted[key] = self.deleted.get(key, 0) + value
        checkpoint = {
            "rule": self.rule,
            "cursor": self.cursor,
            "pending_files": files,  # removed after commit; again on resume if we crash
            "elapsed_ms": self.elapsed_ms(),
        }
        await scoped(RetentionRun, self.selection.workspace_id).filter(id=self.run.id).update(
            deleted=dict(self.deleted), checkpoint=checkpoint
        )

    async def after_commit(self, counts: dict[str, int], files: list[str]) -> None:
        if files:
            await asyncio.to_thread(remove_stored_files, self.settings, files)
        self.batches += 1
        if self.on_batch is not None:
            await self.on_batch(BatchReport(self.rule, counts, dict(self.deleted)))
        # Last, right before the next batch: a worker that stalled past the TTL stops.
        if not await self.lock.extend():
            raise LockLost("retention lock expired during the run")


@dataclass(frozen=True)
class Budget:
    """How much one call may do before it pauses (None: no bound)."""

    batches: int | None = None
    seconds: float | None = None

    def spent(self, state: RunState) -> bool:
        if self.batches is not None and state.batches >= self.batches:
            return True
        return self.seconds is not None and time.monotonic() - state.started >= self.seconds


def rule_applies(selection: Selection, rule: str) -> bool:
    return getattr(selection.cutoffs, rule) is not None


async def start_or_resume_run(workspace_id: uuid.UUID, now: datetime) -> tuple[RetentionRun, bool]:
    """The run a crash left ``running`` (resumed), or a new one."""
    unfinished = await (
        scoped(RetentionRun, workspace_id)
        .filter(status=RUN_STATUS_RUNNING)
        .order_by("-started_at")
        .first()
    )
    if unfinished is not None:
        return unfinished, True
    run = await RetentionRun.create(
        workspace_id=workspace_id,
        started_at=now,
        status=RUN_STATUS_RUNNING,
        deleted=empty_counts(),
        checkpoint={},
    )
    return run, False


async def finish_run(state: RunState, status: str, now: datetime) -> str:
    """Close the run row; returns its final status."""
    if status == STATUS_FINISHED and not any(state.deleted.values()):
        status = STATUS_NOTHING_EXPIRED
    elapsed = state.elapsed_ms()
    runs = scoped(RetentionRun, state.selection.workspace_id)
    async with in_transaction():
        await runs.filter(id=state.run.id).update(
            status=status,
            finished_at=now + timedelta(milliseconds=elapsed - state.elapsed_before_ms),
            duration_ms=elapsed,
            deleted=dict(state.deleted),
            checkpoint={},
        )
        if status in REPLACEABLE_STATUSES:
            await scoped(RetentionRun, state.selection.workspace_id).filter(
                status=status
            ).exclude(id=state.run.id).delete()
    return status


async def run_retention(
    settings: Settings,
    redis: Redis,
    workspace: WorkspaceRef,
    *,
    now: datetime | None = None,
    batch_size: int = BATCH_SIZE,
    parent_batch: int = PARENT_BATCH,
    max_batches: int | None = None,
    max_seconds: float | None = None,
    on_batch: OnBatch | None = None,
    lock_ttl_ms: int = LOCK_TTL_MS,
) -> RunResult:
    """Apply the workspace's policy now; see the module docstring.

    ``max_batches`` and ``max_seconds`` bound the work of this call: past either,
    it stops between two batches with the outcome ``paused`` and the next call
    resumes the run. ``on_batch`` is awaited after each committed batch.
    """
    if not 1 <= batch_size <= BATCH_SIZE or not 1 <= parent_batch <= BATCH_SIZE:
        raise InvalidInput(f"batch sizes must be between 1 and {BATCH_SIZE}")
    workspace_id = workspace_id_of(workspace)
    if not await Workspace.exists(id=workspace_id):
        raise NotFound("no such workspace")
    now = now or utcnow()
    lock = RunLock(redis, workspace_id, lock_ttl_ms)
    if not await lock.acquire():
        return RunResult(OUTCOME_BUSY)
    try:
        budget = Budget(max_batches, max_seconds)
        return await _run_locked(
            settings, lock, workspace_id, now, batch_size, parent_batch, budget, on_batch
        )
    finally:
        await lock.release()


async def _run_locked(
    settings: Settings,
    lock: RunLock,
    workspace_id: uuid.UUID,
    now: datetime,
    batch_size: int,
    parent_batch: int,
    budget: Budget,
    on_batch: OnBatch | None,
) -> RunResult:
    run, resumed = await start_or_resume_run(workspace_id, now)
    checkpoint = run.checkpoint or {}
    # Files of a batch whose commit we saw but whose clean-up a crash interrupted.
    await asyncio.to_thread(remove_stored_files, settings, checkpoint.get("pending_files") or [])
    policy = await get_policy(workspace_id)
    state = RunState(
        settings=settings,
        selection=Selection.of(workspace_id, policy, now),
        run=run,
        lock=lock,
        batch_size=batch_size,
        parent_batch=parent_batch,
        on_batch=on_batch,
        rule=checkpoint.get("rule") or RULE_ORDER[0],
        cursor=checkpoint.get("cursor"),
        deleted=empty_counts() | dict(run.deleted or {}),
        elapsed_before_ms=int(checkpoint.get("elapsed_ms") or 0),
    )

    def result(status: str) -> RunResult:
        totals = {key: state.deleted.get(key, 0) for key in COUNT_KEYS}
        return RunResult(status, run.id, totals, state.elapsed_ms(), resumed)

    if await is_workspace_held(workspace_id):
        return result(await finish_run(state, STATUS_HELD, now))
    try:
        for rule in RULE_ORDER[RULE_ORDER.index(state.rule) :]:
            if rule != state.rule:
                state.rule, state.cursor = rule, None
            if not rule_applies(state.selection, rule):
                continue
            while True:
                if budget.spent(state):
                    return result(OUTCOME_PAUSED)
                if not await STEPS[rule](state):
                    break
    except LockLost:
        return result(OUTCOME_LOCK_LOST)
    return result(await finish_run(state, STATUS_FINISHED, now))


async def preview_retention(workspace: WorkspaceRef, *, now: datetime | None = None) -> dict:
    """What a run would delete right now, as counts; deletes nothing."""
    workspace_id = workspace_id_of(workspace)
    now = now or utcnow()
    held = await is_workspace_held(workspace_id)
    if held:
        counts = empty_counts()
    else:
        policy = await get_policy(workspace_id)
        counts = await count_doomed(Selection.of(workspace_id, policy, now))
    return {"as_of": now.isoformat(), "legal_hold": held, "counts": counts}


async def iter_workspace_ids(page: int = WORKSPACE_PAGE) -> AsyncIterator[uuid.UUID]:
    """Every workspace id, by keyset pages (the cron walks them all)."""
    last: uuid.UUID | None = None
    while True:
        query = Workspace.all().order_by("id").limit(page)
        if last is not None:
            query = query.filter(id__gt=last)
        ids = await query.values_list("id", flat=True)
        for workspace_id in ids:
            yield workspace_id
        if len(ids) < page:
            return
        last = ids[-1]
