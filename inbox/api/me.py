"""The caller: who, in which workspace, with which role."""

from __future__ import annotations

from inbox.api.routing import Call, api_route
from inbox.api.schemas.accounts import MeOut, UserOut, WorkspaceOut


async def me(call: Call) -> MeOut:
    return MeOut(
        user=UserOut.of(call.me.user),
        workspace=WorkspaceOut.of(call.workspace),
        role=call.me.role,
        via=call.me.via,
    )


routes = [
    api_route("/me", me, method="GET", tag="me", response=MeOut,
              summary="The caller, its workspace and role"),
]
