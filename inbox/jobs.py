"""Enqueue jobs only after the transaction that justifies them has committed.

Domain functions run their writes in :func:`atomic`, and ask for jobs with
``unit.enqueue(...)``. The jobs are sent to the queue when the block exits
without error, after the commit; on rollback they are dropped, so a worker
never reads a row that does not exist.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from inbox.broker import Broker


@dataclass
class PendingJob:
    function: str
    args: tuple[Any, ...]
    job_id: str | None
    defer_by: float | None = None


@dataclass
class Unit:
    """One transaction and the jobs it will release."""

    connection: BaseDBAsyncClient
    jobs: list[PendingJob] = field(default_factory=list)
    after_commit: list[Callable[[], Awaitable[Any]]] = field(default_factory=list)

    def enqueue(
        self, function: str, *args: Any, job_id: str | None = None, defer_by: float | None = None
    ) -> None:
        self.jobs.append(PendingJob(function, args, job_id, defer_by))

    def on_commit(self, callback: Callable[[], Awaitable[Any]]) -> None:
        """Run ``callback`` after the commit (e.g. publish a live event)."""
        self.after_commit.append(callback)


@asynccontextmanager
async def atomic(broker: Broker | None) -> AsyncIterator[Unit]:
    """A transaction whose jobs are enqueued once it has committed."""
    async with in_transaction() as connection:
        unit = Unit(connection)
        yield unit
    await release_jobs(broker, unit.jobs)
    for callback in unit.after_commit:
        await callback()


async def release_jobs(broker: Broker | None, jobs: list[PendingJob]) -> None:
    if broker is None or not jobs:
        return
    for job in jobs:
        await broker.enqueue(job.function, *job.args, job_id=job.job_id, defer_by=job.defer_by)
