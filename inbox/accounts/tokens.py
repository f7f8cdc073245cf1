"""API tokens: shown once, stored as a hash, with the time they were last used."""

from __future__ import annotations

import uuid
from datetime import timedelta

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from inbox.accounts.system_log import API_TOKEN, ClientInfo, record_connection
from inbox.crypto import generate_token, hash_token
from inbox.errors import InvalidInput, NotFound
from inbox.models import ApiToken, Membership, User, Workspace
from inbox.models.base import utcnow
from inbox.tenancy import WorkspaceRef, scoped, unscoped

API_TOKEN_PREFIX = "ibx_"  # noqa: S105 - a prefix, not a secret
DISPLAY_PREFIX_LENGTH = 8


async def create_api_token(workspace: Workspace, email: str, name: str = "") -> str:
    """Create a token for the member ``email`` of ``workspace``; return it in clear."""
    user = await User.get_or_none(email=normalize_email(email))
    member = (
        await scoped(Membership, workspace).get_or_none(user_id=user.id) if user else None
    )
    if member is None:
        raise NotFound("no member with that e-mail in this workspace")
    token = generate_token(API_TOKEN_PREFIX)
    await ApiToken.create(
        workspace=workspace,
        user=user,
        name=name[:120],
        token_hash=hash_token(token),
        prefix=token[:DISPLAY_PREFIX_LENGTH],
    )
    return token


def normalize_email(email: str) -> str:
    email = email.strip().lower()
    if "@" not in email or len(email) > 254 or email.startswith("@") or email.endswith("@"):
        raise InvalidInput("that is not a valid e-mail address", code="invalid_email")
    return email


# How often a token's use is recorded (last_used_at and one SystemLog row).
TOKEN_TOUCH_INTERVAL = timedelta(minutes=1)


async def find_api_token(token: str) -> ApiToken | None:
    """The live token a Bearer header names, with its user and workspace, or None."""
    if not token.startswith(API_TOKEN_PREFIX):
        return None
    return (
        await unscoped(ApiToken, reason="an API token finds its workspace")
        .filter(token_hash=hash_token(token), revoked_at__isnull=True)
        .select_related("user", "workspace")
        .first()
    )


async def touch_api_token(api_token: ApiToken, client: ClientInfo) -> bool:
    """Record a use of ``api_token``, at most once per token per minute.

    The conditional UPDATE lets exactly one request in each interval win, across
    processes; that request also writes the token's SystemLog row.
    """
    now = utcnow()
    async with in_transaction() as connection:
        moved = await scoped(ApiToken, api_token.workspace_id).filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - TOKEN_TOUCH_INTERVAL),
            id=api_token.id,
        ).using_db(connection).update(last_used_at=now)
        if moved:
            await record_connection(
                API_TOKEN,
                client,
                user_id=api_token.user_id,
                workspace_id=api_token.workspace_id,
                using_db=connection,
            )
    return moved > 0


async def revoke_member_tokens(
    workspace: WorkspaceRef, user_id: uuid.UUID, *, using_db: BaseDBAsyncClient | None = None
) -> int:
    query = scoped(ApiToken, workspace).filter(user_id=user_id, revoked_at__isnull=True)
    if using_db is not None:
        query = query.using_db(using_db)
    return await query.update(revoked_at=utcnow())
