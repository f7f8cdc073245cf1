"""“Test the connection” for a channel: what an admin can check from the settings page.

Two checks, each in plain words:

- the provider accepts the credentials, where its API offers a harmless call
  (Telegram: ``setWebhook`` again, which also repairs a webhook set elsewhere);
- our webhook URL is reachable at PUBLIC_URL and accepts a delivery signed with
  the channel's secret, as the provider would send it. The test delivery is a
  receipt or update that changes nothing (no message is created).
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field

import httpx

from channels.errors import ProviderError
from channels.fake_deliver import deliver_messenger, deliver_telegram, deliver_twilio
from inbox.messaging.adapters import build_adapter
from inbox.models import Channel, ChannelKind
from inbox.settings import Settings
from inbox.workspaces.channels import channel_credentials, describe_channel

CHECK_TIMEOUT_SECONDS = 5.0


@dataclass
class CheckResult:
    ok: bool
    lines: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return " ".join(self.lines)


async def check_provider(settings: Settings, channel: Channel, result: CheckResult) -> None:
    if channel.kind != ChannelKind.TELEGRAM:
        return
    setup = describe_channel(settings, channel)
    try:
        async with build_adapter(settings, channel) as adapter:
            await adapter.register_webhook(setup.webhook_url, channel.webhook_secret or "")
    except ProviderError as exc:
        result.ok = False
        result.lines.append(f"Telegram refused the bot token ({exc.code or 'error'}).")
        return
    result.lines.append("Telegram accepted the bot token and the webhook is registered.")


async def send_test_delivery(
    settings: Settings, channel: Channel, http: httpx.AsyncClient
) -> httpx.Response:
    """A signed delivery that changes nothing: a receipt for a message we never sent."""
    setup = describe_channel(settings, channel)
    credentials = channel_credentials(settings, channel)
    if channel.kind == ChannelKind.WHATSAPP:
        params = {
            "MessageSid": "SM" + secrets.token_hex(16),
            "MessageStatus": "delivered",
            "AccountSid": credentials["account_sid"],
            "From": credentials.get("from_number", ""),
            "To": credentials.get("from_number", ""),
            "ApiVersion": "2010-04-01",
        }
        assert setup.status_callback_url
        return await deliver_twilio(
            setup.status_callback_url, credentials["auth_token"], params, http=http
        )
    if channel.kind == ChannelKind.TELEGRAM:
        update = {"update_id": secrets.randbelow(2**31), "poll": {"id": "0", "question": "test"}}
        return await deliver_telegram(setup.webhook_url, channel.webhook_secret, update, http=http)
    page_id = credentials["page_id"]
    now = int(time.time() * 1000)
    payload = {
        "object": "page",
        "entry": [{"id": page_id, "time": now, "messaging": []}],
    }
    return await deliver_messenger(setup.webhook_url, credentials["app_secret"], payload, http=http)


async def check_webhook(settings: Settings, channel: Channel, result: CheckResult) -> None:
    try:
        async with httpx.AsyncClient(timeout=CHECK_TIMEOUT_SECONDS) as http:
            response = await send_test_delivery(settings, channel, http)
    except httpx.HTTPError:
        result.ok = False
        result.lines.append(
            "The webhook URL could not be reached: check that PUBLIC_URL is this server's "
            "public address."
        )
        return
    if response.status_code >= 300:
        result.ok = False
        result.lines.append(
            f"The webhook URL answered {response.status_code} to a signed test delivery."
        )
        return
    result.lines.append("The webhook URL accepted a signed test delivery.")


async def test_channel(settings: Settings, channel: Channel) -> CheckResult:
    """Run the checks; never raises for a provider or network failure."""
    result = CheckResult(ok=True)
    await check_provider(settings, channel, result)
    await check_webhook(settings, channel, result)
    return result
