"""Fixtures for the HTML pages: a workspace with an admin and an agent, signed-in clients."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest

from inbox.accounts.invitations import accept_invitation, invite
from inbox.accounts.members import get_member
from inbox.models import Workspace
from inbox.settings import Settings
from inbox.workspaces.service import create_workspace
from tests.web.browser_fixtures import browser, demo_server  # noqa: F401  (fixtures)

ADMIN_EMAIL = "owner@shop.test"
AGENT_EMAIL = "agent@shop.test"
PASSWORD = "correct-horse-battery"
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Team:
    workspace: Workspace
    admin_id: str
    agent_id: str


@pytest.fixture
async def team(settings: Settings, db: None) -> Team:
    created = await create_workspace("Shop", ADMIN_EMAIL, admin_password=PASSWORD, slug="shop")
    owner = await get_member(created.workspace, created.admin.id)
    sent = await invite(settings, created.workspace, owner.membership, AGENT_EMAIL, "agent")
    token = sent.link.rsplit("/", 1)[1]
    accepted = await accept_invitation(token, PASSWORD, "Ana Agent")
    return Team(created.workspace, str(created.admin.id), str(accepted.user.id))


def csrf_of(html: str) -> str:
    match = CSRF_FIELD.search(html)
    assert match, "the page has no form token"
    return match.group(1)


async def sign_in(client: httpx.AsyncClient, email: str) -> str:
    """Log in through the HTML form; returns the session's CSRF token."""
    page = await client.get("/login")
    assert page.status_code == 200
    answer = await client.post(
        "/login",
        data={"email": email, "password": PASSWORD, "csrf_token": csrf_of(page.text)},
    )
    assert answer.status_code == 303, answer.text
    inbox = await client.get("/inbox")
    assert inbox.status_code == 200
    return csrf_of(inbox.text)


@pytest.fixture
async def admin_client(app, team: Team) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://inbox.test") as http:
        yield http, await sign_in(http, ADMIN_EMAIL)


@pytest.fixture
async def agent_client(app, team: Team) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://inbox.test") as http:
        yield http, await sign_in(http, AGENT_EMAIL)


ACCOUNT_SID = "AC" + "5" * 32
AUTH_TOKEN = "web-tests-auth-token"
CHANNEL_NUMBER = "+15550100000"


@pytest.fixture
async def whatsapp(settings: Settings, team: Team):
    """A WhatsApp channel of the team's workspace (no provider call needed)."""
    from inbox.workspaces.channels import create_channel

    setup = await create_channel(
        settings,
        team.workspace,
        "whatsapp",
        "Shop WhatsApp",
        {
            "account_sid": ACCOUNT_SID,
            "auth_token": AUTH_TOKEN,
            "from_number": f"whatsapp:{CHANNEL_NUMBER}",
        },
    )
    return setup


async def receive(app, setup, user_number: str, text: str, name: str = "Maria Lopez") -> None:
    """An inbound WhatsApp message through the real signed webhook route."""
    from channels.fake import build_twilio_inbound, deliver_twilio

    params = build_twilio_inbound(
        ACCOUNT_SID, CHANNEL_NUMBER, user_number, text, profile_name=name
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport) as http:
        answer = await deliver_twilio(setup.webhook_url, AUTH_TOKEN, params, http=http)
    assert answer.status_code < 300, answer.text


async def only_conversation(team: Team):
    from inbox.models import Conversation
    from inbox.tenancy import scoped

    rows = await scoped(Conversation, team.workspace).all()
    assert len(rows) == 1
    return rows[0]
