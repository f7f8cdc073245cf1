"""Who is looking at a page, and the guard every HTML route goes through.

Pages share the API's browser session (the same cookie, the same Session row)
and the API's authentication (:func:`inbox.api.auth.authenticate`). A form
cannot send headers, so for a form POST the hidden ``csrf_token`` field plays
the part of the ``X-CSRF-Token`` header: it is put in that header's place and
the API's own check compares it with the session's token.

:func:`page` wraps an endpoint: no session → redirect to the login page;
an :class:`~inbox.errors.AppError` on a GET → an HTML error page with its
status; on a form POST → back to the page the form came from, with the error's
message as a notice.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from starlette.datastructures import FormData
from starlette.requests import HTTPConnection, Request
from starlette.responses import Response

from inbox.api.auth import CSRF_HEADER, Principal, authenticate
from inbox.errors import AppError, Forbidden, InvalidInput, NotFound, Unauthorized
from inbox.runtime import Runtime
from inbox.web.flash import FLASH_COOKIE, clear_flash, read_flash, set_flash
from inbox.web.templating import redirect, render

logger = logging.getLogger(__name__)

FORM_MAX_FIELDS = 50
ERROR_TITLES = {
    400: "That did not work",
    403: "Not allowed",
    404: "Not found",
    409: "That did not work",
    429: "Too many attempts",
}


@dataclass(frozen=True)
class Viewer:
    """The signed-in member, as templates see them."""

    principal: Principal
    demo: bool

    @property
    def user_id(self) -> str:
        return str(self.principal.user.id)

    @property
    def email(self) -> str:
        return self.principal.user.email

    @property
    def display_name(self) -> str:
        return member_name(self.principal.user.display_name, self.principal.user.email)

    @property
    def role(self) -> str:
        return self.principal.role

    @property
    def is_admin(self) -> bool:
        return self.principal.is_admin

    @property
    def workspace(self) -> Any:
        return self.principal.workspace

    @property
    def workspace_name(self) -> str:
        return self.principal.workspace.name

    @property
    def csrf_token(self) -> str:
        session = self.principal.session
        return session.csrf_token if session is not None else ""


def member_name(display_name: str | None, email: str) -> str:
    """What the team sees for a member: their name, else their address's local part."""
    return (display_name or "").strip() or email.split("@", 1)[0]


def runtime_of(request: HTTPConnection) -> Runtime:
    return request.app.state.runtime


async def read_form(request: Request) -> FormData:
    return await request.form(max_files=0, max_fields=FORM_MAX_FIELDS)


def with_csrf_header(request: Request, token: str) -> HTTPConnection:
    """The same connection, with the form's token where the API expects the header."""
    scope = dict(request.scope)
    headers = [(k, v) for k, v in request.scope["headers"] if k.decode().lower() != CSRF_HEADER]
    headers.append((CSRF_HEADER.encode(), token.encode()))
    scope["headers"] = headers
    return HTTPConnection(scope)


async def find_viewer(request: Request, form: FormData | None = None) -> Viewer:
    """The viewer; for a POST, ``form`` holds the CSRF token. Raises Unauthorized."""
    connection: HTTPConnection = request
    if request.method not in ("GET", "HEAD"):
        token = str((form or {}).get("csrf_token", ""))
        connection = with_csrf_header(request, token)
    principal = await authenticate(connection)
    if principal.session is None:
        # Pages are for browsers; an API token never opens them.
        raise Unauthorized("sign in with the browser", code="unauthorized")
    return Viewer(principal, runtime_of(request).settings.demo)


def safe_back(value: object, default: str) -> str:
    """A local path to go back to after a form; anything else is ignored."""
    text = str(value or "")
    parts = urlsplit(text)
    if not text.startswith("/") or text.startswith("//") or parts.scheme or parts.netloc:
        return default
    if "\\" in text:
        return default
    return text


def login_redirect(request: Request) -> Response:
    target = request.url.path
    if request.url.query:
        target += "?" + request.url.query
    if request.method != "GET":
        target = "/inbox"
    return redirect("/login?next=" + quote(target, safe="/"))


def error_page(request: Request, exc: AppError) -> Response:
    title = ERROR_TITLES.get(exc.status, "Something went wrong")
    return render(
        request, "errors/error.html", {"title": title, "message": exc.message}, status=exc.status
    )


Endpoint = Callable[..., Awaitable[Response]]


def page(*, admin: bool = False, fallback: str = "/inbox") -> Callable[[Endpoint], Endpoint]:
    """Decorate ``endpoint(request, viewer[, form])`` as an HTML route.

    GET endpoints receive ``(request, viewer)``; POST endpoints receive
    ``(request, viewer, form)`` and answer with a redirect. ``admin``: agents
    get 403. ``fallback``: where a failed form goes back to when it names none.
    """

    def decorate(endpoint: Endpoint) -> Endpoint:
        @functools.wraps(endpoint)
        async def wrapped(request: Request) -> Response:
            posted = request.method == "POST"
            form = await read_form(request) if posted else None
            try:
                viewer = await find_viewer(request, form)
            except Unauthorized:
                return login_redirect(request)
            except Forbidden as exc:
                if exc.code == "csrf":
                    # A stale form (e.g. after logging in again): start over, nothing done.
                    return error_page(request, InvalidInput("the form expired; reload the page"))
                raise
            try:
                if admin and not viewer.is_admin:
                    raise Forbidden("only admins of this workspace can open this page")
                if posted:
                    return await endpoint(request, viewer, form)
                return await endpoint(request, viewer)
            except AppError as exc:
                if not posted or isinstance(exc, Forbidden | NotFound):
                    return error_page(request, exc)
                back = safe_back((form or {}).get("back"), fallback)
                response = redirect(back)
                settings = runtime_of(request).settings
                assert settings.secret_key
                set_flash(response, settings.secret_key, "error", exc.message,
                          secure=settings.public_https)
                return response

        return wrapped

    return decorate


def notice_redirect(request: Request, url: str, text: str) -> Response:
    """Redirect to ``url`` with a success notice."""
    response = redirect(url)
    settings = runtime_of(request).settings
    assert settings.secret_key
    set_flash(response, settings.secret_key, "notice", text, secure=settings.public_https)
    return response


def flash_of(request: Request) -> dict[str, str]:
    settings = runtime_of(request).settings
    assert settings.secret_key
    values = read_flash(request, settings.secret_key)
    return {"notice": values.get("notice", ""), "error": values.get("error", "")}


def render_page(
    request: Request,
    viewer: Viewer,
    name: str,
    context: dict[str, Any],
    *,
    section: str,
    status: int = 200,
) -> Response:
    """A signed-in page: the viewer, the pending notice (shown once), the section."""
    here = request.url.path + ("?" + request.url.query if request.url.query else "")
    values = {"me": viewer, "section": section, "here": here, **flash_of(request)}
    values.update(context)
    response = render(request, name, values, status=status)
    if request.cookies.get(FLASH_COOKIE):
        clear_flash(response)
    return response
