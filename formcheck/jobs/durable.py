"""Writes that survive a crash or a power cut, and files only their owner can read.

Uploads, outcomes and reports are fsynced before anyone is told they exist; a rename is
followed by an fsync of the folder it happened in (the rename itself lives in the folder's
data). Folders are created 0700 and files 0600: recordings of people exercising are private.
"""

from __future__ import annotations

import errno
import os
import secrets
import shutil
from pathlib import Path

PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600
PRIVATE_UMASK = 0o077  # what a process creating private files runs with: 0600 and 0700
DISK_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})
TEMP_MARK = ".tmp-"


def private_dir(path: Path) -> Path:
    """``path`` (and missing parents) as a folder only its owner can enter."""
    path.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR_MODE)
    if path.stat().st_mode & 0o777 != PRIVATE_DIR_MODE:
        path.chmod(PRIVATE_DIR_MODE)
    return path


def open_private(path: Path) -> int:
    """A new file (never an existing one) open for writing, mode 0600; returns the fd."""
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)


def fsync_path(path: Path) -> None:
    """Flush a file's or a folder's data to the disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_tree(folder: Path) -> None:
    """Flush every file in ``folder`` (not below), then the folder itself."""
    for entry in folder.iterdir():
        if entry.is_file():
            fsync_path(entry)
    fsync_path(folder)


def write_durably(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` all at once: a crash leaves the old or the new file."""
    temp = path.with_name(f"{path.name}{TEMP_MARK}{secrets.token_hex(4)}")
    fd = open_private(temp)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    fsync_path(path.parent)


def rename_durably(source: Path, target: Path) -> None:
    """Rename and flush the folder(s) holding the names."""
    os.replace(source, target)
    fsync_path(target.parent)
    if source.parent != target.parent:
        fsync_path(source.parent)


def disk_free_bytes(path: Path) -> int:
    return int(shutil.disk_usage(path).free)


def is_disk_full(error: BaseException) -> bool:
    """A write failed because the disk (or the user's quota) is full."""
    return isinstance(error, OSError) and error.errno in DISK_FULL_ERRNOS
