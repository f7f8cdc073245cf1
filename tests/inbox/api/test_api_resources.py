"""Me, channels, contacts (rectification), canned responses, OpenAPI, roles."""

from __future__ import annotations

import pytest

from inbox.api.openapi import api_operations
from inbox.models import Channel, Contact, ContactTag
from inbox.tenancy import scoped
from tests.inbox.api.seed import WHATSAPP_CREDENTIALS, add_conversation, seed_world


@pytest.fixture
async def world(settings, db):
    return await seed_world(settings, "alpha")


@pytest.mark.parametrize("role", ["owner", "admin", "agent"])
async def test_me_names_the_caller(client, world, role):
    body = (await client.get("/api/v1/me", headers=world.member(role).headers)).json()
    assert body["role"] == role
    assert body["user"]["id"] == str(world.member(role).user.id)
    assert body["workspace"] == {"id": str(world.workspace.id), "name": world.workspace.name,
                                 "slug": "alpha"}


async def test_channels_list_create_delete(client, world):
    listed = (await client.get("/api/v1/channels", headers=world.agent.headers)).json()
    [channel] = listed["items"]
    assert channel["webhook_url"] == f"http://inbox.test/webhooks/twilio/{world.channel.id}"
    body = {"kind": "messenger", "name": "Page",
            "credentials": {"page_id": "123", "page_access_token": "t", "app_secret": "s",
                            "verify_token": "v"}}
    assert (await client.post("/api/v1/channels", json=body,
                              headers=world.agent.headers)).status_code == 403
    created = await client.post("/api/v1/channels", json=body, headers=world.admin.headers)
    assert created.status_code == 201, created.text
    assert created.json()["webhook_url"].endswith(f"/webhooks/messenger/{created.json()['id']}")
    bad = await client.post("/api/v1/channels", json=body | {"credentials": {}},
                            headers=world.admin.headers)
    assert bad.status_code == 400
    assert bad.json()["error"]["code"] == "invalid_credentials"
    url = f"/api/v1/channels/{created.json()['id']}"
    assert (await client.delete(url, headers=world.agent.headers)).status_code == 403
    assert (await client.delete(url, headers=world.owner.headers)).status_code == 204
    assert (await client.delete(url, headers=world.owner.headers)).status_code == 404
    stored = await scoped(Channel, world.workspace).get(id=created.json()["id"])
    assert stored.status == "deleted"
    names = [c["name"] for c in (await client.get("/api/v1/channels",
                                                  headers=world.agent.headers)).json()["items"]]
    assert names == [world.channel.name]


async def test_whatsapp_channel_answers_both_urls(client, world):
    created = await client.post("/api/v1/channels", headers=world.admin.headers, json={
        "kind": "whatsapp", "name": "Sales", "credentials": WHATSAPP_CREDENTIALS})
    body = created.json()
    assert body["status_callback_url"] == body["webhook_url"] + "/status"


async def test_contacts_list_search_and_pages(settings, client, world):
    for name in ("Bruno", "Carla", "Dora", "Emil"):
        await add_conversation(settings, world.workspace, world.channel, name)
    seen, cursor = [], None
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = (await client.get("/api/v1/contacts", params=params,
                                 headers=world.agent.headers)).json()
        seen += [c["display_name"] for c in page["items"]]
        if not (cursor := page["next_cursor"]):
            break
    assert seen == ["Bruno", "Carla", world.contact.display_name, "Dora", "Emil"]
    found = (await client.get("/api/v1/contacts", params={"q": "arl"},
                              headers=world.agent.headers)).json()
    assert [c["display_name"] for c in found["items"]] == ["Carla"]
    one = (await client.get(f"/api/v1/contacts/{world.contact.id}",
                            headers=world.agent.headers)).json()
    assert one["identities"] == [{"channel_id": str(world.channel.id), "kind": "whatsapp",
                                  "provider_user_id": f"whatsapp:{world.contact.id}"}]
    assert one["tags"] == [world.tag.name]
    assert one["avatar_url"] is None
    assert one["restricted"] is False and one["legal_hold"] is False


async def test_rectification_records_the_agent_as_source(client, world):
    url = f"/api/v1/contacts/{world.contact.id}"
    answer = await client.patch(url, headers=world.agent.headers, json={
        "display_name": "Maria López", "phone": "+44 20 7946 0958", "tags": ["vip"]})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["display_name"] == "Maria López"
    assert body["phone"] == "+442079460958"
    assert body["tags"] == ["vip"]
    assert body["profile"]["phone"]["source"] == "agent"
    assert body["profile"]["phone"]["value"] == "+442079460958"
    assert body["profile"]["display_name"]["source"] == "agent"
    assert "username" not in body["profile"]
    stored = await scoped(Contact, world.workspace).get(id=world.contact.id)
    assert stored.phone == "+442079460958"
    assert await scoped(ContactTag, world.workspace).filter(contact_id=stored.id).count() == 1
    bad = await client.patch(url, headers=world.agent.headers, json={"phone": "12345"})
    assert bad.status_code == 400
    assert bad.json()["error"]["code"] == "invalid_phone"
    assert "12345" not in bad.text
    cleared = await client.patch(url, headers=world.agent.headers, json={"phone": None})
    assert cleared.json()["phone"] is None
    assert cleared.json()["profile"]["phone"] == {
        "value": None, "source": "agent", "fetched_at": cleared.json()["profile"]["phone"][
            "fetched_at"]}


async def test_canned_responses_admins_write_agents_read(client, world):
    url = "/api/v1/canned-responses"
    body = {"shortcut": "/thanks", "text": "Thank you!"}
    assert (await client.post(url, json=body, headers=world.agent.headers)).status_code == 403
    created = await client.post(url, json=body, headers=world.admin.headers)
    assert created.status_code == 201
    assert created.json()["shortcut"] == "thanks"
    duplicate = await client.post(url, json=body, headers=world.owner.headers)
    assert duplicate.status_code == 409
    one = f"{url}/{created.json()['id']}"
    patched = await client.patch(one, json={"text": "Thanks a lot!"},
                                 headers=world.admin.headers)
    assert patched.json()["text"] == "Thanks a lot!"
    assert (await client.patch(one, json={"text": "x"},
                               headers=world.agent.headers)).status_code == 403
    listed = (await client.get(url, headers=world.agent.headers)).json()["items"]
    assert [c["shortcut"] for c in listed] == [world.canned.shortcut, "thanks"]
    assert (await client.delete(one, headers=world.agent.headers)).status_code == 403
    assert (await client.delete(one, headers=world.admin.headers)).status_code == 204
    assert (await client.get(one, headers=world.agent.headers)).status_code == 404


async def test_openapi_describes_every_api_route(app, client):
    document = (await client.get("/api/v1/openapi.json")).json()
    assert document["openapi"].startswith("3.1")
    for path, method, _route in api_operations(app.routes):
        assert method in document["paths"].get(path, {}), f"{method} {path} is not documented"
    login = document["paths"]["/api/v1/auth/login"]["post"]
    ref = login["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    schema = document["components"]["schemas"][ref.rsplit("/", 1)[-1]]
    assert set(schema["required"]) == {"email", "password"}
    listing = document["paths"]["/api/v1/conversations"]["get"]
    assert {"status", "assignee", "channel", "tag", "q", "cursor", "limit"} <= {
        p["name"] for p in listing["parameters"]}
    conversation = document["components"]["schemas"]["ConversationOut"]["properties"]
    assert {"id", "channel", "contact", "status", "assignee_id", "tags", "last_message_at",
            "last_inbound_at", "unread_count", "window_open"} <= set(conversation)
    assert document["paths"]["/api/v1/channels"]["post"]["x-admin-only"] is True
