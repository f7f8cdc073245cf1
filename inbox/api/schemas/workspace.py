"""Channels and canned responses."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from inbox.api.schemas.common import Body


class ChannelIn(Body):
    kind: str = Field(description="whatsapp, telegram or messenger")
    name: str = Field(max_length=120)
    credentials: dict[str, Any]


class ChannelOut(BaseModel):
    id: uuid.UUID
    kind: str
    name: str
    status: str
    webhook_url: str
    status_callback_url: str | None = None
    created_at: datetime


class ChannelCreatedOut(ChannelOut):
    webhook_secret: str | None = None


class CannedIn(Body):
    shortcut: str = Field(max_length=64)
    text: str = Field(max_length=4096)


class CannedPatch(Body):
    shortcut: str | None = Field(default=None, max_length=64)
    text: str | None = Field(default=None, max_length=4096)


class CannedOut(BaseModel):
    id: uuid.UUID
    shortcut: str
    text: str
    created_at: datetime
