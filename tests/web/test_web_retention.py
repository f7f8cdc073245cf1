"""The retention settings page: the policy form, its previews, saving, and who may see it."""

from __future__ import annotations

from datetime import timedelta

from inbox.models import AuditEvent, Message, RetentionPolicy
from inbox.models.base import utcnow
from inbox.privacy.retention_policy import POLICY_CHANGED_ACTION
from inbox.tenancy import scoped
from tests.inbox.privacy.retention_factory import make_channel, make_conversation, make_message

ALL_FOREVER = {
    "messages_days_mode": "forever",
    "attachments_days_mode": "forever",
    "resolved_conversations_days_mode": "forever",
    "inactive_contacts_days_mode": "forever",
    "exports_days_mode": "forever",
    "audit_days_mode": "forever",
}


def policy_form(csrf: str, **days: int | str) -> dict[str, str]:
    """Every rule kept forever except those given as days."""
    form = {"csrf_token": csrf, **ALL_FOREVER}
    for key, value in days.items():
        form[f"{key}_mode"] = "days"
        form[key] = str(value)
    return form


async def seed_messages(settings, team, ages_in_days: list[int]) -> None:
    channel = await make_channel(settings, team.workspace)
    conversation = await make_conversation(team.workspace, channel, last_message_at=utcnow())
    for age in ages_in_days:
        await make_message(conversation, utcnow() - timedelta(days=age))


async def set_policy(team, **days: int | None) -> None:
    values = {"exports_days": None, **days}
    policy = await scoped(RetentionPolicy, team.workspace).first()
    if policy is None:
        await RetentionPolicy.create(workspace_id=team.workspace.id, **values)
    else:
        await scoped(RetentionPolicy, team.workspace).update(**values)


async def test_admin_sees_what_the_current_policy_deletes(
    admin_client, team, settings
) -> None:
    client, _ = admin_client
    await seed_messages(settings, team, [200, 150, 120, 10])
    await set_policy(team, messages_days=90)
    answer = await client.get("/settings/retention")
    assert answer.status_code == 200
    assert "The next hourly run deletes" in answer.text
    assert "3 messages older than 90 days" in answer.text
    assert 'name="messages_days" value="90"' in answer.text
    assert "No runs yet." in answer.text
    # The settings menu now links here.
    assert 'href="/settings/retention" aria-current="page"' in answer.text


async def test_previewing_a_proposed_policy_counts_it_and_saves_nothing(
    admin_client, team, settings
) -> None:
    client, csrf = admin_client
    await seed_messages(settings, team, [200, 150, 120, 10])
    await set_policy(team, messages_days=180)
    answer = await client.post(
        "/settings/retention/preview", data=policy_form(csrf, messages_days=100)
    )
    assert answer.status_code == 200
    assert "Saving deletes, at the next hourly run" in answer.text
    assert "3 messages older than 100 days" in answer.text
    assert 'name="messages_days" value="100"' in answer.text
    policy = await scoped(RetentionPolicy, team.workspace).get()
    assert policy.messages_days == 180
    assert await scoped(Message, team.workspace).count() == 4
    assert not await scoped(AuditEvent, team.workspace).filter(
        action=POLICY_CHANGED_ACTION).exists()


async def test_saving_updates_the_policy_and_audits_it(admin_client, team) -> None:
    client, csrf = admin_client
    await set_policy(team, messages_days=None)
    answer = await client.post(
        "/settings/retention", data=policy_form(csrf, messages_days=365, audit_days=400)
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == "/settings/retention"
    page = (await client.get("/settings/retention")).text
    assert "The retention policy was saved" in page
    policy = await scoped(RetentionPolicy, team.workspace).get()
    assert (policy.messages_days, policy.audit_days, policy.exports_days) == (365, 400, None)
    event = await scoped(AuditEvent, team.workspace).get(action=POLICY_CHANGED_ACTION)
    assert str(event.actor_id) == team.admin_id
    assert event.details["after"]["messages_days"] == 365
    assert event.details["before"]["messages_days"] is None


async def test_an_invalid_value_is_refused_with_its_error(admin_client, team) -> None:
    client, csrf = admin_client
    await set_policy(team, messages_days=90)
    for bad in ("5", "<b>x</b>"):
        answer = await client.post(
            "/settings/retention", data=policy_form(csrf, messages_days=30, audit_days=bad)
        )
        assert answer.status_code == 400
        assert "Enter a whole number of days from 180 to 3650." in answer.text
        assert 'id="audit_days-error"' in answer.text
        assert "<b>x</b>" not in answer.text  # escaped
    policy = await scoped(RetentionPolicy, team.workspace).get()
    assert (policy.messages_days, policy.audit_days) == (90, None)
    assert not await scoped(AuditEvent, team.workspace).exists()


async def test_agents_get_403(agent_client, team) -> None:
    client, csrf = agent_client
    assert (await client.get("/settings/retention")).status_code == 403
    for path in ("/settings/retention", "/settings/retention/preview"):
        answer = await client.post(path, data=policy_form(csrf, messages_days=30))
        assert answer.status_code == 403
    policy = await scoped(RetentionPolicy, team.workspace).first()
    assert policy is None or policy.messages_days is None
