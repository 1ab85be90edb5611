"""Receiving and checking uploads: size while receiving, content by decoding, duration.

An upload is written under a random name in ``incoming/``, checked, and only then moved to
``uploads/``; a rejected file is deleted. Nothing here trusts the file name or extension.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import av

from formcheck.errors import VideoOpenError
from formcheck.jobs.config import BYTES_PER_MB, UploadLimits
from formcheck.jobs.datadir import DataDir
from formcheck.jobs.errors import UploadRejectedError
from formcheck.types import VideoInfo
from formcheck.video import probe_video

CHUNK_BYTES = 1 << 20
REMEDY = "export or copy the clip again as an MP4 (H.264) and upload it again"
SECONDS_PER_MINUTE = 60.0
COMPLETE_FRACTION = 0.95  # fewer readable frames than this share of the header's: cut short


@dataclass(frozen=True, slots=True)
class StoredUpload:
    upload_name: str  # random name under uploads/
    path: Path
    size_bytes: int
    info: VideoInfo


def _mb(n_bytes: float) -> str:
    return f"{n_bytes / BYTES_PER_MB:.0f} MB"


def _duration(seconds: float) -> str:
    if seconds >= 2 * SECONDS_PER_MINUTE:
        return f"{seconds / SECONDS_PER_MINUTE:.0f} minutes"
    return f"{seconds:.0f} seconds"


def receive_upload(source: BinaryIO, data: DataDir, limits: UploadLimits) -> StoredUpload:
    """Copy ``source`` to a random name, check it, and keep it; raise UploadRejectedError.

    The size limit is enforced while copying, so an over-limit upload never fills the disk.
    """
    data.create()
    name = data.new_upload_name()
    incoming = data.incoming / name
    try:
        size = _copy_limited(source, incoming, limits.max_upload_bytes)
        info = validate_upload(incoming, limits)
        final = data.upload_path(name)
        incoming.replace(final)
    except BaseException:
        incoming.unlink(missing_ok=True)
        raise
    return StoredUpload(upload_name=name, path=final, size_bytes=size, info=info)


def _copy_limited(source: BinaryIO, target: Path, max_bytes: int) -> int:
    size = 0
    with target.open("wb") as out:
        while chunk := source.read(CHUNK_BYTES):
            size += len(chunk)
            if size > max_bytes:
                raise UploadRejectedError(
                    f"The file is larger than the {_mb(max_bytes)} limit; trim the clip to the "
                    "set itself or record at a lower resolution."
                )
            out.write(chunk)
    return size


def validate_upload(path: Path, limits: UploadLimits) -> VideoInfo:
    """Check a stored file by decoding it; return its description or raise
    UploadRejectedError with a plain reason (the stored name is never mentioned)."""
    size = path.stat().st_size
    if size == 0:
        raise UploadRejectedError("The file is empty (0 bytes); choose the video again.")
    if size > limits.max_upload_bytes:
        raise UploadRejectedError(
            f"The file is larger than the {_mb(limits.max_upload_bytes)} "
            "limit; trim the clip to the set itself."
        )
    try:
        info = probe_video(path)
    except VideoOpenError as error:
        raise UploadRejectedError(_plain_reason(str(error))) from error
    packets = count_video_packets(path)
    if packets <= 1:
        raise UploadRejectedError(
            "The file holds a single picture, not a video; record the set as a video."
        )
    if info.frame_count > 0 and packets < COMPLETE_FRACTION * info.frame_count:
        readable = (
            f"{packets / info.fps:.0f} of its {info.duration_s:.0f} s"
            if info.fps
            else (f"{packets} of its {info.frame_count} frames")
        )
        raise UploadRejectedError(
            f"The video is cut short: only {readable} can be read (the copy or the upload "
            f"was interrupted); {REMEDY}."
        )
    if info.duration_s > limits.max_duration_s:
        raise UploadRejectedError(
            f"The video is {_duration(info.duration_s)} long and the limit is "
            f"{_duration(limits.max_duration_s)}; trim it to the set itself."
        )
    return info


def count_video_packets(path: Path) -> int:
    """Compressed frames of the first video track that can be read (no decoding: fast)."""
    count = 0
    try:
        with av.open(str(path)) as container:
            for packet in container.demux(container.streams.video[0]):
                count += int(packet.size > 0)
    except (av.FFmpegError, OSError, IndexError):
        pass  # what was read before the damage counts
    return count


def _plain_reason(message: str) -> str:
    lowered = message.lower()
    if "no video track" in lowered:
        return "The file has no video in it (sound only, or another kind of file); " + REMEDY + "."
    if "no video frames" in lowered:
        return "The video has no pictures that can be decoded (0 frames); " + REMEDY + "."
    return (
        "The file is not a video that can be read: it may be damaged, cut short during the "
        f"upload, or another kind of file (such as a photo); {REMEDY}."
    )


def discard_upload(data: DataDir, upload_name: str) -> None:
    with contextlib.suppress(FileNotFoundError, ValueError):
        data.upload_path(upload_name).unlink()
