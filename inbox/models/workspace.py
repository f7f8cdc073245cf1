"""Workspaces (tenants), their staff, and how staff sign in."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from tortoise import fields

from inbox.models.base import BaseModel, TenantModel
from inbox.privacy.rules import Disposal, PrivacyRule, Scope


class Role(StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    AGENT = "agent"


class BillingStatus(StrEnum):
    NONE = "none"
    ACTIVE = "active"
    PAST_DUE = "past_due"
    CANCELLING = "cancelling"
    CANCELED = "canceled"


class Workspace(BaseModel):
    """A client business: the tenant every other row belongs to."""

    name = fields.CharField(max_length=120)
    slug = fields.CharField(max_length=64, unique=True)
    plan = fields.CharField(max_length=32, default="free")
    billing_status = fields.CharField(max_length=16, default=BillingStatus.NONE.value)
    billing_seats = fields.IntField(default=0)
    billing_period_end = fields.DatetimeField(null=True)
    billing_cancel_at = fields.DatetimeField(null=True)
    stripe_customer_id = fields.CharField(max_length=64, null=True, unique=True)
    stripe_subscription_id = fields.CharField(max_length=64, null=True, unique=True)
    legal_hold = fields.BooleanField(default=False)
    deletion_requested_at = fields.DatetimeField(null=True)
    deletion_scheduled_at = fields.DatetimeField(null=True)

    privacy = PrivacyRule(
        scope=Scope.TENANT,
        purpose="the account of the client business",
        retention="while the workspace exists",
        personal_fields=("name",),
    )

    class Meta:
        table = "workspace"


class User(BaseModel):
    """A member of a client business staff (agents and admins), not an end user."""

    email = fields.CharField(max_length=254, unique=True)
    display_name = fields.CharField(max_length=120, default="")
    password_hash = fields.CharField(max_length=255)
    password_changed_at = fields.DatetimeField(null=True)

    privacy = PrivacyRule(
        scope=Scope.PLATFORM,
        purpose="signing staff in",
        retention="while the user belongs to a workspace",
        on_purge=Disposal.DELETE,
        personal_fields=("email", "display_name"),
        extra={"purge": "deleted when the purged workspace was their last membership"},
    )

    class Meta:
        table = "user"


class Membership(TenantModel):
    user: Any = fields.ForeignKeyField("models.User", related_name=False, on_delete=fields.CASCADE)
    role = fields.CharField(max_length=16, default=Role.AGENT.value)

    privacy = PrivacyRule(
        scope=Scope.TENANT,
        purpose="who belongs to the team and with which role",
        retention="while the member belongs to the workspace",
    )

    class Meta:
        table = "membership"
        unique_together = (("workspace", "user"),)


class Invitation(TenantModel):
    email = fields.CharField(max_length=254)
    role = fields.CharField(max_length=16, default=Role.AGENT.value)
    token_hash = fields.CharField(max_length=64, unique=True)
    invited_by: Any = fields.ForeignKeyField(
        "models.User", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    expires_at = fields.DatetimeField()
    accepted_at = fields.DatetimeField(null=True)

    privacy = PrivacyRule(
        scope=Scope.TENANT,
        purpose="inviting a new team member",
        retention="until accepted or expired",
        personal_fields=("email",),
    )

    class Meta:
        table = "invitation"
        indexes = (("workspace_id", "created_at"),)


class Session(TenantModel):
    """A server-side browser session: the cookie holds a token, we keep its hash."""

    user: Any = fields.ForeignKeyField("models.User", related_name=False, on_delete=fields.CASCADE)
    token_hash = fields.CharField(max_length=64, unique=True)
    csrf_token = fields.CharField(max_length=64)
    expires_at = fields.DatetimeField()
    revoked_at = fields.DatetimeField(null=True)

    privacy = PrivacyRule(
        scope=Scope.TENANT,
        purpose="keeping staff signed in",
        retention="until it expires or is revoked",
        export=False,
    )

    class Meta:
        table = "session"
        indexes = (("workspace_id", "user_id"),)


class ApiToken(TenantModel):
    user: Any = fields.ForeignKeyField("models.User", related_name=False, on_delete=fields.CASCADE)
    name = fields.CharField(max_length=120, default="")
    token_hash = fields.CharField(max_length=64, unique=True)
    prefix = fields.CharField(max_length=16)
    last_used_at = fields.DatetimeField(null=True)
    revoked_at = fields.DatetimeField(null=True)

    privacy = PrivacyRule(
        scope=Scope.TENANT,
        purpose="API access for the client's integrations",
        retention="until revoked",
        export=False,
    )

    class Meta:
        table = "api_token"
        indexes = (("workspace_id", "user_id"),)
