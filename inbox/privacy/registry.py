"""The privacy registry: every model's :class:`PrivacyRule`, in one place.

``registry()`` walks the models Tortoise knows and returns their rules; a model
without one is an error, so adding a table without classifying it fails the
test suite (the same idea as a table classification for exports).
"""

from __future__ import annotations

from tortoise.models import Model

from inbox.privacy.rules import PrivacyRule, Scope


class UnclassifiedModelError(LookupError):
    """A model has no privacy rule."""


def all_models() -> list[type[Model]]:
    """Every concrete model of the app, in declaration order."""
    from inbox.models import MODELS

    return list(MODELS)


def rule_for(model: type[Model]) -> PrivacyRule:
    rule = model.__dict__.get("privacy")
    if not isinstance(rule, PrivacyRule):
        raise UnclassifiedModelError(f"{model.__name__} declares no privacy rule")
    return rule


def registry() -> dict[type[Model], PrivacyRule]:
    """Model → rule for every model; raises if one is unclassified."""
    return {model: rule_for(model) for model in all_models()}


def tenant_models() -> list[type[Model]]:
    return [m for m, rule in registry().items() if rule.scope is Scope.TENANT]


def personal_field_names() -> frozenset[str]:
    """Every field name that holds personal data somewhere (for scrubbing)."""
    names: set[str] = set()
    for rule in registry().values():
        names.update(rule.personal_fields)
    return frozenset(names)
