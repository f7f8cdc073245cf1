"""The few reads the pages need that the API has no use for.

Everything else the pages show comes from the API's own query modules
(``inbox.conversations.queries``, ``inbox.contacts.queries``, ...).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from inbox.conversations.queries import ConversationView, conversation_views
from inbox.crypto import hash_token
from inbox.models import Conversation, Invitation, Tag, User
from inbox.models.base import utcnow
from inbox.tenancy import WorkspaceRef, scoped, unscoped

OTHER_CONVERSATIONS_LIMIT = 20
TAG_NAMES_LIMIT = 500


@dataclass(frozen=True)
class InvitationInfo:
    workspace_name: str
    email: str
    role: str
    has_account: bool


async def find_invitation(token: str) -> InvitationInfo | None:
    """What the invitation page shows before it is accepted, or None when not valid."""
    if not token or len(token) > 200:
        return None
    invitation = (
        await unscoped(Invitation, reason="an invitation link finds its workspace")
        .filter(token_hash=hash_token(token), accepted_at__isnull=True, expires_at__gt=utcnow())
        .select_related("workspace")
        .first()
    )
    if invitation is None:
        return None
    has_account = await User.exists(email=invitation.email)
    return InvitationInfo(
        invitation.workspace.name, invitation.email, invitation.role, has_account
    )


async def other_conversations(
    workspace: WorkspaceRef, contact_id: uuid.UUID, exclude_id: uuid.UUID | None
) -> list[ConversationView]:
    """The contact's conversations (but ``exclude_id``), newest first."""
    query = scoped(Conversation, workspace).filter(contact_id=contact_id)
    if exclude_id is not None:
        query = query.exclude(id=exclude_id)
    rows = await query.order_by("-last_message_at", "-id").limit(OTHER_CONVERSATIONS_LIMIT)
    return await conversation_views(workspace, list(rows))


async def tag_names(workspace: WorkspaceRef) -> list[str]:
    """Every tag of the workspace, for the list's tag filter."""
    names = (
        await scoped(Tag, workspace).order_by("name").limit(TAG_NAMES_LIMIT).values_list(
            "name", flat=True
        )
    )
    return list(names)
