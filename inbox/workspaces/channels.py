"""Connecting a workspace to a provider: create, list and remove channels."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from channels.base import (
    InvalidCredentials,
    ProviderEndpoints,
    generate_webhook_secret,
    get_adapter,
    validate_credentials,
)
from channels.errors import ProviderError
from inbox.crypto import decrypt_json, encrypt_json
from inbox.errors import InvalidInput, NotFound, Unavailable
from inbox.models import Channel, ChannelKind, ChannelStatus, Workspace
from inbox.settings import Settings
from inbox.tenancy import parse_id, scoped

logger = logging.getLogger(__name__)

WEBHOOK_PATHS = {
    ChannelKind.WHATSAPP: "/webhooks/twilio/{id}",
    ChannelKind.TELEGRAM: "/webhooks/telegram/{id}",
    ChannelKind.MESSENGER: "/webhooks/messenger/{id}",
}


@dataclass
class ChannelSetup:
    """What an admin needs to paste at the provider after connecting a channel."""

    channel: Channel
    webhook_url: str
    status_callback_url: str | None = None
    webhook_secret: str | None = None

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": str(self.channel.id),
            "kind": self.channel.kind,
            "name": self.channel.name,
            "webhook_url": self.webhook_url,
        }
        if self.status_callback_url:
            data["status_callback_url"] = self.status_callback_url
        if self.webhook_secret:
            data["webhook_secret"] = self.webhook_secret
        return data


def provider_endpoints(settings: Settings) -> ProviderEndpoints:
    return ProviderEndpoints(
        twilio_api_base=settings.twilio_api_base,
        telegram_api_base=settings.telegram_api_base,
        graph_api_base=settings.graph_api_base,
    )


def webhook_url(settings: Settings, channel: Channel) -> str:
    return settings.public_link(WEBHOOK_PATHS[ChannelKind(channel.kind)].format(id=channel.id))


def describe_channel(settings: Settings, channel: Channel) -> ChannelSetup:
    url = webhook_url(settings, channel)
    if channel.kind == ChannelKind.WHATSAPP:
        return ChannelSetup(channel, url, status_callback_url=url + "/status")
    if channel.kind == ChannelKind.TELEGRAM:
        return ChannelSetup(channel, url, webhook_secret=channel.webhook_secret)
    return ChannelSetup(channel, url)


def external_id_for(kind: ChannelKind, credentials: dict[str, str]) -> str | None:
    """Our own identity at the provider, used to route multi-account deliveries."""
    if kind == ChannelKind.WHATSAPP:
        return credentials.get("from_number") or credentials.get("messaging_service_sid")
    if kind == ChannelKind.TELEGRAM:
        return credentials["bot_token"].split(":", 1)[0]
    return credentials["page_id"]


def channel_credentials(settings: Settings, channel: Channel) -> dict[str, Any]:
    assert settings.master_key
    return decrypt_json(settings.master_key, channel.credentials_encrypted)


async def create_channel(
    settings: Settings,
    workspace: Workspace,
    kind: str,
    name: str,
    credentials: dict[str, Any],
) -> ChannelSetup:
    """Validate, store (encrypted) and, for Telegram, register the webhook."""
    try:
        channel_kind = ChannelKind(kind)
    except ValueError:
        raise InvalidInput(
            "kind must be one of whatsapp, telegram, messenger", code="invalid_kind"
        ) from None
    name = name.strip()
    if not name or len(name) > 120:
        raise InvalidInput("the channel name must be 1 to 120 characters", code="invalid_name")
    try:
        clean = validate_credentials(channel_kind.value, credentials)
    except InvalidCredentials as exc:
        raise InvalidInput(str(exc), code="invalid_credentials") from None
    assert settings.master_key
    secret = generate_webhook_secret() if channel_kind == ChannelKind.TELEGRAM else None
    channel = Channel(
        workspace=workspace,
        kind=channel_kind.value,
        name=name,
        credentials_encrypted=encrypt_json(settings.master_key, clean),
        webhook_secret=secret,
        external_id=external_id_for(channel_kind, clean),
    )
    setup = describe_channel(settings, channel)
    if channel_kind == ChannelKind.TELEGRAM:
        # Register first: a bot the provider refuses must not leave a channel behind.
        adapter = get_adapter(
            channel_kind.value, clean, provider_endpoints(settings), webhook_secret=secret
        )
        try:
            async with adapter:
                await adapter.register_webhook(setup.webhook_url, secret)
        except ProviderError as exc:
            if exc.retryable:
                raise Unavailable("Telegram did not answer; try again", code="provider") from None
            raise InvalidInput(
                f"Telegram refused the bot token ({exc.code or 'error'})", code="provider_refused"
            ) from None
    await channel.save()
    return setup


async def list_channels(workspace: Workspace) -> list[Channel]:
    return (
        await scoped(Channel, workspace)
        .exclude(status=ChannelStatus.DELETED.value)
        .order_by("created_at")
    )


async def get_channel(workspace: Workspace, channel_id: str) -> Channel:
    channel = await scoped(Channel, workspace).filter(id=parse_id(channel_id)).first()
    if channel is None or channel.status == ChannelStatus.DELETED:
        raise NotFound("no such channel")
    return channel


async def disconnect_channel(settings: Settings, workspace: Workspace, channel_id: str) -> None:
    """Mark the channel deleted (its conversations stay); tell the provider to stop calling."""
    from inbox.messaging.adapters import forget_channel

    channel = await get_channel(workspace, channel_id)
    await scoped(Channel, workspace).filter(id=channel.id).update(
        status=ChannelStatus.DELETED.value
    )
    # This process answers the channel's webhooks 404 from now on, not after its cache expires.
    forget_channel(channel.id)
    adapter = get_adapter(
        channel.kind,
        channel_credentials(settings, channel),
        provider_endpoints(settings),
        webhook_secret=channel.webhook_secret,
    )
    try:
        async with adapter:
            await adapter.unregister_webhook()
    except ProviderError as exc:
        # The channel is gone on our side; a webhook still set only gets 404s.
        logger.warning("webhook not unregistered", extra={"error_type": type(exc).__name__})
