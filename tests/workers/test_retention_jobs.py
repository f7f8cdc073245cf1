"""The retention cron and job, the worker's registrations, and graceful shutdown."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from arq import create_pool
from arq.connections import ArqRedis
from arq.constants import health_check_key_suffix, in_progress_key_prefix, result_key_prefix
from arq.jobs import Job, JobStatus
from arq.worker import Worker, func

from inbox.broker import QUEUE_NAME, Broker, deserialize_job, serialize_job
from inbox.models import Message, RetentionRun
from inbox.runtime import Runtime
from inbox.tenancy import scoped
from tests.inbox.privacy.retention_factory import (
    NOW,
    ago,
    make_channel,
    make_contact,
    make_conversation,
    make_identity,
    make_message,
    make_workspace,
)
from workers.retention import apply_retention, retention_job_id, schedule_retention
from workers.settings import (
    CRON_JOBS,
    FUNCTIONS,
    build_worker,
    drain_worker,
    worker_options,
)

WAIT_SECONDS = 10


def ctx_of(runtime: Runtime, **extra: Any) -> dict[str, Any]:
    return {"settings": runtime.settings, "broker": runtime.broker, "now": NOW, **extra}


async def test_the_cron_queues_one_job_per_workspace_and_hour(runtime: Runtime) -> None:
    workspaces = [await make_workspace(f"shop{index}") for index in range(3)]
    ctx = ctx_of(runtime)

    assert await schedule_retention(ctx) == 3
    assert await schedule_retention(ctx) == 0  # a second worker's cron in the same hour

    for workspace in workspaces:
        job_id = retention_job_id(workspace.id, NOW)
        assert job_id == f"retention:{workspace.id}:2026112012"
        assert await runtime.broker.redis.exists(f"arq:job:{job_id}")


async def test_the_job_applies_the_policy_and_returns_counts(runtime: Runtime) -> None:
    workspace = await make_workspace(messages_days=7)
    conversation = await make_conversation(workspace, await make_channel(runtime.settings,
                                                                         workspace))
    await make_message(conversation, ago(8))

    result = await apply_retention(ctx_of(runtime), str(workspace.id))

    assert result["status"] == "finished"
    assert result["deleted"]["messages"] == 1
    assert await scoped(Message, workspace).count() == 0
    assert await apply_retention(ctx_of(runtime), str(uuid.uuid4())) == {"status": "missing"}


async def test_a_job_out_of_time_queues_its_continuation(runtime: Runtime) -> None:
    workspace = await make_workspace(messages_days=7)
    conversation = await make_conversation(workspace, await make_channel(runtime.settings,
                                                                         workspace))
    await make_message(conversation, ago(8))

    paused = await apply_retention(ctx_of(runtime, retention_budget_seconds=0), str(workspace.id))

    assert paused["status"] == "paused"
    continuation = f"retention:{workspace.id}:{paused['run_id']}:0"
    assert await runtime.broker.redis.exists(f"arq:job:{continuation}")
    done = await apply_retention(ctx_of(runtime), str(workspace.id))
    assert done["status"] == "finished" and done["run_id"] == paused["run_id"]
    assert await scoped(RetentionRun, workspace).count() == 1


def test_every_job_and_cron_is_registered() -> None:
    names = {func(function).name for function in FUNCTIONS}
    assert {"enrich_contact", "apply_retention", "send_message", "download_media"} <= names
    crons = {job.name: job for job in CRON_JOBS}
    assert {"cron:purge_system_logs", "cron:schedule_retention",
            "cron:refresh_stale_profiles"} <= set(crons)
    assert all(job.unique for job in crons.values())
    timeouts = {func(function).name: func(function).timeout_s for function in FUNCTIONS}
    assert timeouts["apply_retention"] and timeouts["enrich_contact"]


async def test_a_worker_runs_the_queued_jobs_by_name(runtime: Runtime) -> None:
    """What the ingest and the cron queue is what the worker knows how to run."""
    workspace = await make_workspace(messages_days=7)
    channel = await make_channel(runtime.settings, workspace, "whatsapp", {
        "account_sid": "AC" + "a" * 32, "auth_token": "t" * 32,
        "from_number": "whatsapp:+15550100000"})
    contact = await make_contact(workspace)
    await make_identity(workspace, contact, channel, "whatsapp:+33612345678")
    await make_message(await make_conversation(workspace, channel, contact), ago(30))
    broker = runtime.broker
    await broker.enqueue("enrich_contact", str(workspace.id), str(contact.id),
                         job_id=f"enrich:{contact.id}")
    await broker.enqueue("apply_retention", str(workspace.id), job_id="retention:test")

    worker = build_worker(runtime.settings, await separate_broker(broker), shared_runtime=True)
    worker.burst = True
    try:
        await asyncio.wait_for(worker.main(), WAIT_SECONDS)
    finally:
        await drain_worker(worker, grace_seconds=0)

    # By name, not by count: a cron job falling due during the run is a third job.
    succeeded = {result.job_id for result in await broker.redis.all_job_results()
                 if result.success}
    assert {f"enrich:{contact.id}", "retention:test"} <= succeeded
    assert worker.jobs_failed == 0
    assert await scoped(Message, workspace).count() == 0
    enriched = await scoped(type(contact), workspace).get(id=contact.id)
    assert enriched.phone == "+33612345678"


# ------------------------------------------------------------ graceful shutdown
async def separate_broker(broker: Broker) -> Broker:
    """A second connection: closing a worker closes its pool, not the test's."""
    pool = await create_pool(broker.redis_settings, job_serializer=serialize_job,
                             job_deserializer=deserialize_job, default_queue_name=QUEUE_NAME)
    return Broker(redis=pool, redis_settings=broker.redis_settings)


async def slow_job(ctx: dict[str, Any], seconds: float) -> str:
    """First try takes ``seconds``; a re-run after a shutdown finishes at once."""
    if ctx["job_try"] == 1:
        await asyncio.sleep(seconds)
    return f"done on try {ctx['job_try']}"


def make_worker(settings, pool: ArqRedis, **overrides: Any) -> Worker:
    options = worker_options(settings) | {
        "functions": [func(slow_job, name="slow_job")],
        "cron_jobs": [],
        "poll_delay": 0.05,
    }
    return Worker(redis_pool=pool, handle_signals=False, **(options | overrides))


async def wait_until_running(redis: ArqRedis, job_id: str) -> None:
    for _ in range(WAIT_SECONDS * 20):
        if await redis.exists(in_progress_key_prefix + job_id):
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the job never started")


async def test_draining_lets_the_running_job_finish(settings, broker: Broker) -> None:
    pool = await separate_broker(broker)
    worker = make_worker(settings, pool.redis)
    main = asyncio.create_task(worker.main())
    job = await broker.redis.enqueue_job("slow_job", 0.3, _job_id="slow:1",
                                         _queue_name=QUEUE_NAME)
    assert job is not None
    await wait_until_running(broker.redis, "slow:1")
    assert await broker.redis.exists(QUEUE_NAME + health_check_key_suffix)

    await drain_worker(worker, grace_seconds=WAIT_SECONDS)
    main.cancel()
    await asyncio.gather(main, return_exceptions=True)

    assert await broker.redis.exists(result_key_prefix + "slow:1")
    assert (await job.result(timeout=1)) == "done on try 1"
    assert not await broker.redis.exists(QUEUE_NAME + health_check_key_suffix)


async def test_a_job_still_running_after_the_grace_is_requeued(settings, broker: Broker) -> None:
    pool = await separate_broker(broker)
    worker = make_worker(settings, pool.redis)
    main = asyncio.create_task(worker.main())
    job = await broker.redis.enqueue_job("slow_job", 60, _job_id="slow:2",
                                         _queue_name=QUEUE_NAME)
    assert job is not None
    await wait_until_running(broker.redis, "slow:2")

    await drain_worker(worker, grace_seconds=0.2)
    main.cancel()
    await asyncio.gather(main, return_exceptions=True)

    # Back in the queue, no longer marked as running, no result yet.
    assert await job.status() == JobStatus.queued
    assert not await broker.redis.exists(in_progress_key_prefix + "slow:2")
    next_pool = await separate_broker(broker)
    successor = make_worker(settings, next_pool.redis, burst=True)
    try:
        await asyncio.wait_for(successor.main(), WAIT_SECONDS)
    finally:
        await drain_worker(successor, grace_seconds=0)
    finished = Job("slow:2", broker.redis, _queue_name=QUEUE_NAME,
                   _deserializer=deserialize_job)
    assert await finished.result(timeout=1) == "done on try 2"
