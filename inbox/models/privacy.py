"""Rows that the privacy rules themselves produce and rely on."""

from __future__ import annotations

from typing import Any

from tortoise import fields

from inbox.models.base import BaseModel, TenantModel
from inbox.privacy.rules import Disposal, PrivacyRule, Scope

# The legal ceiling for connection logs; no setting can raise it.
SYSTEM_LOG_MAX_DAYS = 365
DATA_REQUEST_DUE_DAYS = 30
BREACH_NOTICE_HOURS = 24


class RetentionPolicy(TenantModel):
    """How long a workspace keeps each kind of data (``None``: forever)."""

    messages_days = fields.IntField(null=True)
    attachments_days = fields.IntField(null=True)
    resolved_conversations_days = fields.IntField(null=True)
    inactive_contacts_days = fields.IntField(null=True)
    exports_days = fields.IntField(null=True, default=7)
    audit_days = fields.IntField(null=True)
    updated_at = fields.DatetimeField(auto_now=True)

    privacy = PrivacyRule(
        scope=Scope.TENANT,
        purpose="the workspace's own retention rules",
        retention="while the workspace exists",
    )

    class Meta:
        table = "retention_policy"
        unique_together = (("workspace",),)


class RetentionRun(TenantModel):
    started_at = fields.DatetimeField()
    finished_at = fields.DatetimeField(null=True)
    status = fields.CharField(max_length=16, default="running")
    deleted: Any = fields.JSONField(default=dict)  # {"messages": n, ...}
    checkpoint: Any = fields.JSONField(default=dict)  # where a crashed run resumes
    duration_ms = fields.IntField(null=True)

    privacy = PrivacyRule(
        scope=Scope.TENANT,
        purpose="proof that the retention rules were applied",
        retention="audit_days",
    )

    class Meta:
        table = "retention_run"
        indexes = (("workspace_id", "started_at"),)


class SystemLog(BaseModel):
    """Connection data: written on login, logout, session start and token use only."""

    at = fields.DatetimeField(db_index=True)
    event = fields.CharField(max_length=32)
    ip = fields.CharField(max_length=45, null=True)
    user_agent = fields.CharField(max_length=400, null=True)
    user: Any = fields.ForeignKeyField(
        "models.User", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    # A plain id, not a foreign key: the log outlives a purged workspace.
    workspace_id = fields.UUIDField(null=True)

    privacy = PrivacyRule(
        scope=Scope.PLATFORM,
        purpose="security, and answering lawful requests for connection data",
        retention=f"{SYSTEM_LOG_MAX_DAYS} days, fixed by law",
        export=False,
        on_purge=Disposal.KEEP,
        reason="connection data must be kept for one year (French law), then deleted",
        personal_fields=("ip", "user_agent"),
    )

    class Meta:
        table = "system_log"
        indexes = (("workspace_id", "at"),)


class AuditEvent(TenantModel):
    """A privacy-relevant action by an admin: export, purge, erasure, policy change."""

    actor: Any = fields.ForeignKeyField(
        "models.User", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    action = fields.CharField(max_length=64)
    target_type = fields.CharField(max_length=32, default="")
    target_id = fields.CharField(max_length=64, default="")
    details: Any = fields.JSONField(default=dict)  # ids and counts only

    privacy = PrivacyRule(
        scope=Scope.TENANT,
        purpose="accountability for privacy-relevant actions",
        retention="audit_days",
        on_erasure=Disposal.KEEP,
        reason="proof that the erasure was carried out; holds ids only",
    )

    class Meta:
        table = "audit_event"
        indexes = (("workspace_id", "created_at"),)


class BreachIncident(BaseModel):
    title = fields.CharField(max_length=200)
    description = fields.TextField(default="")
    discovered_at = fields.DatetimeField()
    deadline_at = fields.DatetimeField()
    all_workspaces = fields.BooleanField(default=False)
    status = fields.CharField(max_length=16, default="open")
    closed_at = fields.DatetimeField(null=True)

    privacy = PrivacyRule(
        scope=Scope.PLATFORM,
        purpose="notifying clients of a personal-data breach",
        retention="kept as the breach register",
        export=False,
        on_purge=Disposal.KEEP,
        reason="the breach register is a legal obligation (GDPR art. 33(5))",
    )

    class Meta:
        table = "breach_incident"


class BreachNotice(TenantModel):
    incident: Any = fields.ForeignKeyField(
        "models.BreachIncident", related_name=False, on_delete=fields.CASCADE
    )
    recipient: Any = fields.ForeignKeyField(
        "models.User", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    email_sent_at = fields.DatetimeField(null=True)
    acknowledged_at = fields.DatetimeField(null=True)
    acknowledged_by: Any = fields.ForeignKeyField(
        "models.User", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    escalated_at = fields.DatetimeField(null=True)

    privacy = PrivacyRule(
        scope=Scope.TENANT,
        purpose="proof that each client was told of a breach",
        retention="with the breach register",
    )

    class Meta:
        table = "breach_notice"
        unique_together = (("incident", "workspace", "recipient"),)
        indexes = (("workspace_id", "created_at"),)


class DataRequest(TenantModel):
    """An end user request to exercise a right, due 30 days after receipt."""

    contact: Any = fields.ForeignKeyField(
        "models.Contact", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    kind = fields.CharField(max_length=16)
    status = fields.CharField(max_length=16, default="open")
    received_at = fields.DatetimeField()
    due_at = fields.DatetimeField()
    completed_at = fields.DatetimeField(null=True)
    handled_by: Any = fields.ForeignKeyField(
        "models.User", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    export_key = fields.CharField(max_length=255, null=True)

    privacy = PrivacyRule(
        scope=Scope.TENANT,
        purpose="answering end users' privacy rights on time",
        retention="audit_days",
        contact_export=True,
        on_erasure=Disposal.ANONYMISE,
        reason="the request is kept, without the contact, as proof it was answered",
        personal_fields=("export_key",),
    )

    class Meta:
        table = "data_request"
        indexes = (("workspace_id", "status", "due_at"), ("workspace_id", "contact_id"))


class ExportJob(TenantModel):
    requested_by: Any = fields.ForeignKeyField(
        "models.User", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    contact: Any = fields.ForeignKeyField(
        "models.Contact", related_name=False, null=True, on_delete=fields.CASCADE
    )
    status = fields.CharField(max_length=16, default="queued")
    storage_key = fields.CharField(max_length=255, null=True)
    size = fields.BigIntField(null=True)
    checksum = fields.CharField(max_length=64, null=True)
    finished_at = fields.DatetimeField(null=True)
    expires_at = fields.DatetimeField(null=True)

    privacy = PrivacyRule(
        scope=Scope.TENANT,
        purpose="handing the workspace or a contact their data",
        retention="exports_days",
        export=False,
        on_erasure=Disposal.DELETE,
        personal_fields=("storage_key",),
    )

    class Meta:
        table = "export_job"
        indexes = (("workspace_id", "created_at"),)


class PurgeReceipt(BaseModel):
    """What remains of a purged workspace: ids and counts, no personal data."""

    workspace_id = fields.UUIDField()
    requested_at = fields.DatetimeField()
    purged_at = fields.DatetimeField()
    counts: Any = fields.JSONField(default=dict)

    privacy = PrivacyRule(
        scope=Scope.PLATFORM,
        purpose="proof that a workspace was deleted",
        retention="kept indefinitely; holds no personal data",
        export=False,
        on_purge=Disposal.KEEP,
        reason="the receipt is the proof of deletion",
    )

    class Meta:
        table = "purge_receipt"


class BillingEvent(BaseModel):
    """A Stripe event already handled, for de-duplication: ids only, never card data."""

    stripe_event_id = fields.CharField(max_length=255, unique=True)
    type = fields.CharField(max_length=100)
    workspace_id = fields.UUIDField(null=True)
    processed_at = fields.DatetimeField(null=True)

    privacy = PrivacyRule(
        scope=Scope.PLATFORM,
        purpose="billing the client",
        retention="10 years (accounting records)",
        export=False,
        on_purge=Disposal.KEEP,
        reason="accounting records; holds Stripe ids only",
    )

    class Meta:
        table = "billing_event"
