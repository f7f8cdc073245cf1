"""Counting what a retention run would delete now, without deleting anything.

The run applies its rules in order (messages, attachments, inactive contacts,
resolved conversations, exports, audit) and each rule only meets the rows the
earlier ones left. The counts below follow that order with the same selections
(:mod:`inbox.privacy.retention_selection`), so each row is counted once, as the
run would delete it:

- a conversation of an inactive contact is counted with the contact, not again
  as a resolved conversation;
- the messages of deleted conversations and contacts are those younger than the
  message rule's cutoff (the older ones went with that rule), and likewise for
  their attachments and the attachment rule.

Every set is written as a sum of signed querysets whose subqueries are plain
``IN`` conditions (semi-joins), never ``OR`` / ``NOT IN`` over large sets, so
counting stays linear on big workspaces: "inactive" is "candidates minus the
candidates whose conversations moved", "resolved conversations left for their
rule" is "resolved minus those of inactive contacts".
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from tortoise.expressions import Subquery
from tortoise.queryset import QuerySet

from inbox.models import (
    Attachment,
    ContactIdentity,
    ContactTag,
    Conversation,
    ConversationTag,
    ExportJob,
    Message,
    Note,
)
from inbox.privacy.retention_selection import Selection, empty_counts
from inbox.tenancy import scoped

Signed = list[tuple[int, QuerySet]]


def ids_of(queryset: QuerySet) -> Subquery:
    return Subquery(queryset.values("id"))


def single(queryset: QuerySet | None) -> Signed:
    return [] if queryset is None else [(1, queryset)]


def within(
    model: Any, workspace_id: uuid.UUID, field: str, parents: Signed, **filters: Any
) -> Signed:
    """Rows of ``model`` whose ``field`` points into ``parents``."""
    return [
        (sign, scoped(model, workspace_id).filter(**{f"{field}__in": ids_of(parent)}, **filters))
        for sign, parent in parents
    ]


def stored(parts: Signed, key: str) -> Signed:
    """The rows that name a file."""
    return [
        (sign, queryset.filter(**{f"{key}__isnull": False}).exclude(**{key: ""}))
        for sign, queryset in parts
    ]


async def total(parts: Signed) -> int:
    return sum([sign * await queryset.count() for sign, queryset in parts])


def since(field: str, cutoff: Any) -> dict[str, Any]:
    """Rows an earlier rule left: at or after its cutoff (all when it has none)."""
    return {} if cutoff is None else {f"{field}__gte": cutoff}


class Doomed:
    """The sets a run would delete; each call builds fresh querysets."""

    def __init__(self, selection: Selection) -> None:
        self.selection = selection
        self.ws = selection.workspace_id
        self.cutoffs = selection.cutoffs

    def contacts(self) -> Signed:
        """Inactive contacts: the candidates, minus those whose conversations moved."""
        candidates, again = (self.selection.inactive_candidates() for _ in range(2))
        if candidates is None or again is None:
            return []
        return [(1, candidates), (-1, again.filter(id__in=self.selection.recently_active()))]

    def conversations(self) -> Signed:
        """Those of inactive contacts, then the resolved ones left for their rule."""
        of_contacts = within(Conversation, self.ws, "contact_id", self.contacts())
        if self.selection.expired_conversations() is None:
            return of_contacts
        return of_contacts + self.minus_contacts(self.selection.expired_conversations)

    def minus_contacts(self, select: Callable[[], QuerySet | None]) -> Signed:
        """``select()`` minus its rows that belong to inactive contacts."""
        whole = select()
        assert whole is not None
        parts: Signed = [(1, whole)]
        for sign, contacts in self.contacts():
            taken = select()
            assert taken is not None
            parts.append((-sign, taken.filter(contact_id__in=ids_of(contacts))))
        return parts

    def messages_of_conversations(self) -> Signed:
        return within(
            Message, self.ws, "conversation_id", self.conversations(),
            **since("created_at", self.cutoffs.messages),
        )

    def attachments(self) -> Signed:
        expired_messages = self.selection.expired_messages()
        with_messages = (
            [] if expired_messages is None
            else [(1, scoped(Attachment, self.ws).filter(message_id__in=ids_of(expired_messages)))]
        )
        expired = self.selection.expired_attachments()
        if expired is not None and self.cutoffs.messages is not None:
            young = scoped(Message, self.ws).filter(created_at__gte=self.cutoffs.messages)
            expired = expired.filter(message_id__in=ids_of(young))
        of_conversations = within(
            Attachment, self.ws, "message_id", self.messages_of_conversations(),
            **since("created_at", self.cutoffs.attachments),
        )
        return with_messages + single(expired) + of_conversations

    def exports(self) -> Signed:
        """Those of inactive contacts, then the expired ones left for their rule."""
        of_contacts = within(ExportJob, self.ws, "contact_id", self.contacts())
        if self.selection.expired_exports() is None:
            return of_contacts
        return of_contacts + self.minus_contacts(self.selection.expired_exports)


async def count_doomed(selection: Selection) -> dict[str, int]:
    """How many rows (and files) of each kind a run would delete right now."""
    doomed = Doomed(selection)
    ws = selection.workspace_id
    counts = empty_counts()
    parts: dict[str, Callable[[], Signed]] = {
        "messages": lambda: single(selection.expired_messages())
        + doomed.messages_of_conversations(),
        "attachments": doomed.attachments,
        "conversations": doomed.conversations,
        "notes": lambda: within(Note, ws, "conversation_id", doomed.conversations()),
        "conversation_tags": lambda: within(
            ConversationTag, ws, "conversation_id", doomed.conversations()
        ),
        "contacts": doomed.contacts,
        "contact_identities": lambda: within(ContactIdentity, ws, "contact_id", doomed.contacts()),
        "contact_tags": lambda: within(ContactTag, ws, "contact_id", doomed.contacts()),
        "exports": doomed.exports,
        "audit_events": lambda: single(selection.expired_audit_events()),
        "retention_runs": lambda: single(selection.expired_runs()),
        "data_requests": lambda: single(selection.expired_data_requests()),
    }
    for key, signed in parts.items():
        counts[key] = await total(signed())
    counts["files"] = (
        await total(stored(doomed.attachments(), "storage_key"))
        + await total(stored(doomed.exports(), "storage_key"))
        + await total(stored(doomed.contacts(), "avatar_key"))
    )
    return counts
