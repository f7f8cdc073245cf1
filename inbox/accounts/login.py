"""Signing staff in and out, and changing a password.

A refused sign-in answers the same way whatever the reason (unknown address,
wrong password, no membership in the asked workspace), and takes about as long,
so the answer tells nothing about which accounts exist.
"""

from __future__ import annotations

from dataclasses import dataclass

from tortoise.transactions import in_transaction

from inbox.accounts.passwords import (
    MIN_PASSWORD_LENGTH,
    hash_password,
    needs_rehash,
    verify_password,
)
from inbox.accounts.ratelimit import LOGIN_PER_ACCOUNT, LOGIN_PER_IP, count_attempt, reset_attempts
from inbox.accounts.sessions import create_session, revoke_session, revoke_user_sessions_except
from inbox.accounts.system_log import (
    LOGIN,
    LOGIN_FAILED,
    LOGOUT,
    ClientInfo,
    record_connection,
)
from inbox.broker import Broker
from inbox.errors import InvalidInput, Unauthorized
from inbox.models import Membership, Session, User, Workspace
from inbox.models.base import utcnow
from inbox.settings import Settings
from inbox.tenancy import unscoped

# Verified against when the address is unknown, so both paths cost one argon2 check.
_DUMMY_HASH = hash_password("not-a-real-password-only-for-timing")


@dataclass
class SignedIn:
    user: User
    workspace: Workspace
    membership: Membership
    session: Session
    token: str  # the session cookie's value


def refused() -> Unauthorized:
    return Unauthorized("wrong e-mail address or password", code="invalid_credentials")


async def find_login_membership(user: User, workspace_slug: str | None) -> Membership | None:
    """The membership to sign in to: the named workspace, else the user's first."""
    query = unscoped(Membership, reason="signing in finds the user's workspace").filter(
        user_id=user.id
    )
    if workspace_slug:
        query = query.filter(workspace__slug=workspace_slug.strip().lower())
    return await query.order_by("created_at", "id").select_related("workspace").first()


async def log_in(
    settings: Settings,
    broker: Broker,
    email: str,
    password: str,
    client: ClientInfo,
    workspace_slug: str | None = None,
) -> SignedIn:
    """Check the password, start a session, write its SystemLog row."""
    assert settings.secret_key
    address = email.strip().lower()
    await count_attempt(broker, settings.secret_key, LOGIN_PER_IP, client.ip or "unknown")
    await count_attempt(broker, settings.secret_key, LOGIN_PER_ACCOUNT, address)
    user = await User.get_or_none(email=address)
    if user is None:
        verify_password(_DUMMY_HASH, password)
        await record_connection(LOGIN_FAILED, client, user_id=None, workspace_id=None)
        raise refused()
    membership = None
    if verify_password(user.password_hash, password):
        membership = await find_login_membership(user, workspace_slug)
    if membership is None:
        await record_connection(LOGIN_FAILED, client, user_id=user.id, workspace_id=None)
        raise refused()
    workspace = membership.workspace
    async with in_transaction() as connection:
        if needs_rehash(user.password_hash):
            user.password_hash = hash_password(password)
            await user.save(update_fields=["password_hash"], using_db=connection)
        new = await create_session(settings, workspace, user, using_db=connection)
        await record_connection(
            LOGIN, client, user_id=user.id, workspace_id=workspace.id, using_db=connection
        )
    await reset_attempts(broker, settings.secret_key, LOGIN_PER_ACCOUNT, address)
    return SignedIn(user, workspace, membership, new.session, new.token)


async def log_out(session: Session, client: ClientInfo) -> None:
    """Revoke the session and write its SystemLog row (once, even if called twice)."""
    if await revoke_session(session.workspace_id, session.id):
        await record_connection(
            LOGOUT, client, user_id=session.user_id, workspace_id=session.workspace_id
        )


def check_new_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            f"the password must have at least {MIN_PASSWORD_LENGTH} characters",
            code="weak_password",
        )


async def change_password(
    user: User, current_password: str, new_password: str, keep_session: Session | None
) -> int:
    """Set a new password; every other session of the user ends. Returns how many."""
    if not verify_password(user.password_hash, current_password):
        raise InvalidInput("the current password is wrong", code="wrong_password")
    check_new_password(new_password)
    async with in_transaction() as connection:
        user.password_hash = hash_password(new_password)
        user.password_changed_at = utcnow()
        await user.save(update_fields=["password_hash", "password_changed_at"], using_db=connection)
        return await revoke_user_sessions_except(
            user.id, keep_session.id if keep_session else None, using_db=connection
        )
