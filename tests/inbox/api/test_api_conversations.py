"""The conversation routes: list, filters, cursor, one, patch, read, messages, notes."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from inbox.live.events import stream_key
from inbox.models import Conversation, ConversationTag, Message, Tag
from inbox.models.base import utcnow
from inbox.tenancy import scoped
from tests.inbox.api.seed import add_conversation, seed_world


@pytest.fixture
async def world(settings, db):
    return await seed_world(settings, "alpha")


async def test_list_shows_the_shape_api_md_promises(client, world):
    answer = await client.get("/api/v1/conversations", headers=world.agent.headers)
    assert answer.status_code == 200
    body = answer.json()
    assert body["next_cursor"] is None
    [item] = body["items"]
    assert item["id"] == str(world.conversation.id)
    assert item["channel"] == {"id": str(world.channel.id), "kind": "whatsapp",
                               "name": world.channel.name}
    assert item["contact"] == {"id": str(world.contact.id),
                               "display_name": world.contact.display_name}
    assert item["status"] == "open"
    assert item["assignee_id"] is None
    assert item["tags"] == [world.tag.name]
    assert item["unread_count"] == 1
    assert item["window_open"] is True
    assert item["last_message_at"].endswith("Z")


async def test_keyset_pages_walk_every_conversation_once_newest_first(settings, client, world):
    for minute in range(2, 9):
        await add_conversation(settings, world.workspace, world.channel, f"C{minute}",
                               minutes_ago=minute)
    # Two conversations without any message come after the others.
    for name in ("empty1", "empty2"):
        contact, conversation, message = await add_conversation(
            settings, world.workspace, world.channel, name)
        await scoped(Message, world.workspace).filter(id=message.id).delete()
        await scoped(Conversation, world.workspace).filter(id=conversation.id).update(
            last_message_at=None)
    seen, cursor = [], None
    while True:
        params = {"limit": 3} | ({"cursor": cursor} if cursor else {})
        page = (await client.get("/api/v1/conversations", params=params,
                                 headers=world.agent.headers)).json()
        seen += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == 10
    assert len({item["id"] for item in seen}) == 10
    dated = [item["last_message_at"] for item in seen if item["last_message_at"]]
    assert dated == sorted(dated, reverse=True)
    assert [item["last_message_at"] for item in seen[-2:]] == [None, None]


async def test_filters_combine(settings, client, world):
    _, other, _ = await add_conversation(settings, world.workspace, world.channel, "Other")
    await scoped(Conversation, world.workspace).filter(id=world.conversation.id).update(
        assignee_id=world.agent.user.id)

    async def ids(**params):
        answer = await client.get("/api/v1/conversations", params=params,
                                  headers=world.agent.headers)
        assert answer.status_code == 200, answer.text
        return {item["id"] for item in answer.json()["items"]}

    mine = str(world.conversation.id)
    assert await ids(assignee="me") == {mine}
    assert await ids(assignee="none") == {str(other.id)}
    assert await ids(assignee=str(world.agent.user.id), tag=world.tag.name) == {mine}
    assert await ids(assignee="none", tag=world.tag.name) == set()
    assert await ids(tag="no-such-tag") == set()
    assert await ids(status="resolved") == set()
    assert await ids(channel=str(world.channel.id), status="open") == {mine, str(other.id)}
    assert await ids(q=world.marker) == {mine}  # contact name and message text
    assert await ids(q="0002222") == {mine, str(other.id)}  # phone digits
    assert await ids(q="Other") == {str(other.id)}


async def test_bad_filters_answer_400_with_field_details(client, world):
    answer = await client.get("/api/v1/conversations?limit=101&status=closed",
                              headers=world.agent.headers)
    assert answer.status_code == 400
    fields = {d["field"] for d in answer.json()["error"]["details"]}
    assert fields == {"limit", "status"}
    answer = await client.get("/api/v1/conversations?cursor=nonsense",
                              headers=world.agent.headers)
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "invalid_cursor"
    answer = await client.get("/api/v1/conversations?assignee=bob",
                              headers=world.agent.headers)
    assert answer.status_code == 400


async def test_patch_changes_status_assignee_and_tags_and_publishes(client, world, broker):
    answer = await client.patch(
        f"/api/v1/conversations/{world.conversation.id}",
        json={"status": "resolved", "assignee_id": str(world.admin.user.id),
              "tags": ["vip", " vip ", "refund"]},
        headers=world.agent.headers,
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["status"] == "resolved"
    assert body["assignee_id"] == str(world.admin.user.id)
    assert body["tags"] == ["refund", "vip"]
    stored = await scoped(Conversation, world.workspace).get(id=world.conversation.id)
    assert stored.resolved_at is not None
    assert await scoped(Tag, world.workspace).filter(name__in=["vip", "refund"]).count() == 2
    assert await scoped(ConversationTag, world.workspace).filter(
        conversation_id=world.conversation.id).count() == 2
    events = await broker.redis.xrange(stream_key(world.workspace))
    payload = json.loads(events[-1][1][b"payload"])
    assert payload["type"] == "conversation.updated"
    assert payload["data"]["conversation_id"] == str(world.conversation.id)

    # Unassign, and only what is sent changes.
    answer = await client.patch(f"/api/v1/conversations/{world.conversation.id}",
                                json={"assignee_id": None}, headers=world.agent.headers)
    assert answer.json()["assignee_id"] is None
    assert answer.json()["status"] == "resolved"
    assert answer.json()["tags"] == ["refund", "vip"]


async def test_patch_refuses_a_non_member_assignee_and_bad_values(settings, client, world):
    other = await seed_world(settings, "beta")
    url = f"/api/v1/conversations/{world.conversation.id}"
    answer = await client.patch(url, json={"assignee_id": str(other.agent.user.id)},
                                headers=world.agent.headers)
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "invalid_assignee"
    answer = await client.patch(url, json={"status": None}, headers=world.agent.headers)
    assert answer.status_code == 400
    answer = await client.patch(url, json={"colour": "red"}, headers=world.agent.headers)
    assert answer.status_code == 400
    assert answer.json()["error"]["details"][0]["field"] == "colour"
    answer = await client.patch(url, content=b"{not json", headers=world.agent.headers)
    assert answer.json()["error"]["code"] == "invalid_json"


async def test_read_resets_the_unread_count(client, world):
    answer = await client.post(f"/api/v1/conversations/{world.conversation.id}/read",
                               headers=world.agent.headers)
    assert answer.status_code == 200
    assert answer.json()["unread_count"] == 0
    stored = await scoped(Conversation, world.workspace).get(id=world.conversation.id)
    assert stored.unread_count == 0


async def test_messages_newest_first_with_attachments_in_order(settings, client, world):
    base = utcnow()
    for n in range(5):
        message = await Message.create(
            workspace=world.workspace, conversation=world.conversation, channel=world.channel,
            direction="outbound", text=f"reply {n}", status="sent",
            author_user=world.agent.user)
        await scoped(Message, world.workspace).filter(id=message.id).update(
            created_at=base + timedelta(seconds=n))
    url = f"/api/v1/conversations/{world.conversation.id}/messages"
    first = (await client.get(url, params={"limit": 4}, headers=world.agent.headers)).json()
    assert [m["text"] for m in first["items"]] == ["reply 4", "reply 3", "reply 2", "reply 1"]
    assert first["items"][0]["author"] == {"type": "member", "id": str(world.agent.user.id)}
    second = (await client.get(url, params={"before": first["next_cursor"]},
                               headers=world.agent.headers)).json()
    assert [m["text"] for m in second["items"]] == ["reply 0", world.message.text]
    assert second["next_cursor"] is None
    inbound = second["items"][1]
    assert inbound["author"] == {"type": "contact", "id": str(world.contact.id)}
    assert inbound["direction"] == "inbound"
    assert inbound["status"] == "received"
    [attachment] = inbound["attachments"]
    assert attachment["url"] == f"http://inbox.test/api/v1/attachments/{world.attachment.id}"
    download = await client.get(attachment["url"], headers=world.agent.headers)
    assert download.status_code == 200
    assert download.content.endswith(world.marker.encode())
    assert download.headers["x-content-type-options"] == "nosniff"


async def test_notes_are_added_and_listed(client, world):
    url = f"/api/v1/conversations/{world.conversation.id}/notes"
    answer = await client.post(url, json={"text": "refund approved"},
                               headers=world.admin.headers)
    assert answer.status_code == 201
    assert answer.json()["author_id"] == str(world.admin.user.id)
    listed = (await client.get(url, headers=world.agent.headers)).json()["items"]
    assert [n["text"] for n in listed] == [world.note.text, "refund approved"]
    answer = await client.post(url, json={"text": ""}, headers=world.admin.headers)
    assert answer.status_code == 400


async def test_reply_queues_a_message(client, world):
    url = f"/api/v1/conversations/{world.conversation.id}/messages"
    answer = await client.post(url, json={"text": "On its way"}, headers=world.agent.headers)
    assert answer.status_code == 202, answer.text
    body = answer.json()
    assert body["status"] == "queued"
    assert body["direction"] == "outbound"
    assert body["author"] == {"type": "member", "id": str(world.agent.user.id)}
    assert await scoped(Message, world.workspace).filter(id=body["id"]).exists()
    answer = await client.post(url, json={"text": "x", "template": "HX" + "0" * 32},
                               headers=world.agent.headers)
    assert answer.status_code == 400


async def test_reply_outside_the_whatsapp_window_is_409(client, world):
    await scoped(Conversation, world.workspace).filter(id=world.conversation.id).update(
        last_inbound_at=utcnow() - timedelta(hours=25))
    url = f"/api/v1/conversations/{world.conversation.id}/messages"
    answer = await client.post(url, json={"text": "late"}, headers=world.agent.headers)
    assert answer.status_code == 409
    assert answer.json()["error"]["code"] == "window_closed"
    one = await client.get(f"/api/v1/conversations/{world.conversation.id}",
                           headers=world.agent.headers)
    assert one.json()["window_open"] is False
