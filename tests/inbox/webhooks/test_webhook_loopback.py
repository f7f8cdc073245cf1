"""Webhooks over real loopback HTTP, posted and signed like the providers do, and
the fake provider's own receipts coming back after a real send."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from channels.fake import (
    FakeProvider,
    deliver_messenger,
    deliver_telegram,
    deliver_twilio,
    run_fake_provider,
    serve_on_loopback,
)
from inbox.broker import Broker
from inbox.messaging.outbound import queue_reply
from inbox.models import Message
from inbox.models.base import utcnow
from inbox.settings import Settings
from inbox.tenancy import scoped
from tests.channels.constants import (
    ACCOUNT_SID,
    APP_SECRET,
    AUTH_TOKEN,
    BOT_TOKEN,
    PAGE_ID,
    PAGE_TOKEN,
    PLACEHOLDERS,
    TELEGRAM_SECRET,
)
from tests.inbox.messaging.support import (
    MARIA,
    PSID,
    Setup,
    count_rows,
    list_messages,
    seed_outbound,
    webhook_path,
)
from tests.signing import load
from workers.messaging import send_message


@pytest.fixture
async def fake() -> AsyncIterator[FakeProvider]:
    async with run_fake_provider(auto_receipts=True) as provider:
        provider.state.receipt_delay = 0.2
        provider.state.add_twilio_account(ACCOUNT_SID, AUTH_TOKEN)
        provider.state.add_telegram_bot(BOT_TOKEN)
        yield provider


@pytest.fixture
async def served(app, runtime, settings: Settings, fake: FakeProvider) -> AsyncIterator[Settings]:
    """The inbox on loopback; its PUBLIC_URL is the address it is served at."""
    async with serve_on_loopback(app) as base_url:
        runtime.settings = settings.model_copy(
            update={
                "public_url": base_url,
                "twilio_api_base": fake.base_url,
                "telegram_api_base": fake.base_url,
                "graph_api_base": fake.base_url,
            }
        )
        yield runtime.settings


async def test_all_three_providers_deliver_over_loopback(
    served: Settings, setup: Setup, fake: FakeProvider
) -> None:
    twilio = await deliver_twilio(
        served.public_link(webhook_path(setup.whatsapp)),
        AUTH_TOKEN,
        load("twilio/whatsapp-inbound-text.json", **PLACEHOLDERS),
        http=fake.state.http,
    )
    telegram = await deliver_telegram(
        served.public_link(webhook_path(setup.telegram)),
        TELEGRAM_SECRET,
        load("telegram/message-text.json", **PLACEHOLDERS),
        http=fake.state.http,
    )
    messenger = await deliver_messenger(
        served.public_link(webhook_path(setup.messenger)),
        APP_SECRET,
        load("messenger/batched.json", **PLACEHOLDERS),
        http=fake.state.http,
    )
    assert [r.status_code for r in (twilio, telegram, messenger)] == [200, 200, 200]
    assert twilio.text.endswith("<Response/>")
    assert messenger.text == "EVENT_RECEIVED"
    assert await count_rows(setup.workspace) == {
        "contacts": 4,
        "identities": 4,
        "conversations": 4,
        "messages": 5,
    }
    wrong = await deliver_telegram(
        served.public_link(webhook_path(setup.telegram)),
        "not-the-secret",
        load("telegram/message-photo.json"),
        http=fake.state.http,
    )
    assert wrong.status_code == 403
    assert (await count_rows(setup.workspace))["messages"] == 5


async def test_twilio_status_callbacks_of_a_real_send_reach_read(
    served: Settings, setup: Setup, fake: FakeProvider, broker: Broker
) -> None:
    seeded = await seed_outbound(setup, setup.whatsapp, MARIA, None, last_inbound_at=utcnow())
    await scoped(Message, setup.workspace).filter(id=seeded.id).delete()
    message = await queue_reply(
        broker, setup.workspace, seeded.conversation_id, None, text="It shipped today"
    )
    ctx = {"settings": served, "broker": broker, "job_try": 1}
    assert await send_message(ctx, str(setup.workspace.id), str(message.id)) == "sent"
    await fake.wait_for_receipts()
    assert [fired.status for fired in fake.state.fired] == [200, 200, 200]
    final = await scoped(Message, setup.workspace).get(id=message.id)
    assert final.status == "read"
    assert final.delivered_at is not None


async def test_messenger_receipts_of_a_real_send_reach_read(
    served: Settings, setup: Setup, fake: FakeProvider, broker: Broker
) -> None:
    fake.state.add_messenger_page(
        PAGE_ID,
        PAGE_TOKEN,
        app_secret=APP_SECRET,
        webhook_url=served.public_link(webhook_path(setup.messenger)),
    )
    await deliver_messenger(
        served.public_link(webhook_path(setup.messenger)),
        APP_SECRET,
        load("messenger/message-text.json", **PLACEHOLDERS),
        http=fake.state.http,
    )
    [inbound] = await list_messages(setup.workspace)
    message = await queue_reply(
        broker, setup.workspace, inbound.conversation_id, None, text="Yes we do"
    )
    ctx = {"settings": served, "broker": broker, "job_try": 1}
    assert await send_message(ctx, str(setup.workspace.id), str(message.id)) == "sent"
    await fake.wait_for_receipts()
    assert [fired.kind for fired in fake.state.fired] == ["delivery", "read"]
    final = await scoped(Message, setup.workspace).get(id=message.id)
    assert final.status == "read"
    assert [m.direction for m in await list_messages(setup.workspace)] == [
        "inbound",
        "outbound",
    ]
    assert PSID in fake.state.list_sent_messages("messenger")[0].to
