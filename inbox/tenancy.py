"""Tenant scoping: the one way to query a workspace's data.

Every tenant-owned model uses :class:`TenantManager`, whose default queryset
refuses to run. ``Message.filter(...)`` raises :class:`UnscopedQueryError`; the
code must say ``scoped(Message, workspace_id).filter(...)`` instead, so a
query that forgets its workspace is a crash in the tests, never a leak.

:func:`unscoped` is the escape hatch for the few lookups that *find* the
workspace: a session or API token by its hash, a channel by the public id in a
webhook URL, platform-operator tools. Each use names its reason, so
``grep unscoped(`` lists every place that crosses tenants.
"""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

from tortoise.manager import Manager
from tortoise.models import Model
from tortoise.queryset import QuerySet

M = TypeVar("M", bound=Model)

WorkspaceRef = uuid.UUID | str | Any


class UnscopedQueryError(RuntimeError):
    """A tenant-owned model was queried without naming its workspace."""


class TenantManager(Manager):
    """Manager whose default queryset refuses to exist."""

    def get_queryset(self) -> QuerySet:
        name = self._model.__name__ if self._model else "tenant model"
        raise UnscopedQueryError(
            f"{name} is tenant-owned: query it with scoped({name}, workspace_id)"
        )


def workspace_id_of(workspace: WorkspaceRef) -> uuid.UUID:
    """Accept a Workspace, a UUID or its string form; return the UUID."""
    if isinstance(workspace, uuid.UUID):
        return workspace
    if isinstance(workspace, str):
        return uuid.UUID(workspace)
    workspace_id = getattr(workspace, "id", None)
    if isinstance(workspace_id, uuid.UUID):
        return workspace_id
    raise TypeError("a workspace, its id, or its id as text is required")


def scoped(model: type[M], workspace: WorkspaceRef) -> QuerySet[M]:
    """All rows of ``model`` that belong to ``workspace``, and nothing else."""
    if not isinstance(model._meta.manager, TenantManager):
        raise TypeError(f"{model.__name__} is not tenant-owned")
    return QuerySet(model).filter(workspace_id=workspace_id_of(workspace))


def unscoped(model: type[M], *, reason: str) -> QuerySet[M]:
    """Every row of ``model`` across workspaces; ``reason`` documents the need."""
    if not reason:
        raise ValueError("unscoped queries must say why they cross workspaces")
    return QuerySet(model)


def parse_id(value: object) -> uuid.UUID:
    """An id from a URL or a body; anything malformed answers 404 like a missing row."""
    from inbox.errors import NotFound

    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise NotFound("not found") from None
