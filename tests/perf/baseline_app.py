"""The benchmark's baseline: the least a webhook endpoint can do on this stack.

One Starlette endpoint that reads the raw body and stores it with one asyncpg
INSERT, served by one uvicorn process like the inbox. Run by tests/perf/ingest.py:
``BASELINE_DATABASE_URL=postgres://... uvicorn baseline_app:app``.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

POOL_SIZE = 20  # the inbox's PostgreSQL pool size

CREATE_TABLE = (
    "CREATE TABLE IF NOT EXISTS baseline_webhook "
    "(id BIGSERIAL PRIMARY KEY, path TEXT NOT NULL, body BYTEA NOT NULL)"
)
INSERT = "INSERT INTO baseline_webhook (path, body) VALUES ($1, $2)"


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    pool = await asyncpg.create_pool(
        os.environ["BASELINE_DATABASE_URL"], min_size=POOL_SIZE, max_size=POOL_SIZE
    )
    async with pool.acquire() as connection:
        await connection.execute(CREATE_TABLE)
    app.state.pool = pool
    try:
        yield
    finally:
        await pool.close()


async def store(request: Request) -> Response:
    body = await request.body()
    async with request.app.state.pool.acquire() as connection:
        await connection.execute(INSERT, request.url.path, body)
    return Response(status_code=200)


app = Starlette(
    routes=[Route("/{path:path}", store, methods=["POST"])],
    lifespan=lifespan,
)
