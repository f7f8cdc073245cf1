"""A workspace's team: who belongs to it, with which role, and leaving it.

Owners may do anything to anyone; admins manage admins and agents but cannot
touch owners or make someone an owner. The last owner can be neither demoted
nor removed. Removing a member ends their sessions and API tokens in this
workspace and hands their conversations back to the unassigned queue.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from tortoise.transactions import in_transaction

from inbox.accounts.sessions import revoke_member_sessions
from inbox.accounts.tokens import revoke_member_tokens
from inbox.errors import Conflict, Forbidden, InvalidInput, NotFound
from inbox.models import Conversation, Membership, Role, User, Workspace
from inbox.tenancy import WorkspaceRef, parse_id, scoped

ADMIN_ROLES = frozenset({Role.OWNER.value, Role.ADMIN.value})


@dataclass
class Member:
    membership: Membership
    user: User


def parse_role(value: str) -> str:
    try:
        return Role(value).value
    except ValueError:
        raise InvalidInput("role must be owner, admin or agent", code="invalid_role") from None


def check_may_grant(actor: Membership, role: str) -> None:
    """Only owners hand out the owner role; only owners and admins hand out any."""
    role = parse_role(role)
    if actor.role not in ADMIN_ROLES:
        raise Forbidden("only admins can manage the team")
    if role == Role.OWNER.value and actor.role != Role.OWNER.value:
        raise Forbidden("only an owner can make someone an owner")


def check_may_manage(actor: Membership, target: Membership) -> None:
    if actor.role not in ADMIN_ROLES:
        raise Forbidden("only admins can manage the team")
    if target.role == Role.OWNER.value and actor.role != Role.OWNER.value:
        raise Forbidden("only an owner can change or remove an owner")


async def list_members(workspace: Workspace) -> list[Member]:
    memberships = await scoped(Membership, workspace).select_related("user").order_by(
        "created_at", "id"
    )
    return [Member(membership, membership.user) for membership in memberships]


async def get_member(workspace: WorkspaceRef, user_id: object) -> Member:
    membership = (
        await scoped(Membership, workspace)
        .filter(user_id=parse_id(user_id))
        .select_related("user")
        .first()
    )
    if membership is None:
        raise NotFound("no such member")
    return Member(membership, membership.user)


async def is_member(workspace: WorkspaceRef, user_id: uuid.UUID) -> bool:
    return await scoped(Membership, workspace).filter(user_id=user_id).exists()


async def _lock_owners(workspace: WorkspaceRef, connection) -> list[uuid.UUID]:  # noqa: ANN001
    """The owners' ids, locked until commit so two demotions cannot both pass."""
    owners = (
        await scoped(Membership, workspace)
        .filter(role=Role.OWNER.value)
        .select_for_update()
        .using_db(connection)
        .values_list("user_id", flat=True)
    )
    return list(owners)


async def change_role(
    workspace: Workspace, actor: Membership, user_id: object, role: str
) -> Member:
    role = parse_role(role)
    check_may_grant(actor, role)
    async with in_transaction() as connection:
        member = await get_member(workspace, user_id)
        check_may_manage(actor, member.membership)
        if member.membership.role == Role.OWNER.value and role != Role.OWNER.value:
            owners = await _lock_owners(workspace, connection)
            if owners == [member.user.id]:
                raise Conflict("a workspace keeps at least one owner", code="last_owner")
        await scoped(Membership, workspace).filter(id=member.membership.id).using_db(
            connection
        ).update(role=role)
    member.membership.role = role
    return member


async def remove_member(workspace: Workspace, actor: Membership, user_id: object) -> None:
    async with in_transaction() as connection:
        member = await get_member(workspace, user_id)
        if member.user.id != actor.user_id:
            check_may_manage(actor, member.membership)
        if member.membership.role == Role.OWNER.value:
            owners = await _lock_owners(workspace, connection)
            if owners == [member.user.id]:
                raise Conflict("a workspace keeps at least one owner", code="last_owner")
        await scoped(Membership, workspace).filter(id=member.membership.id).using_db(
            connection
        ).delete()
        await revoke_member_sessions(workspace, member.user.id, using_db=connection)
        await revoke_member_tokens(workspace, member.user.id, using_db=connection)
        await scoped(Conversation, workspace).filter(assignee_id=member.user.id).using_db(
            connection
        ).update(assignee_id=None)
