"""Signing in, the caller, the team and invitations."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from inbox.api.schemas.common import Body
from inbox.models import Role, User, Workspace


class LoginIn(Body):
    email: str = Field(min_length=3, max_length=254)
    password: str = Field(min_length=1, max_length=1024)
    workspace: str | None = Field(default=None, max_length=64, description="slug")


class PasswordIn(Body):
    current_password: str = Field(min_length=1, max_length=1024)
    new_password: str = Field(min_length=1, max_length=1024)


class UserOut(BaseModel):
    id: uuid.UUID
    email: str
    display_name: str

    @classmethod
    def of(cls, user: User) -> UserOut:
        return cls(id=user.id, email=user.email, display_name=user.display_name)


class WorkspaceOut(BaseModel):
    id: uuid.UUID
    name: str
    slug: str

    @classmethod
    def of(cls, workspace: Workspace) -> WorkspaceOut:
        return cls(id=workspace.id, name=workspace.name, slug=workspace.slug)


class MeOut(BaseModel):
    user: UserOut
    workspace: WorkspaceOut
    role: Role
    via: str = Field(description="session or token")


class LoginOut(BaseModel):
    user: UserOut
    workspace: WorkspaceOut
    role: Role
    csrf_token: str


class PasswordOut(BaseModel):
    other_sessions_ended: int


class MemberOut(BaseModel):
    id: uuid.UUID = Field(description="the user's id (what assignee_id refers to)")
    email: str
    display_name: str
    role: Role
    joined_at: datetime


class RoleIn(Body):
    role: Role


class InviteIn(Body):
    email: str = Field(min_length=3, max_length=254)
    role: Role = Role.AGENT


class InvitationOut(BaseModel):
    id: uuid.UUID
    email: str
    role: Role
    expires_at: datetime
    created_at: datetime


class InvitationSentOut(InvitationOut):
    link: str = Field(description="the one-time link to share with the invitee")
    mailed: bool


class AcceptIn(Body):
    token: str = Field(min_length=10, max_length=200)
    password: str = Field(min_length=1, max_length=1024)
    display_name: str = Field(default="", max_length=120)


class AcceptedOut(BaseModel):
    user: UserOut
    workspace: WorkspaceOut
    role: Role
