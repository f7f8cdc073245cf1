"""The team: invitations, roles, the last owner, removal."""

from __future__ import annotations

from email import message_from_bytes
from urllib.parse import urlsplit

from inbox.models import ApiToken, Conversation, Invitation, Membership, Session, User
from inbox.tenancy import scoped
from tests.inbox.accounts.smtp_sink import smtp_sink
from tests.inbox.api.seed import PASSWORD, seed_world


def token_of(link: str) -> str:
    return urlsplit(link).path.rsplit("/", 1)[-1]


async def test_invitation_link_creates_an_account(settings, db, client):
    world = await seed_world(settings, "alpha")
    answer = await client.post("/api/v1/invitations", json={"email": "New@Alpha.test",
                                                            "role": "admin"},
                               headers=world.admin.headers)
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["mailed"] is False  # no SMTP_URL
    assert body["link"].startswith("http://inbox.test/invite/")
    token = token_of(body["link"])
    stored = await scoped(Invitation, world.workspace).get(id=body["id"])
    assert token not in stored.token_hash
    pending = (await client.get("/api/v1/invitations", headers=world.admin.headers)).json()
    assert "new@alpha.test" in {i["email"] for i in pending["items"]}

    accept = {"token": token, "password": "brand-new-password", "display_name": "Nina"}
    answer = await client.post("/api/v1/invitations/accept", json=accept)
    assert answer.status_code == 201, answer.text
    assert answer.json()["role"] == "admin"
    again = await client.post("/api/v1/invitations/accept", json=accept)
    assert again.status_code == 404  # one-time
    signed_in = await client.post("/api/v1/auth/login", json={
        "email": "new@alpha.test", "password": "brand-new-password"})
    assert signed_in.json()["workspace"]["slug"] == "alpha"


async def test_existing_accounts_accept_with_their_password(settings, db, client):
    world = await seed_world(settings, "alpha")
    await seed_world(settings, "beta")
    sent = await client.post("/api/v1/invitations", json={"email": "agent@beta.test"},
                             headers=world.owner.headers)
    token = token_of(sent.json()["link"])
    wrong = await client.post("/api/v1/invitations/accept",
                              json={"token": token, "password": "not-it-at-all"})
    assert wrong.status_code == 401
    right = await client.post("/api/v1/invitations/accept",
                              json={"token": token, "password": PASSWORD})
    assert right.status_code == 201
    user = await User.get(email="agent@beta.test")
    assert await scoped(Membership, world.workspace).filter(user_id=user.id).exists()


async def test_invitations_are_mailed_when_smtp_is_configured(settings, db, client):
    world = await seed_world(settings, "alpha")
    async with smtp_sink() as sink:
        settings.smtp_url = sink.url
        answer = await client.post("/api/v1/invitations", json={"email": "mail@alpha.test"},
                                   headers=world.admin.headers)
    assert answer.json()["mailed"] is True
    [raw] = sink.messages
    mail = message_from_bytes(raw)
    assert mail["To"] == "mail@alpha.test"
    assert answer.json()["link"] in mail.get_payload()


async def test_invitation_rules(settings, db, client):
    world = await seed_world(settings, "alpha")
    url = "/api/v1/invitations"
    as_owner = await client.post(url, json={"email": "x@alpha.test", "role": "owner"},
                                 headers=world.admin.headers)
    assert as_owner.status_code == 403  # admins cannot create owners
    member = await client.post(url, json={"email": "agent@alpha.test"},
                               headers=world.admin.headers)
    assert member.status_code == 409
    bad = await client.post(url, json={"email": "no-at-sign", "role": "boss"},
                            headers=world.admin.headers)
    assert bad.status_code == 400
    first = (await client.post(url, json={"email": "y@alpha.test"},
                               headers=world.admin.headers)).json()
    second = (await client.post(url, json={"email": "y@alpha.test"},
                                headers=world.admin.headers)).json()
    assert (await client.post("/api/v1/invitations/accept", json={
        "token": token_of(first["link"]), "password": "whatever-long"})).status_code == 404
    deleted = await client.delete(f"{url}/{second['id']}", headers=world.admin.headers)
    assert deleted.status_code == 204
    assert not await scoped(Invitation, world.workspace).filter(id=second["id"]).exists()


async def test_roles_change_and_the_last_owner_stays(settings, db, client):
    world = await seed_world(settings, "alpha")
    url = f"/api/v1/members/{world.owner.user.id}"
    last = await client.patch(url, json={"role": "admin"}, headers=world.owner.headers)
    assert last.status_code == 409
    assert last.json()["error"]["code"] == "last_owner"
    by_admin = await client.patch(url, json={"role": "agent"}, headers=world.admin.headers)
    assert by_admin.status_code == 403
    promote = await client.patch(f"/api/v1/members/{world.agent.user.id}",
                                 json={"role": "owner"}, headers=world.owner.headers)
    assert promote.json()["role"] == "owner"
    demote = await client.patch(url, json={"role": "agent"}, headers=world.owner.headers)
    assert demote.json()["role"] == "agent"
    listed = (await client.get("/api/v1/members", headers=world.agent.headers)).json()["items"]
    assert {m["email"]: m["role"] for m in listed} == {
        "owner@alpha.test": "agent", "admin@alpha.test": "admin", "agent@alpha.test": "owner"}
    # The demoted owner is an agent at once, on the same token.
    assert (await client.get("/api/v1/invitations", headers=world.owner.headers)).status_code \
        == 403


async def test_removal_ends_sessions_tokens_and_assignments(settings, db, client):
    world = await seed_world(settings, "alpha")
    await scoped(Conversation, world.workspace).filter(id=world.conversation.id).update(
        assignee_id=world.agent.user.id)
    await client.post("/api/v1/auth/login", json={"email": "agent@alpha.test",
                                                  "password": PASSWORD})
    assert (await client.get("/api/v1/me")).status_code == 200
    answer = await client.delete(f"/api/v1/members/{world.agent.user.id}",
                                 headers=world.admin.headers)
    assert answer.status_code == 204
    assert (await client.get("/api/v1/me")).status_code == 401
    assert (await client.get("/api/v1/me", headers=world.agent.headers)).status_code == 401
    assert await scoped(Session, world.workspace).filter(
        user_id=world.agent.user.id, revoked_at__isnull=True).count() == 0
    assert await scoped(ApiToken, world.workspace).filter(
        user_id=world.agent.user.id, revoked_at__isnull=True).count() == 0
    conversation = await scoped(Conversation, world.workspace).get(id=world.conversation.id)
    assert conversation.assignee_id is None
    last = await client.delete(f"/api/v1/members/{world.owner.user.id}",
                               headers=world.owner.headers)
    assert last.status_code == 409
