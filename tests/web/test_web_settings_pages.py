"""The admins' settings: team, channels, canned responses; agents are kept out."""

from __future__ import annotations

import re

import pytest

from channels.fake import serve_on_loopback
from inbox.models import CannedResponse, Channel, Invitation, Membership, Session
from inbox.tenancy import scoped
from tests.web.conftest import AGENT_EMAIL

ADMIN_PAGES = ("/settings", "/settings/team", "/settings/channels", "/settings/canned")


@pytest.mark.parametrize("path", ADMIN_PAGES)
async def test_agents_get_403_on_admin_pages(agent_client, path: str) -> None:
    client, _ = agent_client
    answer = await client.get(path)
    assert answer.status_code == 403
    assert "only admins" in answer.text
    assert "content-security-policy" in answer.headers


async def test_agents_cannot_post_admin_forms_either(agent_client, team) -> None:
    client, csrf = agent_client
    answer = await client.post("/settings/team/invite", data={
        "csrf_token": csrf, "email": "x@shop.test", "role": "admin"})
    assert answer.status_code == 403
    assert not await scoped(Invitation, team.workspace).filter(email="x@shop.test").exists()


async def test_agents_see_no_settings_link(agent_client) -> None:
    client, _ = agent_client
    page = (await client.get("/inbox")).text
    assert 'href="/settings"' not in page


async def test_inviting_shows_the_link_once(admin_client, team) -> None:
    client, csrf = admin_client
    answer = await client.post("/settings/team/invite", data={
        "csrf_token": csrf, "email": "Nia@Shop.test", "role": "admin"})
    assert answer.status_code == 200
    link = re.search(r'id="invite-link" readonly value="([^"]+)"', answer.text).group(1)
    assert link.startswith("http://inbox.test/invite/ibi_")
    page = (await client.get("/settings/team")).text
    assert link not in page
    assert "nia@shop.test" in page  # pending


async def test_changing_a_role_and_removing_a_member(admin_client, team) -> None:
    client, csrf = admin_client
    answer = await client.post(f"/settings/team/{team.agent_id}/role", data={
        "csrf_token": csrf, "role": "admin"})
    page = (await client.get(answer.headers["location"])).text
    assert "Ana Agent is now admin." in page
    assert (await scoped(Membership, team.workspace).get(user_id=team.agent_id)).role == "admin"
    answer = await client.post(f"/settings/team/{team.agent_id}/remove",
                               data={"csrf_token": csrf})
    page = (await client.get(answer.headers["location"])).text
    assert "Ana Agent was removed" in page
    assert AGENT_EMAIL not in page
    assert not await scoped(Membership, team.workspace).filter(user_id=team.agent_id).exists()
    assert not await scoped(Session, team.workspace).filter(
        user_id=team.agent_id, revoked_at__isnull=True).exists()


async def test_the_last_owner_cannot_be_removed(admin_client, team) -> None:
    client, csrf = admin_client
    page = (await client.get("/settings/team")).text
    assert f"/settings/team/{team.admin_id}/remove" not in page  # no button for oneself
    answer = await client.post(f"/settings/team/{team.admin_id}/remove",
                               data={"csrf_token": csrf})
    page = (await client.get(answer.headers["location"])).text
    assert "a workspace keeps at least one owner" in page


async def test_connecting_a_channel_shows_the_webhook_url(admin_client, team) -> None:
    client, csrf = admin_client
    answer = await client.post("/settings/channels", data={
        "csrf_token": csrf, "kind": "messenger", "name": "Our Page",
        "cred_page_id": "101234567890123", "cred_page_access_token": "page-token",
        "cred_app_secret": "app-secret", "cred_verify_token": "verify-me"})
    assert answer.status_code == 303
    channel = await scoped(Channel, team.workspace).get(name="Our Page")
    page = (await client.get(answer.headers["location"])).text
    assert "Our Page is connected." in page
    assert f'value="http://inbox.test/webhooks/messenger/{channel.id}"' in page
    assert "page-token" not in page and "app-secret" not in page


async def test_bad_credentials_are_explained(admin_client, team) -> None:
    client, csrf = admin_client
    answer = await client.post("/settings/channels", data={
        "csrf_token": csrf, "kind": "whatsapp", "name": "WA",
        "cred_account_sid": "nope", "cred_auth_token": "t",
        "cred_from_number": "whatsapp:+15550100000"})
    page = (await client.get(answer.headers["location"])).text
    assert "credentials key &#39;account_sid&#39; must be" in page
    assert not await scoped(Channel, team.workspace).exists()


async def test_testing_a_channel_sends_a_signed_delivery(admin_client, app, settings, whatsapp):
    client, csrf = admin_client
    channel_id = whatsapp.channel.id
    unreachable = await client.post(f"/settings/channels/{channel_id}/test",
                                     data={"csrf_token": csrf})
    page = (await client.get(unreachable.headers["location"])).text
    assert "could not be reached" in page
    async with serve_on_loopback(app) as url:
        settings.public_url = url
        answer = await client.post(f"/settings/channels/{channel_id}/test",
                                   data={"csrf_token": csrf})
        page = (await client.get(answer.headers["location"])).text
    assert "The webhook URL accepted a signed test delivery." in page


async def test_deleting_a_channel_needs_its_name(admin_client, whatsapp, team) -> None:
    client, csrf = admin_client
    channel_id = whatsapp.channel.id
    await client.post(f"/settings/channels/{channel_id}/delete",
                      data={"csrf_token": csrf, "confirm": "shop whatsapp"})
    assert (await scoped(Channel, team.workspace).get(id=channel_id)).status == "active"
    answer = await client.post(f"/settings/channels/{channel_id}/delete",
                               data={"csrf_token": csrf, "confirm": "Shop WhatsApp"})
    page = (await client.get(answer.headers["location"])).text
    assert "Shop WhatsApp was disconnected" in page
    assert (await scoped(Channel, team.workspace).get(id=channel_id)).status == "deleted"


async def test_canned_responses_are_added_replaced_and_deleted(admin_client, team) -> None:
    client, csrf = admin_client
    await client.post("/settings/canned", data={
        "csrf_token": csrf, "shortcut": "/thanks", "text": "Thanks for writing!"})
    await client.post("/settings/canned", data={
        "csrf_token": csrf, "shortcut": "thanks", "text": "Thank you <3"})
    rows = await scoped(CannedResponse, team.workspace).all()
    assert [(r.shortcut, r.text) for r in rows] == [("thanks", "Thank you <3")]
    page = (await client.get("/settings/canned")).text
    assert "Thank you &lt;3" in page
    await client.post(f"/settings/canned/{rows[0].id}/delete", data={"csrf_token": csrf})
    assert not await scoped(CannedResponse, team.workspace).exists()
