"""Tenant scoping: a tenant-owned model cannot be queried without its workspace."""

from __future__ import annotations

import uuid

import pytest

from inbox.errors import NotFound
from inbox.models import MODELS, Channel, Contact, Message, Workspace
from inbox.models.base import TenantModel
from inbox.tenancy import UnscopedQueryError, parse_id, scoped, unscoped
from inbox.workspaces.service import create_workspace


@pytest.mark.parametrize(
    "query",
    [
        lambda m: m.all(),
        lambda m: m.filter(id=uuid.uuid4()),
        lambda m: m.get_or_none(id=uuid.uuid4()),
        lambda m: m.exclude(id=uuid.uuid4()),
        lambda m: m.first(),
        lambda m: m.exists(),
        lambda m: m.annotate(),
        lambda m: m.select_for_update(),
    ],
)
async def test_every_tenant_model_refuses_unscoped_queries(db: None, query) -> None:
    owned = [model for model in MODELS if issubclass(model, TenantModel)]
    assert len(owned) > 20
    for model in owned:
        with pytest.raises(UnscopedQueryError, match=model.__name__):
            query(model)


async def test_unscoped_get_is_refused_before_reaching_the_database(db: None) -> None:
    with pytest.raises(UnscopedQueryError):
        await Message.get(id=uuid.uuid4())


async def test_scoped_sees_only_its_own_workspace(db: None) -> None:
    first = (await create_workspace("First", "a@first.test", "password-1")).workspace
    second = (await create_workspace("Second", "b@second.test", "password-2")).workspace
    await Contact.create(workspace=first, display_name="Ana")
    await Contact.create(workspace=second, display_name="Bruno")

    assert [c.display_name for c in await scoped(Contact, first)] == ["Ana"]
    assert [c.display_name for c in await scoped(Contact, second.id)] == ["Bruno"]
    assert await scoped(Contact, str(first.id)).count() == 1
    assert await unscoped(Contact, reason="test: both tenants").count() == 2


def test_scoped_refuses_platform_models_and_unscoped_needs_a_reason() -> None:
    with pytest.raises(TypeError):
        scoped(Workspace, uuid.uuid4())
    with pytest.raises(ValueError, match="why"):
        unscoped(Channel, reason="")


def test_parse_id_turns_garbage_into_not_found() -> None:
    value = uuid.uuid4()
    assert parse_id(str(value)) == value
    with pytest.raises(NotFound):
        parse_id("1 OR 1=1")
