"""Base classes and shared field helpers for every model."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar

from tortoise import fields
from tortoise.models import Model

from inbox.privacy.rules import PrivacyRule
from inbox.tenancy import TenantManager


def utcnow() -> datetime:
    return datetime.now(UTC)


class BaseModel(Model):
    """UUID primary key and creation time; every model declares its privacy rule."""

    id = fields.UUIDField(primary_key=True, default=uuid.uuid4)
    created_at = fields.DatetimeField(auto_now_add=True)

    privacy: ClassVar[PrivacyRule]

    class Meta:
        abstract = True


class TenantModel(BaseModel):
    """A row that belongs to exactly one workspace.

    ``workspace_id`` leads every index of a tenant table, so a deployment can
    shard by workspace without a schema change. Queries go through
    :func:`inbox.tenancy.scoped`; the default manager refuses unscoped ones.
    """

    workspace: Any = fields.ForeignKeyField(
        "models.Workspace", related_name=False, on_delete=fields.CASCADE, db_index=False
    )

    class Meta:
        abstract = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # Tortoise does not inherit Meta, and a manager instance is bound to one
        # model, so each concrete subclass gets its own guarded manager here.
        if not cls._meta.abstract:
            cls._meta.manager = TenantManager()
