"""The workspace's retention policy, its dry-run preview and its past runs.

Reading the policy is open to every member (agents should know how long data is
kept); changing it, previewing and listing runs is for admins.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel

from inbox.api.routing import Access, Call, api_route
from inbox.api.schemas.common import ItemList, PageQuery
from inbox.privacy.retention import preview_retention
from inbox.privacy.retention_history import list_runs
from inbox.privacy.retention_policy import (
    PolicyChange,
    describe_policy,
    get_policy,
    update_policy,
)

TAG = "retention"


class DayBounds(BaseModel):
    min: int
    max: int


class RetentionPolicyOut(BaseModel):
    """Days each kind of data is kept; null keeps it as long as the workspace exists."""

    messages_days: int | None
    attachments_days: int | None
    resolved_conversations_days: int | None
    inactive_contacts_days: int | None
    exports_days: int | None
    audit_days: int | None
    updated_at: datetime | None
    bounds: dict[str, DayBounds]


class DeletedCounts(BaseModel):
    messages: int
    attachments: int
    files: int
    conversations: int
    notes: int
    conversation_tags: int
    contacts: int
    contact_identities: int
    contact_tags: int
    exports: int
    audit_events: int
    retention_runs: int
    data_requests: int


class RetentionPreviewOut(BaseModel):
    as_of: datetime
    legal_hold: bool
    counts: DeletedCounts


class RetentionRunOut(BaseModel):
    id: uuid.UUID
    started_at: datetime
    finished_at: datetime | None
    status: str
    deleted: DeletedCounts
    duration_ms: int | None


class RetentionRunPage(ItemList[RetentionRunOut]):
    pass


async def show_policy(call: Call) -> RetentionPolicyOut:
    return RetentionPolicyOut.model_validate(describe_policy(await get_policy(call.workspace)))


async def change_policy(call: Call) -> RetentionPolicyOut:
    body: PolicyChange = call.body
    sent = body.model_dump(include=body.model_fields_set)
    policy = await update_policy(call.workspace, sent, actor_id=call.me.user.id)
    return RetentionPolicyOut.model_validate(describe_policy(policy))


async def preview(call: Call) -> RetentionPreviewOut:
    return RetentionPreviewOut.model_validate(await preview_retention(call.workspace))


async def runs(call: Call) -> RetentionRunPage:
    query: PageQuery = call.query
    page = await list_runs(call.workspace, cursor=query.cursor, limit=query.limit)
    return RetentionRunPage.model_validate(page)


routes = [
    api_route("/workspace/retention", show_policy, method="GET", tag=TAG,
              response=RetentionPolicyOut, summary="The workspace's retention policy"),
    api_route("/workspace/retention", change_policy, method="PUT", tag=TAG,
              access=Access.ADMIN, body=PolicyChange, response=RetentionPolicyOut,
              summary="Change the retention policy (keys left out keep their value)"),
    api_route("/workspace/retention/preview", preview, method="GET", tag=TAG,
              access=Access.ADMIN, response=RetentionPreviewOut,
              summary="What the policy would delete now, as counts (deletes nothing)"),
    api_route("/workspace/retention/runs", runs, method="GET", tag=TAG,
              access=Access.ADMIN, query=PageQuery, response=RetentionRunPage,
              summary="Past retention runs, newest first"),
]
