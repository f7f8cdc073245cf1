"""Declaring API routes: access level, request models and response model in one place.

``api_route(path, handler, method=..., access=..., body=..., query=..., response=...)``
builds a Starlette route whose endpoint authenticates (see :mod:`inbox.api.auth`),
validates the JSON body and the query string with pydantic (400 with
``error.details = [{field, message}]``), calls ``handler(call)`` and renders what
it returns. The same declaration feeds ``GET /api/v1/openapi.json``.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, TypeAdapter, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from inbox.api.auth import Principal, authenticate, require_admin
from inbox.broker import Broker
from inbox.errors import AppError, InvalidInput
from inbox.models import Workspace
from inbox.settings import Settings

API_PREFIX = "/api/v1"
MAX_BODY_BYTES = 256 * 1024


class Access(StrEnum):
    PUBLIC = "public"  # no credentials (sign-in, accepting an invitation)
    MEMBER = "member"  # any member of the workspace
    ADMIN = "admin"  # owners and admins; 403 for agents


@dataclass(frozen=True)
class ApiSpec:
    """What the OpenAPI document says about a route."""

    method: str
    summary: str
    access: Access
    tag: str
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    response: Any = None  # a pydantic model, list[...] of one, or None (no body)
    status: int = 200
    stream: str | None = None  # media type of a streamed answer (files, SSE)


@dataclass
class Call:
    """One validated API request, as a handler sees it."""

    request: Request
    principal: Principal | None
    body: Any = None
    query: Any = None

    @property
    def settings(self) -> Settings:
        return self.request.app.state.runtime.settings

    @property
    def broker(self) -> Broker:
        return self.request.app.state.runtime.broker

    @property
    def me(self) -> Principal:
        assert self.principal is not None, "a public route has no principal"
        return self.principal

    @property
    def workspace(self) -> Workspace:
        return self.me.workspace

    def path(self, name: str) -> str:
        return self.request.path_params[name]


Handler = Callable[[Call], Awaitable[Any]]


class ApiRoute(Route):
    """A Starlette route carrying its :class:`ApiSpec`."""

    def __init__(self, path: str, endpoint: Callable[..., Any], spec: ApiSpec) -> None:
        super().__init__(path, endpoint, methods=[spec.method])
        self.spec = spec


def validation_details(exc: ValidationError) -> list[dict[str, str]]:
    """pydantic's errors as [{field, message}]; never the rejected values."""
    return [
        {
            "field": ".".join(str(part) for part in error["loc"]) or "body",
            "message": error["msg"],
        }
        for error in exc.errors(include_input=False, include_url=False)
    ]


def invalid(exc: ValidationError, what: str) -> InvalidInput:
    return InvalidInput(f"the {what} is not valid", code="invalid", details=validation_details(exc))


async def read_body(request: Request, model: type[BaseModel]) -> BaseModel:
    raw = await request.body()
    if len(raw) > MAX_BODY_BYTES:
        raise InvalidInput("the request body is too large", code="too_large")
    try:
        data = json.loads(raw) if raw.strip() else {}
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise InvalidInput("the request body must be JSON", code="invalid_json") from None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise invalid(exc, "request body") from None


def read_query(request: Request, model: type[BaseModel]) -> BaseModel:
    try:
        return model.model_validate(dict(request.query_params))
    except ValidationError as exc:
        raise invalid(exc, "query string") from None


def render(result: Any, status: int) -> Response:
    if isinstance(result, Response):
        return result
    if result is None:
        return Response(status_code=204)
    if isinstance(result, BaseModel):
        return JSONResponse(result.model_dump(mode="json"), status_code=status)
    return JSONResponse(TypeAdapter(type(result)).dump_python(result, mode="json"), status)


def rate_limited_response(exc: AppError) -> Response | None:
    """Errors that carry headers (429 Retry-After) are rendered here."""
    headers = getattr(exc, "headers", None)
    if not headers:
        return None
    from inbox.app import error_response

    response = error_response(exc.status, exc.code, exc.message, exc.details)
    response.headers.update(headers)
    return response


def api_route(
    path: str,
    handler: Handler,
    *,
    method: str,
    summary: str,
    tag: str,
    access: Access = Access.MEMBER,
    body: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    response: Any = None,
    status: int = 200,
    stream: str | None = None,
) -> ApiRoute:
    """A route under /api/v1 (``path`` is relative to it, e.g. "/conversations/{id}")."""
    spec = ApiSpec(method, summary, access, tag, body, query, response, status, stream)

    async def endpoint(request: Request) -> Response:
        principal = None
        try:
            if access is not Access.PUBLIC:
                principal = await authenticate(request)
                if access is Access.ADMIN:
                    require_admin(principal)
            call = Call(request, principal)
            if query is not None:
                call.query = read_query(request, query)
            if body is not None:
                call.body = await read_body(request, body)
            return render(await handler(call), status)
        except AppError as exc:
            custom = rate_limited_response(exc)
            if custom is None:
                raise
            return custom

    endpoint.__name__ = handler.__name__
    return ApiRoute(API_PREFIX + path, endpoint, spec)
