"""Conversations, their messages (read and reply) and private notes."""

from __future__ import annotations

from inbox.api.routing import Call, api_route
from inbox.api.schemas.common import ItemList
from inbox.api.schemas.conversations import (
    ConversationOut,
    ConversationPage,
    ConversationPatch,
    ConversationQuery,
    MessageOut,
    MessagePage,
    MessagesQuery,
    NoteIn,
    NoteOut,
    ReplyIn,
)
from inbox.conversations.queries import (
    ConversationFilter,
    MessageView,
    get_conversation,
    get_conversation_view,
    list_conversations,
    list_messages,
    list_notes,
    message_views,
)
from inbox.conversations.service import (
    ConversationChanges,
    add_note,
    mark_read,
    update_conversation,
)
from inbox.messaging.outbound import queue_reply

TAG = "conversations"


async def conversations(call: Call) -> ConversationPage:
    query: ConversationQuery = call.query
    page = await list_conversations(
        call.workspace,
        call.me.user.id,
        ConversationFilter(
            status=query.status,
            assignee=query.assignee,
            channel=query.channel,
            tag=query.tag,
            q=query.q,
        ),
        cursor=query.cursor,
        limit=query.limit,
    )
    return ConversationPage(
        items=[ConversationOut.of(view) for view in page.items], next_cursor=page.next_cursor
    )


async def conversation(call: Call) -> ConversationOut:
    return ConversationOut.of(await get_conversation_view(call.workspace, call.path("id")))


async def patch(call: Call) -> ConversationOut:
    body: ConversationPatch = call.body
    changes = ConversationChanges(
        **{name: getattr(body, name) for name in body.model_fields_set}
    )
    updated = await update_conversation(call.broker, call.workspace, call.path("id"), changes)
    return ConversationOut.of(await get_conversation_view(call.workspace, updated.id))


async def read(call: Call) -> ConversationOut:
    updated = await mark_read(call.broker, call.workspace, call.path("id"))
    return ConversationOut.of(await get_conversation_view(call.workspace, updated.id))


async def messages(call: Call) -> MessagePage:
    query: MessagesQuery = call.query
    page = await list_messages(call.workspace, call.path("id"), query.before, query.limit)
    return MessagePage(
        items=[MessageOut.of(view, call.settings) for view in page.items],
        next_cursor=page.next_cursor,
    )


async def reply(call: Call) -> MessageOut:
    body: ReplyIn = call.body
    found = await get_conversation(call.workspace, call.path("id"))
    message = await queue_reply(
        call.broker,
        call.workspace,
        found.id,
        call.me.user.id,
        text=body.text,
        template=body.template,
        variables=body.variables,
    )
    views: list[MessageView] = await message_views(call.workspace, found, [message])
    return MessageOut.of(views[0], call.settings)


async def notes(call: Call) -> ItemList[NoteOut]:
    rows = await list_notes(call.workspace, call.path("id"))
    return ItemList(items=[NoteOut.of(note) for note in rows])


async def note(call: Call) -> NoteOut:
    body: NoteIn = call.body
    created = await add_note(
        call.broker, call.workspace, call.path("id"), call.me.user.id, body.text
    )
    return NoteOut.of(created)


routes = [
    api_route("/conversations", conversations, method="GET", tag=TAG, query=ConversationQuery,
              response=ConversationPage,
              summary="Conversations, newest activity first (keyset pagination)"),
    api_route("/conversations/{id}", conversation, method="GET", tag=TAG,
              response=ConversationOut, summary="One conversation"),
    api_route("/conversations/{id}", patch, method="PATCH", tag=TAG, body=ConversationPatch,
              response=ConversationOut, summary="Change status, assignee or tags"),
    api_route("/conversations/{id}/read", read, method="POST", tag=TAG,
              response=ConversationOut, summary="Mark the conversation read (unread_count 0)"),
    api_route("/conversations/{id}/messages", messages, method="GET", tag=TAG,
              query=MessagesQuery, response=MessagePage,
              summary="Messages, newest first, with attachments"),
    api_route("/conversations/{id}/messages", reply, method="POST", tag=TAG, body=ReplyIn,
              response=MessageOut, status=202,
              summary="Queue a reply: text, or a template outside WhatsApp's 24-hour window"),
    api_route("/conversations/{id}/notes", notes, method="GET", tag=TAG,
              response=ItemList[NoteOut], summary="The conversation's private notes"),
    api_route("/conversations/{id}/notes", note, method="POST", tag=TAG, body=NoteIn,
              response=NoteOut, status=201, summary="Add a private note"),
]
