"""Tenant isolation, route by route: every route of the app, every role.

The walk finds the routes by iterating ``app.routes`` (mounts included) and
fails when one has no entry in WALK below, so a new route cannot skip it.
Each route is called by each role of workspace A with workspace B's ids in
every path parameter (and B's ids in filters); it must answer exactly like a
missing id (404, or 403 when the role may not call it at all), and no answer
may contain anything of B's. Afterwards B's data must be unchanged.

Adding a route: add a ``Walk`` entry, naming which of B's rows fills each path
parameter (a key of KINDS, or a function of the World), and a body (JSON) or a
form that passes validation, so the call reaches the lookup (a 400, or a page's
redirect back with an error notice, would prove nothing). API calls carry A's
member's API token, which every API route accepts through
:func:`inbox.api.auth.authenticate` (no CSRF token needed for bearer calls).

Pages refuse API tokens, so a ``browser`` walk signs A's member in the way a
browser is: a fresh session per call (logging out or changing the password
cannot spoil the next call), its cookie, and its CSRF token in the form. A page
answering with a redirect is followed once, with the cookies it set, and the
page it leads to (with its one-shot notice) is checked as well. A page may echo
what the caller typed (a search box, the filters in its links), so the values
the call itself sent that hold B's data (an id in a filter) are cut out of the
answer before looking for B's data. A search term is only a piece of B's marker:
it is not cut, and a leaked name would still show the whole marker.
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
from inbox.accounts.sessions import create_session
from inbox.api.auth import SESSION_COOKIE
from inbox.crypto import generate_token
from inbox.live.events import build_conversation_event, publish_event
from inbox.models import MODELS
from inbox.settings import Settings
from inbox.tenancy import scoped
from inbox.web.pages_auth import LOGIN_CSRF_COOKIE
from tests.inbox.api.seed import PASSWORD, WHATSAPP_CREDENTIALS, World, seed_world

EXEMPT_PREFIXES = ("/webhooks/",)  # providers' calls: authenticated by signature, not by role
EXEMPT_PATHS = frozenset({"/healthz", "/readyz"})  # no caller, no workspace, no data
EXEMPT_ROUTES = {  # route: why it has no walk
    "MOUNT /static": "the app's own CSS, scripts and icons: the same files for everyone, "
                     "served without looking at the caller or any row",
}
ROLES = ("owner", "admin", "agent")
REDIRECTS = frozenset({302, 303, 307})
SIGN_IN_REDIRECT = "/login?next="
BASE_URL = "http://inbox.test"

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
    # a form post instead; or a function (a, b, role) -> form
    form: dict[str, str | Callable[[World], object]] | Callable[..., dict] | None = None
    query: dict[str, str | Callable[[World], object]] = field(default_factory=dict)
    expect: frozenset[int] | None = None  # statuses allowed besides "no leak" (no-id routes)
    sse: bool = False
    browser: bool = False  # a page: signed in with a session cookie, not an API token


def _self(role: str) -> Callable[[World], object]:
    return lambda w: w.member(role).user.email


def _page(**values: Any) -> Walk:
    return Walk(browser=True, **values)


def _part_of_marker(world: World) -> str:
    """Matches B's names (substring search) without being B's marker itself."""
    return world.marker[1:-1]


def _fresh_email(world: World) -> str:
    return f"walk-{generate_token()[:10].lower()}@example.test"


FILTERS: dict[str, str | Callable[[World], object]] = {
    "channel": "channel", "tag": lambda w: w.tag.name, "q": _part_of_marker,
}
OWN_LIST = frozenset({200})
ADMIN_PAGE = frozenset({200, 403})
ADMIN_FORM = frozenset({303, 403})
RETENTION_FORM: dict[str, str | Callable[[World], object]] = {
    "messages_days_mode": "days", "messages_days": "400",
    "attachments_days_mode": "forever", "resolved_conversations_days_mode": "forever",
    "inactive_contacts_days_mode": "forever", "exports_days_mode": "days", "exports_days": "7",
    "audit_days_mode": "forever",
}


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
    "GET /api/v1/workspace/retention": Walk(expect=frozenset({200})),
    "PUT /api/v1/workspace/retention": Walk(body={"messages_days": 400},
                                            expect=frozenset({200, 403})),
    "GET /api/v1/workspace/retention/preview": Walk(expect=frozenset({200, 403})),
    "GET /api/v1/workspace/retention/runs": Walk(expect=frozenset({200, 403})),
    # Pages. Signing in to B with A's member's address: refused like a wrong password.
    "GET /": _page(expect=frozenset({307})),
    "GET /login": _page(expect=frozenset({303})),  # signed in already: on to the inbox
    "POST /login": _page(
        form=lambda a, b, role: {"email": a.member(role).user.email, "password": PASSWORD,
                                 "workspace": b.workspace.slug},
        expect=frozenset({401})),
    "POST /logout": _page(expect=frozenset({303})),
    # An invitation link is its own credential (a token of B's rightly shows B's
    # invitation); an unknown one must answer like any missing row.
    "GET /invite/{token}": _page(params={"token": lambda w: generate_token("ibi_")}),
    "POST /invite/{token}": _page(params={"token": lambda w: generate_token("ibi_")},
                                  form={"password": PASSWORD, "display_name": "Walk"}),
    "GET /account/password": _page(expect=OWN_LIST),
    "POST /account/password": _page(
        form={"current_password": "not-the-password", "new_password": "whatever-new-1"},
        expect=frozenset({303})),
    "GET /inbox": _page(query=FILTERS, expect=OWN_LIST),
    "GET /inbox/c/{id}": _page(params={"id": "conversation"}),
    "POST /inbox/c/{id}/reply": _page(params={"id": "conversation"}, form={"text": "walk"}),
    "POST /inbox/c/{id}/template": _page(
        params={"id": "conversation"}, form={"template": "HX" + "0" * 32, "variables": "a"}),
    "POST /inbox/c/{id}/assign": _page(params={"id": "conversation"}, form={"assignee_id": ""}),
    "POST /inbox/c/{id}/status": _page(params={"id": "conversation"},
                                       form={"status": "resolved"}),
    "POST /inbox/c/{id}/tags": _page(params={"id": "conversation"},
                                     form={"add": "walked", "remove": lambda w: w.tag.name}),
    "POST /inbox/m/{id}/retry": _page(params={"id": "message"}),
    "GET /inbox/fragments/message/{id}": _page(params={"id": "message"}),
    "GET /inbox/fragments/conversation/{id}": _page(params={"id": "conversation"},
                                                    query=FILTERS),
    "GET /inbox/fragments/list": _page(query=FILTERS, expect=OWN_LIST),
    "GET /inbox/fragments/older/{id}": _page(params={"id": "conversation"}),
    "GET /inbox/fragments/notes/{id}": _page(params={"id": "conversation"}),
    "GET /inbox/fragments/head/{id}": _page(params={"id": "conversation"}),
    "GET /contacts": _page(query={"q": _part_of_marker}, expect=OWN_LIST),
    "GET /contacts/{id}": _page(params={"id": "contact"}),
    "GET /settings": _page(expect=frozenset({307, 403})),
    "GET /settings/team": _page(expect=ADMIN_PAGE),
    "POST /settings/team/invite": _page(form={"email": _fresh_email, "role": "agent"},
                                        expect=ADMIN_PAGE),
    "POST /settings/team/{user_id}/role": _page(params={"user_id": "member"},
                                                form={"role": "admin"}),
    "POST /settings/team/{user_id}/remove": _page(params={"user_id": "member"}),
    "GET /settings/channels": _page(expect=ADMIN_PAGE),
    "POST /settings/channels": _page(
        form={"kind": "whatsapp", "name": "walk",
              **{f"cred_{k}": v for k, v in WHATSAPP_CREDENTIALS.items()}},
        expect=ADMIN_FORM),
    "POST /settings/channels/{id}/test": _page(params={"id": "channel"}),
    "POST /settings/channels/{id}/delete": _page(params={"id": "channel"},
                                                 form={"confirm": lambda w: w.channel.name}),
    "GET /settings/canned": _page(expect=ADMIN_PAGE),
    "POST /settings/canned": _page(form={"shortcut": "walk", "text": "walk"},
                                   expect=ADMIN_FORM),
    "POST /settings/canned/{id}/delete": _page(params={"id": "canned"}),
    "GET /settings/retention": _page(expect=ADMIN_PAGE),
    "POST /settings/retention": _page(form=RETENTION_FORM, expect=ADMIN_FORM),
    "POST /settings/retention/preview": _page(form=RETENTION_FORM, expect=ADMIN_PAGE),
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
        if path in EXEMPT_PATHS or path.startswith(EXEMPT_PREFIXES) or key in EXEMPT_ROUTES:
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
    listed = set(app_routes(create_app(settings).routes))
    assert set(EXEMPT_ROUTES) <= listed, "an exemption names a route that no longer exists"


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
                        build_conversation_event(b.conversation.id))
    own = await publish_event(app.state.runtime.broker, a.workspace, "conversation.updated",
                              build_conversation_event(a.conversation.id))
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


@dataclass
class Answer:
    status: int
    text: str  # the body, headers included; after a redirect, the page it leads to too
    location: str
    sent: list[str] = field(default_factory=list)  # query and form values of the call


def leaked_secrets(answer: Answer, secrets: Sequence[str]) -> list[str]:
    """B's values in the answer, once what the call itself sent is cut out (a page
    may echo a filter). Only sent values holding a secret are cut: cutting a piece
    of the marker would hide the marker in a leaked name."""
    text = answer.text
    echoes = [v for v in answer.sent if any(secret in v for secret in secrets)]
    for value in sorted(echoes, key=len, reverse=True):
        text = text.replace(value, "")
    return [secret for secret in secrets if secret in text]


async def browser_call(
    app, settings: Settings, caller: World, role: str, method: str, url: str,
    params: dict[str, str], form: dict[str, str] | None,
) -> Answer:
    """Call a page as ``caller``'s member signed in with a browser."""
    session = await create_session(settings, caller.workspace, caller.member(role).user)
    csrf = session.session.csrf_token
    # The pre-session forms (login, invitation) compare their field with a cookie
    # of their own; giving both the session's value lets one field serve either.
    cookies = {SESSION_COOKIE: session.token, LOGIN_CSRF_COOKIE: csrf}
    data = None
    if method == "POST":
        data = {"csrf_token": csrf, **(form or {})}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL,
                                 cookies=cookies) as http:
        answer = await http.request(method, url, params=params, data=data)
        text = "\n".join(f"{k}: {v}" for k, v in answer.headers.items()) + "\n" + answer.text
        location = answer.headers.get("location", "")
        if answer.status_code in REDIRECTS and location.startswith("/"):
            # The cookies it set (a notice, a cleared session) go along.
            landing = await http.get(location)
            text += "\n" + landing.text
    return Answer(answer.status_code, text, location)


async def call_route(
    app, client: httpx.AsyncClient, settings: Settings, key: str, walk: Walk,
    caller: World, role: str, ids: World,
) -> Answer:
    """Call one route as ``caller``'s member, with ``ids``'s rows in its parameters."""
    method, path = key.split(" ", 1)
    url = path
    for name, kind in walk.params.items():
        url = url.replace("{" + name + "}", resolve(kind, ids))
    assert "{" not in url, f"{key}: a path parameter has no walk value"
    params = {name: resolve(value, ids) for name, value in walk.query.items()}
    body = walk.body(caller, ids, role) if callable(walk.body) else walk.body
    if callable(walk.form):
        form = walk.form(caller, ids, role)
    else:
        form = {k: resolve(v, ids) for k, v in walk.form.items()} if walk.form else None
    sent = [*params.values(), *(form or {}).values()]
    if walk.browser:
        answer = await browser_call(app, settings, caller, role, method, url, params, form)
        answer.sent = sent
        return answer
    answer = await client.request(method, url, params=params,
                                  headers=caller.member(role).headers, data=form,
                                  content=None if body is None else json.dumps(body))
    return Answer(answer.status_code, answer.text, answer.headers.get("location", ""), sent)


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
        if walk.sse:
            await check_sse(app, a, b, role)
            continue
        answer = await call_route(app, client, settings, key, walk, a, role, b)
        if leaked_secrets(answer, secrets_of(b)):
            failures.append(f"{key} as {role}: answered {answer.status} with B's data")
        if answer.location.startswith(SIGN_IN_REDIRECT):
            failures.append(f"{key} as {role}: sent to sign in, so the walk proved nothing")
        if walk.params:
            allowed = {404} | ({403} if role == "agent" else set())
            if answer.status not in allowed:
                failures.append(f"{key} as {role}: {answer.status}, expected 404")
        elif walk.expect is not None and answer.status not in walk.expect:
            failures.append(f"{key} as {role}: {answer.status}, expected {walk.expect}")
    assert not failures, "\n".join(failures)
    assert await snapshot(b) == before, "a call with B's ids changed B's data"


async def test_the_walk_would_catch_a_leak(settings, db, app, client):
    """The positive control: with A's own ids, the id routes do answer 2xx, and
    the pages show A's data, where B's would show if a lookup were not scoped."""
    a = await seed_world(settings, "alpha")
    ok = pages = 0
    for key, walk in WALK.items():
        method, path = key.split(" ", 1)
        if method != "GET" or not walk.params:
            continue
        if not all(isinstance(kind, str) and kind in KINDS for kind in walk.params.values()):
            continue  # not a row of the workspace (an invitation link's token)
        answer = await call_route(app, client, settings, key, walk, a, "owner", a)
        if path.endswith("/avatar"):
            assert answer.status == 404  # the seeded contact has no avatar
            continue
        assert answer.status == 200, f"{key}: {answer.status}"
        ok += 1
        if walk.browser:
            shown = leaked_secrets(answer, secrets_of(a))
            assert a.marker in shown, f"{key}: A's own page does not show A's data"
            pages += 1
    assert ok >= 6
    assert pages >= 6
