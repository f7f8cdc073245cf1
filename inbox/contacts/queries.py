"""Reading contacts: the alphabetical list with search, and one contact in full.

The list is ordered by (display_name, id) with keyset pagination over the
``(workspace_id, display_name)`` index; ``q`` matches name, phone and username.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field

from tortoise.expressions import Q

from inbox.contacts.search import contact_search, search_term
from inbox.conversations.keyset import Page, Position, clamp_limit, decode_cursor, encode_cursor
from inbox.errors import InvalidInput, NotFound
from inbox.models import Channel, Contact, ContactIdentity, ContactTag, Tag
from inbox.tenancy import WorkspaceRef, parse_id, scoped


@dataclass
class IdentityView:
    channel_id: uuid.UUID
    kind: str
    provider_user_id: str


@dataclass
class ContactView:
    contact: Contact
    identities: list[IdentityView] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)


async def list_contacts(
    workspace: WorkspaceRef, q: str | None = None, cursor: str | None = None,
    limit: int | None = None,
) -> Page[ContactView]:
    limit = clamp_limit(limit)
    position = decode_cursor(cursor)
    query = scoped(Contact, workspace)
    if q and (term := search_term(q)):
        query = query.filter(contact_search(term))
    if position is not None:
        if not isinstance(position.value, str):
            raise InvalidInput("the cursor is not valid", code="invalid_cursor")
        query = query.filter(
            Q(display_name__gt=position.value)
            | Q(display_name=position.value, id__gt=position.id)
        )
    rows = list(await query.order_by("display_name", "id").limit(limit + 1))
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor(Position(rows[-1].display_name, rows[-1].id))
    return Page(await contact_views(workspace, rows), next_cursor)


async def contact_views(workspace: WorkspaceRef, contacts: list[Contact]) -> list[ContactView]:
    """Contacts with identities and tags: three queries for a whole page."""
    if not contacts:
        return []
    ids = [contact.id for contact in contacts]
    identities = await scoped(ContactIdentity, workspace).filter(contact_id__in=ids).order_by(
        "created_at"
    )
    kinds = dict(
        await scoped(Channel, workspace)
        .filter(id__in={identity.channel_id for identity in identities})
        .values_list("id", "kind")
    )
    links = await scoped(ContactTag, workspace).filter(contact_id__in=ids).values_list(
        "contact_id", "tag_id"
    )
    names = dict(
        await scoped(Tag, workspace).filter(id__in={t for _, t in links}).values_list("id", "name")
    )
    by_contact: dict[uuid.UUID, ContactView] = {c.id: ContactView(c) for c in contacts}
    for identity in identities:
        by_contact[identity.contact_id].identities.append(
            IdentityView(identity.channel_id, kinds.get(identity.channel_id, ""),
                         identity.provider_user_id)
        )
    tags: dict[uuid.UUID, list[str]] = defaultdict(list)
    for contact_id, tag_id in links:
        tags[contact_id].append(names[tag_id])
    for contact_id, view in by_contact.items():
        view.tags = sorted(tags.get(contact_id, []))
    return [by_contact[contact_id] for contact_id in ids]


async def get_contact(workspace: WorkspaceRef, contact_id: object) -> Contact:
    contact = await scoped(Contact, workspace).filter(id=parse_id(contact_id)).first()
    if contact is None:
        raise NotFound("no such contact")
    return contact


async def get_contact_view(workspace: WorkspaceRef, contact_id: object) -> ContactView:
    return (await contact_views(workspace, [await get_contact(workspace, contact_id)]))[0]
