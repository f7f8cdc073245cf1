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
from dataclasses import dataclass, replace
from datetime import datetime

from tortoise.expressions import Q, Subquery
from tortoise.queryset import QuerySet

from inbox.models import (
    Attachment,
    AuditEvent,
    Contact,
    Conversation,
    ConversationStatus,
    DataRequest,
    ExportJob,
    Message,
    RetentionPolicy,
    RetentionRun,
)
from inbox.privacy.legal_hold import held_contact_ids, held_conversation_ids
from inbox.privacy.retention_policy import cutoff_for
from inbox.tenancy import WorkspaceRef, scoped, workspace_id_of

RUN_STATUS_RUNNING = "running"
# Above this many held conversations, statements read the holds themselves.
PINNED_HOLDS_MAX = 1000

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
    """The expired rows of one workspace under one set of cutoffs.

    ``held_conversations``: the conversations under hold, read once for a batch
    (:meth:`pinned`) so every statement of that batch sees the same holds; None:
    each statement reads them itself (a subquery), as the preview does.
    """

    workspace_id: uuid.UUID
    cutoffs: Cutoffs
    held_conversations: tuple[uuid.UUID, ...] | None = None

    @classmethod
    def of(cls, workspace: WorkspaceRef, policy: RetentionPolicy, now: datetime) -> Selection:
        return cls(workspace_id_of(workspace), Cutoffs.of(policy, now))

    async def pinned(self) -> Selection:
        """This selection with the holds as they are now, as a list of ids."""
        held = await scoped(Conversation, self.workspace_id).filter(
            contact_id__in=held_contact_ids(self.workspace_id)
        ).values_list("id", flat=True)
        if len(held) > PINNED_HOLDS_MAX:
            return replace(self, held_conversations=None)
        return replace(self, held_conversations=tuple(held))

    def _spare_held(self, queryset: QuerySet, field: str) -> QuerySet:
        """``queryset`` without the rows whose ``field`` names a held conversation."""
        if self.held_conversations is None:
            return queryset.filter(
                **{f"{field}__not_in": held_conversation_ids(self.workspace_id)}
            )
        if not self.held_conversations:
            return queryset
        return queryset.filter(**{f"{field}__not_in": list(self.held_conversations)})

    # -- one queryset per rule ------------------------------------------------
    def expired_messages(self) -> QuerySet[Message] | None:
        cutoff = self.cutoffs.messages
        if cutoff is None:
            return None
        expired = scoped(Message, self.workspace_id).filter(created_at__lt=cutoff)
        return self._spare_held(expired, "conversation_id")

    def expired_attachments(self) -> QuerySet[Attachment] | None:
        """Old files; their messages stay."""
        cutoff = self.cutoffs.attachments
        if cutoff is None:
            return None
        expired = scoped(Attachment, self.workspace_id).filter(created_at__lt=cutoff)
        if self.held_conversations == ():
            return expired
        held_messages = scoped(Message, self.workspace_id).filter(
            conversation_id__in=(
                list(self.held_conversations)
                if self.held_conversations is not None
                else held_conversation_ids(self.workspace_id)
            )
        )
        return expired.filter(message_id__not_in=Subquery(held_messages.values("id")))

    def inactive_candidates(self) -> QuerySet[Contact] | None:
        """Contacts who wrote nothing since the cutoff (their creation counts as
        activity), not held. Inactive are those of them whose conversations did not
        move either (:meth:`recently_active`): a team still writing to someone keeps
        that contact, and a missed ``last_activity_at`` update costs no one their data.
        """
        cutoff = self.cutoffs.inactive_contacts
        if cutoff is None:
            return None
        return (
            scoped(Contact, self.workspace_id)
            .filter(legal_hold=False, restricted=False, created_at__lt=cutoff)
            .filter(Q(last_activity_at__lt=cutoff) | Q(last_activity_at__isnull=True))
        )

    def recently_active(self, among: list[uuid.UUID] | None = None) -> Subquery:
        """Ids of contacts with a conversation that moved since the inactivity cutoff
        (of ``among`` only, when given)."""
        assert self.cutoffs.inactive_contacts is not None
        moved = scoped(Conversation, self.workspace_id).filter(
            last_message_at__gte=self.cutoffs.inactive_contacts
        )
        if among is not None:
            moved = moved.filter(contact_id__in=among)
        return Subquery(moved.values("contact_id"))

    def inactive_among(self, contact_ids: list[uuid.UUID]) -> QuerySet[Contact]:
        """Which of these contacts are inactive (the guard runs on them alone)."""
        candidates = self.inactive_candidates()
        assert candidates is not None
        return candidates.filter(id__in=contact_ids).filter(
            id__not_in=self.recently_active(contact_ids)
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
