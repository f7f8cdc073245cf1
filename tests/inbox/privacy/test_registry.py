"""The privacy registry classifies every model, and its claims are true."""

from __future__ import annotations

from tortoise import Tortoise
from tortoise.context import TortoiseContext

from inbox.database import tortoise_config
from inbox.models import MODELS
from inbox.models.base import TenantModel
from inbox.privacy.registry import personal_field_names, registry, tenant_models
from inbox.privacy.rules import Disposal, Scope
from inbox.tenancy import TenantManager


async def test_every_model_tortoise_knows_is_in_the_registry() -> None:
    async with TortoiseContext() as context:
        await Tortoise.init(config=tortoise_config("sqlite://:memory:"))
        known = set(context.apps.get_models_iterable())
    assert known == set(MODELS)
    assert set(registry()) == known


def test_tenant_models_carry_a_workspace_and_refuse_unscoped_queries() -> None:
    for model in MODELS:
        rule = registry()[model]
        is_tenant = issubclass(model, TenantModel)
        assert is_tenant == (rule.scope is Scope.TENANT) or model.__name__ == "Workspace", model
        if is_tenant:
            assert "workspace_id" in model._meta.fields_map
            assert isinstance(model._meta.manager, TenantManager)


def test_personal_fields_name_real_fields() -> None:
    for model, rule in registry().items():
        for name in rule.personal_fields:
            assert name in model._meta.fields_map, f"{model.__name__}.{name}"
    assert {"text", "phone", "email", "ip"} <= personal_field_names()


def test_rows_kept_on_purge_or_erasure_say_why() -> None:
    kept = [
        (model, rule) for model, rule in registry().items()
        if {rule.on_purge, rule.on_erasure} & {Disposal.KEEP, Disposal.ANONYMISE}
    ]
    assert kept, "the system log at least is kept on purge"
    for model, rule in kept:
        assert rule.reason, model.__name__


def test_end_user_content_is_erasable_and_in_the_access_export() -> None:
    names = {m.__name__: r for m, r in registry().items()}
    for name in ("Contact", "ContactIdentity", "Conversation", "Message", "Attachment", "Note"):
        assert names[name].on_erasure is Disposal.DELETE, name
        assert names[name].contact_export, name
    assert names["SystemLog"].on_purge is Disposal.KEEP
    assert not names["Session"].export and not names["ApiToken"].export
    assert tenant_models()
