"""Inviting staff: an admin names an e-mail and a role, the invitee sets a password.

The link carries a one-time random token; only its hash is stored. The link is
returned to the admin (to share by hand) and mailed when SMTP_URL is set.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from tortoise.transactions import in_transaction

from inbox.accounts.login import check_new_password
from inbox.accounts.mail import send_mail
from inbox.accounts.members import check_may_grant
from inbox.accounts.passwords import hash_password, verify_password
from inbox.accounts.tokens import normalize_email
from inbox.crypto import generate_token, hash_token
from inbox.errors import Conflict, NotFound, Unauthorized
from inbox.models import Invitation, Membership, Role, User, Workspace
from inbox.models.base import utcnow
from inbox.settings import Settings
from inbox.tenancy import parse_id, scoped, unscoped

INVITATION_TTL = timedelta(days=7)
INVITATION_TOKEN_PREFIX = "ibi_"  # noqa: S105 - a prefix, not a secret
# The web page that lets the invitee choose a password (it posts to the API).
INVITATION_PAGE = "/invite/{token}"


@dataclass
class SentInvitation:
    invitation: Invitation
    link: str
    mailed: bool


@dataclass
class Accepted:
    user: User
    workspace: Workspace
    membership: Membership


async def invite(
    settings: Settings,
    workspace: Workspace,
    inviter: Membership,
    email: str,
    role: str,
) -> SentInvitation:
    """Create (or renew) the invitation of ``email``; a newer one replaces older ones."""
    address = normalize_email(email)
    check_may_grant(inviter, role)
    user = await User.get_or_none(email=address)
    if user and await scoped(Membership, workspace).filter(user_id=user.id).exists():
        raise Conflict("that person is already a member", code="already_member")
    token = generate_token(INVITATION_TOKEN_PREFIX)
    async with in_transaction() as connection:
        await scoped(Invitation, workspace).filter(
            email=address, accepted_at__isnull=True
        ).using_db(connection).delete()
        invitation = await Invitation.create(
            workspace=workspace,
            email=address,
            role=role,
            token_hash=hash_token(token),
            invited_by_id=inviter.user_id,
            expires_at=utcnow() + INVITATION_TTL,
            using_db=connection,
        )
    link = settings.public_link(INVITATION_PAGE.format(token=token))
    mailed = await send_mail(
        settings,
        address,
        f"You are invited to {workspace.name}",
        f"You have been invited to join {workspace.name} as {role}.\n\n"
        f"Choose your password here (the link works once, for {INVITATION_TTL.days} days):\n"
        f"{link}\n",
    )
    return SentInvitation(invitation, link, mailed)


async def list_pending_invitations(workspace: Workspace) -> list[Invitation]:
    return (
        await scoped(Invitation, workspace)
        .filter(accepted_at__isnull=True, expires_at__gt=utcnow())
        .order_by("-created_at")
    )


async def cancel_invitation(workspace: Workspace, invitation_id: str) -> None:
    deleted = await scoped(Invitation, workspace).filter(
        id=parse_id(invitation_id), accepted_at__isnull=True
    ).delete()
    if not deleted:
        raise NotFound("no such invitation")


async def accept_invitation(
    token: str, password: str, display_name: str = ""
) -> Accepted:
    """Turn an invitation into a membership, creating the account when it is new.

    An address that already has an account must give that account's password.
    """
    invitation = (
        await unscoped(Invitation, reason="an invitation link finds its workspace")
        .filter(token_hash=hash_token(token), accepted_at__isnull=True, expires_at__gt=utcnow())
        .select_related("workspace")
        .first()
    )
    if invitation is None:
        raise NotFound("this invitation is invalid or has expired", code="invalid_invitation")
    workspace = invitation.workspace
    async with in_transaction() as connection:
        user = await User.get_or_none(email=invitation.email, using_db=connection)
        if user is None:
            check_new_password(password)
            user = await User.create(
                email=invitation.email,
                display_name=display_name.strip()[:120],
                password_hash=hash_password(password),
                using_db=connection,
            )
        elif not verify_password(user.password_hash, password):
            raise Unauthorized(
                "this address already has an account: give its password",
                code="invalid_credentials",
            )
        membership = await scoped(Membership, workspace).using_db(connection).get_or_none(
            user_id=user.id
        )
        if membership is None:
            membership = await Membership.create(
                workspace=workspace, user=user, role=Role(invitation.role).value,
                using_db=connection,
            )
        claimed = await scoped(Invitation, workspace).filter(
            id=invitation.id, accepted_at__isnull=True
        ).using_db(connection).update(accepted_at=utcnow())
        if not claimed:
            raise NotFound("this invitation is invalid or has expired", code="invalid_invitation")
    return Accepted(user, workspace, membership)
