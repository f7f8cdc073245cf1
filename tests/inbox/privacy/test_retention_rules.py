"""Each retention rule at its boundary: one second younger than the limit stays,
one second older goes; files go with their rows."""

from __future__ import annotations

from datetime import timedelta

from inbox.models import (
    Attachment,
    AuditEvent,
    Contact,
    ContactIdentity,
    ContactTag,
    Conversation,
    ConversationTag,
    DataRequest,
    ExportJob,
    Message,
    Note,
    RetentionRun,
    Tag,
)
from inbox.privacy.retention import run_retention
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
    make_identity,
    make_message,
    make_workspace,
    stored,
)

DAY_SECONDS = 86400


async def run(runtime: Runtime, workspace, **kwargs):
    return await run_retention(
        runtime.settings, runtime.broker.redis, workspace, now=NOW, **kwargs
    )


async def test_messages_expire_one_second_after_the_limit(runtime: Runtime) -> None:
    ws = await make_workspace(messages_days=30)
    channel = await make_channel(runtime.settings, ws)
    conversation = await make_conversation(ws, channel)
    older = await make_message(conversation, ago(30, seconds=1))
    exactly = await make_message(conversation, ago(30))
    younger = await make_message(conversation, ago(30, seconds=-1))
    old_file = await make_attachment(runtime.settings, older)
    young_file = await make_attachment(runtime.settings, younger)

    result = await run(runtime, ws)

    assert result.status == "finished"
    left = set(await scoped(Message, ws).values_list("id", flat=True))
    assert left == {exactly.id, younger.id}
    assert not await scoped(Attachment, ws).filter(id=old_file.id).exists()
    assert not stored(runtime.settings, old_file.storage_key)
    assert stored(runtime.settings, young_file.storage_key)
    assert result.deleted["messages"] == 1
    assert result.deleted["attachments"] == 1
    assert result.deleted["files"] == 1
    row = await scoped(RetentionRun, ws).get(id=result.run_id)
    assert row.status == "finished"
    assert row.deleted["messages"] == 1
    assert row.duration_ms is not None and row.finished_at is not None


async def test_no_policy_value_means_nothing_expires(runtime: Runtime) -> None:
    ws = await make_workspace()
    channel = await make_channel(runtime.settings, ws)
    conversation = await make_conversation(ws, channel, status="resolved", resolved_at=ago(3000))
    await make_message(conversation, ago(3000))

    result = await run(runtime, ws)
    again = await run(runtime, ws)

    assert result.status == again.status == "nothing_expired"
    assert sum(result.deleted.values()) == 0
    assert await scoped(Message, ws).count() == 1
    # Only the latest empty run is kept.
    assert await scoped(RetentionRun, ws).values_list("id", flat=True) == [again.run_id]


async def test_old_attachments_go_but_their_message_stays(runtime: Runtime) -> None:
    ws = await make_workspace(attachments_days=10)
    channel = await make_channel(runtime.settings, ws)
    conversation = await make_conversation(ws, channel)
    message = await make_message(conversation, ago(20), kind="image", text="")
    older = await make_attachment(runtime.settings, message, ago(10, seconds=1))
    younger = await make_attachment(runtime.settings, message, ago(10, seconds=-1))

    result = await run(runtime, ws)

    assert await scoped(Message, ws).filter(id=message.id).exists()
    assert set(await scoped(Attachment, ws).values_list("id", flat=True)) == {younger.id}
    assert not stored(runtime.settings, older.storage_key)
    assert stored(runtime.settings, younger.storage_key)
    assert result.deleted["attachments"] == 1 and result.deleted["messages"] == 0


async def test_a_missing_file_does_not_stop_the_run(runtime: Runtime) -> None:
    ws = await make_workspace(messages_days=1)
    channel = await make_channel(runtime.settings, ws)
    conversation = await make_conversation(ws, channel)
    message = await make_message(conversation, ago(2))
    attachment = await make_attachment(runtime.settings, message)
    from inbox.privacy.stored_files import storage_path

    storage_path(runtime.settings, attachment.storage_key).unlink()

    result = await run(runtime, ws)

    assert result.status == "finished"
    assert not await scoped(Attachment, ws).exists()


async def test_resolved_conversations_go_with_everything_in_them(runtime: Runtime) -> None:
    ws = await make_workspace(resolved_conversations_days=90)
    channel = await make_channel(runtime.settings, ws)
    gone = await make_conversation(
        ws, channel, status="resolved", resolved_at=ago(90, 1), last_message_at=ago(95)
    )
    recent = await make_conversation(
        ws, channel, status="resolved", resolved_at=ago(90, -1), last_message_at=ago(95)
    )
    still_open = await make_conversation(ws, channel, status="open", last_message_at=ago(400))
    message = await make_message(gone, ago(95))
    attachment = await make_attachment(runtime.settings, message)
    await make_message(recent, ago(95))
    await make_message(still_open, ago(400))
    await Note.create(workspace=ws, conversation=gone, text="private")
    tag = await Tag.create(workspace=ws, name="vip")
    await ConversationTag.create(workspace=ws, conversation=gone, tag=tag)

    result = await run(runtime, ws)

    assert set(await scoped(Conversation, ws).values_list("id", flat=True)) == {
        recent.id,
        still_open.id,
    }
    assert not await scoped(Message, ws).filter(conversation_id=gone.id).exists()
    assert not await scoped(Note, ws).exists()
    assert not await scoped(ConversationTag, ws).exists()
    assert await scoped(Tag, ws).exists()  # the tag itself belongs to the workspace
    assert not stored(runtime.settings, attachment.storage_key)
    assert result.deleted["conversations"] == 1
    assert result.deleted["messages"] == 1
    assert result.deleted["notes"] == 1
    assert result.deleted["conversation_tags"] == 1


async def test_inactive_contacts_go_with_everything_of_theirs(runtime: Runtime) -> None:
    ws = await make_workspace(inactive_contacts_days=365)
    channel = await make_channel(runtime.settings, ws)
    avatar_key = f"{ws.id}/avatars/gone.jpg"
    write_stored_file(runtime.settings, avatar_key, b"jpeg")
    gone = await make_contact(ws, last_activity_at=ago(365, 1), avatar_key=avatar_key)
    active = await make_contact(ws, last_activity_at=ago(365, -1))
    await make_identity(ws, gone, channel, "111")
    conversation = await make_conversation(ws, channel, gone, last_message_at=ago(400))
    message = await make_message(conversation, ago(400))
    attachment = await make_attachment(runtime.settings, message)
    tag = await Tag.create(workspace=ws, name="lead")
    await ContactTag.create(workspace=ws, contact=gone, tag=tag)
    export_key = f"{ws.id}/exports/contact.zip"
    write_stored_file(runtime.settings, export_key, b"zip")
    await ExportJob.create(workspace=ws, contact=gone, status="queued", storage_key=export_key)
    request = await DataRequest.create(
        workspace=ws, contact=gone, kind="access", received_at=ago(400), due_at=ago(370)
    )

    result = await run(runtime, ws)

    assert set(await scoped(Contact, ws).values_list("id", flat=True)) == {active.id}
    assert not await scoped(ContactIdentity, ws).exists()
    assert not await scoped(Conversation, ws).exists()
    assert not await scoped(Message, ws).exists()
    assert not await scoped(ContactTag, ws).exists()
    assert not await scoped(ExportJob, ws).exists()
    for key in (avatar_key, export_key, attachment.storage_key):
        assert not stored(runtime.settings, key)
    # The request is kept as proof it was answered, without its contact.
    kept = await scoped(DataRequest, ws).get(id=request.id)
    assert kept.contact_id is None
    assert result.deleted["contacts"] == 1
    assert result.deleted["contact_identities"] == 1
    assert result.deleted["files"] == 3


async def test_a_contact_whose_conversation_moved_recently_is_not_inactive(
    runtime: Runtime,
) -> None:
    ws = await make_workspace(inactive_contacts_days=30)
    channel = await make_channel(runtime.settings, ws)
    # last_activity_at was never updated, but the conversation shows activity.
    contact = await make_contact(ws, last_activity_at=None)
    await make_conversation(ws, channel, contact, last_message_at=ago(1))

    await run(runtime, ws)

    assert await scoped(Contact, ws).filter(id=contact.id).exists()


async def test_finished_exports_expire_with_their_files(runtime: Runtime) -> None:
    ws = await make_workspace(exports_days=7)
    keys = {}
    for name, finished in (("old", ago(7, 1)), ("new", ago(7, -1)), ("running", None)):
        keys[name] = f"{ws.id}/exports/{name}.zip"
        write_stored_file(runtime.settings, keys[name], b"zip")
        await ExportJob.create(
            workspace=ws, status="done", storage_key=keys[name], finished_at=finished,
            created_at=ago(30),
        )

    result = await run(runtime, ws)

    assert await scoped(ExportJob, ws).count() == 2
    assert not stored(runtime.settings, keys["old"])
    assert stored(runtime.settings, keys["new"]) and stored(runtime.settings, keys["running"])
    assert result.deleted["exports"] == 1 and result.deleted["files"] == 1


async def test_audit_trail_expires_after_audit_days(runtime: Runtime) -> None:
    ws = await make_workspace(audit_days=180)
    old_event = await AuditEvent.create(workspace=ws, action="x", created_at=ago(180, 1))
    new_event = await AuditEvent.create(workspace=ws, action="x", created_at=ago(180, -1))
    old_run = await RetentionRun.create(
        workspace=ws, started_at=ago(180, 1), status="finished", deleted={}
    )
    await DataRequest.create(
        workspace=ws, kind="access", status="done", received_at=ago(200), due_at=ago(170),
        completed_at=ago(180, 1),
    )
    open_request = await DataRequest.create(
        workspace=ws, kind="access", received_at=ago(200), due_at=ago(170)
    )

    result = await run(runtime, ws)

    assert set(await scoped(AuditEvent, ws).values_list("id", flat=True)) == {new_event.id}
    assert not await scoped(RetentionRun, ws).filter(id=old_run.id).exists()
    assert await scoped(RetentionRun, ws).filter(id=result.run_id).exists()
    assert set(await scoped(DataRequest, ws).values_list("id", flat=True)) == {open_request.id}
    assert old_event.id not in await scoped(AuditEvent, ws).values_list("id", flat=True)
    assert result.deleted["audit_events"] == 1
    assert result.deleted["retention_runs"] == 1
    assert result.deleted["data_requests"] == 1


async def test_other_workspaces_are_never_touched(runtime: Runtime) -> None:
    ws = await make_workspace("one", messages_days=1)
    other = await make_workspace("two")
    for workspace in (ws, other):
        channel = await make_channel(runtime.settings, workspace)
        conversation = await make_conversation(workspace, channel)
        await make_message(conversation, ago(10))

    await run(runtime, ws)

    assert await scoped(Message, ws).count() == 0
    assert await scoped(Message, other).count() == 1


async def test_conversation_counters_follow_the_messages_left(runtime: Runtime) -> None:
    ws = await make_workspace(messages_days=30)
    channel = await make_channel(runtime.settings, ws)
    emptied = await make_conversation(
        ws, channel, last_message_at=ago(40), last_message_preview="old words", unread_count=2,
        last_inbound_at=ago(40),
    )
    await make_message(emptied, ago(41), text="first")
    await make_message(emptied, ago(40), text="old words")
    partly = await make_conversation(
        ws, channel, last_message_at=ago(1), last_message_preview="fresh", unread_count=3
    )
    await make_message(partly, ago(50), text="ancient")  # unread, expired
    await make_message(partly, ago(45), text="old")  # unread, expired
    await make_message(partly, ago(1), text="fresh")  # unread, kept
    counted = await make_conversation(
        ws, channel, last_message_at=ago(1), unread_count=2, last_inbound_at=ago(1)
    )
    await make_message(counted, ago(60))  # unread, expired
    await make_message(counted, ago(1))  # unread, kept
    one_unread = await make_conversation(
        ws, channel, last_message_at=ago(1), unread_count=1, last_inbound_at=ago(1)
    )
    await make_message(one_unread, ago(60))
    await make_message(one_unread, ago(1))

    await run(runtime, ws)

    emptied = await scoped(Conversation, ws).get(id=emptied.id)
    assert emptied.last_message_preview == ""
    assert emptied.unread_count == 0
    assert emptied.last_message_at == ago(40)  # the time of the last exchange stays
    partly = await scoped(Conversation, ws).get(id=partly.id)
    assert partly.last_message_preview == "fresh"
    assert partly.unread_count == 1
    assert (await scoped(Conversation, ws).get(id=counted.id)).unread_count == 1
    assert (await scoped(Conversation, ws).get(id=one_unread.id)).unread_count == 1


async def test_batches_never_exceed_the_batch_size(runtime: Runtime) -> None:
    ws = await make_workspace(messages_days=1)
    channel = await make_channel(runtime.settings, ws)
    conversation = await make_conversation(ws, channel)
    for index in range(7):
        await make_message(conversation, ago(5) + timedelta(seconds=index))
    sizes: list[int] = []

    async def on_batch(report) -> None:
        sizes.append(report.deleted.get("messages", 0))

    result = await run(runtime, ws, batch_size=3, on_batch=on_batch)

    assert sizes == [3, 3, 1]
    assert result.deleted["messages"] == 7
