"""The OpenAPI 3.1 document of /api/v1, built from the route table.

Routes declared with :func:`inbox.api.routing.api_route` contribute their
request, query and response models; any other route under /api/v1 is listed
with its path, method and path parameters, so nothing is left out.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Mount, Route

from inbox.api.routing import API_PREFIX, Access, ApiSpec, Call, api_route
from inbox.api.schemas.common import ErrorOut

OPENAPI_VERSION = "3.1.0"
API_TITLE = "Inbox API"
API_VERSION = "1"
REF_TEMPLATE = "#/components/schemas/{model}"
ERRORS = {
    "400": "invalid input (error.details lists the fields)",
    "401": "not signed in",
    "403": "not allowed for this role, or CSRF token missing",
    "404": "not found (also another workspace's id)",
}
SECURITY = [{"bearer": []}, {"session": []}]


def walk_routes(routes: Sequence[BaseRoute], prefix: str = "") -> Iterator[tuple[str, Route]]:
    """Every (full path, route) of a route table, descending into mounts."""
    for route in routes:
        if isinstance(route, Mount):
            yield from walk_routes(route.routes, prefix + route.path)
        elif isinstance(route, Route):
            yield prefix + route.path, route


def api_operations(routes: Sequence[BaseRoute]) -> Iterator[tuple[str, str, Route]]:
    """(path, lower-case method, route) for every /api/v1 endpoint."""
    for path, route in walk_routes(routes):
        if not path.startswith(API_PREFIX):
            continue
        for method in sorted(route.methods or []):
            if method != "HEAD":
                yield path, method.lower(), route


def _models(spec: ApiSpec) -> list[type[BaseModel]]:
    found = [spec.body, spec.query, spec.response]
    return [m for m in found if isinstance(m, type) and issubclass(m, BaseModel)]


Names = dict[type[BaseModel], str]


def _json(model: type[BaseModel], names: Names) -> dict[str, str]:
    return {"$ref": REF_TEMPLATE.format(model=names[model])}


def _parameters(path: str, spec: ApiSpec | None) -> list[dict]:
    parameters: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in _path_names(path)
    ]
    if spec is not None and spec.query is not None:
        query_schema = spec.query.model_json_schema(ref_template=REF_TEMPLATE)
        required = set(query_schema.get("required", []))
        for name, schema in query_schema.get("properties", {}).items():
            parameters.append(
                {"name": name, "in": "query", "required": name in required, "schema": schema}
            )
    return parameters


def _path_names(path: str) -> list[str]:
    return [part[1:-1].split(":")[0] for part in path.split("/") if part.startswith("{")]


def _operation(path: str, route: Route, spec: ApiSpec | None, names: Names) -> dict[str, Any]:
    error_body = {"application/json": {"schema": _json(ErrorOut, names)}}
    errors = {code: {"description": text, "content": error_body} for code, text in ERRORS.items()}
    if spec is None:
        name = getattr(route.endpoint, "__name__", "endpoint")
        return {
            "summary": name.replace("_", " "),
            "operationId": f"{name}_{path}",
            "parameters": _parameters(path, None),
            "responses": {"200": {"description": "success"}, **errors},
            "security": SECURITY,
        }
    success: dict[str, Any] = {"description": "success"}
    if spec.response is not None:
        success["content"] = {"application/json": {"schema": _json(spec.response, names)}}
    elif spec.stream:
        success["content"] = {spec.stream: {}}
    operation: dict[str, Any] = {
        "summary": spec.summary,
        "tags": [spec.tag],
        "operationId": f"{spec.method.lower()}_{path.removeprefix(API_PREFIX)}",
        "parameters": _parameters(path, spec),
        "responses": {str(spec.status if spec.response or spec.stream else 204): success,
                      **errors},
    }
    if spec.access is Access.PUBLIC:
        operation["security"] = []
        operation["responses"].pop("401")
        operation["responses"].pop("403")
    else:
        operation["security"] = SECURITY
        if spec.access is Access.ADMIN:
            operation["x-admin-only"] = True
    if spec.body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": _json(spec.body, names)}},
        }
    if path.endswith("/auth/login"):
        operation["responses"]["429"] = {"description": "too many attempts (Retry-After)"}
    return operation


def build_openapi(routes: Sequence[BaseRoute]) -> dict[str, Any]:
    operations = list(api_operations(routes))
    models: set[type[BaseModel]] = {ErrorOut}
    for _path, _method, route in operations:
        spec = getattr(route, "spec", None)
        if spec is not None:
            models.update(_models(spec))
    ordered = sorted(models, key=lambda m: m.__name__)
    keys, definitions = models_json_schema(
        [(model, "validation") for model in ordered], ref_template=REF_TEMPLATE
    )
    names = {model: ref["$ref"].rsplit("/", 1)[-1] for (model, _mode), ref in keys.items()}
    paths: dict[str, dict[str, Any]] = {}
    for path, method, route in operations:
        spec = getattr(route, "spec", None)
        paths.setdefault(path, {})[method] = _operation(path, route, spec, names)
    return {
        "openapi": OPENAPI_VERSION,
        "info": {"title": API_TITLE, "version": API_VERSION},
        "paths": paths,
        "components": {
            "schemas": definitions.get("$defs", {}),
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer",
                           "description": "an API token (inbox create-token)"},
                "session": {"type": "apiKey", "in": "cookie", "name": "inbox_session",
                            "description": "state-changing requests also need X-CSRF-Token"},
            },
        },
    }


async def openapi(call: Call) -> JSONResponse:
    return JSONResponse(build_openapi(call.request.app.routes))


routes = [
    api_route("/openapi.json", openapi, method="GET", tag="meta", access=Access.PUBLIC,
              stream="application/json", summary="This document"),
]
