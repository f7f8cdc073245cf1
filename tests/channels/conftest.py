"""Shared fixtures for the channel adapter tests: credentials, adapters, the fake
provider running on loopback, and a tiny stand-in inbox that receives webhooks."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from channels.base import ChannelAdapter
from channels.fake import FakeProvider, run_fake_provider
from channels.messenger import MessengerAdapter
from channels.telegram import TelegramAdapter
from channels.twilio import TwilioAdapter
from tests.channels.constants import (
    ACCOUNT_SID,
    APP_SECRET,
    AUTH_TOKEN,
    BOT_TOKEN,
    CHANNEL_NUMBER,
    PAGE_ID,
    PAGE_TOKEN,
    TELEGRAM_SECRET,
    VERIFY_TOKEN,
)
from tests.channels.receiver import InboxReceiver, serve_inbox_receiver


@pytest.fixture
def twilio_credentials() -> dict[str, str]:
    return {
        "account_sid": ACCOUNT_SID,
        "auth_token": AUTH_TOKEN,
        "from_number": f"whatsapp:{CHANNEL_NUMBER}",
    }


@pytest.fixture
def telegram_credentials() -> dict[str, str]:
    return {"bot_token": BOT_TOKEN}


@pytest.fixture
def messenger_credentials() -> dict[str, str]:
    return {
        "page_id": PAGE_ID,
        "page_access_token": PAGE_TOKEN,
        "app_secret": APP_SECRET,
        "verify_token": VERIFY_TOKEN,
    }


@pytest.fixture
async def fake() -> AsyncIterator[FakeProvider]:
    """The fake provider on loopback, knowing our Twilio account, bot and Page."""
    async with run_fake_provider() as provider:
        provider.state.add_twilio_account(ACCOUNT_SID, AUTH_TOKEN)
        provider.state.add_telegram_bot(BOT_TOKEN)
        provider.state.add_messenger_page(PAGE_ID, PAGE_TOKEN, app_secret=APP_SECRET)
        yield provider


@pytest.fixture
def twilio_adapter(twilio_credentials: dict[str, str]) -> TwilioAdapter:
    """For verify/parse: no provider calls, so real endpoints are never reached."""
    return TwilioAdapter(twilio_credentials)


@pytest.fixture
def telegram_adapter(telegram_credentials: dict[str, str]) -> TelegramAdapter:
    return TelegramAdapter(telegram_credentials, webhook_secret=TELEGRAM_SECRET)


@pytest.fixture
def messenger_adapter(messenger_credentials: dict[str, str]) -> MessengerAdapter:
    return MessengerAdapter(messenger_credentials)


@pytest.fixture
async def twilio_on_fake(
    fake: FakeProvider, twilio_credentials: dict[str, str]
) -> AsyncIterator[TwilioAdapter]:
    async with TwilioAdapter(twilio_credentials, fake.endpoints) as adapter:
        yield adapter


@pytest.fixture
async def telegram_on_fake(
    fake: FakeProvider, telegram_credentials: dict[str, str]
) -> AsyncIterator[TelegramAdapter]:
    async with TelegramAdapter(
        telegram_credentials, fake.endpoints, webhook_secret=TELEGRAM_SECRET
    ) as adapter:
        yield adapter


@pytest.fixture
async def messenger_on_fake(
    fake: FakeProvider, messenger_credentials: dict[str, str]
) -> AsyncIterator[MessengerAdapter]:
    async with MessengerAdapter(messenger_credentials, fake.endpoints) as adapter:
        yield adapter


@pytest.fixture
async def inbox_receiver(
    twilio_adapter: TwilioAdapter,
    telegram_adapter: TelegramAdapter,
    messenger_adapter: MessengerAdapter,
) -> AsyncIterator[InboxReceiver]:
    adapters: dict[str, ChannelAdapter] = {
        "twilio": twilio_adapter,
        "twilio-status": twilio_adapter,
        "telegram": telegram_adapter,
        "messenger": messenger_adapter,
    }
    async with serve_inbox_receiver(adapters) as receiver:
        yield receiver
