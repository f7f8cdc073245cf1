"""What a running process holds: settings, the database, Redis and maybe a worker.

``inbox serve`` on the embedded default runs the arq worker inside the web
process, so one command gives a working product; in production web and worker
are separate processes sharing PostgreSQL and Redis.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass

from inbox.broker import Broker, connect_broker
from inbox.database import close_database, open_database
from inbox.settings import Settings

logger = logging.getLogger(__name__)


@dataclass
class Runtime:
    settings: Settings
    broker: Broker
    worker: object | None = None
    worker_task: asyncio.Task | None = None


async def start_runtime(settings: Settings, *, with_worker: bool | None = None) -> Runtime:
    await open_database(settings)
    try:
        broker = await connect_broker(settings)
    except BaseException:
        await close_database()
        raise
    runtime = Runtime(settings=settings, broker=broker)
    if settings.worker_in_process if with_worker is None else with_worker:
        from workers.settings import build_worker

        runtime.worker = worker = build_worker(settings, broker, shared_runtime=True)
        runtime.worker_task = asyncio.create_task(worker.main(), name="inbox-worker")
        # arq's close() cancels main_task before it closes the shared Redis pool; a
        # task it does not know about could still be polling on a closed connection.
        worker.main_task = runtime.worker_task
        logger.info("worker started in process")
    return runtime


async def stop_runtime(runtime: Runtime) -> None:
    if runtime.worker is not None and runtime.worker_task is not None:
        from workers.settings import drain_worker

        # Running jobs get a grace period to finish; what is still running after
        # it is cancelled and re-queued by arq for the next start.
        await drain_worker(runtime.worker)  # type: ignore[arg-type]
        with contextlib.suppress(asyncio.CancelledError):
            await runtime.worker_task
    await runtime.broker.close()
    await close_database()
