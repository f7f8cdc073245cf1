"""GET/PUT /api/v1/workspace/retention, the preview and the runs, with each role."""

from __future__ import annotations

from datetime import timedelta

import pytest

from inbox.models import AuditEvent, Message, RetentionRun, Role, Workspace
from inbox.models.base import utcnow
from inbox.tenancy import scoped
from tests.inbox.api.seed import Staff, add_staff
from tests.inbox.privacy.retention_factory import (
    make_channel,
    make_conversation,
    make_message,
    make_workspace,
)

URL = "/api/v1/workspace/retention"


@pytest.fixture
async def team(settings, db) -> dict[str, Staff]:
    workspace = await make_workspace("shop")
    return {
        role.value: await add_staff(workspace, f"{role.value}@shop.test", role.value)
        for role in Role
    }


async def workspace_of(team: dict[str, Staff]) -> Workspace:
    return await Workspace.get(id=team["owner"].membership.workspace_id)


@pytest.mark.parametrize("role", ["owner", "admin", "agent"])
async def test_every_member_reads_the_policy(client, team, role):
    response = await client.get(URL, headers=team[role].headers)
    assert response.status_code == 200
    body = response.json()
    assert body["messages_days"] is None
    assert body["bounds"]["audit_days"] == {"min": 180, "max": 3650}
    assert body["bounds"]["exports_days"] == {"min": 1, "max": 30}


async def test_signed_out_callers_get_401(client, team):
    assert (await client.get(URL)).status_code == 401
    assert (await client.get(URL + "/preview")).status_code == 401


@pytest.mark.parametrize("role", ["owner", "admin"])
async def test_admins_change_the_policy_and_it_is_audited(client, team, role):
    response = await client.put(
        URL, json={"messages_days": 30, "audit_days": None}, headers=team[role].headers
    )
    assert response.status_code == 200, response.text
    assert response.json()["messages_days"] == 30
    again = await client.put(URL, json={"exports_days": 5}, headers=team[role].headers)
    assert again.json()["messages_days"] == 30  # keys left out keep their value
    assert again.json()["exports_days"] == 5
    workspace = await workspace_of(team)
    events = await scoped(AuditEvent, workspace).order_by("created_at")
    assert [event.action for event in events] == ["retention_policy.updated"] * 2
    assert events[0].actor_id == team[role].user.id
    assert events[0].details["after"]["messages_days"] == 30
    assert events[0].details["before"]["messages_days"] is None


async def test_an_unchanged_policy_writes_no_audit_event(client, team):
    headers = team["admin"].headers
    await client.put(URL, json={"messages_days": 30}, headers=headers)
    await client.put(URL, json={"messages_days": 30}, headers=headers)
    assert await scoped(AuditEvent, await workspace_of(team)).count() == 1


async def test_agents_cannot_change_preview_or_list(client, team):
    headers = team["agent"].headers
    assert (await client.put(URL, json={"messages_days": 30}, headers=headers)).status_code == 403
    assert (await client.get(URL + "/preview", headers=headers)).status_code == 403
    assert (await client.get(URL + "/runs", headers=headers)).status_code == 403
    assert (await client.get(URL, headers=headers)).json()["messages_days"] is None


@pytest.mark.parametrize(
    "body",
    [
        {"messages_days": 0},
        {"messages_days": 3651},
        {"audit_days": 179},
        {"exports_days": 31},
        {"messages_days": "30"},
        {"messages_days": 30.5},
        {"messages_days": True},
        {"forever": 1},
        [],
    ],
)
async def test_out_of_bounds_values_are_refused(client, team, body):
    response = await client.put(URL, json=body, headers=team["admin"].headers)
    assert response.status_code == 400
    assert response.json()["error"]["code"] in {"invalid", "invalid_policy", "invalid_body"}
    assert (await client.get(URL, headers=team["admin"].headers)).json()["messages_days"] is None
    assert await scoped(AuditEvent, await workspace_of(team)).count() == 0


async def test_bounds_themselves_are_accepted(client, team):
    body = {
        "messages_days": 1, "attachments_days": 3650, "resolved_conversations_days": 1,
        "inactive_contacts_days": 3650, "exports_days": 30, "audit_days": 180,
    }
    response = await client.put(URL, json=body, headers=team["owner"].headers)
    assert response.status_code == 200
    assert {key: response.json()[key] for key in body} == body


async def test_preview_counts_and_deletes_nothing(client, settings, team):
    workspace = await workspace_of(team)
    channel = await make_channel(settings, workspace)
    conversation = await make_conversation(workspace, channel)
    await make_message(conversation, utcnow() - timedelta(days=40))
    await make_message(conversation, utcnow() - timedelta(days=1))
    await client.put(URL, json={"messages_days": 30}, headers=team["admin"].headers)

    response = await client.get(URL + "/preview", headers=team["admin"].headers)

    assert response.status_code == 200
    assert response.json()["counts"]["messages"] == 1
    assert response.json()["legal_hold"] is False
    assert await scoped(Message, workspace).count() == 2


async def test_runs_are_listed_for_admins_only_of_their_workspace(client, team):
    workspace = await workspace_of(team)
    other = await make_workspace("elsewhere")
    for started in range(3):
        await RetentionRun.create(
            workspace=workspace, started_at=utcnow() - timedelta(hours=started),
            status="finished", deleted={"messages": started},
        )
    await RetentionRun.create(workspace=other, started_at=utcnow(), status="finished")

    first = await client.get(URL + "/runs?limit=2", headers=team["admin"].headers)
    body = first.json()
    assert first.status_code == 200
    assert [item["deleted"]["messages"] for item in body["items"]] == [0, 1]
    rest = await client.get(
        URL + "/runs", params={"cursor": body["next_cursor"]}, headers=team["admin"].headers
    )
    assert [item["deleted"]["messages"] for item in rest.json()["items"]] == [2]
    assert rest.json()["next_cursor"] is None
    bad = await client.get(URL + "/runs?cursor=nonsense", headers=team["admin"].headers)
    assert bad.status_code == 400


async def test_the_routes_are_in_the_openapi_document(client, team):
    document = (await client.get("/api/v1/openapi.json")).json()
    assert set(document["paths"][URL]) == {"get", "put"}
    assert document["paths"][URL + "/preview"]["get"]["x-admin-only"] is True
    assert "get" in document["paths"][URL + "/runs"]
