"""Contacts as the API shows them, and the rectification body."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from inbox.api.schemas.common import Body, PageQuery
from inbox.contacts.queries import ContactView
from inbox.settings import Settings

AVATAR_PATH = "/api/v1/contacts/{id}/avatar"


class IdentityOut(BaseModel):
    channel_id: uuid.UUID
    kind: str
    provider_user_id: str


class ContactOut(BaseModel):
    id: uuid.UUID
    display_name: str
    phone: str | None
    username: str | None
    avatar_url: str | None
    identities: list[IdentityOut]
    profile: dict[str, Any] = Field(description="{field: {value, source, fetched_at}}")
    tags: list[str]
    last_activity_at: datetime | None
    restricted: bool
    legal_hold: bool
    opted_out: bool
    created_at: datetime

    @classmethod
    def of(cls, view: ContactView, settings: Settings) -> ContactOut:
        contact = view.contact
        return cls(
            id=contact.id,
            display_name=contact.display_name,
            phone=contact.phone,
            username=contact.username,
            avatar_url=settings.public_link(AVATAR_PATH.format(id=contact.id))
            if contact.avatar_key
            else None,
            identities=[
                IdentityOut(channel_id=i.channel_id, kind=i.kind,
                            provider_user_id=i.provider_user_id)
                for i in view.identities
            ],
            profile=dict(contact.profile or {}),
            tags=view.tags,
            last_activity_at=contact.last_activity_at,
            restricted=contact.restricted,
            legal_hold=contact.legal_hold,
            opted_out=contact.opted_out,
            created_at=contact.created_at,
        )


class ContactPage(BaseModel):
    items: list[ContactOut]
    next_cursor: str | None


class ContactQuery(PageQuery):
    q: str | None = Field(default=None, max_length=100)


class ContactPatch(Body):
    """Rectification: only the fields sent change; each is recorded with source "agent"."""

    display_name: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=32, description="E.164, or null")
    username: str | None = Field(default=None, max_length=100)
    tags: list[str] | None = None
