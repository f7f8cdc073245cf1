"""Keeping a conversation's summary right when retention deletes some of its messages.

Retention deletes the oldest messages first. So a conversation's preview line
changes only when its newest message goes, and its unread messages (the newest
inbound ones) go only when fewer inbound messages than the unread count are
left. Both are fixed with a few set-based queries per batch, never one query
per conversation. ``last_message_at`` keeps the time of the last exchange even
when no message is left: it orders the inbox and holds no content.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from tortoise.expressions import Subquery
from tortoise.functions import Count, Max

from inbox.messaging.ingest import build_preview
from inbox.models import Conversation, Direction, Message
from inbox.tenancy import scoped


async def conversations_losing_newest(
    workspace_id: uuid.UUID, conversation_ids: Subquery, lost_up_to: datetime
) -> list[uuid.UUID]:
    """Of these conversations (a subquery, read before the delete), those whose newest
    message is among the ones deleted up to ``lost_up_to`` (an index range: few)."""
    return await scoped(Conversation, workspace_id).filter(
        last_message_at__lte=lost_up_to, id__in=conversation_ids
    ).values_list("id", flat=True)


async def refresh_previews(workspace_id: uuid.UUID, conversation_ids: Iterable[uuid.UUID]) -> None:
    """Show the newest remaining message (or nothing) in these conversations' previews."""
    ids = list(conversation_ids)
    if not ids:
        return
    rows = await scoped(Conversation, workspace_id).filter(id__in=ids).values(
        "id", "last_message_preview"
    )
    if not rows:
        return
    previews = await latest_previews(workspace_id, [row["id"] for row in rows])
    for row in rows:
        preview = previews.get(row["id"], "")
        if preview != row["last_message_preview"]:
            await scoped(Conversation, workspace_id).filter(id=row["id"]).update(
                last_message_preview=preview
            )


async def latest_previews(
    workspace_id: uuid.UUID, conversation_ids: list[uuid.UUID]
) -> dict[uuid.UUID, str]:
    """The preview of each conversation's newest remaining message (two queries)."""
    newest = await (
        scoped(Message, workspace_id)
        .filter(conversation_id__in=conversation_ids)
        .annotate(newest=Max("created_at"))
        .group_by("conversation_id")
        .values("conversation_id", "newest")
    )
    if not newest:
        return {}
    times = {row["conversation_id"]: row["newest"] for row in newest}
    candidates = await (
        scoped(Message, workspace_id)
        .filter(conversation_id__in=list(times), created_at__in=list(set(times.values())))
        .order_by("created_at", "id")
        .values("conversation_id", "created_at", "text", "kind")
    )
    previews: dict[uuid.UUID, str] = {}
    for row in candidates:  # ascending: the last one of each conversation wins
        if row["created_at"] == times[row["conversation_id"]]:
            previews[row["conversation_id"]] = build_preview(row["kind"], row["text"])
    return previews


async def cap_unread_counts(
    workspace_id: uuid.UUID, conversation_ids: Iterable[uuid.UUID], kept_since: datetime | None
) -> None:
    """Lower unread counts to the number of inbound messages that stay.

    ``kept_since``: every inbound message older than this is being deleted (the
    message rule's cutoff); None: count whatever is left. A conversation whose last
    inbound message is older keeps none; one whose count is 1 keeps its newest.
    """
    ids = list(conversation_ids)
    if not ids:
        return
    rows = await scoped(Conversation, workspace_id).filter(
        id__in=ids, unread_count__gt=0
    ).values("id", "unread_count", "last_inbound_at")
    targets: dict[uuid.UUID, int] = {}
    to_count: list[uuid.UUID] = []
    for row in rows:
        last_inbound = row["last_inbound_at"]
        if kept_since is None or last_inbound is None:
            to_count.append(row["id"])
        elif last_inbound < kept_since:
            targets[row["id"]] = 0
        elif row["unread_count"] > 1:
            to_count.append(row["id"])
    if to_count:
        inbound = scoped(Message, workspace_id).filter(
            conversation_id__in=to_count, direction=Direction.INBOUND.value
        )
        if kept_since is not None:
            inbound = inbound.filter(created_at__gte=kept_since)
        counted = await (
            inbound.annotate(left=Count("id")).group_by("conversation_id")
            .values("conversation_id", "left")
        )
        left = {row["conversation_id"]: row["left"] for row in counted}
        for conversation_id in to_count:
            targets[conversation_id] = left.get(conversation_id, 0)
    by_value: dict[int, list[uuid.UUID]] = defaultdict(list)
    for conversation_id, value in targets.items():
        by_value[value].append(conversation_id)
    for value, group in by_value.items():
        # Only ever lowered: an inbound message stored meanwhile keeps its count.
        await scoped(Conversation, workspace_id).filter(
            id__in=group, unread_count__gt=value
        ).update(unread_count=value)
