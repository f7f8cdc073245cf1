"""End users: the people who write to a business. We hold their data for it."""

from __future__ import annotations

from typing import Any

from tortoise import fields

from inbox.models.base import TenantModel
from inbox.privacy.rules import Disposal, PrivacyRule, Scope


class Contact(TenantModel):
    display_name = fields.CharField(max_length=200, default="")
    phone = fields.CharField(max_length=32, null=True)
    username = fields.CharField(max_length=100, null=True)
    avatar_key = fields.CharField(max_length=200, null=True)
    # {field: {"value": ..., "source": "telegram"|"agent"|..., "fetched_at": iso}}
    profile: Any = fields.JSONField(default=dict)
    profile_fetched_at = fields.DatetimeField(null=True)
    last_activity_at = fields.DatetimeField(null=True)
    opted_out = fields.BooleanField(default=False)
    restricted = fields.BooleanField(default=False)
    objected = fields.BooleanField(default=False)
    legal_hold = fields.BooleanField(default=False)
    updated_at = fields.DatetimeField(auto_now=True)

    privacy = PrivacyRule(
        scope=Scope.TENANT,
        purpose="knowing who the business is talking to",
        retention="inactive_contacts_days",
        contact_export=True,
        on_erasure=Disposal.DELETE,
        personal_fields=("display_name", "phone", "username", "avatar_key", "profile"),
    )

    class Meta:
        table = "contact"
        indexes = (
            ("workspace_id", "last_activity_at"),
            ("workspace_id", "display_name"),
            ("workspace_id", "profile_fetched_at"),  # the stale-profile cron
            # What retention must spare, read once per batch.
            ("workspace_id", "legal_hold"),
            ("workspace_id", "restricted"),
        )


class ContactIdentity(TenantModel):
    """(channel, provider user id) → contact: how an inbound message finds its sender."""

    contact: Any = fields.ForeignKeyField(
        "models.Contact", related_name=False, on_delete=fields.CASCADE
    )
    channel: Any = fields.ForeignKeyField(
        "models.Channel", related_name=False, on_delete=fields.CASCADE
    )
    provider_user_id = fields.CharField(max_length=128)

    privacy = PrivacyRule(
        scope=Scope.TENANT,
        purpose="recognising a contact on each channel",
        retention="with its contact",
        contact_export=True,
        on_erasure=Disposal.DELETE,
        personal_fields=("provider_user_id",),
    )

    class Meta:
        table = "contact_identity"
        unique_together = (("channel", "provider_user_id"),)
        indexes = (
            ("workspace_id", "contact_id"),
            ("contact_id",),  # the cascade from a deleted contact
        )
