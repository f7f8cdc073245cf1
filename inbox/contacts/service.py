"""Rectifying a contact (GDPR art. 16): an agent corrects what we hold.

Each corrected field is also recorded in ``profile`` with the source ``agent``
and the time of the edit, so enrichment knows a person set it and the contact
panel can say where each value came from.
"""

from __future__ import annotations

from typing import Any

import phonenumbers

from inbox.contacts.queries import get_contact
from inbox.conversations.tags import clean_tag_names, ensure_tags
from inbox.errors import InvalidInput
from inbox.jobs import atomic
from inbox.models import Contact, ContactTag
from inbox.models.base import utcnow
from inbox.tenancy import WorkspaceRef, scoped, workspace_id_of

AGENT_SOURCE = "agent"
RECTIFIABLE = ("display_name", "phone", "username")
LIMITS = {"display_name": 200, "username": 100}


def normalize_phone(value: str) -> str:
    """E.164, or 400: the number must carry its country code (``+``)."""
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise InvalidInput(
            "phone must be a valid number in international format (+ and country code)",
            code="invalid_phone",
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def clean_field(name: str, value: Any) -> str | None:
    if value is None:
        if name == "display_name":
            raise InvalidInput("display_name cannot be empty", code="invalid_name")
        return None
    value = str(value).strip()
    if name == "phone":
        return normalize_phone(value) if value else None
    if len(value) > LIMITS[name]:
        raise InvalidInput(f"{name} is at most {LIMITS[name]} characters", code="invalid_" + name)
    if name == "display_name" and not value:
        raise InvalidInput("display_name cannot be empty", code="invalid_name")
    return value or None


async def rectify_contact(
    workspace: WorkspaceRef, contact_id: object, changes: dict[str, Any]
) -> Contact:
    """Apply an agent's corrections (``changes`` holds only the fields sent)."""
    contact = await get_contact(workspace, contact_id)
    fields = {name: clean_field(name, changes[name]) for name in RECTIFIABLE if name in changes}
    names = clean_tag_names(changes["tags"]) if changes.get("tags") is not None else None
    if fields:
        now = utcnow().isoformat()
        profile = dict(contact.profile or {})
        for name, value in fields.items():
            profile[name] = {"value": value, "source": AGENT_SOURCE, "fetched_at": now}
        fields["profile"] = profile
    async with atomic(None) as unit:
        if fields:
            await scoped(Contact, workspace).filter(id=contact.id).using_db(
                unit.connection
            ).update(**fields, updated_at=utcnow())
            for name, value in fields.items():
                setattr(contact, name, value)
        if names is not None:
            tags = await ensure_tags(workspace, names, unit.connection)
            links = scoped(ContactTag, workspace).using_db(unit.connection).filter(
                contact_id=contact.id
            )
            await links.delete()
            await scoped(ContactTag, workspace).using_db(unit.connection).bulk_create(
                [
                    ContactTag(
                        workspace_id=workspace_id_of(workspace), contact_id=contact.id,
                        tag_id=tag.id,
                    )
                    for tag in tags
                ]
            )
    return contact
