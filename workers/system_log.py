"""The one-year rule for connection data (SystemLog)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from inbox.privacy.system_log import purge_expired_system_logs


async def purge_system_logs(ctx: dict[str, Any]) -> int:
    """Daily: delete SystemLog rows older than 365 days (no setting can lengthen it)."""
    return await purge_expired_system_logs(now=ctx.get("now"))


PURGE_INTERVAL = timedelta(days=1)
