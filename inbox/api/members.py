"""The team: members, roles and invitations."""

from __future__ import annotations

from inbox.accounts.invitations import (
    accept_invitation,
    cancel_invitation,
    invite,
    list_pending_invitations,
)
from inbox.accounts.members import Member, change_role, list_members, remove_member
from inbox.api.routing import Access, Call, api_route
from inbox.api.schemas.accounts import (
    AcceptedOut,
    AcceptIn,
    InvitationOut,
    InvitationSentOut,
    InviteIn,
    MemberOut,
    RoleIn,
    UserOut,
    WorkspaceOut,
)
from inbox.api.schemas.common import ItemList
from inbox.models import Invitation

TAG = "team"


def member_out(member: Member) -> MemberOut:
    return MemberOut(
        id=member.user.id,
        email=member.user.email,
        display_name=member.user.display_name,
        role=member.membership.role,
        joined_at=member.membership.created_at,
    )


def invitation_out(invitation: Invitation) -> InvitationOut:
    return InvitationOut(
        id=invitation.id,
        email=invitation.email,
        role=invitation.role,
        expires_at=invitation.expires_at,
        created_at=invitation.created_at,
    )


async def members(call: Call) -> ItemList[MemberOut]:
    return ItemList(items=[member_out(member) for member in await list_members(call.workspace)])


async def set_role(call: Call) -> MemberOut:
    member = await change_role(call.workspace, call.me.membership, call.path("id"), call.body.role)
    return member_out(member)


async def remove(call: Call) -> None:
    await remove_member(call.workspace, call.me.membership, call.path("id"))


async def invitations(call: Call) -> ItemList[InvitationOut]:
    pending = await list_pending_invitations(call.workspace)
    return ItemList(items=[invitation_out(i) for i in pending])


async def create_invitation(call: Call) -> InvitationSentOut:
    body: InviteIn = call.body
    sent = await invite(call.settings, call.workspace, call.me.membership, body.email, body.role)
    return InvitationSentOut(
        **invitation_out(sent.invitation).model_dump(), link=sent.link, mailed=sent.mailed
    )


async def delete_invitation(call: Call) -> None:
    await cancel_invitation(call.workspace, call.path("id"))


async def accept(call: Call) -> AcceptedOut:
    body: AcceptIn = call.body
    accepted = await accept_invitation(body.token, body.password, body.display_name)
    return AcceptedOut(
        user=UserOut.of(accepted.user),
        workspace=WorkspaceOut.of(accepted.workspace),
        role=accepted.membership.role,
    )


routes = [
    api_route("/members", members, method="GET", tag=TAG, response=ItemList[MemberOut],
              summary="The workspace's members (ids are user ids)"),
    api_route("/members/{id}", set_role, method="PATCH", tag=TAG, access=Access.ADMIN,
              body=RoleIn, response=MemberOut,
              summary="Change a member's role (the last owner stays an owner)"),
    api_route("/members/{id}", remove, method="DELETE", tag=TAG, access=Access.ADMIN,
              status=204,
              summary="Remove a member: their sessions and tokens here end"),
    api_route("/invitations", invitations, method="GET", tag=TAG, access=Access.ADMIN,
              response=ItemList[InvitationOut], summary="Pending invitations"),
    api_route("/invitations", create_invitation, method="POST", tag=TAG, access=Access.ADMIN,
              body=InviteIn, response=InvitationSentOut, status=201,
              summary="Invite someone by e-mail; answers the one-time link"),
    api_route("/invitations/{id}", delete_invitation, method="DELETE", tag=TAG,
              access=Access.ADMIN, status=204, summary="Cancel a pending invitation"),
    api_route("/invitations/accept", accept, method="POST", tag=TAG, access=Access.PUBLIC,
              body=AcceptIn, response=AcceptedOut, status=201,
              summary="Accept an invitation (sets the password of a new account)"),
]
