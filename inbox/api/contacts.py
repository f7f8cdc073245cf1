"""Contacts: list and search, one in full, rectification, avatar."""

from __future__ import annotations

from starlette.responses import Response

from inbox.api.files import stored_file_response
from inbox.api.routing import Call, api_route
from inbox.api.schemas.contacts import ContactOut, ContactPage, ContactPatch, ContactQuery
from inbox.contacts.queries import get_contact, get_contact_view, list_contacts
from inbox.contacts.service import rectify_contact
from inbox.errors import NotFound

TAG = "contacts"


async def contacts(call: Call) -> ContactPage:
    query: ContactQuery = call.query
    page = await list_contacts(call.workspace, query.q, query.cursor, query.limit)
    return ContactPage(
        items=[ContactOut.of(view, call.settings) for view in page.items],
        next_cursor=page.next_cursor,
    )


async def contact(call: Call) -> ContactOut:
    return ContactOut.of(await get_contact_view(call.workspace, call.path("id")), call.settings)


async def rectify(call: Call) -> ContactOut:
    body: ContactPatch = call.body
    changes = {name: getattr(body, name) for name in body.model_fields_set}
    updated = await rectify_contact(call.workspace, call.path("id"), changes)
    return ContactOut.of(await get_contact_view(call.workspace, updated.id), call.settings)


async def avatar(call: Call) -> Response:
    found = await get_contact(call.workspace, call.path("id"))
    if not found.avatar_key:
        raise NotFound("no avatar")
    return stored_file_response(call.settings, found.avatar_key, "image/jpeg", None)


routes = [
    api_route("/contacts", contacts, method="GET", tag=TAG, query=ContactQuery,
              response=ContactPage, summary="Contacts by name; q searches name, phone, username"),
    api_route("/contacts/{id}", contact, method="GET", tag=TAG, response=ContactOut,
              summary="One contact with identities, profile sources and tags"),
    api_route("/contacts/{id}", rectify, method="PATCH", tag=TAG, body=ContactPatch,
              response=ContactOut,
              summary="Rectify a contact; edited fields are recorded with source agent"),
    api_route("/contacts/{id}/avatar", avatar, method="GET", tag=TAG, stream="image/*",
              summary="The contact's stored avatar"),
]
