"""API tokens: shown once, stored as a hash, with the time they were last used."""

from __future__ import annotations

from inbox.crypto import generate_token, hash_token
from inbox.errors import InvalidInput, NotFound
from inbox.models import ApiToken, Membership, User, Workspace
from inbox.tenancy import scoped

API_TOKEN_PREFIX = "ibx_"  # noqa: S105 - a prefix, not a secret
DISPLAY_PREFIX_LENGTH = 8


async def create_api_token(workspace: Workspace, email: str, name: str = "") -> str:
    """Create a token for the member ``email`` of ``workspace``; return it in clear."""
    user = await User.get_or_none(email=normalize_email(email))
    member = (
        await scoped(Membership, workspace).get_or_none(user_id=user.id) if user else None
    )
    if member is None:
        raise NotFound("no member with that e-mail in this workspace")
    token = generate_token(API_TOKEN_PREFIX)
    await ApiToken.create(
        workspace=workspace,
        user=user,
        name=name[:120],
        token_hash=hash_token(token),
        prefix=token[:DISPLAY_PREFIX_LENGTH],
    )
    return token


def normalize_email(email: str) -> str:
    email = email.strip().lower()
    if "@" not in email or len(email) > 254 or email.startswith("@") or email.endswith("@"):
        raise InvalidInput("that is not a valid e-mail address", code="invalid_email")
    return email
