"""Signing in and out, accepting an invitation, changing one's password.

The pages call the same account functions as the API (``inbox.accounts``) and
set the same session cookie. The login and invitation forms come before any
session exists, so they carry a token of their own: a random value in a
short-lived cookie that the form must repeat (double submit).
"""

from __future__ import annotations

import hmac
import secrets
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from inbox.accounts.invitations import accept_invitation
from inbox.accounts.login import change_password, log_in, log_out
from inbox.accounts.passwords import MIN_PASSWORD_LENGTH
from inbox.api.auth import clear_session_cookie, client_info, set_session_cookie
from inbox.errors import AppError, InvalidInput, Unauthorized
from inbox.web.access import (
    Viewer,
    find_viewer,
    notice_redirect,
    page,
    read_form,
    render_page,
    runtime_of,
    safe_back,
)
from inbox.web.lookups import find_invitation
from inbox.web.templating import redirect, render

LOGIN_CSRF_COOKIE = "inbox_login_csrf"
LOGIN_CSRF_MAX_AGE_SECONDS = 3600
INBOX_URL = "/inbox"


def new_login_csrf(request: Request) -> str:
    """The pre-session token: reuse the cookie's, else a fresh one."""
    return request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(24)


def attach_login_csrf(request: Request, response: Response, value: str) -> Response:
    settings = runtime_of(request).settings
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        value,
        max_age=LOGIN_CSRF_MAX_AGE_SECONDS,
        httponly=True,
        samesite="strict",
        secure=settings.public_https,
        path="/",
    )
    return response


def check_login_csrf(request: Request, form: FormData) -> None:
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    sent = str(form.get("csrf_token", ""))
    if not cookie or not sent or not hmac.compare_digest(cookie, sent):
        raise InvalidInput("the form expired; please try again", code="csrf")


def demo_login(request: Request) -> dict[str, str] | None:
    if not runtime_of(request).settings.demo:
        return None
    from inbox.demo import DEMO_EMAIL, DEMO_PASSWORD

    return {"email": DEMO_EMAIL, "password": DEMO_PASSWORD}


def render_login(
    request: Request, *, status: int = 200, error: str = "", values: dict[str, str] | None = None
) -> Response:
    token = new_login_csrf(request)
    values = values or {}
    context: dict[str, Any] = {
        "login_csrf": token,
        "next_url": safe_back(values.get("next") or request.query_params.get("next"), INBOX_URL),
        "email": values.get("email", ""),
        "workspace": values.get("workspace", ""),
        "demo_login": demo_login(request),
        "notice": "",
        "error": error,
    }
    response = render(request, "auth/login.html", context, status=status)
    return attach_login_csrf(request, response, token)


async def login_form(request: Request) -> Response:
    try:
        await find_viewer(request)
    except AppError:
        return render_login(request)
    return redirect(INBOX_URL)


async def login_submit(request: Request) -> Response:
    form = await read_form(request)
    values = {key: str(form.get(key, "")) for key in ("email", "workspace", "next")}
    runtime = runtime_of(request)
    try:
        check_login_csrf(request, form)
        signed_in = await log_in(
            runtime.settings,
            runtime.broker,
            values["email"],
            str(form.get("password", "")),
            client_info(request),
            workspace_slug=values["workspace"] or None,
        )
    except AppError as exc:
        response = render_login(request, status=exc.status, error=exc.message, values=values)
        for key, value in (getattr(exc, "headers", None) or {}).items():
            response.headers[key] = value
        return response
    response = redirect(safe_back(values["next"], INBOX_URL))
    set_session_cookie(response, runtime.settings, signed_in.token)
    return response


@page()
async def logout(request: Request, viewer: Viewer, form: FormData) -> Response:
    assert viewer.principal.session is not None
    await log_out(viewer.principal.session, client_info(request))
    response = redirect("/login")
    clear_session_cookie(response, runtime_of(request).settings)
    return response


async def invite_form(request: Request) -> Response:
    token = request.path_params["token"]
    return await render_invite(request, token)


async def render_invite(
    request: Request, token: str, *, error: str = "", status: int = 200
) -> Response:
    found = await find_invitation(token)
    if found is None:
        return render(
            request,
            "errors/error.html",
            {"title": "Invitation not valid",
             "message": "This invitation is invalid, was already used, or has expired. "
                        "Ask an admin of the workspace for a new one."},
            status=404,
        )
    login_csrf = new_login_csrf(request)
    context = {
        "token": token,
        "workspace_name": found.workspace_name,
        "email": found.email,
        "role": found.role,
        "needs_password": not found.has_account,
        "min_password": MIN_PASSWORD_LENGTH,
        "login_csrf": login_csrf,
        "notice": "",
        "error": error,
    }
    response = render(request, "auth/invite.html", context, status=status)
    return attach_login_csrf(request, response, login_csrf)


async def invite_submit(request: Request) -> Response:
    token = request.path_params["token"]
    form = await read_form(request)
    password = str(form.get("password", ""))
    runtime = runtime_of(request)
    try:
        check_login_csrf(request, form)
        accepted = await accept_invitation(token, password, str(form.get("display_name", "")))
        signed_in = await log_in(
            runtime.settings,
            runtime.broker,
            accepted.user.email,
            password,
            client_info(request),
            workspace_slug=accepted.workspace.slug,
        )
    except (InvalidInput, Unauthorized) as exc:
        return await render_invite(request, token, error=exc.message, status=exc.status)
    response = redirect(INBOX_URL)
    set_session_cookie(response, runtime.settings, signed_in.token)
    return response


@page()
async def password_form(request: Request, viewer: Viewer) -> Response:
    return render_page(
        request, viewer, "auth/password.html", {"min_password": MIN_PASSWORD_LENGTH},
        section="account",
    )


@page(fallback="/account/password")
async def password_submit(request: Request, viewer: Viewer, form: FormData) -> Response:
    ended = await change_password(
        viewer.principal.user,
        str(form.get("current_password", "")),
        str(form.get("new_password", "")),
        viewer.principal.session,
    )
    others = "no other session was open" if not ended else f"{ended} other session(s) ended"
    return notice_redirect(request, "/account/password", f"Password changed; {others}.")


routes = [
    Route("/login", login_form, methods=["GET"]),
    Route("/login", login_submit, methods=["POST"]),
    Route("/logout", logout, methods=["POST"]),
    Route("/invite/{token}", invite_form, methods=["GET"]),
    Route("/invite/{token}", invite_submit, methods=["POST"]),
    Route("/account/password", password_form, methods=["GET"]),
    Route("/account/password", password_submit, methods=["POST"]),
]
