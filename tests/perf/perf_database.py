"""What the benchmarks share: a throw-away PostgreSQL database, migrated and
connected, for one run; a free loopback port; percentiles.

Needs PostgreSQL at PERF_PG (default postgres://postgres@127.0.0.1); Redis at
PERF_REDIS_URL, or the given database number on 127.0.0.1:6379.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from inbox.database import apply_migrations, close_database, open_database
from inbox.settings import Settings, load_settings

DEFAULT_SERVER_DSN = "postgres://postgres@127.0.0.1"


@dataclass
class PerfDatabase:
    dsn: str
    data_dir: Path
    env: dict[str, str]  # what an `inbox serve` subprocess needs to use the same stores
    settings: Settings


@asynccontextmanager
async def perf_database(prefix: str, redis_db: int, *, keep: bool) -> AsyncIterator[PerfDatabase]:
    """Create, migrate and connect a fresh database; drop it afterwards unless ``keep``."""
    server_dsn = os.environ.get("PERF_PG", DEFAULT_SERVER_DSN)
    redis_url = os.environ.get("PERF_REDIS_URL", f"redis://127.0.0.1:6379/{redis_db}")
    name = f"{prefix}_{os.getpid()}"
    admin = await asyncpg.connect(server_dsn + "/postgres")
    await admin.execute(f'CREATE DATABASE "{name}"')
    dsn = f"{server_dsn}/{name}"
    data_dir = Path(tempfile.mkdtemp(prefix=prefix.replace("_", "-") + "-"))
    env = {
        "DATABASE_URL": dsn,
        "REDIS_URL": redis_url,
        "DATA_DIR": str(data_dir),
        "MASTER_KEY": "perf-master-key",
        "SECRET_KEY": "perf-secret-key",
        "RUN_WORKER_IN_PROCESS": "false",
        "PUBLIC_URL": "http://127.0.0.1",
    }
    settings = load_settings(
        database_url=dsn,
        redis_url=redis_url,
        data_dir=data_dir,
        master_key=env["MASTER_KEY"],
        secret_key=env["SECRET_KEY"],
    )
    try:
        await apply_migrations(settings)
        await open_database(settings)
        yield PerfDatabase(dsn, data_dir, env, settings)
    finally:
        await close_database()
        if not keep:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            shutil.rmtree(data_dir, ignore_errors=True)
        await admin.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]
