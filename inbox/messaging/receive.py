"""A provider's webhook, from the verified request to the committed rows.

Order of work, and why:

1. find the channel named in the URL (unknown or deleted: 404);
2. the adapter verifies the signature (401/403, nothing stored);
3. the adapter parses the payload (400 when it cannot be understood);
4. the events are stored in one transaction; the web layer answers 2xx only
   after that commit, so a provider that got its 2xx has its data stored.

If the database cannot be reached the caller answers 503 and the provider
retries. A payload that verified but failed to store for any other reason is
kept as a :class:`WebhookEvent` (raw body, route, content type, error class)
and answered 2xx: retrying a delivery our code cannot handle only hammers us,
while the kept copy is replayed by :func:`replay_webhook_events` (the
``replay_webhook_events`` cron job) once the cause is fixed. Verification is
not repeated on replay: the body was verified when it arrived.

Messenger: Meta sets the callback URL per app, so one POST can hold entries of
several Pages. Events of this channel's Page (or naming no Page) are stored for
this channel; events of another Page go to the Messenger channel of that Page
whose app secret equals this channel's (the POST was signed with that very
secret, so it speaks for that Page too); events of any other Page are ignored.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum

import asyncpg
from redis.exceptions import RedisError
from tortoise.exceptions import DBConnectionError, IntegrityError, OperationalError

from channels.base import WebhookRequest
from channels.errors import MalformedPayload, SignatureError
from channels.events import Event, Ignored, InboundMessage, Watermark
from channels.messenger import verify_subscription
from inbox.broker import Broker
from inbox.errors import Forbidden, InvalidInput, Unauthorized, Unavailable
from inbox.jobs import Unit
from inbox.messaging.adapters import find_sibling_pages, find_webhook_channel, get_parser
from inbox.messaging.ingest import (
    IngestResult,
    ingest_in_one_statement,
    run_with_retry,
    store_events,
)
from inbox.models import Channel, ChannelKind, ChannelStatus, WebhookEvent
from inbox.models.base import utcnow
from inbox.settings import Settings
from inbox.tenancy import WorkspaceRef, scoped, workspace_id_of
from inbox.workspaces.channels import channel_credentials

logger = logging.getLogger(__name__)

REPLAY_BATCH = 100  # kept deliveries replayed per workspace and run
MAX_REPLAY_ATTEMPTS = 10  # then the delivery stays kept for a person to look at
CONTENT_TYPE_LENGTH = 100  # WebhookEvent.content_type's column size


class WebhookRoute(StrEnum):
    TWILIO = "twilio"
    TWILIO_STATUS = "twilio-status"
    TELEGRAM = "telegram"
    MESSENGER = "messenger"


ROUTE_KINDS = {
    WebhookRoute.TWILIO: ChannelKind.WHATSAPP,
    WebhookRoute.TWILIO_STATUS: ChannelKind.WHATSAPP,
    WebhookRoute.TELEGRAM: ChannelKind.TELEGRAM,
    WebhookRoute.MESSENGER: ChannelKind.MESSENGER,
}


@dataclass
class Delivery:
    """What happened to one webhook: stored, or kept for replay."""

    result: IngestResult
    kept_id: uuid.UUID | None = None


def is_database_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` means "the database cannot be reached right now".

    Connection failures, pool and socket errors, and SQLite's locked or
    unopenable file. A value the database refuses (asyncpg's DataError arrives as
    OperationalError too) is a processing failure, not an outage.
    """
    if isinstance(exc, IntegrityError):
        return False  # a refused row (IntegrityError subclasses OperationalError)
    if isinstance(exc, OperationalError):
        return not isinstance(exc.__cause__, asyncpg.DataError | asyncpg.SyntaxOrAccessError)
    return isinstance(
        exc,
        DBConnectionError
        | ConnectionError
        | OSError
        | TimeoutError
        | asyncio.TimeoutError
        | asyncpg.PostgresConnectionError
        | asyncpg.InterfaceError
        | asyncpg.CannotConnectNowError
        | asyncpg.TooManyConnectionsError
        | sqlite3.OperationalError,
    )


def build_signature_error(exc: SignatureError) -> Unauthorized | Forbidden:
    """The HTTP error for a refused signature (its reason names headers, never values)."""
    if exc.status == 401:
        return Unauthorized(exc.reason, code="missing_signature")
    return Forbidden(exc.reason, code="bad_signature")


async def find_channel_or_unavailable(channel_id: str, route: WebhookRoute) -> Channel:
    try:
        return await find_webhook_channel(channel_id, ROUTE_KINDS[route])
    except Exception as exc:
        if is_database_unavailable(exc):
            raise Unavailable("the database is unavailable; retry later") from None
        raise


async def receive_webhook(
    settings: Settings,
    broker: Broker | None,
    route: WebhookRoute,
    channel_id: str,
    request: WebhookRequest,
) -> Delivery:
    """Verify, parse and store one webhook delivery (see the module docstring)."""
    channel = await find_channel_or_unavailable(channel_id, route)
    adapter = get_parser(settings, channel)
    try:
        adapter.verify(request)
    except SignatureError as exc:
        raise build_signature_error(exc) from None
    try:
        events = adapter.parse(request)
    except MalformedPayload as exc:
        raise InvalidInput(str(exc), code="malformed_payload") from None
    try:
        result = await ingest_delivery(settings, broker, channel, events)
    except RedisError as exc:
        # Redis is only used after the commit (jobs, live events): the data is
        # stored, so the provider gets its 2xx and must not send it again.
        logger.warning(
            "webhook stored; jobs or live events not queued",
            extra={"channel_id": str(channel.id), "error_type": type(exc).__name__},
        )
        return Delivery(IngestResult())
    except Exception as exc:
        if is_database_unavailable(exc):
            raise Unavailable("the database is unavailable; retry later") from None
        kept_id = await keep_delivery(channel, route, request, exc)
        return Delivery(IngestResult(), kept_id)
    return Delivery(result)


async def ingest_delivery(
    settings: Settings,
    broker: Broker | None,
    channel: Channel,
    events: list[Event],
    *,
    inside: Callable[[], Awaitable[object]] | None = None,
) -> IngestResult:
    """Store the events of one delivery, routed to their channels, in one transaction.

    ``inside`` runs in the same transaction after the events (replay marks its
    kept delivery processed there, so it is never half-replayed).
    """
    groups = await route_events(settings, channel, events)
    if inside is None and len(groups) == 1:
        target, target_events = groups[0]
        quick = await ingest_in_one_statement(broker, target.workspace_id, target, target_events)
        if quick is not None:
            return quick

    async def work(unit: Unit) -> IngestResult:
        result = IngestResult()
        for target, target_events in groups:
            await store_events(unit, broker, target.workspace_id, target, target_events, result)
        if inside is not None:
            await inside()
        return result

    return await run_with_retry(broker, work)


async def route_events(
    settings: Settings, channel: Channel, events: list[Event]
) -> list[tuple[Channel, list[Event]]]:
    """Messenger entries to the channel of their Page (see the module docstring)."""
    if channel.kind != ChannelKind.MESSENGER:
        return [(channel, events)]
    others = {
        str(event.account_id)
        for event in events
        if isinstance(event, InboundMessage | Watermark)
        and event.account_id
        and event.account_id != channel.external_id
    }
    siblings = await find_sibling_pages(settings, channel, others) if others else {}
    groups: dict[uuid.UUID, tuple[Channel, list[Event]]] = {channel.id: (channel, [])}
    for event in events:
        target = channel
        page_id = getattr(event, "account_id", None)
        if isinstance(event, InboundMessage | Watermark) and page_id in others:
            sibling = siblings.get(str(page_id))
            if sibling is None:
                event = Ignored("messenger entry of a Page this app does not connect")
            else:
                target = sibling
        groups.setdefault(target.id, (target, []))[1].append(event)
    return [group for group in groups.values() if group[1]]


async def keep_delivery(
    channel: Channel, route: WebhookRoute, request: WebhookRequest, exc: Exception
) -> uuid.UUID:
    """Keep a verified delivery that failed to store, in a transaction of its own."""
    try:
        kept = await WebhookEvent.create(
            workspace_id=channel.workspace_id,
            channel_id=channel.id,
            route=route.value,
            content_type=(request.headers.get("content-type") or "")[:CONTENT_TYPE_LENGTH],
            body=request.body,
            error=type(exc).__name__,
        )
    except Exception as store_exc:
        if is_database_unavailable(store_exc):
            raise Unavailable("the database is unavailable; retry later") from None
        raise
    logger.warning(
        "webhook kept for replay",
        extra={
            "route": route.value,
            "channel_id": str(channel.id),
            "webhook_event_id": str(kept.id),
            "error_type": type(exc).__name__,
        },
    )
    return kept.id


@dataclass
class ReplayResult:
    replayed: int = 0
    failed: int = 0


async def replay_webhook_events(
    workspace: WorkspaceRef,
    settings: Settings,
    broker: Broker | None,
    *,
    limit: int = REPLAY_BATCH,
) -> ReplayResult:
    """Store the kept deliveries of ``workspace`` again, oldest first.

    Each one is parsed from its stored body (it was verified on receipt) and
    stored in one transaction that also marks it processed. A failure counts an
    attempt; after MAX_REPLAY_ATTEMPTS it is left alone. Database outages are
    raised, so the job is retried later.
    """
    workspace_id = workspace_id_of(workspace)
    pending = (
        await scoped(WebhookEvent, workspace_id)
        .filter(processed_at__isnull=True, attempts__lt=MAX_REPLAY_ATTEMPTS)
        .order_by("created_at", "id")
        .limit(limit)
    )
    outcome = ReplayResult()
    for kept in pending:
        if await replay_one(settings, broker, workspace_id, kept):
            outcome.replayed += 1
        else:
            outcome.failed += 1
    return outcome


async def replay_one(
    settings: Settings, broker: Broker | None, workspace_id: uuid.UUID, kept: WebhookEvent
) -> bool:
    kept_rows = scoped(WebhookEvent, workspace_id).filter(id=kept.id, processed_at__isnull=True)
    channel = await scoped(Channel, workspace_id).filter(id=kept.channel_id).first()
    if channel is None or channel.status == ChannelStatus.DELETED:
        await kept_rows.update(processed_at=utcnow(), error="ChannelDeleted")
        return False
    request = WebhookRequest(
        url="", headers={"content-type": kept.content_type}, body=bytes(kept.body)
    )
    try:
        events = get_parser(settings, channel).parse(request)
        await ingest_delivery(
            settings,
            broker,
            channel,
            events,
            inside=lambda: kept_rows.update(processed_at=utcnow()),
        )
    except Exception as exc:
        if is_database_unavailable(exc):
            raise
        await kept_rows.update(attempts=kept.attempts + 1, error=type(exc).__name__)
        logger.warning(
            "replay of a kept webhook failed",
            extra={"webhook_event_id": str(kept.id), "error_type": type(exc).__name__},
        )
        return False
    return True


async def answer_messenger_handshake(
    settings: Settings, channel_id: str, query: Mapping[str, str]
) -> str:
    """Meta's GET subscription check: the challenge if our verify token matches."""
    channel = await find_channel_or_unavailable(channel_id, WebhookRoute.MESSENGER)
    token = str(channel_credentials(settings, channel).get("verify_token") or "")
    try:
        return verify_subscription(query, token)
    except SignatureError as exc:
        raise build_signature_error(exc) from None
