"""Login, logout, invitations and password change through the HTML forms."""

from __future__ import annotations

import httpx

from inbox.accounts.invitations import invite
from inbox.accounts.members import get_member
from inbox.models import Membership, Session, User
from inbox.tenancy import scoped
from tests.web.conftest import ADMIN_EMAIL, PASSWORD, csrf_of, sign_in


async def test_login_page_has_the_security_headers(client: httpx.AsyncClient, team) -> None:
    page = await client.get("/login")
    assert page.status_code == 200
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "style-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert page.headers["x-content-type-options"] == "nosniff"
    assert '<form class="card" method="post" action="/login">' in page.text


async def test_a_signed_out_visitor_is_sent_to_the_login_page(client, team) -> None:
    answer = await client.get("/inbox/c/123?view=mine")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?next=/inbox/c/123%3Fview%3Dmine"


async def test_wrong_password_says_so_without_naming_the_cause(client, team) -> None:
    page = await client.get("/login")
    answer = await client.post(
        "/login",
        data={"email": ADMIN_EMAIL, "password": "wrong", "csrf_token": csrf_of(page.text)},
    )
    assert answer.status_code == 401
    assert "wrong e-mail address or password" in answer.text
    assert "inbox_session" not in answer.headers.get("set-cookie", "")


async def test_login_without_the_form_token_is_refused(client, team) -> None:
    answer = await client.post("/login", data={"email": ADMIN_EMAIL, "password": PASSWORD})
    assert answer.status_code == 400
    assert "inbox_session" not in answer.headers.get("set-cookie", "")


async def test_login_goes_to_the_page_asked_for_but_never_off_site(client, team) -> None:
    page = await client.get("/login?next=//evil.test/x")
    assert 'name="next" value="/inbox"' in page.text
    page = await client.get("/login?next=/settings/team")
    answer = await client.post(
        "/login",
        data={"email": ADMIN_EMAIL, "password": PASSWORD, "csrf_token": csrf_of(page.text),
              "next": "/settings/team"},
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == "/settings/team"


async def test_the_session_cookie_also_opens_the_api(admin_client) -> None:
    client, csrf = admin_client
    me = await client.get("/api/v1/me")
    assert me.status_code == 200
    # And the page's CSRF token is the API's.
    answer = await client.post("/api/v1/conversations/x/notes", json={"text": "hi"},
                               headers={"X-CSRF-Token": csrf})
    assert answer.status_code == 404


async def test_logout_ends_the_session(admin_client, team) -> None:
    client, csrf = admin_client
    answer = await client.post("/logout", data={"csrf_token": csrf})
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login"
    assert await scoped(Session, team.workspace).filter(revoked_at__isnull=True).count() == 0
    assert (await client.get("/inbox")).status_code == 303


async def test_a_form_without_the_session_token_changes_nothing(admin_client, team) -> None:
    client, _ = admin_client
    answer = await client.post("/logout", data={"csrf_token": "forged"})
    assert answer.status_code == 400
    assert await scoped(Session, team.workspace).filter(revoked_at__isnull=True).count() == 1


async def test_an_invitation_link_creates_the_account_and_signs_in(
    settings, team, app
) -> None:
    owner = await get_member(team.workspace, team.admin_id)
    sent = await invite(settings, team.workspace, owner.membership, "new@shop.test", "agent")
    path = "/invite/" + sent.link.rsplit("/", 1)[1]
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://inbox.test") as browser:
        page = await browser.get(path)
        assert page.status_code == 200
        assert "new@shop.test" in page.text and "Choose a password" in page.text
        short = await browser.post(path, data={"csrf_token": csrf_of(page.text),
                                               "display_name": "Nia", "password": "short"})
        assert short.status_code == 400
        answer = await browser.post(path, data={"csrf_token": csrf_of(page.text),
                                                "display_name": "Nia", "password": PASSWORD})
        assert answer.status_code == 303
        assert (await browser.get("/inbox")).status_code == 200
    user = await User.get(email="new@shop.test")
    assert user.display_name == "Nia"
    member = await scoped(Membership, team.workspace).get(user_id=user.id)
    assert member.role == "agent"
    again = await client_get(app, path)
    assert again.status_code == 404


async def client_get(app, path: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://inbox.test") as http:
        return await http.get(path)


async def test_changing_the_password_signs_out_other_sessions(admin_client, app, team) -> None:
    client, csrf = admin_client
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://inbox.test") as other:
        await sign_in(other, ADMIN_EMAIL)
        wrong = await client.post("/account/password", data={
            "csrf_token": csrf, "current_password": "nope", "new_password": "another-long-one"})
        assert wrong.status_code == 303
        page = await client.get("/account/password")
        assert "the current password is wrong" in page.text
        answer = await client.post("/account/password", data={
            "csrf_token": csrf, "current_password": PASSWORD,
            "new_password": "another-long-one"})
        assert answer.status_code == 303
        page = await client.get(answer.headers["location"])
        assert "Password changed; 1 other session(s) ended." in page.text
        assert (await other.get("/inbox")).status_code == 303
