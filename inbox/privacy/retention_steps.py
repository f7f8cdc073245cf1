"""One batch of a retention rule: a transaction of at most ``batch_size`` rows.

Each step reads the holds and selects inside its transaction (so a hold set
before the batch began is honoured by all its statements alike), deletes,
records its counts and checkpoint on the run row in that same transaction, and
only then removes the files of the deleted rows. It returns whether more rows
may be waiting.

Conversations and contacts go in two phases: their contents (messages with
their attachments, notes, tags) in bounded chunks while they still qualify,
then the parent rows together with whatever arrived meanwhile.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from tortoise import connections
from tortoise.expressions import Q, Subquery
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from inbox.models import (
    Attachment,
    Contact,
    ContactIdentity,
    ContactTag,
    Conversation,
    ConversationTag,
    DataRequest,
    Direction,
    ExportJob,
    Message,
    Note,
)
from inbox.privacy.retention_counters import (
    cap_unread_counts,
    conversations_losing_newest,
    refresh_previews,
)
from inbox.privacy.retention_selection import Selection
from inbox.tenancy import scoped


class RunProgress(Protocol):
    """What a step needs from the run it belongs to (see inbox.privacy.retention)."""

    selection: Selection
    batch_size: int
    parent_batch: int
    cursor: dict[str, str] | None
    unread_capped: set[uuid.UUID]

    def remember_capped(self, conversation_ids: set[uuid.UUID]) -> None: ...

    async def record(self, counts: dict[str, int], files: list[str]) -> None: ...

    async def after_commit(self, counts: dict[str, int], files: list[str]) -> None: ...


# ----------------------------------------------------------------- helpers
def after_cursor(queryset: QuerySet, field: str, cursor: dict[str, str] | None) -> QuerySet:
    """Keyset: rows after (time, id) of the last row already handled."""
    if not cursor:
        return queryset
    at = datetime.fromisoformat(cursor["at"])
    last_id = uuid.UUID(cursor["id"])
    return queryset.filter(**{f"{field}__gte": at}).filter(
        Q(**{f"{field}__gt": at}) | Q(id__gt=last_id)
    )


def up_to_cursor(queryset: QuerySet, field: str, cursor: dict[str, str]) -> QuerySet:
    """Keyset: rows up to and including (time, id) of a batch's last row."""
    at = datetime.fromisoformat(cursor["at"])
    last_id = uuid.UUID(cursor["id"])
    return queryset.filter(**{f"{field}__lte": at}).filter(
        Q(**{f"{field}__lt": at}) | Q(id__lte=last_id)
    )


def cursor_of(row: dict[str, Any], field: str) -> dict[str, str]:
    return {"at": row[field].isoformat(), "id": str(row["id"])}


def present(keys: list[str | None]) -> list[str]:
    return [key for key in keys if key]


async def delete_own_rows(select: Callable[[], QuerySet]) -> int:
    """Delete what ``select()`` selects; return how many rows of its own table went.

    ON DELETE CASCADE removes the dependent rows in the same statement. PostgreSQL
    counts the table's own rows only; Tortoise's SQLite client counts every change,
    cascades included, so there the rows are counted first, in the same transaction
    (SQLite runs one writer at a time, nothing changes in between).
    """
    if connections.get("default").capabilities.dialect == "sqlite":
        count = await select().count()
        await select().delete()
        return count
    return await select().delete()


async def delete_messages(
    workspace_id: uuid.UUID, select: Callable[[], QuerySet[Message]]
) -> tuple[dict, list]:
    """Delete the messages ``select()`` selects; their attachment rows go by the cascade.

    Attachments are created with their message, so the ones read here first are
    all the cascade removes. Returns the counts and the files to remove.
    """
    keys = await scoped(Attachment, workspace_id).filter(
        message_id__in=Subquery(select().values("id"))
    ).values_list("storage_key", flat=True)
    files = present(keys)
    deleted = await delete_own_rows(select)
    return {"messages": deleted, "attachments": len(keys), "files": len(files)}, files


async def delete_conversations(workspace_id: uuid.UUID, ids: list[uuid.UUID]) -> tuple[dict, list]:
    """Delete conversations and everything still in them (normally nothing left)."""
    if not ids:
        return {}, []
    counts, files = await delete_messages(
        workspace_id, lambda: scoped(Message, workspace_id).filter(conversation_id__in=ids)
    )
    counts["notes"] = await scoped(Note, workspace_id).filter(conversation_id__in=ids).delete()
    counts["conversation_tags"] = await scoped(ConversationTag, workspace_id).filter(
        conversation_id__in=ids
    ).delete()
    counts["conversations"] = await scoped(Conversation, workspace_id).filter(id__in=ids).delete()
    return counts, files


def merge(*parts: dict[str, int]) -> dict[str, int]:
    total: dict[str, int] = {}
    for part in parts:
        for key, value in part.items():
            total[key] = total.get(key, 0) + value
    return total


# ------------------------------------------------------------------- rules
async def step_messages(run: RunProgress) -> bool:
    """The next batch of expired messages, with their attachments.

    The batch is the key range (cursor, last row]: the statements name it by its
    bounds rather than by a thousand ids, which keeps them cheap to build and plan,
    and only its last row and the conversations it touches are read into Python.
    """
    ws = run.selection.workspace_id
    async with in_transaction():
        selection = await run.selection.pinned()

        def remaining() -> QuerySet[Message]:
            expired = selection.expired_messages()
            assert expired is not None
            return after_cursor(expired, "created_at", run.cursor)

        last_row = await remaining().order_by("created_at", "id").offset(
            run.batch_size - 1
        ).limit(1).values_list("id", "created_at")
        full = bool(last_row)
        if not full:  # the tail: fewer rows than a batch
            last_row = await remaining().order_by("-created_at", "-id").limit(1).values_list(
                "id", "created_at"
            )
            if not last_row:
                return False
        newest = last_row[0][1]
        last = {"at": newest.isoformat(), "id": str(last_row[0][0])}

        def batch() -> QuerySet[Message]:
            return up_to_cursor(remaining(), "created_at", last)

        losing_newest = await conversations_losing_newest(
            ws, Subquery(batch().values("conversation_id")), newest
        )
        lost_inbound = set(
            await batch().filter(direction=Direction.INBOUND.value).distinct().values_list(
                "conversation_id", flat=True
            )
        )
        counts, files = await delete_messages(ws, batch)
        await refresh_previews(ws, losing_newest)
        # The cap depends on the cutoff only: once per conversation and run is enough.
        lost_inbound -= run.unread_capped
        await cap_unread_counts(ws, lost_inbound, selection.cutoffs.messages)
        run.remember_capped(lost_inbound)
        run.cursor = last
        await run.record(counts, files)
    await run.after_commit(counts, files)
    return full


async def step_attachments(run: RunProgress) -> bool:
    async with in_transaction():
        selection = await run.selection.pinned()

        def expired() -> QuerySet[Attachment]:
            queryset = selection.expired_attachments()
            assert queryset is not None
            return queryset

        rows = await (
            after_cursor(expired(), "created_at", run.cursor)
            .order_by("created_at", "id")
            .limit(run.batch_size)
            .values("id", "created_at", "storage_key")
        )
        if not rows:
            return False
        last = cursor_of(rows[-1], "created_at")
        batch = up_to_cursor(after_cursor(expired(), "created_at", run.cursor), "created_at", last)
        files = present([row["storage_key"] for row in rows])
        counts = {"attachments": await batch.delete(), "files": len(files)}
        run.cursor = last
        await run.record(counts, files)
    await run.after_commit(counts, files)
    return len(rows) == run.batch_size


async def purge_contents(run: RunProgress, conversations: Callable[[], Subquery]) -> None:
    """Empty the conversations ``conversations()`` selects, one bounded batch at a
    time; the subquery is evaluated again in each batch, so a conversation that
    stops qualifying (a new message reopened it) keeps the rest of its history."""
    ws = run.selection.workspace_id

    def messages_with_ids(ids: list[uuid.UUID]) -> Callable[[], QuerySet[Message]]:
        return lambda: scoped(Message, ws).filter(id__in=ids)

    for model in (Message, Note, ConversationTag):
        more = True
        while more:
            async with in_transaction():
                ids = await scoped(model, ws).filter(
                    conversation_id__in=conversations()
                ).limit(run.batch_size).values_list("id", flat=True)
                if not ids:
                    break
                if model is Message:
                    counts, files = await delete_messages(ws, messages_with_ids(ids))
                else:
                    key = "notes" if model is Note else "conversation_tags"
                    counts, files = {key: await scoped(model, ws).filter(id__in=ids).delete()}, []
                await run.record(counts, files)
            await run.after_commit(counts, files)
            more = len(ids) == run.batch_size


async def step_resolved_conversations(run: RunProgress) -> bool:
    selection = run.selection
    ws = selection.workspace_id

    def qualifying() -> QuerySet[Conversation]:
        expired = selection.expired_conversations()
        assert expired is not None
        return expired

    picked = await qualifying().order_by("id").limit(run.parent_batch).values_list("id", flat=True)
    if not picked:
        return False
    await purge_contents(run, lambda: Subquery(qualifying().filter(id__in=picked).values("id")))
    async with in_transaction():
        final = await qualifying().filter(id__in=picked).values_list("id", flat=True)
        counts, files = await delete_conversations(ws, final)
        survivors = set(picked) - set(final)  # reopened meanwhile: fix what they show
        await refresh_previews(ws, survivors)
        await cap_unread_counts(ws, survivors, None)
        await run.record(counts, files)
    await run.after_commit(counts, files)
    return len(picked) == run.parent_batch


async def step_inactive_contacts(run: RunProgress) -> bool:
    """The next window of candidates (keyset on id), checked by the guard on that
    window alone; those that are inactive go with everything of theirs."""
    selection = run.selection
    ws = selection.workspace_id
    candidates = selection.inactive_candidates()
    assert candidates is not None
    if run.cursor:
        candidates = candidates.filter(id__gt=uuid.UUID(run.cursor["id"]))
    window = await candidates.order_by("id").limit(run.parent_batch).values_list("id", flat=True)
    if not window:
        return False
    picked = await selection.inactive_among(window).values_list("id", flat=True)
    run.cursor = {"id": str(window[-1])}
    if not picked:
        return len(window) == run.parent_batch

    def their_conversations() -> Subquery:
        contacts = Subquery(selection.inactive_among(picked).values("id"))
        return Subquery(
            scoped(Conversation, ws).filter(contact_id__in=contacts).values("id")
        )

    await purge_contents(run, their_conversations)
    async with in_transaction():
        rows = await selection.inactive_among(picked).values("id", "avatar_key")
        final = [row["id"] for row in rows]
        conversations = await scoped(Conversation, ws).filter(
            contact_id__in=final
        ).values_list("id", flat=True)
        counts, files = await delete_conversations(ws, conversations)
        exports = scoped(ExportJob, ws).filter(contact_id__in=final)
        files += present(await exports.values_list("storage_key", flat=True))
        files += present([row["avatar_key"] for row in rows])
        # Answered requests stay as proof, without their contact (explicitly here,
        # so the row counts below are the contacts' own rows only).
        await scoped(DataRequest, ws).filter(contact_id__in=final).update(contact_id=None)
        counts = merge(
            counts,
            {
                "exports": await scoped(ExportJob, ws).filter(contact_id__in=final).delete(),
                "contact_identities": await scoped(ContactIdentity, ws).filter(
                    contact_id__in=final
                ).delete(),
                "contact_tags": await scoped(ContactTag, ws).filter(contact_id__in=final).delete(),
                "contacts": await scoped(Contact, ws).filter(id__in=final).delete(),
            },
        )
        counts["files"] = len(files)
        await run.record(counts, files)
    await run.after_commit(counts, files)
    return len(window) == run.parent_batch


async def step_exports(run: RunProgress) -> bool:
    selection = run.selection
    ws = selection.workspace_id
    async with in_transaction():
        expired = selection.expired_exports()
        assert expired is not None
        rows = await expired.order_by("id").limit(run.batch_size).values("id", "storage_key")
        if not rows:
            return False
        deleted = await scoped(ExportJob, ws).filter(id__in=[row["id"] for row in rows]).delete()
        files = present([row["storage_key"] for row in rows])
        counts = {"exports": deleted, "files": len(files)}
        await run.record(counts, files)
    await run.after_commit(counts, files)
    return len(rows) == run.batch_size


async def step_audit(run: RunProgress) -> bool:
    """Audit events, past runs and answered data requests older than audit_days."""
    selection = run.selection
    more = False
    for key, select in (
        ("audit_events", selection.expired_audit_events),
        ("retention_runs", selection.expired_runs),
        ("data_requests", selection.expired_data_requests),
    ):
        async with in_transaction():
            expired = select()
            assert expired is not None
            ids = await expired.limit(run.batch_size).values_list("id", flat=True)
            if not ids:
                continue
            again = select()
            assert again is not None
            counts = {key: await again.filter(id__in=ids).delete()}
            await run.record(counts, [])
        await run.after_commit(counts, [])
        more = more or len(ids) == run.batch_size
    return more


STEPS = {
    "messages": step_messages,
    "attachments": step_attachments,
    "inactive_contacts": step_inactive_contacts,
    "resolved_conversations": step_resolved_conversations,
    "exports": step_exports,
    "audit": step_audit,
}
