"""Signing in and out: sessions, cookies, CSRF, rate limits, connection logs."""

from __future__ import annotations

from argon2 import PasswordHasher

from inbox.accounts.ratelimit import LOGIN_ATTEMPTS_PER_ACCOUNT
from inbox.api.auth import SESSION_COOKIE
from inbox.crypto import hash_token
from inbox.models import Session, SystemLog, User
from inbox.tenancy import unscoped
from tests.inbox.api.seed import PASSWORD, seed_world

UA = {"User-Agent": "pytest-browser/1.0"}


async def login(client, email, password=PASSWORD, **extra):
    return await client.post("/api/v1/auth/login",
                             json={"email": email, "password": password, **extra}, headers=UA)


async def test_login_sets_a_hardened_cookie_and_one_log_row(settings, db, client):
    world = await seed_world(settings, "alpha")
    answer = await login(client, "  Agent@Alpha.test ")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["role"] == "agent"
    assert body["workspace"]["slug"] == "alpha"
    assert body["user"]["email"] == "agent@alpha.test"
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Secure" not in cookie  # PUBLIC_URL is http in the tests
    assert f"Max-Age={settings.session_max_age_days * 86400}" in cookie
    token = client.cookies[SESSION_COOKIE]
    session = await unscoped(Session, reason="test").get(token_hash=hash_token(token))
    assert session.csrf_token == body["csrf_token"]
    assert token not in (session.token_hash, session.csrf_token)
    [row] = await SystemLog.all()
    assert (row.event, row.user_id, row.workspace_id) == ("login", world.agent.user.id,
                                                          world.workspace.id)
    assert row.ip == "127.0.0.1"
    assert row.user_agent == "pytest-browser/1.0"
    me = await client.get("/api/v1/me")
    assert me.json()["via"] == "session"
    assert me.json()["role"] == "agent"
    assert await SystemLog.all().count() == 1  # using the session writes nothing


async def test_secure_cookie_when_public_url_is_https(settings, db, client, app):
    await seed_world(settings, "alpha")
    settings.public_url = "https://inbox.example"
    answer = await login(client, "agent@alpha.test")
    assert "Secure" in answer.headers["set-cookie"]


async def test_refusals_look_alike_and_are_logged(settings, db, client):
    world = await seed_world(settings, "alpha")
    await seed_world(settings, "beta")
    wrong = await login(client, "agent@alpha.test", "wrong-password")
    unknown = await login(client, "nobody@alpha.test")
    elsewhere = await login(client, "agent@alpha.test", workspace="beta")
    for answer in (wrong, unknown, elsewhere):
        assert answer.status_code == 401
        assert answer.json()["error"]["code"] == "invalid_credentials"
        assert "set-cookie" not in answer.headers
    rows = await SystemLog.all().order_by("at")
    assert [row.event for row in rows] == ["login_failed"] * 3
    assert [row.user_id for row in rows] == [world.agent.user.id, None, world.agent.user.id]


async def test_login_picks_the_named_workspace(settings, db, client):
    await seed_world(settings, "alpha")
    beta = await seed_world(settings, "beta")
    from inbox.models import Membership

    await Membership.create(workspace=beta.workspace, user_id=(
        await User.get(email="agent@alpha.test")).id, role="admin")
    first = await login(client, "agent@alpha.test")
    assert first.json()["workspace"]["slug"] == "alpha"
    named = await login(client, "agent@alpha.test", workspace="beta")
    assert named.json()["workspace"]["slug"] == "beta"
    assert named.json()["role"] == "admin"


async def test_csrf_is_required_for_cookie_writes_only(settings, db, client):
    world = await seed_world(settings, "alpha")
    csrf = (await login(client, "agent@alpha.test")).json()["csrf_token"]
    url = f"/api/v1/conversations/{world.conversation.id}/read"
    missing = await client.post(url)
    assert missing.status_code == 403
    assert missing.json()["error"]["code"] == "csrf"
    tampered = ("y" if csrf[0] == "x" else "x") + csrf[1:]
    wrong = await client.post(url, headers={"X-CSRF-Token": tampered})
    assert wrong.status_code == 403
    right = await client.post(url, headers={"X-CSRF-Token": csrf})
    assert right.status_code == 200
    assert (await client.get(url.removesuffix("/read"))).status_code == 200
    # A bearer token needs no CSRF token: browsers never send it on their own.
    client.cookies.clear()
    assert (await client.post(url, headers=world.agent.headers)).status_code == 200


async def test_logout_revokes_and_logs(settings, db, client):
    await seed_world(settings, "alpha")
    csrf = (await login(client, "agent@alpha.test")).json()["csrf_token"]
    token = client.cookies[SESSION_COOKIE]
    answer = await client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf})
    assert answer.status_code == 204
    assert f'{SESSION_COOKIE}=""' in answer.headers["set-cookie"]
    session = await unscoped(Session, reason="test").get(token_hash=hash_token(token))
    assert session.revoked_at is not None
    client.cookies.set(SESSION_COOKIE, token)
    assert (await client.get("/api/v1/me")).status_code == 401
    assert [r.event for r in await SystemLog.all().order_by("at")] == ["login", "logout"]


async def test_expired_sessions_are_refused(settings, db, client):
    await seed_world(settings, "alpha")
    await login(client, "agent@alpha.test")
    from inbox.models.base import utcnow

    await unscoped(Session, reason="test").all().update(expires_at=utcnow())
    assert (await client.get("/api/v1/me")).status_code == 401


async def test_attempts_are_limited_per_account(settings, db, client):
    await seed_world(settings, "alpha")
    for _ in range(LOGIN_ATTEMPTS_PER_ACCOUNT):
        assert (await login(client, "agent@alpha.test", "nope")).status_code == 401
    blocked = await login(client, "agent@alpha.test")  # even the right password
    assert blocked.status_code == 429
    assert blocked.json()["error"]["code"] == "rate_limited"
    assert 0 < int(blocked.headers["retry-after"]) <= 15 * 60
    # Another account from the same address is not blocked by this one.
    assert (await login(client, "admin@alpha.test")).status_code == 200


async def test_attempts_are_limited_per_ip(settings, db, client, broker):
    from inbox.accounts.ratelimit import LOGIN_PER_IP, limit_key

    await seed_world(settings, "alpha")
    key = limit_key(settings.secret_key, LOGIN_PER_IP, "127.0.0.1")
    await broker.redis.set(key, 50, ex=60)
    blocked = await login(client, "admin@alpha.test")
    assert blocked.status_code == 429
    assert 0 < int(blocked.headers["retry-after"]) <= 60
    assert "127.0.0.1" not in key


async def test_success_resets_the_account_counter(settings, db, client):
    await seed_world(settings, "alpha")
    for _ in range(LOGIN_ATTEMPTS_PER_ACCOUNT - 1):
        await login(client, "agent@alpha.test", "nope")
    assert (await login(client, "agent@alpha.test")).status_code == 200
    for _ in range(LOGIN_ATTEMPTS_PER_ACCOUNT - 1):
        await login(client, "agent@alpha.test", "nope")
    assert (await login(client, "agent@alpha.test")).status_code == 200


async def test_old_argon2_parameters_are_upgraded_at_login(settings, db, client):
    await seed_world(settings, "alpha")
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    await User.filter(email="agent@alpha.test").update(password_hash=weak)
    assert (await login(client, "agent@alpha.test")).status_code == 200
    upgraded = (await User.get(email="agent@alpha.test")).password_hash
    assert upgraded != weak
    assert upgraded.startswith("$argon2id$")
    assert (await login(client, "agent@alpha.test")).status_code == 200


async def test_password_change_ends_other_sessions(settings, db, client, app):
    import httpx

    await seed_world(settings, "alpha")
    other = httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                              base_url="http://inbox.test")
    async with other:
        await login(other, "agent@alpha.test")
        csrf = (await login(client, "agent@alpha.test")).json()["csrf_token"]
        url = "/api/v1/auth/password"
        wrong = await client.post(url, json={"current_password": "nope",
                                             "new_password": "a-new-password"},
                                  headers={"X-CSRF-Token": csrf})
        assert wrong.status_code == 400
        short = await client.post(url, json={"current_password": PASSWORD,
                                             "new_password": "short"},
                                  headers={"X-CSRF-Token": csrf})
        assert short.json()["error"]["code"] == "weak_password"
        done = await client.post(url, json={"current_password": PASSWORD,
                                            "new_password": "a-new-password"},
                                 headers={"X-CSRF-Token": csrf})
        assert done.json() == {"other_sessions_ended": 1}
        assert (await client.get("/api/v1/me")).status_code == 200
        assert (await other.get("/api/v1/me")).status_code == 401
    assert (await login(client, "agent@alpha.test", "a-new-password")).status_code == 200


async def test_unauthenticated_and_malformed_credentials_are_401(settings, db, client):
    await seed_world(settings, "alpha")
    assert (await client.get("/api/v1/me")).status_code == 401
    for header in ("Bearer", "Basic abc", "Bearer ibx_nope", "Bearer nope"):
        answer = await client.get("/api/v1/me", headers={"Authorization": header})
        assert answer.status_code == 401
        assert answer.json()["error"]["code"] == "unauthorized"
