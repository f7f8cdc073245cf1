"""Files kept under ``settings.storage_dir``: attachments, avatars, export archives.

A *storage key* is a relative POSIX path under the storage folder whose first
segment is the owning workspace's id (``<workspace_id>/avatars/<name>.jpg``), so
a workspace's files live in one folder. Rows hold keys, never absolute paths.
Files are removed only after the transaction that deleted their rows has
committed; a file that is already gone counts as removed.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

from inbox.settings import Settings


class InvalidStorageKey(ValueError):
    """A key that would leave the storage folder (absolute, ``..``, empty)."""


def storage_path(settings: Settings, key: str) -> Path:
    """The file a storage key names; refuses keys that escape the storage folder."""
    relative = PurePosixPath(key)
    if not key or relative.is_absolute() or ".." in relative.parts:
        raise InvalidStorageKey("storage keys are relative paths inside the storage folder")
    return Path(settings.storage_dir, *relative.parts)


def write_stored_file(settings: Settings, key: str, data: bytes) -> Path:
    """Write ``data`` under ``key`` atomically (a reader never sees half a file)."""
    path = storage_path(settings, key)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".part-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    return path


def remove_stored_files(settings: Settings, keys: Iterable[str | None]) -> int:
    """Delete the files of ``keys``; missing files and empty keys are skipped.

    Returns how many files were actually unlinked.
    """
    removed = 0
    for key in keys:
        if not key:
            continue
        try:
            storage_path(settings, key).unlink()
        except (FileNotFoundError, InvalidStorageKey):
            continue
        removed += 1
    return removed
