"""Serving stored files (attachments, avatars) from the storage folder, safely."""

from __future__ import annotations

from pathlib import Path

from starlette.responses import FileResponse

from inbox.errors import NotFound
from inbox.settings import Settings

# Shown inline; anything else downloads, so stored HTML or SVG never runs on our origin.
INLINE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})


def stored_path(settings: Settings, storage_key: str) -> Path:
    root = settings.storage_dir.resolve()
    path = (root / storage_key).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        raise NotFound("the file is not stored")
    return path


def stored_file_response(
    settings: Settings, storage_key: str, media_type: str | None, filename: str | None
) -> FileResponse:
    path = stored_path(settings, storage_key)
    media_type = media_type or "application/octet-stream"
    inline = media_type in INLINE_TYPES
    response = FileResponse(
        path,
        media_type=media_type,
        filename=filename or path.name,
        content_disposition_type="inline" if inline else "attachment",
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response
