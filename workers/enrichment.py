"""Contact enrichment jobs: one contact (queued by the ingest for new contacts),
and a cron that queues contacts whose profile went stale."""

from __future__ import annotations

import logging
from typing import Any

from arq import Retry

from inbox.contacts.enrichment import (
    EnrichLater,
    enrich_contact_profile,
    mark_profile_checked,
)
from inbox.contacts.stale import find_stale_contacts
from inbox.messaging.sending import backoff_seconds
from inbox.models.base import utcnow

logger = logging.getLogger(__name__)

MAX_ENRICH_TRIES = 8
ENRICH_TIMEOUT_SECONDS = 60


def enrich_job_id(contact_id: object) -> str:
    """The one id of a contact's enrichment job (the ingest uses the same)."""
    return f"enrich:{contact_id}"


async def enrich_contact(ctx: dict[str, Any], workspace_id: str, contact_id: str) -> str:
    """Fetch the profile of a new or stale contact (job id ``enrich:{contact_id}``)."""
    now = ctx.get("now") or utcnow()
    job_try = ctx.get("job_try", 1)
    try:
        outcome = await enrich_contact_profile(
            ctx["settings"], ctx["broker"].redis, workspace_id, contact_id, now=now
        )
    except EnrichLater as later:
        if job_try >= MAX_ENRICH_TRIES:
            await mark_profile_checked(workspace_id, contact_id, now)
            logger.info("enrichment gave up", extra={"reason": later.reason})
            return "gave_up"
        if later.reason == "rate_limited":
            # Our own limiter: wait for the slot it computed, no backoff needed.
            raise Retry(defer=later.defer) from None
        raise Retry(defer=max(later.defer or 0.0, backoff_seconds(job_try))) from None
    return outcome.status


async def refresh_stale_profiles(ctx: dict[str, Any]) -> int:
    """Cron: queue enrichment for recently active contacts with a stale profile."""
    settings = ctx["settings"]
    broker = ctx["broker"]
    now = ctx.get("now") or utcnow()
    stale = await find_stale_contacts(broker.redis, now, settings.profile_max_age_days)
    queued = 0
    for workspace_id, contact_id in stale:
        if await broker.enqueue(
            "enrich_contact", str(workspace_id), str(contact_id),
            job_id=enrich_job_id(contact_id),
        ):
            queued += 1
    return queued
