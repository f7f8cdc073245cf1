"""Canned responses: everyone reads them, admins write them."""

from __future__ import annotations

from inbox.api.routing import Access, Call, api_route
from inbox.api.schemas.common import ItemList
from inbox.api.schemas.workspace import CannedIn, CannedOut, CannedPatch
from inbox.conversations.canned import (
    create_canned,
    delete_canned,
    get_canned,
    list_canned,
    update_canned,
)
from inbox.models import CannedResponse

TAG = "canned-responses"


def canned_out(canned: CannedResponse) -> CannedOut:
    return CannedOut(
        id=canned.id, shortcut=canned.shortcut, text=canned.text, created_at=canned.created_at
    )


async def canned_list(call: Call) -> ItemList[CannedOut]:
    return ItemList(items=[canned_out(c) for c in await list_canned(call.workspace)])


async def canned_one(call: Call) -> CannedOut:
    return canned_out(await get_canned(call.workspace, call.path("id")))


async def create(call: Call) -> CannedOut:
    body: CannedIn = call.body
    return canned_out(await create_canned(call.workspace, call.me.user.id, body.shortcut,
                                          body.text))


async def update(call: Call) -> CannedOut:
    body: CannedPatch = call.body
    return canned_out(await update_canned(call.workspace, call.path("id"), body.shortcut,
                                          body.text))


async def delete(call: Call) -> None:
    await delete_canned(call.workspace, call.path("id"))


routes = [
    api_route("/canned-responses", canned_list, method="GET", tag=TAG,
              response=ItemList[CannedOut], summary="Canned responses, by shortcut"),
    api_route("/canned-responses", create, method="POST", tag=TAG, access=Access.ADMIN,
              body=CannedIn, response=CannedOut, status=201, summary="Add a canned response"),
    api_route("/canned-responses/{id}", canned_one, method="GET", tag=TAG, response=CannedOut,
              summary="One canned response"),
    api_route("/canned-responses/{id}", update, method="PATCH", tag=TAG, access=Access.ADMIN,
              body=CannedPatch, response=CannedOut, summary="Change a canned response"),
    api_route("/canned-responses/{id}", delete, method="DELETE", tag=TAG, access=Access.ADMIN,
              status=204, summary="Delete a canned response"),
]
