"""Server-rendered pieces of the inbox for ``inbox.js`` to patch into the page.

Live events carry ids only; the script asks here for the HTML of what changed
(a message, a list item, older messages), rendered by the same Jinja macros as
the full page, so escaping and markup live in one place. Answers are JSON
``{"html": ..., ...}``; errors are the API's JSON error bodies.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from inbox.api.auth import authenticate
from inbox.conversations.queries import (
    filtered_conversations,
    get_conversation_view,
    get_message_view,
    list_messages,
    list_notes,
)
from inbox.errors import InvalidInput
from inbox.tenancy import parse_id
from inbox.web.access import Viewer, runtime_of, safe_back
from inbox.web.pages_inbox import (
    LIST_PAGE_SIZE,
    THREAD_PAGE_SIZE,
    member_names,
    read_filters,
)
from inbox.web.presenters import conversation_item, message_item, note_item
from inbox.web.templating import build_environment

NO_STORE = {"Cache-Control": "no-store"}


def macros() -> Any:
    return build_environment().get_template("inbox/_macros.html").make_module({})


def answer(data: dict[str, Any]) -> Response:
    return JSONResponse(data, headers=NO_STORE)


async def viewer_of(request: Request) -> Viewer:
    principal = await authenticate(request)
    return Viewer(principal, runtime_of(request).settings.demo)


async def message_fragment(request: Request) -> Response:
    viewer = await viewer_of(request)
    view = await get_message_view(viewer.workspace, parse_id(request.path_params["id"]))
    names, _ = await member_names(viewer.workspace)
    item = message_item(view, runtime_of(request).settings, names)
    html = str(macros().message_item(item, viewer))
    return answer(
        {"html": html, "conversation_id": item["conversation_id"], "status": item["status"]}
    )


async def conversation_fragment(request: Request) -> Response:
    """One list item, and whether it belongs in the list under the page's filters."""
    viewer = await viewer_of(request)
    filters = read_filters(request.query_params)
    conversation_id = parse_id(request.path_params["id"])
    view = await get_conversation_view(viewer.workspace, conversation_id)
    query = await filtered_conversations(
        viewer.workspace, viewer.principal.user.id, filters.domain_filter()
    )
    matches = query is not None and await query.filter(id=conversation_id).exists()
    names, _ = await member_names(viewer.workspace)
    item = conversation_item(view, names)
    selected = request.query_params.get("selected") or None
    html = str(macros().list_item(item, viewer, filters.query_string(), selected))
    return answer(
        {
            "html": html,
            "matches": matches,
            "status": item["status"],
            "assignee_id": item["assignee_id"],
            "last_message_at": item["last_message_at"].isoformat()
            if item["last_message_at"]
            else None,
        }
    )


async def list_fragment(request: Request) -> Response:
    """The next page of the list (infinite scroll)."""
    from inbox.conversations.queries import list_conversations

    viewer = await viewer_of(request)
    filters = read_filters(request.query_params)
    listing = await list_conversations(
        viewer.workspace,
        viewer.principal.user.id,
        filters.domain_filter(),
        cursor=request.query_params.get("cursor") or None,
        limit=LIST_PAGE_SIZE,
    )
    names, _ = await member_names(viewer.workspace)
    selected = request.query_params.get("selected") or None
    module = macros()
    html = "".join(
        str(module.list_item(conversation_item(v, names), viewer, filters.query_string(), selected))
        for v in listing.items
    )
    return answer({"html": html, "next_cursor": listing.next_cursor})


async def older_fragment(request: Request) -> Response:
    """Messages before ``before``, oldest first, to put above the loaded ones;
    without ``before`` the latest page (to catch up after a lost connection)."""
    viewer = await viewer_of(request)
    before = request.query_params.get("before") or None
    page = await list_messages(
        viewer.workspace, request.path_params["id"], before, THREAD_PAGE_SIZE
    )
    names, _ = await member_names(viewer.workspace)
    settings = runtime_of(request).settings
    module = macros()
    html = "".join(
        str(module.message_item(message_item(m, settings, names), viewer))
        for m in reversed(page.items)
    )
    return answer({"html": html, "next_cursor": page.next_cursor})


async def notes_fragment(request: Request) -> Response:
    """Notes written after ``after`` (another agent's, arriving live)."""
    viewer = await viewer_of(request)
    raw = request.query_params.get("after", "")
    try:
        after = datetime.fromisoformat(raw) if raw else None
    except ValueError:
        raise InvalidInput("after must be an ISO time", code="invalid_time") from None
    notes = await list_notes(viewer.workspace, request.path_params["id"])
    names, _ = await member_names(viewer.workspace)
    module = macros()
    html = "".join(
        str(module.note_item(note_item(n, names), viewer))
        for n in notes
        if after is None or n.created_at > after
    )
    return answer({"html": html})


async def head_fragment(request: Request) -> Response:
    """The thread's header (status, assignee) after a change made elsewhere."""
    viewer = await viewer_of(request)
    view = await get_conversation_view(viewer.workspace, request.path_params["id"])
    names, menu = await member_names(viewer.workspace)
    template = build_environment().get_template("inbox/_head.html")
    query = read_filters(request.query_params).query_string()
    here = safe_back(request.query_params.get("here"), f"/inbox/c/{view.conversation.id}")
    html = template.render(
        selected=conversation_item(view, names),
        members=menu,
        me=viewer,
        here=here,
        query=query,
        query_amp=(query + "&") if query else "?",
    )
    return answer({"html": html, "status": view.conversation.status})


routes = [
    Route("/inbox/fragments/message/{id}", message_fragment, methods=["GET"]),
    Route("/inbox/fragments/conversation/{id}", conversation_fragment, methods=["GET"]),
    Route("/inbox/fragments/list", list_fragment, methods=["GET"]),
    Route("/inbox/fragments/older/{id}", older_fragment, methods=["GET"]),
    Route("/inbox/fragments/notes/{id}", notes_fragment, methods=["GET"]),
    Route("/inbox/fragments/head/{id}", head_fragment, methods=["GET"]),
]
