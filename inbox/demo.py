"""The demo workspace: an admin login, three channels and a few conversations (idempotent).

``inbox serve --demo`` needs no provider account: the local fake provider
(``channels.fake``) runs inside the inbox process and the demo channels'
provider base URLs point at it. Everything else is the real product: sample
conversations arrive through the signed webhook routes, replies leave through
the send job and the provider SDKs, and the fake's receipts come back through
the status webhooks. :mod:`inbox.web.demo_runtime` runs all that inside the
app's lifespan; the phone simulator (``/demo/simulator``, :mod:`inbox.web.simulator`)
plays the end users' side.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from channels.fake import FakeProviderState, run_fake_provider
from inbox.models import Channel, ChannelKind, Membership, User, Workspace
from inbox.settings import Settings
from inbox.tenancy import scoped
from inbox.workspaces.service import create_workspace

DEMO_SLUG = "demo"
DEMO_NAME = "Demo Shop"
DEMO_EMAIL = "admin@demo.inbox.test"
DEMO_PASSWORD = "demo-password"  # noqa: S105 - the public demo login
DEMO_ADMIN_NAME = "Alex Admin"
DEMO_AGENT_EMAIL = "agent@demo.inbox.test"
DEMO_AGENT_NAME = "Sam Agent"

# Made-up credentials the fake provider is told about; they open nothing real.
TWILIO_ACCOUNT_SID = "AC" + "de30" * 8
TWILIO_AUTH_TOKEN = "demo-twilio-auth-token"  # noqa: S105 - known to the local fake only
WHATSAPP_NUMBER = "+15550001000"
TELEGRAM_BOT_TOKEN = "7000000001:DEMO-inbox-bot-token"  # noqa: S105 - same
MESSENGER_PAGE_ID = "100000000000001"
MESSENGER_PAGE_TOKEN = "demo-page-access-token"  # noqa: S105 - same
MESSENGER_APP_SECRET = "demo-app-secret"  # noqa: S105 - same
MESSENGER_VERIFY_TOKEN = "demo-verify-token"  # noqa: S105 - same

DEMO_CHANNELS: tuple[tuple[str, str, dict[str, str]], ...] = (
    ("whatsapp", "Shop WhatsApp", {
        "account_sid": TWILIO_ACCOUNT_SID,
        "auth_token": TWILIO_AUTH_TOKEN,
        "from_number": f"whatsapp:{WHATSAPP_NUMBER}",
    }),
    ("telegram", "Shop Telegram bot", {"bot_token": TELEGRAM_BOT_TOKEN}),
    ("messenger", "Shop Facebook Page", {
        "page_id": MESSENGER_PAGE_ID,
        "page_access_token": MESSENGER_PAGE_TOKEN,
        "app_secret": MESSENGER_APP_SECRET,
        "verify_token": MESSENGER_VERIFY_TOKEN,
    }),
)

DEMO_TEMPLATES: tuple[dict[str, str], ...] = (
    {"id": "HX" + "a1" * 16, "name": "order_shipped",
     "preview": "Hi {{1}}, your order {{2}} has shipped!"},
    {"id": "HX" + "b2" * 16, "name": "follow_up",
     "preview": "Hello {{1}}, we are back: can we still help you?"},
)


DEMO_CANNED: tuple[tuple[str, str], ...] = (
    ("thanks", "Thank you for writing to us! We will get back to you shortly."),
    ("shipping", "Orders ship within 2 working days; you get a tracking link by e-mail."),
    ("hours", "We are open Monday to Saturday, 9:00 to 18:00."),
)


@dataclass(frozen=True)
class Persona:
    """An end user the simulator can play: their address on one channel."""

    kind: str
    user_id: str  # phone number (E.164), Telegram user id or Messenger PSID
    first_name: str
    last_name: str = ""
    username: str | None = None

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


PERSONAS: tuple[Persona, ...] = (
    Persona("whatsapp", "+15555550123", "Maria", "Lopez"),
    Persona("telegram", "424242", "Ana", "Souza", username="ana_souza"),
    Persona("messenger", "7100000000000001", "Lena", "Fischer"),
)
EXTRA_PERSONAS: tuple[Persona, ...] = (
    Persona("whatsapp", "+4915112345678", "Jonas", "Weber"),
    Persona("telegram", "515151", "Ahmed", "Karim"),
)

# (persona index in PERSONAS + EXTRA_PERSONAS, text) delivered through the webhooks.
SAMPLE_MESSAGES: tuple[tuple[int, str], ...] = (
    (3, "Hello, can I change the delivery address of order 1042?"),
    (4, "مرحبا، هل المتجر مفتوح اليوم؟"),
    (2, "Do you ship to Austria? The FAQ at https://example.com/faq doesn't say."),
    (1, "Thanks! 👍"),
    (0, "Hi! Has my order shipped?"),
    (0, "<img src=x onerror=alert(1)> is what my screen shows, is that normal?"),
)


@dataclass
class Demo:
    workspace: Workspace
    email: str
    password: str
    channels: dict[str, Channel] = field(default_factory=dict)


def all_personas() -> tuple[Persona, ...]:
    return PERSONAS + EXTRA_PERSONAS


async def seed_demo(settings: Settings, *, provider: FakeProviderState | None = None) -> Demo:
    """Create the demo workspace, its agent and its channels once; later calls change nothing.

    ``provider`` is the running fake (inside ``inbox serve --demo``); without it a
    short-lived one answers Telegram's ``setWebhook`` while the bot is connected.
    """
    workspace = await Workspace.get_or_none(slug=DEMO_SLUG)
    if workspace is None:
        created = await create_workspace(
            DEMO_NAME, DEMO_EMAIL, admin_password=DEMO_PASSWORD, slug=DEMO_SLUG
        )
        workspace = created.workspace
        if not created.admin.display_name:
            created.admin.display_name = DEMO_ADMIN_NAME
            await created.admin.save(update_fields=["display_name"])
        await add_demo_agent(workspace)
        await add_demo_canned(workspace, created.admin)
    demo = Demo(workspace, DEMO_EMAIL, DEMO_PASSWORD)
    demo.channels = await ensure_demo_channels(settings, workspace, provider)
    return demo


async def add_demo_agent(workspace: Workspace) -> None:
    from inbox.accounts.passwords import hash_password

    user = await User.get_or_none(email=DEMO_AGENT_EMAIL)
    if user is None:
        user = await User.create(
            email=DEMO_AGENT_EMAIL,
            display_name=DEMO_AGENT_NAME,
            password_hash=hash_password(DEMO_PASSWORD),
        )
    if not await scoped(Membership, workspace).filter(user_id=user.id).exists():
        await Membership.create(workspace=workspace, user=user, role="agent")


async def add_demo_canned(workspace: Workspace, author: User) -> None:
    from inbox.conversations.canned import create_canned

    for shortcut, text in DEMO_CANNED:
        await create_canned(workspace, author.id, shortcut, text)


async def ensure_demo_channels(
    settings: Settings, workspace: Workspace, provider: FakeProviderState | None
) -> dict[str, Channel]:
    from inbox.workspaces.channels import create_channel, list_channels

    found = {c.kind: c for c in await list_channels(workspace) if c.name in channel_names()}
    missing = [spec for spec in DEMO_CHANNELS if spec[0] not in found]
    if not missing:
        return found
    if provider is not None:
        for kind, name, credentials in missing:
            setup = await create_channel(settings, workspace, kind, name, credentials)
            found[kind] = setup.channel
        return found
    async with run_fake_provider() as fake:
        register_accounts(fake.state, settings)
        local = settings.model_copy(
            update={"twilio_api_base": fake.base_url, "telegram_api_base": fake.base_url,
                    "graph_api_base": fake.base_url}
        )
        for kind, name, credentials in missing:
            found[kind] = (await create_channel(local, workspace, kind, name, credentials)).channel
    return found


def channel_names() -> set[str]:
    return {name for _, name, _ in DEMO_CHANNELS}


def register_accounts(state: FakeProviderState, settings: Settings) -> None:
    """Tell the fake about the demo's Twilio account, bot, Page and end users."""
    state.add_twilio_account(TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN)
    state.add_telegram_bot(TELEGRAM_BOT_TOKEN, username="demo_shop_bot", first_name="Demo Shop")
    for persona in all_personas():
        if persona.kind == ChannelKind.TELEGRAM:
            state.add_telegram_chat(
                int(persona.user_id), persona.first_name, last_name=persona.last_name or None,
                username=persona.username,
            )
        elif persona.kind == ChannelKind.MESSENGER:
            state.add_messenger_profile(
                persona.user_id, persona.first_name, last_name=persona.last_name or None
            )
