"""What retention must not touch: legal holds and restricted contacts.

A legal hold on the workspace suspends every deletion of the retention rules.
A hold on a contact protects the contact, its conversations and everything in
them (messages, attachments, notes, its export archives). A *restricted*
contact (GDPR art. 18) is protected the same way: restriction is what a data
subject asks for instead of erasure when the data must be kept, so the rules
may store it but not delete it.

The querysets below are built fresh on every call and used as SQL subqueries,
so a hold set while a retention run is going is honoured by its next batch.
"""

from __future__ import annotations

from tortoise.expressions import Q, Subquery
from tortoise.queryset import QuerySet

from inbox.models import Contact, Conversation, Workspace
from inbox.tenancy import WorkspaceRef, scoped, workspace_id_of


def held_contacts(workspace: WorkspaceRef) -> QuerySet[Contact]:
    """Contacts whose data retention must leave alone."""
    return scoped(Contact, workspace).filter(Q(legal_hold=True) | Q(restricted=True))


def held_contact_ids(workspace: WorkspaceRef) -> Subquery:
    return Subquery(held_contacts(workspace).values("id"))


def held_conversation_ids(workspace: WorkspaceRef) -> Subquery:
    """Conversations of held contacts, as a subquery of ids."""
    conversations = scoped(Conversation, workspace).filter(
        contact_id__in=held_contact_ids(workspace)
    )
    return Subquery(conversations.values("id"))


async def is_workspace_held(workspace: WorkspaceRef) -> bool:
    """Whether a legal hold covers the whole workspace."""
    return await Workspace.filter(id=workspace_id_of(workspace), legal_hold=True).exists()


async def set_workspace_legal_hold(workspace: WorkspaceRef, held: bool) -> None:
    await Workspace.filter(id=workspace_id_of(workspace)).update(legal_hold=held)


async def set_contact_legal_hold(workspace: WorkspaceRef, contact_id: object, held: bool) -> bool:
    """Place or lift a hold on one contact; False when the workspace has no such contact."""
    updated = await scoped(Contact, workspace).filter(id=contact_id).update(legal_hold=held)
    return bool(updated)
