"""Legal holds, the dry-run preview, the lock, and resuming a crashed run."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from inbox.errors import InvalidInput
from inbox.models import (
    Attachment,
    Contact,
    Conversation,
    ExportJob,
    Message,
    Note,
    RetentionRun,
    Workspace,
)
from inbox.privacy.legal_hold import set_contact_legal_hold, set_workspace_legal_hold
from inbox.privacy.retention import RunLock, preview_retention, run_retention
from inbox.privacy.retention_history import list_runs
from inbox.privacy.stored_files import write_stored_file
from inbox.runtime import Runtime
from inbox.tenancy import scoped
from tests.inbox.privacy.retention_factory import (
    NOW,
    ago,
    make_attachment,
    make_channel,
    make_contact,
    make_conversation,
    make_message,
    make_workspace,
    set_policy,
    stored,
)

EVERY_RULE = {
    "messages_days": 30,
    "attachments_days": 20,
    "resolved_conversations_days": 60,
    "inactive_contacts_days": 90,
    "exports_days": 7,
    "audit_days": 180,
}


class Crash(RuntimeError):
    """Stands for a worker dying between two batches."""


async def run(runtime: Runtime, workspace, **kwargs):
    return await run_retention(
        runtime.settings, runtime.broker.redis, workspace, now=NOW, **kwargs
    )


async def populate(runtime: Runtime, workspace: Workspace) -> dict:
    """A bit of everything, expired and not, overlapping between the rules."""
    settings = runtime.settings
    channel = await make_channel(settings, workspace)
    made: dict = {"files": [], "held_files": []}
    # An active conversation: old history (expired messages, some with files), recent talk.
    active = await make_conversation(workspace, channel, last_message_at=ago(1))
    for day in range(25, 40):
        message = await make_message(active, ago(day))
        if day % 3 == 0:
            made["held_files"].append((await make_attachment(settings, message)).storage_key)
    await make_message(active, ago(1))
    # Files older than the attachment rule on messages the message rule keeps.
    for day in (21, 22):
        message = await make_message(active, ago(day))
        made["held_files"].append((await make_attachment(settings, message)).storage_key)
    # A resolved conversation past its limit, with a note.
    resolved = await make_conversation(
        workspace, channel, status="resolved", resolved_at=ago(70), last_message_at=ago(75)
    )
    await make_message(resolved, ago(75))
    await Note.create(workspace=workspace, conversation=resolved, text="n")
    # An inactive contact with an old resolved conversation (both rules match).
    sleeper = await make_contact(workspace, last_activity_at=ago(100))
    old = await make_conversation(
        workspace, channel, sleeper, status="resolved", resolved_at=ago(100),
        last_message_at=ago(100),
    )
    message = await make_message(old, ago(100))
    made["held_files"].append((await make_attachment(settings, message)).storage_key)
    key = f"{workspace.id}/exports/old.zip"
    write_stored_file(settings, key, b"zip")
    await ExportJob.create(
        workspace=workspace, status="done", storage_key=key, finished_at=ago(8)
    )
    made["files"].append(key)
    # The sleeper's own export archive: both the export and the contact rule match.
    key = f"{workspace.id}/exports/sleeper.zip"
    write_stored_file(settings, key, b"zip")
    await ExportJob.create(
        workspace=workspace, contact=sleeper, status="done", storage_key=key, finished_at=ago(9)
    )
    made["files"].append(key)
    # Silent for long, but the team wrote to them recently: not inactive.
    written_to = await make_contact(workspace, last_activity_at=ago(200))
    talk = await make_conversation(workspace, channel, written_to, last_message_at=ago(2))
    await make_message(talk, ago(2), direction="outbound")
    await make_message(talk, ago(200))
    # A resolved conversation whose newest messages are younger than the message rule.
    mixed = await make_conversation(
        workspace, channel, status="resolved", resolved_at=ago(65), last_message_at=ago(66)
    )
    for day in (66, 80, 130):
        message = await make_message(mixed, ago(day))
        made["files"].append((await make_attachment(settings, message)).storage_key)
    made["files"] += made["held_files"]  # the files of the active and sleeper's chats
    made["active"] = active
    made["written_to"] = written_to
    made["sleeper"] = sleeper
    made["resolved"] = resolved
    return made


async def table_counts(workspace: Workspace) -> dict[str, int]:
    return {
        model.__name__: await scoped(model, workspace).count()
        for model in (Message, Attachment, Conversation, Contact, Note, ExportJob)
    }


# Longer message and attachment limits than the conversation and contact ones:
# deleted conversations then still hold messages and files of their own.
OVERLAPPING_RULES = EVERY_RULE | {"messages_days": 120, "attachments_days": 50,
                                  "inactive_contacts_days": 95}


@pytest.mark.parametrize("policy", [EVERY_RULE, OVERLAPPING_RULES])
async def test_preview_counts_exactly_what_the_run_deletes(runtime: Runtime, policy) -> None:
    ws = await make_workspace(**policy)
    made = await populate(runtime, ws)
    before = await table_counts(ws)

    preview = await preview_retention(ws, now=NOW)

    assert await table_counts(ws) == before  # the preview deletes nothing
    assert preview["counts"]["messages"] > 0 and preview["counts"]["files"] > 0
    result = await run(runtime, ws)
    assert result.status == "finished"
    assert result.deleted == preview["counts"]
    after = await table_counts(ws)
    assert before["Message"] - after["Message"] == preview["counts"]["messages"]
    assert before["Attachment"] - after["Attachment"] == preview["counts"]["attachments"]
    assert preview["counts"]["contacts"] == 1 and preview["counts"]["exports"] == 2
    assert await scoped(Contact, ws).filter(id=made["written_to"].id).exists()
    assert (await preview_retention(ws, now=NOW))["counts"] == dict.fromkeys(
        preview["counts"], 0
    )


async def test_a_held_contact_keeps_everything(runtime: Runtime) -> None:
    ws = await make_workspace(**EVERY_RULE)
    made = await populate(runtime, ws)
    for contact_id in (made["sleeper"].id, made["active"].contact_id):
        assert await set_contact_legal_hold(ws, contact_id, True)
    held_conversations = [made["active"].id]
    held_conversations += await scoped(Conversation, ws).filter(
        contact_id=made["sleeper"].id
    ).values_list("id", flat=True)
    held_messages = await scoped(Message, ws).filter(
        conversation_id__in=held_conversations
    ).count()
    held_files = made["held_files"]

    preview = await preview_retention(ws, now=NOW)
    result = await run(runtime, ws)

    assert await scoped(Contact, ws).filter(id=made["sleeper"].id).exists()
    assert await scoped(Conversation, ws).filter(id__in=held_conversations).count() == 2
    assert await scoped(Message, ws).filter(
        conversation_id__in=held_conversations
    ).count() == held_messages
    assert all(stored(runtime.settings, key) for key in held_files)
    # What no hold covers still goes: the other resolved conversation, the export.
    assert not await scoped(Conversation, ws).filter(id=made["resolved"].id).exists()
    assert result.deleted["exports"] == 1
    assert result.deleted == preview["counts"]


async def test_a_restricted_contact_is_held_too(runtime: Runtime) -> None:
    ws = await make_workspace(inactive_contacts_days=30, messages_days=30)
    channel = await make_channel(runtime.settings, ws)
    contact = await make_contact(ws, last_activity_at=ago(100), restricted=True)
    conversation = await make_conversation(ws, channel, contact, last_message_at=ago(100))
    await make_message(conversation, ago(100))

    result = await run(runtime, ws)

    assert await scoped(Contact, ws).filter(id=contact.id).exists()
    assert await scoped(Message, ws).count() == 1
    assert result.deleted["messages"] == 0


async def test_a_workspace_hold_suspends_the_whole_run(runtime: Runtime) -> None:
    ws = await make_workspace(**EVERY_RULE)
    made = await populate(runtime, ws)
    await set_workspace_legal_hold(ws, True)
    before = await table_counts(ws)

    preview = await preview_retention(ws, now=NOW)
    result = await run(runtime, ws)

    assert preview["legal_hold"] is True
    assert sum(preview["counts"].values()) == 0
    assert result.status == "held"
    assert await table_counts(ws) == before
    assert all(stored(runtime.settings, key) for key in made["files"])
    row = await scoped(RetentionRun, ws).get(id=result.run_id)
    assert row.status == "held"

    await set_workspace_legal_hold(ws, False)
    assert (await run(runtime, ws)).deleted["messages"] > 0


async def test_two_runs_at_once_do_the_work_once(runtime: Runtime) -> None:
    ws = await make_workspace(messages_days=1)
    channel = await make_channel(runtime.settings, ws)
    conversation = await make_conversation(ws, channel)
    for index in range(20):
        await make_message(conversation, ago(5) + timedelta(seconds=index))

    first, second = await asyncio.gather(
        run(runtime, ws, batch_size=2), run(runtime, ws, batch_size=2)
    )

    assert sorted([first.status, second.status]) == ["busy", "finished"]
    assert first.deleted["messages"] + second.deleted["messages"] == 20
    assert await scoped(RetentionRun, ws).count() == 1


async def test_a_lock_held_elsewhere_is_respected_until_it_expires(runtime: Runtime) -> None:
    ws = await make_workspace(messages_days=1)
    channel = await make_channel(runtime.settings, ws)
    await make_message(await make_conversation(ws, channel), ago(5))
    dead_worker = RunLock(runtime.broker.redis, ws.id, ttl_ms=200)
    assert await dead_worker.acquire()

    assert (await run(runtime, ws)).status == "busy"
    assert await scoped(Message, ws).count() == 1
    await asyncio.sleep(0.3)  # the dead worker's lock expires
    assert (await run(runtime, ws)).status == "finished"
    assert await scoped(Message, ws).count() == 0


async def test_a_crashed_run_is_resumed_by_the_next_one(runtime: Runtime) -> None:
    ws = await make_workspace(messages_days=1)
    channel = await make_channel(runtime.settings, ws)
    conversation = await make_conversation(ws, channel)
    keys = []
    for index in range(10):
        message = await make_message(conversation, ago(5) + timedelta(seconds=index))
        keys.append((await make_attachment(runtime.settings, message)).storage_key)
    batches = 0

    async def crash_after_two(report) -> None:
        nonlocal batches
        batches += 1
        if batches == 2:
            raise Crash

    with pytest.raises(Crash):
        await run(runtime, ws, batch_size=3, on_batch=crash_after_two)

    crashed = await scoped(RetentionRun, ws).get()
    assert crashed.status == "running"
    assert crashed.deleted["messages"] == 6
    assert crashed.checkpoint["rule"] == "messages"
    assert await scoped(Message, ws).count() == 4
    assert sum(stored(runtime.settings, key) for key in keys) == 4

    resumed = await run(runtime, ws, batch_size=3)

    assert resumed.status == "finished" and resumed.resumed
    assert resumed.run_id == crashed.id
    assert resumed.deleted["messages"] == 10 and resumed.deleted["files"] == 10
    assert await scoped(RetentionRun, ws).count() == 1
    assert not any(stored(runtime.settings, key) for key in keys)
    assert (await scoped(RetentionRun, ws).get()).status == "finished"


async def test_files_of_a_committed_batch_are_removed_on_resume(runtime: Runtime) -> None:
    ws = await make_workspace(messages_days=1)
    key = f"{ws.id}/attachments/orphan.bin"
    write_stored_file(runtime.settings, key, b"x")
    # A run that committed a batch and died before removing that batch's files.
    await RetentionRun.create(
        workspace=ws, started_at=ago(0, 60), status="running", deleted={"files": 1},
        checkpoint={"rule": "exports", "cursor": None, "pending_files": [key]},
    )

    result = await run(runtime, ws)

    assert result.resumed and result.status == "finished"
    assert not stored(runtime.settings, key)


async def test_a_batch_budget_pauses_and_the_next_call_continues(runtime: Runtime) -> None:
    ws = await make_workspace(messages_days=1)
    channel = await make_channel(runtime.settings, ws)
    conversation = await make_conversation(ws, channel)
    for index in range(5):
        await make_message(conversation, ago(5) + timedelta(seconds=index))

    paused = await run(runtime, ws, batch_size=2, max_batches=1)
    assert paused.status == "paused"
    assert await scoped(Message, ws).count() == 3
    done = await run(runtime, ws, batch_size=2)
    assert done.status == "finished" and done.run_id == paused.run_id
    assert done.deleted["messages"] == 5


async def test_the_run_checks_its_batch_sizes(runtime: Runtime) -> None:
    ws = await make_workspace()
    with pytest.raises(InvalidInput):
        await run(runtime, ws, batch_size=5000)


async def test_runs_are_listed_newest_first_by_pages(runtime: Runtime) -> None:
    ws = await make_workspace()
    other = await make_workspace("other")
    for hour in range(5):
        await RetentionRun.create(
            workspace=ws, started_at=ago(0, 3600 * hour), status="finished", deleted={}
        )
    await RetentionRun.create(workspace=other, started_at=NOW, status="finished", deleted={})

    first = await list_runs(ws, limit=3)
    second = await list_runs(ws, cursor=first["next_cursor"], limit=3)

    starts = [item["started_at"] for item in first["items"] + second["items"]]
    assert starts == sorted(starts, reverse=True) and len(starts) == 5
    assert second["next_cursor"] is None
    assert set(first["items"][0]["deleted"]) >= {"messages", "files"}
    with pytest.raises(InvalidInput):
        await list_runs(ws, cursor="garbage")
    await set_policy(ws, messages_days=3)  # listing is unaffected by the policy
    assert len((await list_runs(ws, limit=100))["items"]) == 5


async def test_a_hold_placed_during_a_run_is_honoured_by_the_next_batch(
    runtime: Runtime,
) -> None:
    ws = await make_workspace(messages_days=1)
    channel = await make_channel(runtime.settings, ws)
    first = await make_conversation(ws, channel)
    second = await make_conversation(ws, channel)
    for index in range(4):
        await make_message(first, ago(5) + timedelta(seconds=index))
        await make_message(second, ago(5) + timedelta(seconds=index, milliseconds=500))

    async def hold_after_first_batch(report) -> None:
        await set_contact_legal_hold(ws, second.contact_id, True)

    result = await run(runtime, ws, batch_size=2, on_batch=hold_after_first_batch)

    # The first batch took the two oldest (one of each); then the hold applied.
    assert result.deleted["messages"] == 5
    assert await scoped(Message, ws).filter(conversation_id=first.id).count() == 0
    assert await scoped(Message, ws).filter(conversation_id=second.id).count() == 3


async def test_repeated_held_runs_keep_one_row(runtime: Runtime) -> None:
    ws = await make_workspace(messages_days=1)
    await set_workspace_legal_hold(ws, True)
    for _ in range(3):
        assert (await run(runtime, ws)).status == "held"
    assert await scoped(RetentionRun, ws).count() == 1


async def test_a_run_that_loses_its_lock_stops_and_leaves_the_row_to_resume(
    runtime: Runtime,
) -> None:
    ws = await make_workspace(messages_days=1)
    channel = await make_channel(runtime.settings, ws)
    conversation = await make_conversation(ws, channel)
    for index in range(5):
        await make_message(conversation, ago(5) + timedelta(seconds=index))
    other_worker = RunLock(runtime.broker.redis, ws.id, ttl_ms=60_000)

    async def stall_once(report) -> None:
        if report.totals["messages"] == 1:
            await asyncio.sleep(0.3)  # longer than our lock's TTL
            assert await other_worker.acquire()

    result = await run(runtime, ws, batch_size=1, lock_ttl_ms=200, on_batch=stall_once)

    assert result.status == "lock_lost"
    assert await scoped(Message, ws).count() == 4  # no batch after the stall
    assert (await scoped(RetentionRun, ws).get()).status == "running"
    await other_worker.release()
    resumed = await run(runtime, ws)
    assert resumed.resumed and resumed.deleted["messages"] == 5
