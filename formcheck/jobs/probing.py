"""Checking an upload in a child process with time and memory limits.

``probe_upload`` runs ``formcheck.jobs.probe_child`` on the stored file and turns what it
measured into a VideoInfo, or an UploadRejectedError with one plain sentence. The server
process never opens the file with a decoder: a crafted file can only exhaust the child.
The duration is counted from the packets' own timestamps (or their number at the stream's
frame rate when they carry none), never read from the container's metadata.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from formcheck.jobs.config import UploadLimits
from formcheck.jobs.errors import UploadRejectedError
from formcheck.types import VideoInfo
from formcheck.video.geometry import swaps_axes, upright_rotation_cw_deg

REMEDY = "export or copy the clip again as an MP4 (H.264) and upload it again"
SECONDS_PER_MINUTE = 60.0
MEGAPIXEL = 1_000_000
BYTES_PER_MB = 1_000_000
COMPLETE_FRACTION = 0.95  # fewer readable frames than this share of the header's: cut short
UNTIMED_FPS = 25.0  # FFmpeg's own assumption for a stream that states no frame rate
CONTAINER_NAMES = {
    "mov,mp4,m4a,3gp,3g2,mj2": "MP4 or MOV",
    "matroska,webm": "MKV or WebM",
    "avi": "AVI",
    "mpegts": "MPEG-TS",
    "h264": "raw H.264 stream (no container, no timestamps)",
    "hevc": "raw H.265 stream (no container, no timestamps)",
    "gif": "GIF animation",
}
PICTURE_FORMATS = ("image2", "_pipe")  # FFmpeg's readers of single pictures (jpeg_pipe...)
SINGLE_PICTURE = "The file holds a single picture, not a video; record the set as a video."


class ProbeFailedError(UploadRejectedError):
    """The child process could not finish its look at the file (time, memory, crash)."""


def probe_upload(path: Path, limits: UploadLimits) -> VideoInfo:
    """Check ``path`` in a child process; return its description or raise
    UploadRejectedError with a plain reason (the stored name is never mentioned)."""
    facts = _run_child(path, limits)
    return _judge(path, facts, limits)


def _run_child(path: Path, limits: UploadLimits) -> dict[str, Any]:
    request = {"path": str(path), "limits": limits.model_dump(mode="json")}
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    try:
        done = subprocess.run(
            [sys.executable, "-m", "formcheck.jobs.probe_child"],
            input=json.dumps(request).encode(),
            capture_output=True,
            timeout=limits.probe_timeout_s,
            env=env,
            check=False,
        )
    except subprocess.TimeoutExpired as error:
        raise ProbeFailedError(
            f"The video could not be checked within {limits.probe_timeout_s:.0f} s (it may be "
            f"damaged or unusually complex); {REMEDY}."
        ) from error
    if done.returncode != 0 or not done.stdout:
        # out of memory (MemoryError, or killed by the address-space limit) or a decoder crash
        raise _needs_more(limits)
    facts: dict[str, Any] = json.loads(done.stdout)
    if facts.get("problem") == "memory":
        raise _needs_more(limits)
    return facts


def _needs_more(limits: UploadLimits) -> ProbeFailedError:
    return ProbeFailedError(
        "The video needs more memory or time to check than the server allows "
        f"({limits.probe_memory_bytes / BYTES_PER_MB:.0f} MB): record at a lower "
        f"resolution, or {REMEDY}."
    )


def _judge(path: Path, facts: dict[str, Any], limits: UploadLimits) -> VideoInfo:
    _refuse_problem(facts, limits)
    packets = int(facts["packets"])
    if packets <= 1:
        raise UploadRejectedError(SINGLE_PICTURE)
    fps = float(facts.get("fps") or 0.0)
    header_frames = int(facts.get("header_frames") or 0)
    if header_frames > 0 and packets < COMPLETE_FRACTION * header_frames:
        readable = f"{packets / fps:.0f} s" if fps else f"{packets} of its {header_frames} frames"
        raise UploadRejectedError(
            f"The video is cut short: only {readable} can be read (the copy or the upload "
            f"was interrupted); {REMEDY}."
        )
    duration_s = measured_duration_s(facts)
    if duration_s > limits.max_duration_s:
        raise UploadRejectedError(
            f"The video is {_duration(duration_s)} long and the limit is "
            f"{_duration(limits.max_duration_s)}; trim it to the set itself."
        )
    width_px, height_px = int(facts["width_px"]), int(facts["height_px"])
    rotation_cw_deg = upright_rotation_cw_deg(float(facts.get("rotation_ccw_deg") or 0.0))
    if swaps_axes(rotation_cw_deg):
        width_px, height_px = height_px, width_px
    return VideoInfo(
        path=str(path),
        width_px=width_px,
        height_px=height_px,
        fps=fps,
        frame_count=packets,
        duration_s=round(duration_s, 3),
        rotation_deg=rotation_cw_deg,
        codec=str(facts.get("codec", "")),
    )


def measured_duration_s(facts: dict[str, Any]) -> float:
    """From the packets' timestamps; packets without any count at the stream's rate."""
    fps = float(facts.get("fps") or 0.0) or UNTIMED_FPS
    span_s = facts.get("span_s")
    if span_s is None:
        return int(facts.get("packets") or 0) / fps
    return float(span_s) + int(facts.get("untimed_packets") or 0) / fps


def _refuse_problem(facts: dict[str, Any], limits: UploadLimits) -> None:
    problem = facts.get("problem")
    if not problem:
        return
    if problem == "unreadable":
        raise UploadRejectedError(
            "The file is not a video that can be read: it may be damaged, cut short during the "
            f"upload, or another kind of file (such as a photo); {REMEDY}."
        )
    if problem == "container":
        if str(facts["container"]).endswith(PICTURE_FORMATS):
            raise UploadRejectedError(SINGLE_PICTURE)
        kind = CONTAINER_NAMES.get(str(facts["container"]), f"{facts['container']} file")
        raise UploadRejectedError(
            f"The file is a {kind}, which is not accepted: upload an MP4, MOV, MKV, WebM or "
            f"AVI video; {REMEDY}."
        )
    if problem == "no_video_track":
        raise UploadRejectedError(
            "The file has no video in it (sound only, or another kind of file); " + REMEDY + "."
        )
    if problem == "codec":
        raise UploadRejectedError(
            f"The video is encoded as {facts['codec']}, which is not accepted (accepted: "
            f"{', '.join(limits.allowed_codecs)}); {REMEDY}."
        )
    if problem == "pixels":
        width = facts.get("width_px") or facts.get("header_width_px")
        height = facts.get("height_px") or facts.get("header_height_px")
        raise UploadRejectedError(
            f"The video is {width}x{height} pixels and the limit is "
            f"{limits.max_pixels / MEGAPIXEL:.1f} megapixels per frame; record at 4K or lower."
        )
    if problem == "frames":
        raise UploadRejectedError(
            f"The video has more than {limits.max_frames} frames (the limit); trim it to the "
            "set itself or record at a lower frame rate."
        )
    if problem == "no_frames":
        raise UploadRejectedError(
            "The video has no pictures that can be decoded (0 frames); " + REMEDY + "."
        )
    raise UploadRejectedError(f"The video cannot be used ({problem}); {REMEDY}.")


def _duration(seconds: float) -> str:
    if seconds >= 2 * SECONDS_PER_MINUTE:
        return f"{seconds / SECONDS_PER_MINUTE:.0f} minutes"
    return f"{seconds:.0f} seconds"
