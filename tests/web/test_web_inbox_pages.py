"""The inbox page and its forms: what an agent sees and what each button does."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx

from inbox.models import Conversation, Message, Note
from inbox.models.base import utcnow
from inbox.tenancy import scoped
from inbox.workspaces.service import create_workspace
from tests.web.conftest import PASSWORD, only_conversation, receive

XSS = "<img src=x onerror=alert(1)>"


async def test_an_empty_inbox_says_where_messages_will_show(admin_client) -> None:
    client, _ = admin_client
    page = await client.get("/inbox")
    assert "No open conversations — new messages show up here." in page.text
    assert "Select a conversation" in page.text


async def test_untrusted_text_is_shown_as_text_everywhere(admin_client, app, whatsapp, team):
    client, _ = admin_client
    await receive(app, whatsapp, "+15555550123", f"{XSS} see https://shop.test/t?a=1&b=2",
                  name='Eve "<script>x</script>"')
    conversation = await only_conversation(team)
    page = (await client.get(f"/inbox/c/{conversation.id}")).text
    assert XSS not in page and "<script>x" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "Eve &#34;&lt;script&gt;x&lt;/script&gt;&#34;" in page
    assert ('<a href="https://shop.test/t?a=1&amp;b=2" rel="noopener noreferrer nofollow" '
            'target="_blank">') in page
    assert '<div class="bubble" dir="auto">' in page
    # No inline script or style anywhere: the CSP forbids both.
    assert not re.search(r"<script(?![^>]*\bsrc=)", page)
    assert " style=" not in page and " onclick=" not in page


async def test_opening_a_conversation_marks_it_read_and_shows_three_panes(
    admin_client, app, whatsapp, team
) -> None:
    client, _ = admin_client
    await receive(app, whatsapp, "+15555550123", "Hi! Has my order shipped?")
    conversation = await only_conversation(team)
    assert conversation.unread_count == 1
    page = (await client.get(f"/inbox/c/{conversation.id}")).text
    assert 'data-pane="thread"' in page
    assert f'href="/inbox/c/{conversation.id}" aria-current="true"' in page
    assert "Maria Lopez" in page and "+15555550123" in page
    assert "source: WhatsApp message" in page
    await conversation.refresh_from_db()
    assert conversation.unread_count == 0
    contact_pane = (await client.get(f"/inbox/c/{conversation.id}?pane=contact")).text
    assert 'data-pane="contact"' in contact_pane


async def test_replying_from_the_form_queues_the_message(admin_client, app, whatsapp, team):
    client, csrf = admin_client
    await receive(app, whatsapp, "+15555550123", "Hello")
    conversation = await only_conversation(team)
    here = f"/inbox/c/{conversation.id}?view=mine"
    answer = await client.post(f"/inbox/c/{conversation.id}/reply", data={
        "csrf_token": csrf, "mode": "reply", "text": "On its way!", "back": here})
    assert answer.status_code == 303
    assert answer.headers["location"] == here
    reply = await scoped(Message, team.workspace).get(direction="outbound")
    assert (reply.text, reply.status, str(reply.author_user_id)) == (
        "On its way!", "queued", team.admin_id)
    page = (await client.get(f"/inbox/c/{conversation.id}")).text
    assert 'class="ticks queued"' in page


async def test_a_note_stays_private_and_is_set_apart(admin_client, app, whatsapp, team):
    client, csrf = admin_client
    await receive(app, whatsapp, "+15555550123", "Hello")
    conversation = await only_conversation(team)
    await client.post(f"/inbox/c/{conversation.id}/reply", data={
        "csrf_token": csrf, "mode": "note", "text": "refund approved"})
    assert await scoped(Note, team.workspace).filter(text="refund approved").exists()
    assert not await scoped(Message, team.workspace).filter(direction="outbound").exists()
    page = (await client.get(f"/inbox/c/{conversation.id}")).text
    assert 'class="msg note"' in page and "Private note · owner" in page


async def test_assign_resolve_reopen_and_tags(admin_client, app, whatsapp, team) -> None:
    client, csrf = admin_client
    await receive(app, whatsapp, "+15555550123", "Hello")
    conversation = await only_conversation(team)
    base = f"/inbox/c/{conversation.id}"
    await client.post(base + "/assign", data={"csrf_token": csrf, "assignee_id": team.agent_id})
    await client.post(base + "/status", data={"csrf_token": csrf, "status": "resolved"})
    await client.post(base + "/tags", data={"csrf_token": csrf, "add": "vip"})
    await client.post(base + "/tags", data={"csrf_token": csrf, "add": "refund"})
    await client.post(base + "/tags", data={"csrf_token": csrf, "remove": "vip"})
    await conversation.refresh_from_db()
    assert str(conversation.assignee_id) == team.agent_id
    assert conversation.status == "resolved"
    page = (await client.get(base + "?status=resolved")).text
    assert ">Reopen</button>" in page
    assert "Remove tag refund" in page and "Remove tag vip" not in page
    # The list's filters: resolved and assigned to someone else.
    assert base in (await client.get("/inbox?status=resolved")).text
    assert base not in (await client.get("/inbox?status=resolved&view=mine")).text
    assert base not in (await client.get("/inbox")).text  # open only by default
    await client.post(base + "/status", data={"csrf_token": csrf, "status": "open"})
    await client.post(base + "/assign", data={"csrf_token": csrf, "assignee_id": ""})
    await conversation.refresh_from_db()
    assert (conversation.status, conversation.assignee_id) == ("open", None)
    assert base in (await client.get("/inbox?view=unassigned")).text


async def test_a_closed_whatsapp_window_offers_templates(admin_client, app, whatsapp, team):
    client, csrf = admin_client
    await receive(app, whatsapp, "+15555550123", "Hello")
    conversation = await only_conversation(team)
    await scoped(Conversation, team.workspace).filter(id=conversation.id).update(
        last_inbound_at=utcnow() - timedelta(hours=25))
    page = (await client.get(f"/inbox/c/{conversation.id}")).text
    assert "The WhatsApp 24-hour window is closed" in page
    assert 'data-window-open="false"' in page
    assert "<details class=\"composer templates\" open>" in page
    refused = await client.post(f"/inbox/c/{conversation.id}/reply", data={
        "csrf_token": csrf, "mode": "reply", "text": "too late"})
    assert refused.status_code == 303
    page = (await client.get(refused.headers["location"])).text
    assert "the 24-hour window of WhatsApp is closed" in page
    sid = "HX" + "c3" * 16
    await client.post(f"/inbox/c/{conversation.id}/template", data={
        "csrf_token": csrf, "template": sid, "variables": "Maria | 1042"})
    sent = await scoped(Message, team.workspace).get(direction="outbound")
    assert (sent.template_id, sent.template_variables) == (sid, {"1": "Maria", "2": "1042"})


async def test_a_failed_reply_shows_the_reason_and_can_be_retried(
    admin_client, app, whatsapp, team
) -> None:
    client, csrf = admin_client
    await receive(app, whatsapp, "+15555550123", "Hello")
    conversation = await only_conversation(team)
    await client.post(f"/inbox/c/{conversation.id}/reply", data={
        "csrf_token": csrf, "text": "Hi"})
    reply = await scoped(Message, team.workspace).get(direction="outbound")
    await scoped(Message, team.workspace).filter(id=reply.id).update(
        status="failed", error_code="63016", error_message="Outside the allowed window")
    page = (await client.get(f"/inbox/c/{conversation.id}")).text
    assert "Not delivered: Outside the allowed window (63016)" in page
    assert f'action="/inbox/m/{reply.id}/retry"' in page
    answer = await client.post(f"/inbox/m/{reply.id}/retry", data={"csrf_token": csrf})
    assert answer.status_code == 303
    await reply.refresh_from_db()
    assert reply.status == "queued" and reply.error_code is None


async def test_another_workspace_conversation_is_not_found(admin_client, app, whatsapp, team):
    client, csrf = admin_client
    await receive(app, whatsapp, "+15555550123", "Hello")
    conversation = await only_conversation(team)
    other = await create_workspace("Other", "boss@other.test", admin_password=PASSWORD)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://inbox.test") as stranger:
        from tests.web.conftest import sign_in

        stranger_csrf = await sign_in(stranger, "boss@other.test")
        assert (await stranger.get(f"/inbox/c/{conversation.id}")).status_code == 404
        assert (await stranger.get("/inbox/c/not-an-id")).status_code == 404
        answer = await stranger.post(f"/inbox/c/{conversation.id}/status",
                                     data={"csrf_token": stranger_csrf, "status": "resolved"})
        assert answer.status_code == 404
        fragment = await stranger.get(f"/inbox/fragments/conversation/{conversation.id}")
        assert fragment.status_code == 404
    await conversation.refresh_from_db()
    assert conversation.status == "open"
    assert other.workspace.id != team.workspace.id


async def test_fragments_render_the_same_markup_for_live_updates(
    admin_client, app, whatsapp, team
) -> None:
    client, _ = admin_client
    await receive(app, whatsapp, "+15555550123", XSS)
    conversation = await only_conversation(team)
    message = await scoped(Message, team.workspace).get(direction="inbound")
    data = (await client.get(f"/inbox/fragments/message/{message.id}")).json()
    assert data["conversation_id"] == str(conversation.id)
    assert data["html"].startswith(f'<li class="msg inbound" id="m-{message.id}"')
    assert "&lt;img src=x" in data["html"] and XSS not in data["html"]
    item = (await client.get(f"/inbox/fragments/conversation/{conversation.id}")).json()
    assert item["matches"] is True and f'id="c-{conversation.id}"' in item["html"]
    mine = (await client.get(f"/inbox/fragments/conversation/{conversation.id}?view=mine")).json()
    assert mine["matches"] is False
    older = (await client.get(f"/inbox/fragments/older/{conversation.id}")).json()
    assert f'id="m-{message.id}"' in older["html"] and older["next_cursor"] is None
    unauthenticated = await httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://inbox.test"
    ).get(f"/inbox/fragments/message/{message.id}")
    assert unauthenticated.status_code == 401


async def test_the_list_pages_by_cursor(admin_client, app, whatsapp, team) -> None:
    from inbox.web.pages_inbox import LIST_PAGE_SIZE

    client, _ = admin_client
    for number in range(LIST_PAGE_SIZE + 2):
        await receive(app, whatsapp, f"+1555555{number:04d}", "Hello", name=f"C {number}")
    page = (await client.get("/inbox")).text
    assert page.count('class="conv-item') == LIST_PAGE_SIZE
    cursor = re.search(r'id="list-more" href="[^"]*" data-cursor="([^"]+)"', page).group(1)
    more = (await client.get(f"/inbox/fragments/list?cursor={cursor}")).json()
    assert more["html"].count('class="conv-item') == 2
    assert more["next_cursor"] is None
