"""Contacts: the alphabetical list with search, and one contact's card."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from inbox.contacts.queries import get_contact_view, list_contacts
from inbox.web.access import Viewer, page, render_page
from inbox.web.lookups import other_conversations
from inbox.web.pages_inbox import member_names
from inbox.web.presenters import contact_card, contact_fields, conversation_item

CONTACTS_PAGE_SIZE = 50


@page()
async def contacts_page(request: Request, viewer: Viewer) -> Response:
    q = request.query_params.get("q", "").strip()[:100]
    listing = await list_contacts(
        viewer.workspace, q or None, request.query_params.get("cursor") or None,
        CONTACTS_PAGE_SIZE,
    )
    contacts = [
        {
            **contact_card(view.contact),
            "phone": view.contact.phone,
            "username": view.contact.username,
            "kinds": sorted({identity.kind for identity in view.identities}),
            "tags": view.tags,
            "last_activity_at": view.contact.last_activity_at,
        }
        for view in listing.items
    ]
    context = {"contacts": contacts, "q": q, "next_cursor": listing.next_cursor}
    return render_page(request, viewer, "contacts/list.html", context, section="contacts")


@page()
async def contact_page(request: Request, viewer: Viewer) -> Response:
    view = await get_contact_view(viewer.workspace, request.path_params["id"])
    names, _ = await member_names(viewer.workspace)
    conversations = await other_conversations(viewer.workspace, view.contact.id, None)
    context = {
        "contact": contact_card(view.contact),
        "contact_fields": contact_fields(view.contact),
        "tags": view.tags,
        "conversations": [conversation_item(c, names) for c in conversations],
    }
    return render_page(request, viewer, "contacts/detail.html", context, section="contacts")


routes = [
    Route("/contacts", contacts_page, methods=["GET"]),
    Route("/contacts/{id}", contact_page, methods=["GET"]),
]
