"""The admins' retention page: the policy form, what it would delete, the past runs.

The form saves through :func:`inbox.privacy.retention_policy.update_policy`,
the function the API calls. The preview of the saved policy is
:func:`inbox.privacy.retention.preview_retention`; a proposed policy (not saved)
is counted by the same selection code with an unsaved policy instance, so the
page can never promise something the hourly run does differently.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from inbox.errors import InvalidInput
from inbox.models import RetentionPolicy
from inbox.models.base import utcnow
from inbox.privacy.legal_hold import is_workspace_held
from inbox.privacy.retention import preview_retention
from inbox.privacy.retention_history import list_runs
from inbox.privacy.retention_policy import (
    POLICY_BOUNDS,
    get_policy,
    parse_policy_change,
    policy_values,
    update_policy,
)
from inbox.privacy.retention_preview import count_doomed
from inbox.privacy.retention_selection import Selection, empty_counts
from inbox.tenancy import workspace_id_of
from inbox.web.access import Viewer, notice_redirect, page
from inbox.web.pages_settings import settings_page

PAGE_URL = "/settings/retention"
RECENT_RUNS = 5
FOREVER = "forever"
DAYS = "days"


@dataclass(frozen=True)
class Rule:
    key: str
    label: str
    counted: str  # the preview's count key
    noun: str  # what the count is of, in a sentence
    age: str  # how the age is measured, in a sentence


RULES = (
    Rule("messages_days", "Messages", "messages", "messages", "older than"),
    Rule("attachments_days", "Attachments", "attachments", "attachments", "older than"),
    Rule("resolved_conversations_days", "Resolved conversations", "conversations",
         "conversations", "resolved and quiet for more than"),
    Rule("inactive_contacts_days", "Inactive contacts", "contacts", "contacts",
         "inactive for more than"),
    Rule("exports_days", "Export archives", "exports", "export archives", "older than"),
    Rule("audit_days", "Audit log", "audit_events", "audit log entries", "older than"),
)
# Rows removed along with the ones above, named in the preview's last line.
ALONG_WITH = (
    ("files", "stored files"),
    ("notes", "notes"),
    ("conversation_tags", "conversation tags"),
    ("contact_identities", "contact identities"),
    ("contact_tags", "contact tags"),
)


def read_policy_form(
    form: FormData, current: dict[str, int | None]
) -> tuple[dict[str, int | None], dict[str, str]]:
    """The proposed values (each days or None) and an error per bad field."""
    values: dict[str, int | None] = dict(current)
    errors: dict[str, str] = {}
    for rule in RULES:
        mode = str(form.get(f"{rule.key}_mode", DAYS))
        if mode == FOREVER:
            values[rule.key] = None
            continue
        bounds = POLICY_BOUNDS[rule.key]
        problem = f"Enter a whole number of days from {bounds.minimum} to {bounds.maximum}."
        text = str(form.get(rule.key, "")).strip()
        if not text.isdigit() or len(text) > 6:
            errors[rule.key] = problem
            continue
        try:
            parse_policy_change({rule.key: int(text)})
        except InvalidInput:
            errors[rule.key] = problem
            continue
        values[rule.key] = int(text)
    return values, errors


async def preview_proposed(workspace: Any, values: dict[str, int | None]) -> dict[str, Any]:
    """What ``values`` would delete now, counted like :func:`preview_retention`."""
    workspace_id = workspace_id_of(workspace)
    now = utcnow()
    held = await is_workspace_held(workspace_id)
    if held:
        counts = empty_counts()
    else:
        unsaved = RetentionPolicy(workspace_id=workspace_id, **values)
        counts = await count_doomed(Selection.of(workspace_id, unsaved, now))
    return {"as_of": now.isoformat(), "legal_hold": held, "counts": counts}


def describe_preview(preview: dict[str, Any], values: dict[str, int | None]) -> list[str]:
    """The preview in plain words, one sentence per kind of data it deletes."""
    counts = preview["counts"]
    lines = []
    for rule in RULES:
        days = values[rule.key]
        count = counts.get(rule.counted, 0)
        if count:
            reason = f" {rule.age} {days} days" if days is not None else ""
            lines.append(f"{count:,} {rule.noun}{reason}")
    extra = [f"{counts[key]:,} {noun}" for key, noun in ALONG_WITH if counts.get(key)]
    if extra:
        lines.append("with them, " + ", ".join(extra))
    return lines


def form_fields(values: dict[str, Any], errors: dict[str, str]) -> list[dict[str, Any]]:
    return [
        {
            "key": rule.key,
            "label": rule.label,
            "forever": values[rule.key] is None,
            "days": "" if values[rule.key] is None else values[rule.key],
            "min": POLICY_BOUNDS[rule.key].minimum,
            "max": POLICY_BOUNDS[rule.key].maximum,
            "error": errors.get(rule.key, ""),
        }
        for rule in RULES
    ]


async def retention_page(
    request: Request,
    viewer: Viewer,
    *,
    form_values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    proposed: bool = False,
    status: int = 200,
) -> Response:
    """The page; ``form_values`` (proposed, or typed with ``errors``) fill the form."""
    saved = policy_values(await get_policy(viewer.workspace))
    values = form_values if form_values is not None else saved
    errors = errors or {}
    preview = None
    if not errors:
        if proposed:
            preview = await preview_proposed(viewer.workspace, values)
        else:
            preview = await preview_retention(viewer.workspace)
    runs = (await list_runs(viewer.workspace, limit=RECENT_RUNS))["items"]
    context = {
        "fields": form_fields(values, errors),
        "has_errors": bool(errors),
        "proposed": proposed,
        "legal_hold": bool(preview and preview["legal_hold"]),
        "preview_lines": describe_preview(preview, values) if preview else [],
        "runs": runs,
    }
    response = settings_page(request, viewer, "retention", context)
    response.status_code = status
    return response


@page(admin=True)
async def retention_show(request: Request, viewer: Viewer) -> Response:
    return await retention_page(request, viewer)


@page(admin=True, fallback=PAGE_URL)
async def retention_preview(request: Request, viewer: Viewer, form: FormData) -> Response:
    current = policy_values(await get_policy(viewer.workspace))
    values, errors = read_policy_form(form, current)
    if errors:
        typed = {**values, **{key: form.get(key, "") for key in errors}}
        return await retention_page(request, viewer, form_values=typed, errors=errors, status=400)
    return await retention_page(request, viewer, form_values=values, proposed=True)


@page(admin=True, fallback=PAGE_URL)
async def retention_save(request: Request, viewer: Viewer, form: FormData) -> Response:
    current = policy_values(await get_policy(viewer.workspace))
    values, errors = read_policy_form(form, current)
    if errors:
        typed = {**values, **{key: form.get(key, "") for key in errors}}
        return await retention_page(request, viewer, form_values=typed, errors=errors, status=400)
    await update_policy(viewer.workspace, values, actor_id=viewer.principal.user.id)
    return notice_redirect(
        request, PAGE_URL, "The retention policy was saved; the next hourly run applies it."
    )


routes = [
    Route(PAGE_URL, retention_show, methods=["GET"]),
    Route(PAGE_URL, retention_save, methods=["POST"]),
    Route(f"{PAGE_URL}/preview", retention_preview, methods=["POST"]),
]
