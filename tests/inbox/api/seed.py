"""Building workspaces with a little of everything, for the API tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from inbox.accounts.passwords import hash_password
from inbox.accounts.tokens import create_api_token
from inbox.crypto import encrypt_json, generate_token, hash_token
from inbox.models import (
    Attachment,
    CannedResponse,
    Channel,
    Contact,
    ContactIdentity,
    ContactTag,
    Conversation,
    ConversationTag,
    Direction,
    Invitation,
    Membership,
    Message,
    Note,
    Role,
    Tag,
    User,
    Workspace,
)
from inbox.models.base import utcnow
from inbox.settings import Settings

PASSWORD = "correct-horse-battery"
WHATSAPP_CREDENTIALS = {
    "account_sid": "AC" + "0" * 32,
    "auth_token": "f" * 32,
    "from_number": "whatsapp:+15550001111",
}
# Cheap argon2 hashes would not exercise the real code; hash once and reuse.
_PASSWORD_HASH: list[str] = []


def password_hash() -> str:
    if not _PASSWORD_HASH:
        _PASSWORD_HASH.append(hash_password(PASSWORD))
    return _PASSWORD_HASH[0]


@dataclass
class Staff:
    user: User
    membership: Membership
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class World:
    """One workspace with one of each kind of row, and a member of each role."""

    workspace: Workspace
    owner: Staff
    admin: Staff
    agent: Staff
    channel: Channel
    contact: Contact
    conversation: Conversation
    message: Message
    attachment: Attachment
    note: Note
    canned: CannedResponse
    invitation: Invitation
    tag: Tag
    marker: str  # a word that appears in this workspace's data only
    staff: dict[str, Staff] = field(default_factory=dict)

    def member(self, role: str) -> Staff:
        return {"owner": self.owner, "admin": self.admin, "agent": self.agent}[role]


async def add_staff(workspace: Workspace, email: str, role: str) -> Staff:
    user = await User.create(email=email, display_name=email.split("@")[0],
                             password_hash=password_hash())
    membership = await Membership.create(workspace=workspace, user=user, role=role)
    token = await create_api_token(workspace, email, "tests")
    return Staff(user, membership, token)


async def add_conversation(
    settings: Settings,
    workspace: Workspace,
    channel: Channel,
    name: str,
    *,
    text: str = "hello",
    minutes_ago: int = 1,
) -> tuple[Contact, Conversation, Message]:
    at = utcnow() - timedelta(minutes=minutes_ago)
    contact = await Contact.create(workspace=workspace, display_name=name,
                                   phone="+15550002222", last_activity_at=at)
    await ContactIdentity.create(workspace=workspace, contact=contact, channel=channel,
                                 provider_user_id=f"whatsapp:{contact.id}")
    conversation = await Conversation.create(
        workspace=workspace, channel=channel, contact=contact, last_message_at=at,
        last_inbound_at=at, unread_count=1, last_message_preview=text[:140],
    )
    message = await Message.create(
        workspace=workspace, conversation=conversation, channel=channel,
        direction=Direction.INBOUND.value, text=text, status="received",
        provider_message_id=generate_token("SM"),
    )
    return contact, conversation, message


async def seed_world(settings: Settings, slug: str) -> World:
    marker = f"marker{slug}"
    workspace = await Workspace.create(name=f"Shop {marker}", slug=slug)
    owner = await add_staff(workspace, f"owner@{slug}.test", Role.OWNER.value)
    admin = await add_staff(workspace, f"admin@{slug}.test", Role.ADMIN.value)
    agent = await add_staff(workspace, f"agent@{slug}.test", Role.AGENT.value)
    assert settings.master_key
    channel = await Channel.create(
        workspace=workspace, kind="whatsapp", name=f"WA {marker}",
        credentials_encrypted=encrypt_json(settings.master_key, WHATSAPP_CREDENTIALS),
        external_id=WHATSAPP_CREDENTIALS["from_number"],
    )
    contact, conversation, message = await add_conversation(
        settings, workspace, channel, f"Contact {marker}", text=f"text {marker}"
    )
    storage_key = f"{workspace.id}/{message.id}/file.png"
    path = settings.storage_dir / storage_key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\x89PNG" + marker.encode())
    attachment = await Attachment.create(
        workspace=workspace, message=message, media_type="image/png", filename="file.png",
        size=path.stat().st_size, storage_key=storage_key, download_status="stored",
    )
    note = await Note.create(workspace=workspace, conversation=conversation,
                             author=agent.user, text=f"note {marker}")
    canned = await CannedResponse.create(workspace=workspace, shortcut=f"hi{slug}",
                                         text=f"Hello {marker}")
    tag = await Tag.create(workspace=workspace, name=f"tag{marker}")
    await ConversationTag.create(workspace=workspace, conversation=conversation, tag=tag)
    await ContactTag.create(workspace=workspace, contact=contact, tag=tag)
    invitation = await Invitation.create(
        workspace=workspace, email=f"invited@{slug}.test", role="agent",
        token_hash=hash_token(generate_token()), expires_at=utcnow() + timedelta(days=1),
    )
    return World(workspace, owner, admin, agent, channel, contact, conversation, message,
                 attachment, note, canned, invitation, tag, marker)
