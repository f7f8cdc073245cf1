"""Server-side browser sessions: the cookie holds a random token, we keep its hash.

Sessions expire after ``settings.session_max_age_days`` and can be revoked one by
one (logout), per member of a workspace (removal) or per user (password change).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from tortoise.backends.base.client import BaseDBAsyncClient

from inbox.crypto import generate_token, hash_token
from inbox.models import Session, User, Workspace
from inbox.models.base import utcnow
from inbox.settings import Settings
from inbox.tenancy import WorkspaceRef, scoped, unscoped

SESSION_TOKEN_PREFIX = "ibs_"  # noqa: S105 - a prefix, not a secret


@dataclass
class NewSession:
    session: Session
    token: str  # the cookie value, shown to the browser once


async def create_session(
    settings: Settings,
    workspace: Workspace,
    user: User,
    *,
    using_db: BaseDBAsyncClient | None = None,
) -> NewSession:
    token = generate_token(SESSION_TOKEN_PREFIX)
    session = await Session.create(
        workspace=workspace,
        user=user,
        token_hash=hash_token(token),
        csrf_token=generate_token(),
        expires_at=utcnow() + timedelta(days=settings.session_max_age_days),
        using_db=using_db,
    )
    return NewSession(session, token)


async def find_session(token: str) -> Session | None:
    """The live session a cookie names, with its user and workspace, or None."""
    if not token:
        return None
    session = (
        await unscoped(Session, reason="a session cookie finds its workspace")
        .filter(token_hash=hash_token(token), revoked_at__isnull=True, expires_at__gt=utcnow())
        .select_related("user", "workspace")
        .first()
    )
    return session


async def revoke_session(workspace: WorkspaceRef, session_id: uuid.UUID) -> bool:
    updated = await scoped(Session, workspace).filter(
        id=session_id, revoked_at__isnull=True
    ).update(revoked_at=utcnow())
    return updated > 0


async def revoke_member_sessions(
    workspace: WorkspaceRef, user_id: uuid.UUID, *, using_db: BaseDBAsyncClient | None = None
) -> int:
    query = scoped(Session, workspace).filter(user_id=user_id, revoked_at__isnull=True)
    if using_db is not None:
        query = query.using_db(using_db)
    return await query.update(revoked_at=utcnow())


async def revoke_user_sessions_except(
    user_id: uuid.UUID, keep_session_id: uuid.UUID | None, *,
    using_db: BaseDBAsyncClient | None = None,
) -> int:
    """Every other session of a user, in every workspace (after a password change)."""
    query = unscoped(Session, reason="a password change signs the user out everywhere").filter(
        user_id=user_id, revoked_at__isnull=True
    )
    if keep_session_id is not None:
        query = query.exclude(id=keep_session_id)
    if using_db is not None:
        query = query.using_db(using_db)
    return await query.update(revoked_at=utcnow())
