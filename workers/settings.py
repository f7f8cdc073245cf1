"""The arq worker: every job and cron job, and how a worker process starts.

What we rely on in arq 0.28 (arq/worker.py), and why every job is idempotent:

- A job stays in the queue (a sorted set) while it runs; the worker that starts
  it sets ``arq:in-progress:<id>`` (under WATCH, so one worker wins) with a TTL of
  the longest job timeout + 10 s. If that worker dies, the key expires and
  another worker runs the job again: jobs may run more than once.
- ``raise Retry(defer=s)`` puts the job back under the same id, ``s`` seconds
  later; each start counts as a try, and past ``max_tries`` the job fails.
- A job id already queued, running or with a kept result (``keep_result``) is
  not queued again: ``enqueue`` returns None. Our ids are deterministic
  (``send:{message_id}``, ``enrich:{contact_id}``, ``retention:{ws}:{hour}``).
- Shutdown: ``Worker.close()`` (and SIGINT/SIGTERM without a grace period)
  cancels running jobs; a cancelled job is *re-queued* (``retry_jobs``: it keeps
  its place, loses its in-progress key, and runs again on the next worker), its
  transaction rolled back. With ``job_completion_wait`` a signalled worker stops
  taking jobs and lets running ones finish for that long first; the in-process
  worker gets the same through :func:`drain_worker`. Cron jobs have max_tries 1:
  one cancelled at shutdown is not re-run, its next schedule does the work.
"""

from __future__ import annotations

import asyncio
import warnings
from typing import Any

from arq import cron
from arq.worker import Worker, func

from inbox.broker import QUEUE_NAME, Broker, deserialize_job, redis_settings_for, serialize_job
from inbox.settings import Settings, load_settings
from workers.enrichment import (
    ENRICH_TIMEOUT_SECONDS,
    MAX_ENRICH_TRIES,
    enrich_contact,
    refresh_stale_profiles,
)
from workers.messaging import (
    download_media,
    replay_kept_webhooks,
    replay_webhooks,
    send_message,
)
from workers.retention import (
    RETENTION_MAX_TRIES,
    RETENTION_TIMEOUT_SECONDS,
    apply_retention,
    schedule_retention,
)
from workers.system_log import purge_system_logs

JOB_TIMEOUT_SECONDS = 120
MAX_TRIES = 8
HEALTH_CHECK_SECONDS = 60
# On SIGTERM a worker stops taking jobs and lets running ones finish this long;
# what is still running then is cancelled and re-queued.
SHUTDOWN_GRACE_SECONDS = 30
DRAIN_POLL_SECONDS = 0.1

FUNCTIONS: list[Any] = [send_message, download_media, replay_webhooks]
FUNCTIONS += [
    func(enrich_contact, timeout=ENRICH_TIMEOUT_SECONDS, max_tries=MAX_ENRICH_TRIES),
    func(apply_retention, timeout=RETENTION_TIMEOUT_SECONDS, max_tries=RETENTION_MAX_TRIES),
]

CRON_JOBS = [
    # Daily at 03:17 UTC; unique so that many workers run it once.
    cron(purge_system_logs, hour={3}, minute={17}, unique=True, run_at_startup=False),
    # Every 10 minutes: kept webhook deliveries are stored once their cause is fixed.
    cron(replay_kept_webhooks, minute=set(range(0, 60, 10)), unique=True, run_at_startup=False),
]
CRON_JOBS += [
    # Hourly at :07: one retention job per workspace (job id retention:{ws}:{hour}).
    cron(schedule_retention, minute={7}, unique=True, run_at_startup=False),
    # Twice an hour: recently active contacts whose profile is older than
    # PROFILE_MAX_AGE_DAYS are queued for enrichment (a bounded batch per run).
    cron(refresh_stale_profiles, minute={23, 53}, unique=True, run_at_startup=False),
]


def worker_options(settings: Settings) -> dict[str, Any]:
    return {
        "functions": FUNCTIONS,
        "cron_jobs": CRON_JOBS,
        "queue_name": QUEUE_NAME,
        "job_timeout": JOB_TIMEOUT_SECONDS,
        "max_tries": MAX_TRIES,
        "health_check_interval": HEALTH_CHECK_SECONDS,
        "job_serializer": serialize_job,
        "job_deserializer": deserialize_job,
        "keep_result": 3600,
        "job_completion_wait": SHUTDOWN_GRACE_SECONDS,
    }


async def drain_worker(worker: Worker, grace_seconds: float = SHUTDOWN_GRACE_SECONDS) -> None:
    """Stop a worker gracefully: take no new job, let running ones finish for up to
    ``grace_seconds``, then close it (what still runs is cancelled and re-queued).

    For workers without signal handlers (the in-process worker of the embedded
    default); a standalone worker does the same on SIGTERM (job_completion_wait).
    """
    worker.allow_pick_jobs = False
    deadline = asyncio.get_running_loop().time() + grace_seconds
    while any(not task.done() for task in worker.tasks.values()):
        if asyncio.get_running_loop().time() >= deadline:
            break
        await asyncio.sleep(DRAIN_POLL_SECONDS)
    with warnings.catch_warnings():
        # arq 0.28 closes its pool with redis' deprecated close(); harmless here.
        warnings.simplefilter("ignore", DeprecationWarning)
        await worker.close()


def build_worker(settings: Settings, broker: Broker, *, shared_runtime: bool) -> Worker:
    """A worker on ``broker``'s Redis. ``shared_runtime``: the web process already
    opened the database (the in-process worker of the embedded default)."""

    async def on_startup(ctx: dict[str, Any]) -> None:
        ctx["settings"] = settings
        ctx["broker"] = broker
        if not shared_runtime:
            from inbox.database import open_database

            await open_database(settings)

    async def on_shutdown(ctx: dict[str, Any]) -> None:
        if not shared_runtime:
            from inbox.database import close_database

            await close_database()

    return Worker(
        redis_pool=broker.redis,
        handle_signals=not shared_runtime,
        on_startup=on_startup,
        on_shutdown=on_shutdown,
        **worker_options(settings),
    )


class WorkerSettings:
    """For ``arq workers.WorkerSettings`` (set REDIS_URL; the embedded Redis is
    started by ``inbox worker`` / ``inbox serve`` only)."""

    _settings = None

    functions = FUNCTIONS
    cron_jobs = CRON_JOBS
    queue_name = QUEUE_NAME
    job_timeout = JOB_TIMEOUT_SECONDS
    max_tries = MAX_TRIES
    health_check_interval = HEALTH_CHECK_SECONDS
    job_completion_wait = SHUTDOWN_GRACE_SECONDS
    job_serializer = staticmethod(serialize_job)
    job_deserializer = staticmethod(deserialize_job)

    @staticmethod
    async def on_startup(ctx: dict[str, Any]) -> None:
        from inbox.database import open_database

        settings = load_settings()
        ctx["settings"] = settings
        ctx["broker"] = Broker(redis=ctx["redis"], redis_settings=redis_settings_for(settings))
        await open_database(settings)

    @staticmethod
    async def on_shutdown(ctx: dict[str, Any]) -> None:
        from inbox.database import close_database

        await close_database()
