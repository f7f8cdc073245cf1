"""Contact enrichment: the public profile each channel offers, with source and time.

- Messenger: the User Profile API (first and last name, profile picture).
- Telegram: ``getChat`` (names, username) and ``getUserProfilePhotos`` (picture).
- WhatsApp: Twilio has no profile API; the profile name comes with each webhook
  (recorded by the ingest), and the address is the phone number, which is
  normalised here to E.164 with its country.

Each value lands in ``contact.profile`` as ``{field: {value, source, fetched_at}}``
and is mirrored in the column of the same name (the picture in ``avatar_key``),
except where the recorded source is "agent": a person's correction is never
overwritten. Restricted or objecting contacts are never enriched. Only a few
fields are kept (no bios): what the team needs to recognise the person.

Provider calls go through a per-channel fixed-window limiter in Redis; a call
over the limit, or a provider asking us to slow down, raises :class:`EnrichLater`.
"""

from __future__ import annotations

import hashlib
import logging
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import phonenumbers
from redis.asyncio import Redis
from tortoise.transactions import in_transaction

from channels.errors import ProviderError
from channels.events import ProviderProfile
from inbox.messaging.adapters import build_adapter
from inbox.models import Channel, ChannelKind, ChannelStatus, Contact, ContactIdentity
from inbox.models.base import utcnow
from inbox.privacy.stored_files import remove_stored_files, write_stored_file
from inbox.settings import Settings
from inbox.tenancy import parse_id, scoped, workspace_id_of

logger = logging.getLogger(__name__)

AGENT_SOURCE = "agent"
PROFILE_CALLS_PER_SECOND = 20  # per channel; Graph and Bot API limits are far above
RATE_WINDOW_MS = 1000
AVATAR_MAX_BYTES = 5 * 1024 * 1024
AVATAR_TYPES = {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp"}
AVATAR_FIELD = "avatar"
# Profile field -> Contact column it is mirrored in.
MIRRORED = {"display_name": "display_name", "phone": "phone", "username": "username",
            AVATAR_FIELD: "avatar_key"}
PROVIDER_FIELDS = ("first_name", "last_name")
# Provider API calls each fetch makes, charged to the channel's limiter.
FETCH_COST = {ChannelKind.TELEGRAM: 2, ChannelKind.MESSENGER: 1, ChannelKind.WHATSAPP: 0}
DOWNLOAD_COST = {ChannelKind.TELEGRAM: 1, ChannelKind.MESSENGER: 0, ChannelKind.WHATSAPP: 0}

STATUS_ENRICHED = "enriched"
STATUS_FRESH = "fresh"
STATUS_SKIPPED = "skipped"  # restricted or objected
STATUS_MISSING = "missing"


class EnrichLater(Exception):
    """Try again later: ``rate_limited`` (our limiter) or ``provider`` (429/5xx/timeout).

    ``defer`` is the delay to wait, in seconds, when one is known.
    """

    def __init__(self, reason: str, defer: float | None = None) -> None:
        super().__init__(f"enrichment postponed ({reason})")
        self.reason = reason
        self.defer = defer


@dataclass
class Found:
    """What the providers told, by field: (value, source)."""

    values: dict[str, tuple[str, str]] = field(default_factory=dict)
    avatar: tuple[bytes, str, str] | None = None  # data, media type, source
    avatar_gone_from: set[str] = field(default_factory=set)  # sources without a picture

    def offer(self, name: str, value: str | None, source: str) -> None:
        if value and name not in self.values:
            self.values[name] = (value, source)


@dataclass
class EnrichmentOutcome:
    status: str
    fields: list[str] = field(default_factory=list)


def is_stale(contact: Contact, now: datetime, max_age_days: int) -> bool:
    fetched = contact.profile_fetched_at
    return fetched is None or fetched < now - timedelta(days=max_age_days)


def normalize_phone(value: str | None) -> tuple[str, str | None] | None:
    """(E.164, country) of a number written with its country code, or None."""
    if not value:
        return None
    try:
        number = phonenumbers.parse(value.removeprefix("whatsapp:"), None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    country = phonenumbers.region_code_for_number(number) or (
        phonenumbers.region_code_for_country_code(number.country_code)
    )
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return e164, (country if country and country != "001" else None)


async def acquire_provider_calls(
    redis: Redis, channel_id: uuid.UUID, cost: int, limit: int = PROFILE_CALLS_PER_SECOND
) -> None:
    """Charge ``cost`` calls to the channel's window; raise EnrichLater when full.

    The delay spreads the overflow over the next windows in arrival order, so a
    burst of new contacts drains at the limit instead of retrying in a herd.
    """
    if cost <= 0:
        return
    now_ms = int(time.time() * 1000)
    window = now_ms // RATE_WINDOW_MS
    key = f"inbox:ratelimit:profile:{channel_id}:{window}"
    async with redis.pipeline(transaction=True) as pipe:
        pipe.incrby(key, cost)
        pipe.pexpire(key, 2 * RATE_WINDOW_MS)
        used, _ = await pipe.execute()
    if used <= limit:
        return
    until_next = ((window + 1) * RATE_WINDOW_MS - now_ms) / 1000
    backlog_windows = (used - limit - 1) // limit
    raise EnrichLater("rate_limited", until_next + backlog_windows * RATE_WINDOW_MS / 1000)


async def fetch_channel_profile(
    settings: Settings,
    redis: Redis,
    channel: Channel,
    provider_user_id: str,
    found: Found,
    rate_limit: int,
) -> None:
    """Ask one channel about one user; adds what it said to ``found``."""
    kind = ChannelKind(channel.kind)
    await acquire_provider_calls(redis, channel.id, FETCH_COST[kind], rate_limit)
    try:
        async with build_adapter(settings, channel) as adapter:
            profile: ProviderProfile = await adapter.fetch_profile(provider_user_id)
            source = profile.source or kind.value
            picture = None
            if profile.avatar is not None:
                await acquire_provider_calls(redis, channel.id, DOWNLOAD_COST[kind], rate_limit)
                picture = await adapter.download_media(profile.avatar, AVATAR_MAX_BYTES)
    except ProviderError as exc:
        if exc.retryable:
            raise EnrichLater("provider", exc.retry_after) from None
        # A user who blocked the page or left: nothing to learn, nothing to retry.
        logger.info("profile not available", extra={"kind": kind.value, "code": exc.code})
        return
    found.offer("display_name", profile.display_name, source)
    found.offer("username", profile.username, source)
    for name in PROVIDER_FIELDS:
        found.offer(name, profile.fields.get(name), source)
    phone = normalize_phone(profile.phone)
    if phone is not None:
        found.offer("phone", phone[0], source)
        found.offer("country", phone[1], source)
    if picture is not None and picture.media_type in AVATAR_TYPES and found.avatar is None:
        found.avatar = (picture.data, picture.media_type, source)
    elif profile.avatar is None and kind != ChannelKind.WHATSAPP:
        found.avatar_gone_from.add(source)


def store_avatar(settings: Settings, contact: Contact, data: bytes, media_type: str) -> str:
    """Write the picture under the workspace's folder; the key names its content."""
    digest = hashlib.sha256(data).hexdigest()[:24]
    key = f"{contact.workspace_id}/avatars/{contact.id}-{digest}{AVATAR_TYPES[media_type]}"
    write_stored_file(settings, key, data)
    return key


def merge_profile(
    contact: Contact, found: Found, avatar_key: str | None, now: datetime
) -> tuple[dict[str, Any], list[str]]:
    """Column and ``profile`` changes, and the fields updated; agent-entered fields
    are left as they are."""
    profile: dict[str, Any] = dict(contact.profile or {})
    stamp = now.isoformat()
    offered: dict[str, tuple[str | None, str]] = dict(found.values)
    if avatar_key is not None and found.avatar is not None:
        offered[AVATAR_FIELD] = (avatar_key, found.avatar[2])
    current_avatar = profile.get(AVATAR_FIELD)
    if (
        isinstance(current_avatar, dict)
        and current_avatar.get("source") in found.avatar_gone_from
        and AVATAR_FIELD not in offered
    ):
        offered[AVATAR_FIELD] = (None, current_avatar["source"])  # the user removed it
    changes: dict[str, Any] = {}
    applied: list[str] = []
    for name, (value, source) in offered.items():
        entry = profile.get(name)
        if isinstance(entry, dict) and entry.get("source") == AGENT_SOURCE:
            continue
        if value is None:
            profile.pop(name, None)
        else:
            profile[name] = {"value": value, "source": source, "fetched_at": stamp}
        if name in MIRRORED:
            changes[MIRRORED[name]] = value
        applied.append(name)
    changes["profile"] = profile
    changes["profile_fetched_at"] = now
    return changes, sorted(applied)


async def enrich_contact_profile(
    settings: Settings,
    redis: Redis,
    workspace_id: object,
    contact_id: object,
    *,
    now: datetime | None = None,
    force: bool = False,
    rate_limit: int = PROFILE_CALLS_PER_SECOND,
) -> EnrichmentOutcome:
    """Enrich one contact if it is new or stale (``force``: even when fresh)."""
    ws = workspace_id_of(str(workspace_id))
    now = now or utcnow()
    contact = await scoped(Contact, ws).filter(id=parse_id(contact_id)).first()
    if contact is None:
        return EnrichmentOutcome(STATUS_MISSING)
    if contact.restricted or contact.objected:
        return EnrichmentOutcome(STATUS_SKIPPED)
    if not force and not is_stale(contact, now, settings.profile_max_age_days):
        return EnrichmentOutcome(STATUS_FRESH)

    identities = await scoped(ContactIdentity, ws).filter(contact_id=contact.id).order_by(
        "created_at"
    ).values("channel_id", "provider_user_id")
    channels = {
        channel.id: channel
        for channel in await scoped(Channel, ws).filter(
            id__in=[identity["channel_id"] for identity in identities]
        ).exclude(status=ChannelStatus.DELETED.value)
    }
    found = Found()
    for identity in identities:
        channel = channels.get(identity["channel_id"])
        if channel is not None:
            await fetch_channel_profile(
                settings, redis, channel, identity["provider_user_id"], found, rate_limit
            )
    return await save_profile(settings, contact, found, now)


async def save_profile(
    settings: Settings, contact: Contact, found: Found, now: datetime
) -> EnrichmentOutcome:
    """Write what was found, re-reading the contact under a row lock: a correction or a
    restriction made while we were asking the providers wins. Files: the new picture
    is written before the row points at it; the replaced one goes after the commit."""
    new_key = None
    if found.avatar is not None:
        new_key = store_avatar(settings, contact, found.avatar[0], found.avatar[1])
    outcome = EnrichmentOutcome(STATUS_SKIPPED)
    old_key = final_key = None
    try:
        async with in_transaction():
            locked = await scoped(Contact, contact.workspace_id).filter(
                id=contact.id
            ).select_for_update().first()
            if locked is None:
                outcome = EnrichmentOutcome(STATUS_MISSING)
            elif not (locked.restricted or locked.objected):
                changes, applied = merge_profile(locked, found, new_key, now)
                old_key = locked.avatar_key
                final_key = changes.get("avatar_key", old_key)
                await scoped(Contact, contact.workspace_id).filter(id=contact.id).update(
                    **changes
                )
                outcome = EnrichmentOutcome(STATUS_ENRICHED, applied)
    except BaseException:
        if new_key and new_key != contact.avatar_key:
            remove_stored_files(settings, [new_key])
        raise
    unused = [key for key in (new_key, old_key) if key and key != final_key]
    if outcome.status != STATUS_ENRICHED:
        unused = [new_key] if new_key and new_key != contact.avatar_key else []
    remove_stored_files(settings, unused)
    return outcome


async def mark_profile_checked(workspace_id: object, contact_id: object, now: datetime) -> None:
    """Record an attempt that gave up, so the stale-profile cron moves on to others."""
    await scoped(Contact, workspace_id_of(str(workspace_id))).filter(
        id=parse_id(contact_id)
    ).update(profile_fetched_at=now)
