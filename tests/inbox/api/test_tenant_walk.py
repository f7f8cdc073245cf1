"""Tenant isolation, route by route: every route of the app, every role.

The walk finds the routes by iterating ``app.routes`` (mounts included) and
fails when one has no entry in WALK below, so a new route cannot skip it.
Each route is called by each role of workspace A with workspace B's ids in
every path parameter (and B's ids in filters); it must answer exactly like a
missing id (404, or 403 when the role may not call it at all), and no answer
may contain anything of B's. Afterwards B's data must be unchanged.

Adding a route: add a ``Walk`` entry, naming which of B's rows fills each path
parameter (a key of KINDS, or a function of the World), and a body (JSON) or a
form that passes validation, so the call reaches the lookup (a 400 would prove
nothing). Calls carry A's member's API token, which every route accepts through
:func:`inbox.api.auth.authenticate` (no CSRF token needed for bearer calls).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from starlette.routing import BaseRoute, Mount, Route

from channels.fake import serve_on_loopback
from inbox.crypto import generate_token
from inbox.live.events import publish_event
from inbox.models import MODELS
from inbox.tenancy import scoped
from tests.inbox.api.seed import PASSWORD, WHATSAPP_CREDENTIALS, World, seed_world

EXEMPT_PREFIXES = ("/webhooks/",)  # providers' calls: authenticated by signature, not by role
EXEMPT_PATHS = frozenset({"/healthz", "/readyz"})
ROLES = ("owner", "admin", "agent")

KINDS: dict[str, Callable[[World], object]] = {
    "conversation": lambda w: w.conversation.id,
    "contact": lambda w: w.contact.id,
    "channel": lambda w: w.channel.id,
    "attachment": lambda w: w.attachment.id,
    "canned": lambda w: w.canned.id,
    "invitation": lambda w: w.invitation.id,
    "member": lambda w: w.agent.user.id,
    "message": lambda w: w.message.id,
    "note": lambda w: w.note.id,
    "tag": lambda w: w.tag.id,
}


@dataclass(frozen=True)
class Walk:
    """How to call one route with the other workspace's ids."""

    params: dict[str, str | Callable[[World], object]] = field(default_factory=dict)
    body: Any = None  # JSON; or a function (a, b, role) -> JSON
    form: dict[str, str | Callable[[World], object]] | None = None  # a form post instead
    query: dict[str, str | Callable[[World], object]] = field(default_factory=dict)
    expect: frozenset[int] | None = None  # statuses allowed besides "no leak" (no-id routes)
    sse: bool = False


def _self(role: str) -> Callable[[World], object]:
    return lambda w: w.member(role).user.email


WALK: dict[str, Walk] = {
    "POST /api/v1/auth/login": Walk(
        body=lambda a, b, role: {"email": a.member(role).user.email, "password": PASSWORD,
                                 "workspace": b.workspace.slug},
        expect=frozenset({401})),
    "POST /api/v1/auth/logout": Walk(expect=frozenset({400})),
    "POST /api/v1/auth/password": Walk(
        body={"current_password": "not-the-password", "new_password": "whatever-new"},
        expect=frozenset({400})),
    "GET /api/v1/me": Walk(expect=frozenset({200})),
    "GET /api/v1/members": Walk(expect=frozenset({200})),
    "PATCH /api/v1/members/{id}": Walk(params={"id": "member"}, body={"role": "agent"}),
    "DELETE /api/v1/members/{id}": Walk(params={"id": "member"}),
    "GET /api/v1/invitations": Walk(expect=frozenset({200, 403})),
    "POST /api/v1/invitations": Walk(body={"email": "walk@example.test"},
                                     expect=frozenset({201, 403})),
    "DELETE /api/v1/invitations/{id}": Walk(params={"id": "invitation"}),
    "POST /api/v1/invitations/accept": Walk(
        body=lambda a, b, role: {"token": generate_token("ibi_"), "password": PASSWORD},
        expect=frozenset({404})),
    "GET /api/v1/channels": Walk(expect=frozenset({200})),
    "POST /api/v1/channels": Walk(
        body={"kind": "whatsapp", "name": "walk", "credentials": WHATSAPP_CREDENTIALS},
        expect=frozenset({201, 403})),
    "DELETE /api/v1/channels/{id}": Walk(params={"id": "channel"}),
    "GET /api/v1/conversations": Walk(
        query={"channel": KINDS["channel"], "q": lambda w: w.marker},
        expect=frozenset({200})),
    "GET /api/v1/conversations/{id}": Walk(params={"id": "conversation"}),
    "PATCH /api/v1/conversations/{id}": Walk(
        params={"id": "conversation"}, body={"status": "resolved", "tags": ["walked"]}),
    "POST /api/v1/conversations/{id}/read": Walk(params={"id": "conversation"}),
    "GET /api/v1/conversations/{id}/messages": Walk(params={"id": "conversation"}),
    "POST /api/v1/conversations/{id}/messages": Walk(params={"id": "conversation"},
                                                     body={"text": "walk"}),
    "GET /api/v1/conversations/{id}/notes": Walk(params={"id": "conversation"}),
    "POST /api/v1/conversations/{id}/notes": Walk(params={"id": "conversation"},
                                                  body={"text": "walk"}),
    "GET /api/v1/attachments/{id}": Walk(params={"id": "attachment"}),
    "GET /api/v1/contacts": Walk(query={"q": lambda w: w.marker}, expect=frozenset({200})),
    "GET /api/v1/contacts/{id}": Walk(params={"id": "contact"}),
    "PATCH /api/v1/contacts/{id}": Walk(params={"id": "contact"},
                                        body={"display_name": "Walked", "tags": ["walked"]}),
    "GET /api/v1/contacts/{id}/avatar": Walk(params={"id": "contact"}),
    "GET /api/v1/canned-responses": Walk(expect=frozenset({200})),
    "POST /api/v1/canned-responses": Walk(body={"shortcut": "walk", "text": "walk"},
                                          expect=frozenset({201, 403, 409})),
    "GET /api/v1/canned-responses/{id}": Walk(params={"id": "canned"}),
    "PATCH /api/v1/canned-responses/{id}": Walk(params={"id": "canned"}, body={"text": "x"}),
    "DELETE /api/v1/canned-responses/{id}": Walk(params={"id": "canned"}),
    "GET /api/v1/events": Walk(sse=True),
    "GET /api/v1/openapi.json": Walk(expect=frozenset({200})),
}


def app_routes(routes: Sequence[BaseRoute], prefix: str = "") -> Iterator[str]:
    """"METHOD path" for every endpoint; "MOUNT path" for a mounted app without routes."""
    for route in routes:
        if isinstance(route, Mount):
            inner = route.routes
            if inner:
                yield from app_routes(inner, prefix + route.path)
            else:
                yield f"MOUNT {prefix + route.path}"
        elif isinstance(route, Route):
            for method in sorted(route.methods or {"GET"}):
                if method != "HEAD":
                    yield f"{method} {prefix + route.path}"
        else:
            yield f"{type(route).__name__} {prefix + getattr(route, 'path', '?')}"


def walked_routes(app) -> list[str]:
    found = []
    for key in app_routes(app.routes):
        path = key.split(" ", 1)[1]
        if path in EXEMPT_PATHS or path.startswith(EXEMPT_PREFIXES):
            continue
        found.append(key)
    return found


def test_every_route_has_a_walk_entry(settings):
    from inbox.app import create_app

    routes = walked_routes(create_app(settings))
    missing = sorted(set(routes) - set(WALK))
    assert not missing, f"add a Walk entry for: {missing}"
    stale = sorted(set(WALK) - set(routes))
    assert not stale, f"Walk entries for routes that no longer exist: {stale}"


def resolve(value: Any, world: World) -> str:
    if isinstance(value, str) and value in KINDS:
        return str(KINDS[value](world))
    if callable(value):
        return str(value(world))
    return str(value)


def secrets_of(world: World) -> list[str]:
    ids = [world.workspace.id, world.channel.id, world.contact.id, world.conversation.id,
           world.message.id, world.attachment.id, world.note.id, world.canned.id,
           world.invitation.id, world.tag.id, world.owner.user.id, world.admin.user.id,
           world.agent.user.id]
    return [world.marker, world.workspace.slug + ".test"] + [str(i) for i in ids]


async def snapshot(world: World) -> dict[str, Any]:
    """Every tenant row of the workspace, as values, to compare after the walk."""
    state: dict[str, Any] = {}
    for model in MODELS:
        if "workspace" in model._meta.fk_fields and not model._meta.abstract:
            from inbox.tenancy import TenantManager

            if isinstance(model._meta.manager, TenantManager):
                rows = await scoped(model, world.workspace).order_by("id").values()
                state[model.__name__] = [
                    {k: v for k, v in row.items() if k not in ("last_used_at",)} for row in rows
                ]
    return state


async def check_sse(app, a: World, b: World, role: str) -> None:
    """A's stream replays A's events only, never B's."""
    await publish_event(app.state.runtime.broker, b.workspace, "conversation.updated",
                        {"conversation_id": str(b.conversation.id), "status": "open"})
    own = await publish_event(app.state.runtime.broker, a.workspace, "conversation.updated",
                              {"conversation_id": str(a.conversation.id), "status": "open"})
    async with serve_on_loopback(app) as base, httpx.AsyncClient(base_url=base) as http:
        headers = a.member(role).headers | {"Last-Event-ID": "0-0"}
        async with http.stream("GET", "/api/v1/events", headers=headers) as answer:
            assert answer.status_code == 200
            text = ""
            async with asyncio.timeout(10):
                async for chunk in answer.aiter_text():
                    text += chunk
                    if f"id: {own}" in text:
                        break
    assert str(a.conversation.id) in text
    for secret in secrets_of(b):
        assert secret not in text


@pytest.mark.parametrize("role", ROLES)
async def test_no_route_leaks_another_workspace(settings, db, app, client, role):
    a = await seed_world(settings, "alpha")
    b = await seed_world(settings, "beta")
    before = await snapshot(b)
    routes = walked_routes(app)
    assert routes, "the walk found no routes"
    failures = []
    for key in routes:
        walk = WALK.get(key)
        if walk is None:
            continue  # reported by test_every_route_has_a_walk_entry
        method, path = key.split(" ", 1)
        if walk.sse:
            await check_sse(app, a, b, role)
            continue
        url = path
        for name, kind in walk.params.items():
            url = url.replace("{" + name + "}", resolve(kind, b))
        assert "{" not in url, f"{key}: a path parameter has no walk value"
        params = {name: resolve(value, b) for name, value in walk.query.items()}
        body = walk.body(a, b, role) if callable(walk.body) else walk.body
        form = {k: resolve(v, b) for k, v in walk.form.items()} if walk.form else None
        answer = await client.request(method, url, params=params,
                                      headers=a.member(role).headers, data=form,
                                      content=None if body is None else json.dumps(body))
        text = answer.text
        leaked = [s for s in secrets_of(b) if s in text]
        if leaked:
            failures.append(f"{key} as {role}: answered {answer.status_code} with B's data")
        if walk.params:
            allowed = {404} | ({403} if role == "agent" else set())
            if answer.status_code not in allowed:
                failures.append(f"{key} as {role}: {answer.status_code}, expected 404")
        elif walk.expect is not None and answer.status_code not in walk.expect:
            failures.append(f"{key} as {role}: {answer.status_code}, expected {walk.expect}")
    assert not failures, "\n".join(failures)
    assert await snapshot(b) == before, "a call with B's ids changed B's data"


async def test_the_walk_would_catch_a_leak(settings, db, app, client):
    """The positive control: with A's own ids, the id routes do answer 2xx."""
    a = await seed_world(settings, "alpha")
    ok = 0
    for key, walk in WALK.items():
        method, path = key.split(" ", 1)
        if method != "GET" or not walk.params:
            continue
        url = path
        for name, kind in walk.params.items():
            url = url.replace("{" + name + "}", resolve(kind, a))
        answer = await client.get(url, headers=a.owner.headers)
        if path.endswith("/avatar"):
            assert answer.status_code == 404  # the seeded contact has no avatar
            continue
        assert answer.status_code == 200, f"{key}: {answer.status_code}"
        ok += 1
    assert ok >= 6
