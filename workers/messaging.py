"""Jobs of the messaging side: send replies, fetch media, replay kept webhooks.

Each job takes ids only, re-reads its rows scoped to the workspace, returns
early when the work is already done, and turns transient provider failures
into arq retries with exponential backoff.
"""

from __future__ import annotations

import logging
from typing import Any

from arq import Retry

from inbox.messaging.media import DownloadLater, download_attachment
from inbox.messaging.receive import REPLAY_BATCH, replay_webhook_events
from inbox.messaging.sending import SendLater, backoff_seconds, send_queued_message
from inbox.models import WebhookEvent
from inbox.tenancy import unscoped

logger = logging.getLogger(__name__)

MAX_MEDIA_TRIES = 6
REPLAY_WORKSPACES_PER_RUN = 100


async def send_message(ctx: dict[str, Any], workspace_id: str, message_id: str) -> str:
    """Send one queued reply (job id ``send:{message_id}``)."""
    try:
        outcome = await send_queued_message(
            ctx["settings"], ctx.get("broker"), workspace_id, message_id, ctx.get("job_try", 1)
        )
    except SendLater as later:
        raise Retry(defer=later.defer) from None
    return outcome.status


async def download_media(ctx: dict[str, Any], workspace_id: str, attachment_id: str) -> str:
    """Fetch one inbound attachment into storage (job id ``media:{attachment_id}``)."""
    job_try = ctx.get("job_try", 1)
    try:
        outcome = await download_attachment(
            ctx["settings"], ctx.get("broker"), workspace_id, attachment_id
        )
    except DownloadLater:
        if job_try >= MAX_MEDIA_TRIES:
            return "gave_up"
        raise Retry(defer=backoff_seconds(job_try)) from None
    return outcome.status


async def replay_webhooks(ctx: dict[str, Any], workspace_id: str) -> int:
    """Replay the kept webhook deliveries of one workspace; returns how many were stored."""
    result = await replay_webhook_events(workspace_id, ctx["settings"], ctx.get("broker"))
    return result.replayed


async def replay_kept_webhooks(ctx: dict[str, Any]) -> int:
    """Cron: replay kept deliveries, workspace by workspace, in bounded batches."""
    workspace_ids = (
        await unscoped(WebhookEvent, reason="the replay cron finds workspaces with kept deliveries")
        .filter(processed_at__isnull=True)
        .distinct()
        .limit(REPLAY_WORKSPACES_PER_RUN)
        .values_list("workspace_id", flat=True)
    )
    replayed = 0
    for workspace_id in workspace_ids:
        result = await replay_webhook_events(
            str(workspace_id), ctx["settings"], ctx.get("broker"), limit=REPLAY_BATCH
        )
        replayed += result.replayed
    if replayed:
        logger.info("kept webhooks replayed", extra={"count": replayed})
    return replayed
