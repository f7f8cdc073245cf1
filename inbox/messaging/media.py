"""Fetching an inbound attachment from the provider into our storage.

Files live in ``DATA_DIR/storage/<workspace_id>/<random name>``: the provider's
filename is personal data and never part of a path (it is kept in the row).
A file above MEDIA_MAX_BYTES is not stored (``too_large``); a media type
outside ALLOWED_MEDIA_TYPES is not stored either (``refused``).
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from dataclasses import dataclass

from channels.errors import ProviderError
from channels.events import MediaRef
from inbox.broker import Broker
from inbox.live.events import build_message_event, publish_event
from inbox.messaging.adapters import build_adapter
from inbox.models import Attachment, Channel, ChannelStatus, Message
from inbox.privacy.stored_files import write_stored_file
from inbox.settings import Settings
from inbox.tenancy import scoped

logger = logging.getLogger(__name__)

PENDING = "pending"
STORED = "stored"
TOO_LARGE = "too_large"
REFUSED = "refused"
FAILED = "failed"
FILENAME_LENGTH = 255  # Attachment.filename's column size

# What we keep: pictures, voice notes and audio, video, documents. Anything else
# (executables, archives, HTML) could harm the agent who opens it.
ALLOWED_MEDIA_TYPES = frozenset(
    {
        "image/jpeg",
        "image/png",
        "image/gif",
        "image/webp",
        "audio/ogg",
        "audio/mpeg",
        "audio/mp4",
        "audio/aac",
        "audio/amr",
        "audio/wav",
        "video/mp4",
        "video/3gpp",
        "video/quicktime",
        "video/webm",
        "application/pdf",
        "text/plain",
        "text/csv",
        "application/msword",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.ms-excel",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.ms-powerpoint",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    }
)


class DownloadLater(Exception):
    """A transient provider failure: try the download again later."""


@dataclass
class MediaOutcome:
    status: str  # the attachment's download_status, or "missing"
    storage_key: str | None = None


async def download_attachment(
    settings: Settings, broker: Broker | None, workspace_id: str, attachment_id: str
) -> MediaOutcome:
    """Download one pending attachment; raises DownloadLater on transient failures."""
    attachment = await scoped(Attachment, workspace_id).filter(id=uuid.UUID(attachment_id)).first()
    if attachment is None:
        return MediaOutcome("missing")
    if attachment.download_status != PENDING:
        return MediaOutcome(attachment.download_status, attachment.storage_key)
    message = (
        await scoped(Message, workspace_id)
        .filter(id=attachment.message_id)
        .only("id", "channel_id", "conversation_id", "status")
        .first()
    )
    channel = (
        await scoped(Channel, workspace_id).filter(id=message.channel_id).first()
        if message is not None
        else None
    )
    pending = scoped(Attachment, workspace_id).filter(id=attachment.id, download_status=PENDING)
    if message is None or channel is None or channel.status == ChannelStatus.DELETED:
        await pending.update(download_status=FAILED)
        return MediaOutcome(FAILED)

    ref = MediaRef(
        kind=attachment.kind,  # type: ignore[arg-type]
        media_type=attachment.media_type,
        url=attachment.source_url,
        file_id=attachment.source_file_id,
        filename=attachment.filename,
        size=attachment.size,
    )
    try:
        async with build_adapter(settings, channel) as adapter:
            data, media_type, filename = await adapter.download_media(ref, settings.media_max_bytes)
    except ProviderError as exc:
        if exc.code == "too_large":
            status = TOO_LARGE
        elif exc.retryable:
            raise DownloadLater(exc.code or "provider") from None
        else:
            status = FAILED
        logger.info("media not stored", extra={"attachment_id": attachment_id, "code": exc.code})
        await pending.update(download_status=status)
        await announce(broker, workspace_id, message)
        return MediaOutcome(status)

    if media_type not in ALLOWED_MEDIA_TYPES:
        await pending.update(download_status=REFUSED, media_type=media_type[:127])
        await announce(broker, workspace_id, message)
        return MediaOutcome(REFUSED)

    name = filename or attachment.filename
    storage_key = f"{workspace_id}/{uuid.uuid4().hex}"
    path = write_stored_file(settings, storage_key, data)
    stored = await pending.update(
        download_status=STORED,
        storage_key=storage_key,
        size=len(data),
        checksum=hashlib.sha256(data).hexdigest(),
        media_type=media_type,
        filename=name[:FILENAME_LENGTH] if name else None,
    )
    if not stored:
        # Another run stored it first; keep theirs, drop ours.
        path.unlink(missing_ok=True)
        return MediaOutcome(STORED)
    await announce(broker, workspace_id, message)
    return MediaOutcome(STORED, storage_key)


async def announce(broker: Broker | None, workspace_id: str, message: Message) -> None:
    await publish_event(
        broker,
        workspace_id,
        "message.updated",
        build_message_event(message.conversation_id, message.id, message.status),
    )
