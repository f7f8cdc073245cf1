"""Writing connection data (SystemLog): the only record of staff activity.

Exactly one row is written for each of these events and for nothing else:

- ``login``: a successful sign-in, which is also the start of the browser session;
- ``login_failed``: a refused sign-in (wrong password, unknown account);
- ``logout``: a session ended by its user;
- ``api_token``: an API token used. To keep the table proportionate, token use
  is recorded at most once per token per minute, the same moment its
  ``last_used_at`` moves (see :data:`inbox.accounts.tokens.TOKEN_TOUCH_INTERVAL`).

No other table records what a user did or when (no last-login column, no analytics).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from tortoise.backends.base.client import BaseDBAsyncClient

from inbox.models import SystemLog
from inbox.models.base import utcnow

LOGIN = "login"
LOGIN_FAILED = "login_failed"
LOGOUT = "logout"
API_TOKEN = "api_token"  # noqa: S105 - an event name
EVENTS = frozenset({LOGIN, LOGIN_FAILED, LOGOUT, API_TOKEN})

USER_AGENT_MAX_LENGTH = 400
IP_MAX_LENGTH = 45


@dataclass(frozen=True)
class ClientInfo:
    """Where a request came from: the connection data the law asks us to keep."""

    ip: str | None = None
    user_agent: str | None = None


async def record_connection(
    event: str,
    client: ClientInfo,
    *,
    user_id: uuid.UUID | None,
    workspace_id: uuid.UUID | None,
    using_db: BaseDBAsyncClient | None = None,
) -> SystemLog:
    """Write the one SystemLog row of a sign-in event."""
    if event not in EVENTS:
        raise ValueError(f"{event} is not a connection event")
    return await SystemLog.create(
        at=utcnow(),
        event=event,
        ip=(client.ip or None) and client.ip[:IP_MAX_LENGTH],
        user_agent=(client.user_agent or None) and client.user_agent[:USER_AGENT_MAX_LENGTH],
        user_id=user_id,
        workspace_id=workspace_id,
        using_db=using_db,
    )
