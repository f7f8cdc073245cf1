"""Signing in and out with a browser session, and changing one's password."""

from __future__ import annotations

from starlette.responses import JSONResponse, Response

from inbox.accounts.login import change_password, log_in, log_out
from inbox.api.auth import VIA_SESSION, clear_session_cookie, client_info, set_session_cookie
from inbox.api.routing import Access, Call, api_route
from inbox.api.schemas.accounts import (
    LoginIn,
    LoginOut,
    PasswordIn,
    PasswordOut,
    UserOut,
    WorkspaceOut,
)
from inbox.errors import InvalidInput

TAG = "auth"


async def login(call: Call) -> Response:
    body: LoginIn = call.body
    signed_in = await log_in(
        call.settings,
        call.broker,
        body.email,
        body.password,
        client_info(call.request),
        workspace_slug=body.workspace,
    )
    out = LoginOut(
        user=UserOut.of(signed_in.user),
        workspace=WorkspaceOut.of(signed_in.workspace),
        role=signed_in.membership.role,
        csrf_token=signed_in.session.csrf_token,
    )
    response = JSONResponse(out.model_dump(mode="json"))
    set_session_cookie(response, call.settings, signed_in.token)
    return response


async def logout(call: Call) -> Response:
    if call.me.via != VIA_SESSION or call.me.session is None:
        raise InvalidInput("only a browser session can log out", code="not_a_session")
    await log_out(call.me.session, client_info(call.request))
    response = Response(status_code=204)
    clear_session_cookie(response, call.settings)
    return response


async def password(call: Call) -> PasswordOut:
    body: PasswordIn = call.body
    ended = await change_password(
        call.me.user, body.current_password, body.new_password, call.me.session
    )
    return PasswordOut(other_sessions_ended=ended)


routes = [
    api_route("/auth/login", login, method="POST", tag=TAG, access=Access.PUBLIC, body=LoginIn,
              response=LoginOut,
              summary="Sign in: sets the session cookie and returns the CSRF token"),
    api_route("/auth/logout", logout, method="POST", tag=TAG, status=204,
              summary="End the browser session"),
    api_route("/auth/password", password, method="POST", tag=TAG, body=PasswordIn,
              response=PasswordOut,
              summary="Change the password; the user's other sessions end"),
]
