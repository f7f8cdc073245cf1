"""Who is calling: request authentication for every /api/v1 route.

Two ways in, both resolved to a :class:`Principal` (user, workspace, role):

- ``Authorization: Bearer <API token>``: looked up by hash; its use is recorded
  at most once a minute (``last_used_at`` and one SystemLog row);
- the session cookie set by ``POST /api/v1/auth/login``: a server-side Session
  row, looked up by hash. State-changing requests (anything but GET, HEAD and
  OPTIONS) must repeat the session's CSRF token in the ``X-CSRF-Token`` header.

The membership is read on every request, so a removed member or a changed role
takes effect at once. Use from any route::

    principal = await authenticate(request)   # 401 when not signed in
    require_admin(principal)                  # 403 for agents

or declare the access level with :func:`inbox.api.routing.api_route`, which does
both and documents the route in the OpenAPI document.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from starlette.requests import HTTPConnection
from starlette.responses import Response

from inbox.accounts.sessions import find_session
from inbox.accounts.system_log import ClientInfo
from inbox.accounts.tokens import find_api_token, touch_api_token
from inbox.errors import Forbidden, Unauthorized
from inbox.models import ApiToken, Membership, Role, Session, User, Workspace
from inbox.settings import Settings
from inbox.tenancy import scoped

SESSION_COOKIE = "inbox_session"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
ADMIN_ROLES = frozenset({Role.OWNER.value, Role.ADMIN.value})
VIA_SESSION = "session"
VIA_TOKEN = "token"  # noqa: S105 - a label


@dataclass(frozen=True)
class Principal:
    """The authenticated caller: always exactly one workspace."""

    user: User
    workspace: Workspace
    membership: Membership
    via: str  # "session" or "token"
    session: Session | None = None
    token: ApiToken | None = None

    @property
    def role(self) -> str:
        return self.membership.role

    @property
    def is_admin(self) -> bool:
        return self.membership.role in ADMIN_ROLES


def client_info(connection: HTTPConnection) -> ClientInfo:
    """The peer address (uvicorn's proxy_headers resolves trusted X-Forwarded-For)."""
    host = connection.client.host if connection.client else None
    return ClientInfo(ip=host, user_agent=connection.headers.get("user-agent"))


def not_signed_in() -> Unauthorized:
    return Unauthorized("sign in or send a valid API token", code="unauthorized")


async def _membership(workspace_id: object, user_id: object) -> Membership | None:
    return await scoped(Membership, workspace_id).filter(user_id=user_id).first()


async def _from_token(connection: HTTPConnection, token: str) -> Principal:
    api_token = await find_api_token(token)
    if api_token is None:
        raise not_signed_in()
    membership = await _membership(api_token.workspace_id, api_token.user_id)
    if membership is None:
        raise not_signed_in()
    await touch_api_token(api_token, client_info(connection))
    return Principal(
        api_token.user, api_token.workspace, membership, VIA_TOKEN, token=api_token
    )


async def _from_session(connection: HTTPConnection, token: str) -> Principal:
    session = await find_session(token)
    if session is None:
        raise not_signed_in()
    membership = await _membership(session.workspace_id, session.user_id)
    if membership is None:
        raise not_signed_in()
    method = connection.scope.get("method", "GET")
    if method not in SAFE_METHODS:
        sent = connection.headers.get(CSRF_HEADER, "")
        if not sent or not hmac.compare_digest(sent, session.csrf_token):
            raise Forbidden("missing or wrong X-CSRF-Token header", code="csrf")
    return Principal(session.user, session.workspace, membership, VIA_SESSION, session=session)


async def authenticate(connection: HTTPConnection) -> Principal:
    """The caller of this request, or 401; cached for the rest of the request."""
    cached = getattr(connection.state, "principal", None)
    if cached is not None:
        return cached
    authorization = connection.headers.get("authorization")
    if authorization is not None:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise not_signed_in()
        principal = await _from_token(connection, token.strip())
    elif cookie := connection.cookies.get(SESSION_COOKIE):
        principal = await _from_session(connection, cookie)
    else:
        raise not_signed_in()
    connection.state.principal = principal
    return principal


def require_admin(principal: Principal) -> Principal:
    """403 unless the caller is an owner or an admin of its workspace."""
    if not principal.is_admin:
        raise Forbidden("only admins can do this", code="admin_only")
    return principal


def require_owner(principal: Principal) -> Principal:
    if principal.role != Role.OWNER.value:
        raise Forbidden("only owners can do this", code="owner_only")
    return principal


def set_session_cookie(response: Response, settings: Settings, token: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=settings.session_max_age_days * 86400,
        path="/",
        httponly=True,
        secure=settings.public_https,
        samesite="lax",
    )


def clear_session_cookie(response: Response, settings: Settings) -> None:
    response.delete_cookie(
        SESSION_COOKIE, path="/", httponly=True, secure=settings.public_https, samesite="lax"
    )
