"""Canned responses: saved answers the team inserts with ``/shortcut``."""

from __future__ import annotations

import uuid

from tortoise.exceptions import IntegrityError

from inbox.errors import Conflict, InvalidInput, NotFound
from inbox.models import CannedResponse
from inbox.tenancy import WorkspaceRef, parse_id, scoped, workspace_id_of

SHORTCUT_MAX_LENGTH = 64
TEXT_MAX_LENGTH = 4096
CANNED_LIMIT = 500  # a workspace's list is read whole by the composer


def clean_shortcut(shortcut: str) -> str:
    shortcut = shortcut.strip().lstrip("/")
    if not shortcut or len(shortcut) > SHORTCUT_MAX_LENGTH or any(c.isspace() for c in shortcut):
        raise InvalidInput(
            f"a shortcut is 1 to {SHORTCUT_MAX_LENGTH} characters without spaces",
            code="invalid_shortcut",
        )
    return shortcut


def clean_text(text: str) -> str:
    if not text.strip() or len(text) > TEXT_MAX_LENGTH:
        raise InvalidInput(f"the text is 1 to {TEXT_MAX_LENGTH} characters", code="invalid_text")
    return text


async def list_canned(workspace: WorkspaceRef) -> list[CannedResponse]:
    return await scoped(CannedResponse, workspace).order_by("shortcut").limit(CANNED_LIMIT)


async def get_canned(workspace: WorkspaceRef, canned_id: object) -> CannedResponse:
    canned = await scoped(CannedResponse, workspace).filter(id=parse_id(canned_id)).first()
    if canned is None:
        raise NotFound("no such canned response")
    return canned


async def _shortcut_taken(workspace: WorkspaceRef, shortcut: str, other: uuid.UUID | None) -> bool:
    query = scoped(CannedResponse, workspace).filter(shortcut=shortcut)
    if other is not None:
        query = query.exclude(id=other)
    return await query.exists()


def taken() -> Conflict:
    return Conflict("that shortcut is already used", code="shortcut_taken")


async def create_canned(
    workspace: WorkspaceRef, author_id: uuid.UUID, shortcut: str, text: str
) -> CannedResponse:
    shortcut, text = clean_shortcut(shortcut), clean_text(text)
    if await _shortcut_taken(workspace, shortcut, None):
        raise taken()
    try:
        return await CannedResponse.create(
            workspace_id=workspace_id_of(workspace),
            shortcut=shortcut,
            text=text,
            created_by_id=author_id,
        )
    except IntegrityError:  # a concurrent create won the race
        raise taken() from None


async def update_canned(
    workspace: WorkspaceRef, canned_id: object, shortcut: str | None, text: str | None
) -> CannedResponse:
    canned = await get_canned(workspace, canned_id)
    if shortcut is not None:
        shortcut = clean_shortcut(shortcut)
        if await _shortcut_taken(workspace, shortcut, canned.id):
            raise taken()
        canned.shortcut = shortcut
    if text is not None:
        canned.text = clean_text(text)
    try:
        await scoped(CannedResponse, workspace).filter(id=canned.id).update(
            shortcut=canned.shortcut, text=canned.text
        )
    except IntegrityError:
        raise taken() from None
    return canned


async def delete_canned(workspace: WorkspaceRef, canned_id: object) -> None:
    deleted = await scoped(CannedResponse, workspace).filter(id=parse_id(canned_id)).delete()
    if not deleted:
        raise NotFound("no such canned response")
