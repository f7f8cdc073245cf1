"""The inbox: list, thread and contact in one server-rendered page, and its forms.

Every read goes through the API's query modules and every change through the
same domain functions the API calls (``update_conversation``, ``add_note``,
``queue_reply``, ``retry_message``). Without JavaScript each form posts here
and redirects back; with it, ``inbox.js`` talks to the REST API and asks the
fragment routes (:mod:`inbox.web.fragments`) for server-rendered pieces.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from starlette.datastructures import FormData, QueryParams
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from inbox.accounts.members import list_members
from inbox.contacts.queries import get_contact
from inbox.conversations.canned import list_canned
from inbox.conversations.queries import (
    ConversationFilter,
    get_conversation_view,
    list_conversations,
    list_messages,
    list_notes,
)
from inbox.conversations.service import (
    ConversationChanges,
    add_note,
    mark_read,
    update_conversation,
)
from inbox.errors import InvalidInput
from inbox.messaging.outbound import queue_reply, retry_message
from inbox.models import Workspace
from inbox.tenancy import parse_id
from inbox.web.access import Viewer, member_name, page, render_page, runtime_of, safe_back
from inbox.web.lookups import other_conversations, tag_names
from inbox.web.presenters import (
    build_timeline,
    contact_card,
    contact_fields,
    conversation_item,
    message_item,
    note_item,
)
from inbox.web.templates_catalog import templates_for
from inbox.web.templating import redirect
from inbox.workspaces.channels import list_channels

LIST_PAGE_SIZE = 30
THREAD_PAGE_SIZE = 50
VIEWS = ("mine", "unassigned", "all")
STATUSES = ("open", "pending", "resolved", "all")
DEFAULT_VIEW = "all"
DEFAULT_STATUS = "open"
PANES = ("list", "thread", "contact")
MAX_TEMPLATE_VARIABLES = 20


@dataclass(frozen=True)
class Filters:
    view: str = DEFAULT_VIEW
    status: str = DEFAULT_STATUS
    channel: str = ""
    tag: str = ""
    q: str = ""

    def as_query(self, **overrides: str) -> dict[str, str]:
        """Non-default values only, so URLs stay short."""
        values = {
            "view": self.view, "status": self.status, "channel": self.channel,
            "tag": self.tag, "q": self.q,
        } | overrides
        defaults = {"view": DEFAULT_VIEW, "status": DEFAULT_STATUS}
        return {k: v for k, v in values.items() if v and defaults.get(k) != v}

    def query_string(self, **overrides: str) -> str:
        query = urlencode(self.as_query(**overrides))
        return "?" + query if query else ""

    def domain_filter(self) -> ConversationFilter:
        return ConversationFilter(
            status=None if self.status == "all" else self.status,
            assignee={"mine": "me", "unassigned": "none"}.get(self.view),
            channel=self.channel or None,
            tag=self.tag or None,
            q=self.q or None,
        )


def read_filters(params: QueryParams) -> Filters:
    view = params.get("view", DEFAULT_VIEW)
    status = params.get("status", DEFAULT_STATUS)
    return Filters(
        view=view if view in VIEWS else DEFAULT_VIEW,
        status=status if status in STATUSES else DEFAULT_STATUS,
        channel=params.get("channel", "").strip()[:64],
        tag=params.get("tag", "").strip()[:64],
        q=params.get("q", "").strip()[:100],
    )


async def member_names(workspace: Workspace) -> tuple[dict[str, str], list[dict[str, str]]]:
    """{user id: name} and the assign menu's entries."""
    members = await list_members(workspace)
    names = {str(m.user.id): member_name(m.user.display_name, m.user.email) for m in members}
    menu = [{"user_id": uid, "display_name": name} for uid, name in names.items()]
    return names, menu


async def load_thread(
    request: Request, viewer: Viewer, conversation_id: str, names: dict[str, str]
) -> dict[str, Any]:
    """Everything the thread and contact panes show for one conversation."""
    runtime = runtime_of(request)
    workspace = viewer.workspace
    conversation = await mark_read(runtime.broker, workspace, conversation_id)
    view = await get_conversation_view(workspace, conversation.id)
    before = request.query_params.get("before") or None
    messages = await list_messages(workspace, conversation.id, before, THREAD_PAGE_SIZE)
    notes = await list_notes(workspace, conversation.id)
    items = [message_item(m, runtime.settings, names) for m in reversed(messages.items)]
    timeline = build_timeline(
        items, [note_item(n, names) for n in notes], complete=messages.next_cursor is None
    )
    contact = await get_contact(workspace, conversation.contact_id)
    others = await other_conversations(workspace, contact.id, conversation.id)
    return {
        "selected": conversation_item(view, names),
        "timeline": timeline,
        "older_cursor": messages.next_cursor,
        "contact": contact_card(contact),
        "contact_fields": contact_fields(contact),
        "other_conversations": [conversation_item(o, names) for o in others],
        "canned": [{"shortcut": c.shortcut, "text": c.text} for c in await list_canned(workspace)],
        "templates": templates_for(runtime.settings, view.channel),
    }


async def render_inbox(request: Request, viewer: Viewer, conversation_id: str | None) -> Response:
    workspace = viewer.workspace
    filters = read_filters(request.query_params)
    names, menu = await member_names(workspace)
    thread: dict[str, Any] = {}
    if conversation_id is not None:
        # First, so the list already shows the opened conversation as read.
        thread = await load_thread(request, viewer, conversation_id, names)
    listing = await list_conversations(
        workspace,
        viewer.principal.user.id,
        filters.domain_filter(),
        cursor=request.query_params.get("cursor") or None,
        limit=LIST_PAGE_SIZE,
    )
    query = filters.query_string()
    context: dict[str, Any] = {
        "filters": filters,
        "query": query,
        "query_amp": (query + "&") if query else "?",
        "tab_queries": {view: filters.query_string(view=view) for view in VIEWS},
        "more_query": filters.query_string()
        + ("&" if query else "?")
        + urlencode({"cursor": listing.next_cursor or ""}),
        "conversations": [conversation_item(v, names) for v in listing.items],
        "next_cursor": listing.next_cursor,
        "channels": await list_channels(workspace),
        "tags": await tag_names(workspace),
        "members": menu,
        "selected": None,
        "contact": None,
        "note_mode": request.query_params.get("mode") == "note",
    }
    pane = "list"
    if conversation_id is not None:
        context.update(thread)
        pane = request.query_params.get("pane", "thread")
        pane = pane if pane in PANES else "thread"
    context["pane"] = pane
    return render_page(request, viewer, "inbox/inbox.html", context, section="inbox")


@page()
async def inbox_page(request: Request, viewer: Viewer) -> Response:
    return await render_inbox(request, viewer, None)


@page()
async def conversation_page(request: Request, viewer: Viewer) -> Response:
    return await render_inbox(request, viewer, request.path_params["id"])


async def home(request: Request) -> Response:
    return redirect("/inbox", status=307)


def back_to(form: FormData, conversation_id: object) -> str:
    return safe_back(form.get("back"), f"/inbox/c/{conversation_id}")


@page()
async def reply_submit(request: Request, viewer: Viewer, form: FormData) -> Response:
    conversation_id = parse_id(request.path_params["id"])
    text = str(form.get("text", ""))
    broker = runtime_of(request).broker
    if form.get("mode") == "note":
        await add_note(broker, viewer.workspace, conversation_id, viewer.principal.user.id, text)
    else:
        if not text.strip():
            raise InvalidInput("the reply is empty")
        await queue_reply(
            broker, viewer.workspace, conversation_id, viewer.principal.user.id, text=text
        )
    return redirect(back_to(form, conversation_id))


def read_variables(raw: str) -> dict[str, str]:
    """"a | b" or one per line → {"1": "a", "2": "b"} (Twilio's numbered variables)."""
    separator = "\n" if "\n" in raw else "|"
    values = [part.strip() for part in raw.split(separator) if part.strip()]
    if len(values) > MAX_TEMPLATE_VARIABLES:
        raise InvalidInput("too many template variables")
    return {str(index): value for index, value in enumerate(values, start=1)}


@page()
async def template_submit(request: Request, viewer: Viewer, form: FormData) -> Response:
    conversation_id = parse_id(request.path_params["id"])
    await queue_reply(
        runtime_of(request).broker,
        viewer.workspace,
        conversation_id,
        viewer.principal.user.id,
        template=str(form.get("template", "")).strip(),
        variables=read_variables(str(form.get("variables", ""))),
    )
    return redirect(back_to(form, conversation_id))


@page()
async def assign_submit(request: Request, viewer: Viewer, form: FormData) -> Response:
    conversation_id = parse_id(request.path_params["id"])
    assignee = str(form.get("assignee_id", "")).strip() or None
    await update_conversation(
        runtime_of(request).broker,
        viewer.workspace,
        conversation_id,
        ConversationChanges(assignee_id=assignee),
    )
    return redirect(back_to(form, conversation_id))


@page()
async def status_submit(request: Request, viewer: Viewer, form: FormData) -> Response:
    conversation_id = parse_id(request.path_params["id"])
    await update_conversation(
        runtime_of(request).broker,
        viewer.workspace,
        conversation_id,
        ConversationChanges(status=str(form.get("status", ""))),
    )
    return redirect(back_to(form, conversation_id))


@page()
async def tags_submit(request: Request, viewer: Viewer, form: FormData) -> Response:
    conversation_id = parse_id(request.path_params["id"])
    view = await get_conversation_view(viewer.workspace, conversation_id)
    tags = list(view.tags)
    added = str(form.get("add", "")).strip()
    removed = str(form.get("remove", "")).strip()
    if added and added not in tags:
        tags.append(added)
    if removed:
        tags = [tag for tag in tags if tag != removed]
    await update_conversation(
        runtime_of(request).broker,
        viewer.workspace,
        conversation_id,
        ConversationChanges(tags=tags),
    )
    return redirect(back_to(form, conversation_id))


@page()
async def retry_submit(request: Request, viewer: Viewer, form: FormData) -> Response:
    message = await retry_message(
        runtime_of(request).broker, viewer.workspace, request.path_params["id"]
    )
    return redirect(back_to(form, message.conversation_id))


routes = [
    Route("/", home, methods=["GET"]),
    Route("/inbox", inbox_page, methods=["GET"]),
    Route("/inbox/c/{id}", conversation_page, methods=["GET"]),
    Route("/inbox/c/{id}/reply", reply_submit, methods=["POST"]),
    Route("/inbox/c/{id}/template", template_submit, methods=["POST"]),
    Route("/inbox/c/{id}/assign", assign_submit, methods=["POST"]),
    Route("/inbox/c/{id}/status", status_submit, methods=["POST"]),
    Route("/inbox/c/{id}/tags", tags_submit, methods=["POST"]),
    Route("/inbox/m/{id}/retry", retry_submit, methods=["POST"]),
]
