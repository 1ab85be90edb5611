"""Receiving and checking uploads: free disk and size while receiving, content in a child
process (formcheck.jobs.probing), durably stored.

An upload is written under a random name in ``incoming/`` (mode 0600), fsynced, checked,
and only then moved to ``uploads/`` (the folder fsynced too): once the caller is told the
upload was accepted, a power cut cannot lose it. A rejected file is deleted. Nothing here
trusts the file name or extension.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from formcheck.jobs.config import BYTES_PER_MB, UploadLimits
from formcheck.jobs.datadir import DataDir
from formcheck.jobs.durable import (
    disk_free_bytes,
    fsync_path,
    is_disk_full,
    open_private,
    rename_durably,
)
from formcheck.jobs.errors import DiskFullError, UploadRejectedError
from formcheck.jobs.probing import probe_upload
from formcheck.types import VideoInfo

CHUNK_BYTES = 1 << 20
DISK_CHECK_BYTES = 16 * CHUNK_BYTES  # free space is looked at again after this much is written
FreeBytesFn = Callable[[Path], int]


@dataclass(frozen=True, slots=True)
class StoredUpload:
    upload_name: str  # random name under uploads/
    path: Path
    size_bytes: int
    info: VideoInfo


def _mb(n_bytes: float) -> str:
    return f"{n_bytes / BYTES_PER_MB:.0f} MB"


def disk_full_error(free_bytes: int) -> DiskFullError:
    return DiskFullError(
        f"The server is short of disk space ({_mb(free_bytes)} free) and cannot take uploads "
        "now; try again later."
    )


def ensure_free_disk(
    data: DataDir, min_free_bytes: int, incoming_bytes: int = 0,
    free_bytes: FreeBytesFn = disk_free_bytes,
) -> None:  # fmt: skip
    """Raise DiskFullError unless ``incoming_bytes`` more leave ``min_free_bytes`` free."""
    free = free_bytes(data.root)
    if free - incoming_bytes < min_free_bytes:
        raise disk_full_error(free)


def receive_upload(
    source: BinaryIO,
    data: DataDir,
    limits: UploadLimits,
    *,
    min_free_bytes: int = 0,
    free_bytes: FreeBytesFn = disk_free_bytes,
) -> StoredUpload:
    """Copy ``source`` to a random name, check it, and keep it durably.

    Raises UploadRejectedError (too big, not a usable video) or DiskFullError (the disk would
    be left with less than ``min_free_bytes``, or filled up while writing). The size limit
    is enforced while copying, so an over-limit upload never fills the disk.
    """
    ensure_free_disk(data, min_free_bytes, free_bytes=free_bytes)
    name = data.new_upload_name()
    incoming = data.incoming / name
    try:
        size = _copy_limited(source, incoming, limits.max_upload_bytes, data, min_free_bytes,
                             free_bytes)  # fmt: skip
        info = validate_upload(incoming, limits)
        final = data.upload_path(name)
        rename_durably(incoming, final)
    except BaseException as error:
        incoming.unlink(missing_ok=True)
        if is_disk_full(error):
            raise disk_full_error(free_bytes(data.root)) from error
        raise
    return StoredUpload(upload_name=name, path=final, size_bytes=size, info=info)


def _copy_limited(
    source: BinaryIO, target: Path, max_bytes: int, data: DataDir, min_free_bytes: int,
    free_bytes: FreeBytesFn,
) -> int:  # fmt: skip
    size = 0
    since_check = 0
    with os.fdopen(open_private(target), "wb") as out:
        while chunk := source.read(CHUNK_BYTES):
            size += len(chunk)
            if size > max_bytes:
                raise UploadRejectedError(
                    f"The file is larger than the {_mb(max_bytes)} limit; trim the clip to the "
                    "set itself or record at a lower resolution."
                )
            since_check += len(chunk)
            if since_check >= DISK_CHECK_BYTES:
                since_check = 0
                ensure_free_disk(data, min_free_bytes, free_bytes=free_bytes)
            out.write(chunk)
        out.flush()
        os.fsync(out.fileno())
    return size


def validate_upload(path: Path, limits: UploadLimits) -> VideoInfo:
    """Check a stored file (in a child process); return its description or raise
    UploadRejectedError with a plain reason (the stored name is never mentioned)."""
    size = path.stat().st_size
    if size == 0:
        raise UploadRejectedError("The file is empty (0 bytes); choose the video again.")
    if size > limits.max_upload_bytes:
        raise UploadRejectedError(
            f"The file is larger than the {_mb(limits.max_upload_bytes)} "
            "limit; trim the clip to the set itself."
        )
    return probe_upload(path, limits)


def discard_upload(data: DataDir, upload_name: str) -> None:
    with contextlib.suppress(FileNotFoundError, ValueError):
        path = data.upload_path(upload_name)
        path.unlink()
        fsync_path(path.parent)
