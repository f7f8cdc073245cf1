"""The arq worker: every job and cron job, and how a worker process starts."""

from __future__ import annotations

from typing import Any

from arq import cron
from arq.worker import Worker

from inbox.broker import QUEUE_NAME, Broker, deserialize_job, redis_settings_for, serialize_job
from inbox.settings import Settings, load_settings
from workers.system_log import purge_system_logs

JOB_TIMEOUT_SECONDS = 120
MAX_TRIES = 8
HEALTH_CHECK_SECONDS = 60

FUNCTIONS: list[Any] = []

CRON_JOBS = [
    # Daily at 03:17 UTC; unique so that many workers run it once.
    cron(purge_system_logs, hour={3}, minute={17}, unique=True, run_at_startup=False),
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
    }


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
