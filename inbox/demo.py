"""The demo workspace: an admin login to explore the product with (idempotent)."""

from __future__ import annotations

from dataclasses import dataclass

from inbox.models import Workspace
from inbox.settings import Settings
from inbox.workspaces.service import create_workspace

DEMO_SLUG = "demo"
DEMO_NAME = "Demo Shop"
DEMO_EMAIL = "admin@demo.inbox.test"
DEMO_PASSWORD = "demo-password"  # noqa: S105 - the public demo login


@dataclass
class Demo:
    workspace: Workspace
    email: str
    password: str


async def seed_demo(settings: Settings) -> Demo:
    """Create the demo workspace once; later calls find it and change nothing."""
    workspace = await Workspace.get_or_none(slug=DEMO_SLUG)
    if workspace is None:
        created = await create_workspace(
            DEMO_NAME, DEMO_EMAIL, admin_password=DEMO_PASSWORD, slug=DEMO_SLUG
        )
        workspace = created.workspace
    return Demo(workspace, DEMO_EMAIL, DEMO_PASSWORD)
