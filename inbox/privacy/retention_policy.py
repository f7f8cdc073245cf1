"""A workspace's retention policy: reading it, validating and changing it.

Each value is a number of days, or ``None`` to keep that kind of data for as
long as the workspace exists. Bounds are named below; the audit trail must be
kept long enough to prove what happened (at least six months), and export
archives are short-lived copies (a month at most).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError
from tortoise.exceptions import IntegrityError

from inbox.errors import InvalidInput
from inbox.jobs import atomic
from inbox.models import AuditEvent, RetentionPolicy
from inbox.tenancy import WorkspaceRef, scoped, workspace_id_of

MIN_DAYS = 1
MAX_DAYS = 3650  # ten years
MIN_AUDIT_DAYS = 180
MAX_EXPORT_DAYS = 30
POLICY_CHANGED_ACTION = "retention_policy.updated"


@dataclass(frozen=True)
class Bounds:
    minimum: int
    maximum: int


POLICY_BOUNDS: dict[str, Bounds] = {
    "messages_days": Bounds(MIN_DAYS, MAX_DAYS),
    "attachments_days": Bounds(MIN_DAYS, MAX_DAYS),
    "resolved_conversations_days": Bounds(MIN_DAYS, MAX_DAYS),
    "inactive_contacts_days": Bounds(MIN_DAYS, MAX_DAYS),
    "exports_days": Bounds(MIN_DAYS, MAX_EXPORT_DAYS),
    "audit_days": Bounds(MIN_AUDIT_DAYS, MAX_DAYS),
}
POLICY_FIELDS = tuple(POLICY_BOUNDS)


class PolicyChange(BaseModel):
    """The body of ``PUT /api/v1/workspace/retention``: keys left out keep their value."""

    model_config = ConfigDict(extra="forbid", strict=True)

    messages_days: int | None = None
    attachments_days: int | None = None
    resolved_conversations_days: int | None = None
    inactive_contacts_days: int | None = None
    exports_days: int | None = None
    audit_days: int | None = None


def parse_policy_change(body: Any) -> dict[str, int | None]:
    """Validate a change; returns only the keys the caller sent.

    Raises InvalidInput naming the first bad key and its allowed range.
    """
    if not isinstance(body, dict):
        raise InvalidInput("the body must be a JSON object", code="invalid_body")
    try:
        change = PolicyChange.model_validate(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(part) for part in first["loc"]) or "body"
        if first["type"] == "extra_forbidden":
            raise InvalidInput(f"unknown key {key!r}", code="invalid_policy") from None
        raise InvalidInput(
            f"{key} must be null or a whole number of days", code="invalid_policy"
        ) from None
    values = change.model_dump(include=change.model_fields_set)
    for key, value in values.items():
        bounds = POLICY_BOUNDS[key]
        if value is not None and not bounds.minimum <= value <= bounds.maximum:
            raise InvalidInput(
                f"{key} must be null (keep forever) or between "
                f"{bounds.minimum} and {bounds.maximum} days",
                code="invalid_policy",
            )
    return values


async def get_policy(workspace: WorkspaceRef) -> RetentionPolicy:
    """The workspace's policy; created with the defaults if the row is missing."""
    policy = await scoped(RetentionPolicy, workspace).first()
    if policy is None:
        try:
            policy = await RetentionPolicy.create(workspace_id=workspace_id_of(workspace))
        except IntegrityError:  # created meanwhile by another process
            policy = await scoped(RetentionPolicy, workspace).get()
    return policy


def describe_policy(policy: RetentionPolicy) -> dict[str, Any]:
    """The API shape: each value, when it last changed, and the allowed bounds."""
    data: dict[str, Any] = {key: getattr(policy, key) for key in POLICY_FIELDS}
    data["updated_at"] = policy.updated_at.isoformat() if policy.updated_at else None
    data["bounds"] = {
        key: {"min": bounds.minimum, "max": bounds.maximum}
        for key, bounds in POLICY_BOUNDS.items()
    }
    return data


def policy_values(policy: RetentionPolicy) -> dict[str, int | None]:
    return {key: getattr(policy, key) for key in POLICY_FIELDS}


async def update_policy(
    workspace: WorkspaceRef, body: Any, *, actor_id: object = None
) -> RetentionPolicy:
    """Apply a validated change and record it in the audit trail (values only)."""
    change = parse_policy_change(body)
    await get_policy(workspace)  # make sure the row exists before locking it
    async with atomic(None):
        policy = await scoped(RetentionPolicy, workspace).select_for_update().get()
        before = policy_values(policy)
        for key, value in change.items():
            setattr(policy, key, value)
        after = policy_values(policy)
        if after != before:
            await policy.save()
            await AuditEvent.create(
                workspace_id=workspace_id_of(workspace),
                actor_id=actor_id,
                action=POLICY_CHANGED_ACTION,
                target_type="retention_policy",
                target_id=str(policy.id),
                details={"before": before, "after": after},
            )
    return policy


def cutoff_for(days: int | None, now: datetime) -> datetime | None:
    """Rows strictly older than the returned instant have expired (None: never)."""
    return None if days is None else now - timedelta(days=days)
