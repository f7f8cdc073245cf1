"""What a workspace's retention policy says has expired: one queryset per rule.

The retention run deletes these rows batch by batch; the preview counts them.
Both call the functions below, so a preview can never promise something the
run does differently. Every function builds a fresh queryset (a queryset that
has run once stays bound to its connection, which must not leak into a
transaction), and every selection excludes what a legal hold protects.

A row has expired when its time is *strictly* older than ``now - days``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise.expressions import Q, Subquery
from tortoise.queryset import QuerySet

from inbox.models import (
    Attachment,
    AuditEvent,
    Contact,
    ContactIdentity,
    ContactTag,
    Conversation,
    ConversationStatus,
    ConversationTag,
    DataRequest,
    ExportJob,
    Message,
    Note,
    RetentionPolicy,
    RetentionRun,
)
from inbox.privacy.legal_hold import held_contact_ids, held_conversation_ids
from inbox.privacy.retention_policy import cutoff_for
from inbox.tenancy import WorkspaceRef, scoped, workspace_id_of

RUN_STATUS_RUNNING = "running"

# The keys of RetentionRun.deleted and of the preview, in display order.
COUNT_KEYS = (
    "messages",
    "attachments",
    "files",
    "conversations",
    "notes",
    "conversation_tags",
    "contacts",
    "contact_identities",
    "contact_tags",
    "exports",
    "audit_events",
    "retention_runs",
    "data_requests",
)


def empty_counts() -> dict[str, int]:
    return dict.fromkeys(COUNT_KEYS, 0)


@dataclass(frozen=True)
class Cutoffs:
    """For each rule, the instant before which rows have expired (None: kept forever)."""

    messages: datetime | None
    attachments: datetime | None
    resolved_conversations: datetime | None
    inactive_contacts: datetime | None
    exports: datetime | None
    audit: datetime | None

    @classmethod
    def of(cls, policy: RetentionPolicy, now: datetime) -> Cutoffs:
        return cls(
            messages=cutoff_for(policy.messages_days, now),
            attachments=cutoff_for(policy.attachments_days, now),
            resolved_conversations=cutoff_for(policy.resolved_conversations_days, now),
            inactive_contacts=cutoff_for(policy.inactive_contacts_days, now),
            exports=cutoff_for(policy.exports_days, now),
            audit=cutoff_for(policy.audit_days, now),
        )


@dataclass(frozen=True)
class Selection:
    """The expired rows of one workspace under one set of cutoffs."""

    workspace_id: uuid.UUID
    cutoffs: Cutoffs

    @classmethod
    def of(cls, workspace: WorkspaceRef, policy: RetentionPolicy, now: datetime) -> Selection:
        return cls(workspace_id_of(workspace), Cutoffs.of(policy, now))

    # -- one queryset per rule ------------------------------------------------
    def expired_messages(self) -> QuerySet[Message] | None:
        cutoff = self.cutoffs.messages
        if cutoff is None:
            return None
        return scoped(Message, self.workspace_id).filter(
            created_at__lt=cutoff,
            conversation_id__not_in=held_conversation_ids(self.workspace_id),
        )

    def expired_attachments(self) -> QuerySet[Attachment] | None:
        """Old files; their messages stay."""
        cutoff = self.cutoffs.attachments
        if cutoff is None:
            return None
        held_messages = scoped(Message, self.workspace_id).filter(
            conversation_id__in=held_conversation_ids(self.workspace_id)
        )
        return scoped(Attachment, self.workspace_id).filter(
            created_at__lt=cutoff, message_id__not_in=Subquery(held_messages.values("id"))
        )

    def inactive_contacts(self) -> QuerySet[Contact] | None:
        """Contacts without activity since the cutoff (their creation counts as
        activity), and without a conversation that moved since then: a missed
        ``last_activity_at`` update must never cost a live contact its data."""
        cutoff = self.cutoffs.inactive_contacts
        if cutoff is None:
            return None
        recent = scoped(Conversation, self.workspace_id).filter(last_message_at__gte=cutoff)
        return (
            scoped(Contact, self.workspace_id)
            .filter(legal_hold=False, restricted=False, created_at__lt=cutoff)
            .filter(Q(last_activity_at__lt=cutoff) | Q(last_activity_at__isnull=True))
            .filter(id__not_in=Subquery(recent.values("contact_id")))
        )

    def expired_conversations(self) -> QuerySet[Conversation] | None:
        """Resolved conversations whose every known time is older than the cutoff."""
        cutoff = self.cutoffs.resolved_conversations
        if cutoff is None:
            return None
        return (
            scoped(Conversation, self.workspace_id)
            .filter(status=ConversationStatus.RESOLVED.value, created_at__lt=cutoff)
            .filter(Q(resolved_at__lt=cutoff) | Q(resolved_at__isnull=True))
            .filter(Q(last_message_at__lt=cutoff) | Q(last_message_at__isnull=True))
            .filter(contact_id__not_in=held_contact_ids(self.workspace_id))
        )

    def expired_exports(self) -> QuerySet[ExportJob] | None:
        """Finished archives (successful or not); workspace exports have no contact."""
        cutoff = self.cutoffs.exports
        if cutoff is None:
            return None
        return (
            scoped(ExportJob, self.workspace_id)
            .filter(finished_at__lt=cutoff)
            .filter(
                Q(contact_id__isnull=True)
                | Q(contact_id__not_in=held_contact_ids(self.workspace_id))
            )
        )

    def expired_audit_events(self) -> QuerySet[AuditEvent] | None:
        cutoff = self.cutoffs.audit
        if cutoff is None:
            return None
        return scoped(AuditEvent, self.workspace_id).filter(created_at__lt=cutoff)

    def expired_runs(self) -> QuerySet[RetentionRun] | None:
        cutoff = self.cutoffs.audit
        if cutoff is None:
            return None
        return scoped(RetentionRun, self.workspace_id).filter(
            started_at__lt=cutoff, status__not=RUN_STATUS_RUNNING
        )

    def expired_data_requests(self) -> QuerySet[DataRequest] | None:
        """Answered requests: proof kept as long as the audit trail."""
        cutoff = self.cutoffs.audit
        if cutoff is None:
            return None
        return scoped(DataRequest, self.workspace_id).filter(completed_at__lt=cutoff)

    # -- what the rules delete together, each row once ------------------------
    def doomed_contacts(self) -> QuerySet[Contact] | None:
        return self.inactive_contacts()

    def doomed_conversations(self) -> QuerySet[Conversation] | None:
        return _union(
            Conversation,
            self.workspace_id,
            id=self.expired_conversations(),
            contact_id=self.doomed_contacts(),
        )

    def doomed_messages(self) -> QuerySet[Message] | None:
        return _union(
            Message,
            self.workspace_id,
            id=self.expired_messages(),
            conversation_id=self.doomed_conversations(),
        )

    def doomed_attachments(self) -> QuerySet[Attachment] | None:
        return _union(
            Attachment,
            self.workspace_id,
            id=self.expired_attachments(),
            message_id=self.doomed_messages(),
        )

    def doomed_exports(self) -> QuerySet[ExportJob] | None:
        return _union(
            ExportJob,
            self.workspace_id,
            id=self.expired_exports(),
            contact_id=self.doomed_contacts(),
        )


def _union(model: Any, workspace_id: uuid.UUID, **parts: QuerySet | None) -> QuerySet | None:
    """Rows of ``model`` whose ``field`` is among the ids of any given queryset."""
    condition: Q | None = None
    for field, queryset in parts.items():
        if queryset is None:
            continue
        term = Q(**{f"{field}__in": Subquery(queryset.values("id"))})
        condition = term if condition is None else condition | term
    if condition is None:
        return None
    return scoped(model, workspace_id).filter(condition)


async def _count(queryset: QuerySet | None) -> int:
    return 0 if queryset is None else await queryset.count()


def _children(model: Any, workspace_id: uuid.UUID, field: str, parents: QuerySet | None):
    if parents is None:
        return None
    return scoped(model, workspace_id).filter(**{f"{field}__in": Subquery(parents.values("id"))})


async def count_doomed(selection: Selection) -> dict[str, int]:
    """How many rows (and files) of each kind a run would delete right now."""
    ws = selection.workspace_id
    counts = empty_counts()
    contacts = selection.doomed_contacts
    conversations = selection.doomed_conversations
    attachments = selection.doomed_attachments
    exports = selection.doomed_exports
    counts["messages"] = await _count(selection.doomed_messages())
    counts["attachments"] = await _count(attachments())
    counts["conversations"] = await _count(conversations())
    counts["notes"] = await _count(_children(Note, ws, "conversation_id", conversations()))
    counts["conversation_tags"] = await _count(
        _children(ConversationTag, ws, "conversation_id", conversations())
    )
    counts["contacts"] = await _count(contacts())
    counts["contact_identities"] = await _count(
        _children(ContactIdentity, ws, "contact_id", contacts())
    )
    counts["contact_tags"] = await _count(_children(ContactTag, ws, "contact_id", contacts()))
    counts["exports"] = await _count(exports())
    counts["audit_events"] = await _count(selection.expired_audit_events())
    counts["retention_runs"] = await _count(selection.expired_runs())
    counts["data_requests"] = await _count(selection.expired_data_requests())
    files = 0
    for queryset, key in (
        (attachments(), "storage_key"),
        (exports(), "storage_key"),
        (contacts(), "avatar_key"),
    ):
        if queryset is not None:
            files += (
                await queryset.filter(**{f"{key}__isnull": False}).exclude(**{key: ""}).count()
            )
    counts["files"] = files
    return counts
