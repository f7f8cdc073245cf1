"""Creating workspaces and their first admin."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from inbox.accounts.passwords import MIN_PASSWORD_LENGTH, hash_password
from inbox.accounts.tokens import normalize_email
from inbox.errors import Conflict, InvalidInput, NotFound
from inbox.models import Membership, RetentionPolicy, Role, User, Workspace

SLUG_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
GENERATED_PASSWORD_BYTES = 12


@dataclass
class NewWorkspace:
    workspace: Workspace
    admin: User
    # Set only when the password was generated here, so it can be shown once.
    generated_password: str | None = None


def slugify(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:64].strip("-")
    return slug or "workspace"


async def create_workspace(
    name: str, admin_email: str, admin_password: str | None = None, slug: str | None = None
) -> NewWorkspace:
    """A workspace, its owner (created or reused by e-mail) and its default policy."""
    name = name.strip()
    if not name or len(name) > 120:
        raise InvalidInput("the workspace name must be 1 to 120 characters", code="invalid_name")
    slug = slug.strip().lower() if slug else slugify(name)
    if not SLUG_PATTERN.match(slug):
        raise InvalidInput(
            "the slug must be lowercase letters, digits and dashes", code="invalid_slug"
        )
    email = normalize_email(admin_email)
    generated = None
    if admin_password is None:
        generated = admin_password = secrets.token_urlsafe(GENERATED_PASSWORD_BYTES)
    if len(admin_password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            f"the password must have at least {MIN_PASSWORD_LENGTH} characters",
            code="weak_password",
        )
    taken = Conflict(f"a workspace with the slug '{slug}' already exists", code="slug_taken")
    if await Workspace.exists(slug=slug):
        raise taken
    password_hash = hash_password(admin_password)
    try:
        async with in_transaction():
            workspace = await Workspace.create(name=name, slug=slug)
            user = await User.get_or_none(email=email)
            if user is None:
                user = await User.create(email=email, password_hash=password_hash)
            else:
                generated = None  # an existing account keeps its own password
            await Membership.create(workspace=workspace, user=user, role=Role.OWNER.value)
            await RetentionPolicy.create(workspace=workspace)
    except IntegrityError:
        # Two creations racing for one slug: the database's unique index decides.
        raise taken from None
    return NewWorkspace(workspace, user, generated)


async def get_workspace_by_slug(slug: str) -> Workspace:
    workspace = await Workspace.get_or_none(slug=slug)
    if workspace is None:
        raise NotFound("no workspace with that slug")
    return workspace
