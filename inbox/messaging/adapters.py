"""Channel adapters for stored channels, and finding the channel a webhook is for.

Webhook lookups are the one place where a channel is found by its id alone: the
id in the URL is what tells us the workspace. Adapters used only to verify and
parse (no provider calls) are kept in a small cache keyed by the encrypted
credentials, so a busy channel does not derive its key and decrypt its
credentials on every delivery; a changed secret is a different key, so the
cache never serves stale credentials.

The channel row itself is kept for CHANNEL_CACHE_SECONDS per process: a busy
channel is then looked up once every few seconds instead of once a delivery.
A channel deleted meanwhile is refused at the latest that much later
(:func:`forget_channel` refuses it at once in the process that deleted it).
"""

from __future__ import annotations

import hmac
import time
import uuid
from collections import OrderedDict
from collections.abc import Iterable
from typing import Any

import httpx

from channels.base import ChannelAdapter, get_adapter
from inbox.errors import NotFound
from inbox.models import Channel, ChannelKind, ChannelStatus
from inbox.settings import Settings
from inbox.tenancy import parse_id, unscoped
from inbox.workspaces.channels import channel_credentials, provider_endpoints

# Enough for every channel one web process serves at once; the oldest is dropped.
PARSER_CACHE_SIZE = 1024
CHANNEL_CACHE_SECONDS = 2.0
CHANNEL_CACHE_SIZE = 1024

_channels: dict[tuple[uuid.UUID, str], tuple[float, Channel]] = {}
_parsers: OrderedDict[tuple[str, str, str | None, str], ChannelAdapter] = OrderedDict()


def build_adapter(
    settings: Settings, channel: Channel, http: httpx.AsyncClient | None = None
) -> ChannelAdapter:
    """A fresh adapter for provider calls (use it as an async context manager)."""
    return get_adapter(
        channel.kind,
        channel_credentials(settings, channel),
        provider_endpoints(settings),
        webhook_secret=channel.webhook_secret,
        http=http,
    )


def get_parser(settings: Settings, channel: Channel) -> ChannelAdapter:
    """A cached adapter for ``verify`` and ``parse`` only (it never calls out)."""
    key = (
        str(channel.id),
        channel.credentials_encrypted,
        channel.webhook_secret,
        settings.master_key or "",
    )
    adapter = _parsers.get(key)
    if adapter is None:
        adapter = build_adapter(settings, channel)
        _parsers[key] = adapter
        while len(_parsers) > PARSER_CACHE_SIZE:
            _parsers.popitem(last=False)
    else:
        _parsers.move_to_end(key)
    return adapter


async def find_webhook_channel(channel_id: str, kind: ChannelKind) -> Channel:
    """The live channel of ``kind`` named in a webhook URL; 404 for anything else."""
    key = (parse_id(channel_id), kind.value)
    now = time.monotonic()
    cached = _channels.get(key)
    if cached is not None and cached[0] > now:
        return cached[1]
    channel = (
        await unscoped(Channel, reason="a webhook URL names its channel, which names the workspace")
        .filter(id=key[0], kind=kind.value)
        .exclude(status=ChannelStatus.DELETED.value)
        .first()
    )
    if channel is None:
        _channels.pop(key, None)
        raise NotFound("no such channel")
    if len(_channels) >= CHANNEL_CACHE_SIZE:
        _channels.clear()
    _channels[key] = (now + CHANNEL_CACHE_SECONDS, channel)
    return channel


def forget_channel(channel_id: object) -> None:
    """Drop a channel from this process's webhook cache (after deleting it)."""
    for key in [key for key in _channels if str(key[0]) == str(channel_id)]:
        _channels.pop(key, None)


async def find_sibling_pages(
    settings: Settings, channel: Channel, page_ids: Iterable[str]
) -> dict[str, Channel]:
    """Messenger channels of the same Meta app for Pages other than ``channel``'s.

    Meta sets the callback URL per app, so one POST can carry entries for several
    Pages. An entry is trusted for another channel only when that channel holds the
    very app secret the POST was signed with; any other Page id is ignored.
    """
    wanted = {page_id for page_id in page_ids if page_id != channel.external_id}
    if not wanted:
        return {}
    app_secret = str(channel_credentials(settings, channel)["app_secret"])
    candidates = (
        await unscoped(
            Channel, reason="a Messenger app's webhook carries entries for each of its Pages"
        )
        .filter(kind=ChannelKind.MESSENGER.value, external_id__in=sorted(wanted))
        .exclude(status=ChannelStatus.DELETED.value)
    )
    siblings: dict[str, Channel] = {}
    for candidate in candidates:
        secret: Any = channel_credentials(settings, candidate).get("app_secret", "")
        if hmac.compare_digest(str(secret).encode(), app_secret.encode()):
            siblings.setdefault(str(candidate.external_id), candidate)
    return siblings
