"""The ASGI application: routes, error rendering and the process lifespan."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from inbox.errors import AppError
from inbox.runtime import Runtime, start_runtime, stop_runtime
from inbox.settings import Settings

logger = logging.getLogger(__name__)


def error_response(status: int, code: str, message: str, details: object = None) -> JSONResponse:
    body: dict = {"error": {"code": code, "message": message}}
    if details is not None:
        body["error"]["details"] = details
    return JSONResponse(body, status_code=status)


async def render_app_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AppError)
    return error_response(exc.status, exc.code, exc.message, exc.details)


async def render_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
    return error_response(exc.status_code, code, str(exc.detail))


async def render_unexpected_error(request: Request, exc: Exception) -> Response:
    # The exception's text may quote user data; log its type, answer generically.
    logger.error("unhandled error", extra={"error_type": type(exc).__name__, "path_kind": "app"})
    return error_response(500, "internal", "something went wrong on our side")


def runtime_of(request: Request) -> Runtime:
    return request.app.state.runtime


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    from inbox.database import ping_database

    runtime = runtime_of(request)
    checks = {}
    try:
        await ping_database()
        checks["database"] = "ok"
    except Exception:
        checks["database"] = "unreachable"
    try:
        await runtime.broker.redis.ping()
        checks["redis"] = "ok"
    except Exception:
        checks["redis"] = "unreachable"
    ready = all(value == "ok" for value in checks.values())
    return JSONResponse(
        {"status": "ready" if ready else "not_ready", "checks": checks},
        status_code=200 if ready else 503,
    )


def build_routes(settings: Settings) -> list[BaseRoute]:
    routes: list[BaseRoute] = [
        Route("/healthz", healthz),
        Route("/readyz", readyz),
    ]
    from inbox.webhooks.routes import routes as webhook_routes  # imports runtime_of from here

    routes += webhook_routes
    from inbox.api.routes import routes as api_routes  # imports error_response from here

    routes += api_routes
    from inbox.api.retention import routes as retention_routes

    routes += retention_routes
    from inbox.web.routes import build_web_routes

    routes += build_web_routes(settings)
    return routes


def create_app(settings: Settings, *, with_worker: bool | None = None) -> Starlette:
    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        app.state.runtime = await start_runtime(settings, with_worker=with_worker)
        try:
            from inbox.web.demo_runtime import run_demo  # the fake provider, demo only

            async with run_demo(app, settings):
                yield
        finally:
            await stop_runtime(app.state.runtime)

    app = Starlette(
        routes=build_routes(settings),
        lifespan=lifespan,
        exception_handlers={
            AppError: render_app_error,
            HTTPException: render_http_error,
            Exception: render_unexpected_error,
        },
    )
    app.state.settings = settings
    return app
