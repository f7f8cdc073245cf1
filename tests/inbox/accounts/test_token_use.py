"""API tokens: hashed lookup, use recorded at most once per token per minute."""

from __future__ import annotations

from datetime import timedelta

from inbox.models import ApiToken, SystemLog
from inbox.models.base import utcnow
from inbox.tenancy import scoped
from tests.inbox.api.seed import seed_world


async def test_token_use_moves_last_used_and_logs_once_a_minute(settings, db, client):
    world = await seed_world(settings, "alpha")
    for _ in range(3):
        answer = await client.get("/api/v1/me", headers=world.agent.headers | {
            "User-Agent": "integration/2"})
        assert answer.status_code == 200
        assert answer.json()["via"] == "token"
    [row] = await SystemLog.all()
    assert (row.event, row.user_id, row.workspace_id, row.user_agent) == (
        "api_token", world.agent.user.id, world.workspace.id, "integration/2")
    token = await scoped(ApiToken, world.workspace).get(user_id=world.agent.user.id)
    assert token.last_used_at is not None
    assert token.token_hash != world.agent.token
    # A minute later the next use is recorded again.
    await scoped(ApiToken, world.workspace).filter(id=token.id).update(
        last_used_at=utcnow() - timedelta(seconds=61))
    await client.get("/api/v1/me", headers=world.agent.headers)
    assert await SystemLog.filter(event="api_token").count() == 2


async def test_revoked_tokens_are_refused(settings, db, client):
    world = await seed_world(settings, "alpha")
    await scoped(ApiToken, world.workspace).filter(user_id=world.agent.user.id).update(
        revoked_at=utcnow())
    assert (await client.get("/api/v1/me", headers=world.agent.headers)).status_code == 401
    assert await SystemLog.all().count() == 0
