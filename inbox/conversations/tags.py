"""Tags shared by conversations and contacts, created on first use."""

from __future__ import annotations

from tortoise.backends.base.client import BaseDBAsyncClient

from inbox.errors import InvalidInput
from inbox.models import Tag
from inbox.tenancy import WorkspaceRef, scoped, workspace_id_of

TAG_MAX_LENGTH = 64
TAGS_PER_ITEM = 50


def clean_tag_names(names: list[str]) -> list[str]:
    """Trimmed, de-duplicated names in their first-seen order."""
    cleaned: list[str] = []
    for name in names:
        name = name.strip()
        if not name or len(name) > TAG_MAX_LENGTH:
            raise InvalidInput(
                f"a tag is 1 to {TAG_MAX_LENGTH} characters", code="invalid_tag"
            )
        if name not in cleaned:
            cleaned.append(name)
    if len(cleaned) > TAGS_PER_ITEM:
        raise InvalidInput(f"at most {TAGS_PER_ITEM} tags", code="invalid_tag")
    return cleaned


async def ensure_tags(
    workspace: WorkspaceRef, names: list[str], connection: BaseDBAsyncClient
) -> list[Tag]:
    """The tags named, creating the missing ones (safe against a concurrent create)."""
    if not names:
        return []
    query = scoped(Tag, workspace).using_db(connection)
    existing = {tag.name for tag in await query.filter(name__in=names)}
    missing = [name for name in names if name not in existing]
    if missing:
        await scoped(Tag, workspace).using_db(connection).bulk_create(
            [Tag(workspace_id=workspace_id_of(workspace), name=name) for name in missing],
            ignore_conflicts=True,
        )
    return list(await scoped(Tag, workspace).using_db(connection).filter(name__in=names))
