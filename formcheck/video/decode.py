"""Packet-level decoding that survives damaged files.

A corrupt packet is skipped (the decoder conceals the damage up to the next key frame); a
file that stops being readable part-way (truncated download, unreadable sector) ends the
stream early. Either way the frames decoded so far are kept and one warning says what
happened, instead of an exception ending the whole run.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass

import av
from av.container import InputContainer
from av.video.stream import VideoStream

log = logging.getLogger(__name__)

MAX_CONSECUTIVE_BAD_PACKETS = 8  # more than this in a row: the rest of the file is garbage
# Fewer frames than the container lists, by at least this many, suggests a truncated file.
MISSING_FRAMES_WARN = 2


@dataclass(slots=True)
class DecodeStats:
    """What went wrong while decoding one file (all zero for a clean file)."""

    expected_frames: int = 0  # the container's frame count; 0 when it does not say
    packets: int = 0  # packets read that carry data (including edit-list pre-roll)
    frames: int = 0
    bad_packets: int = 0
    stopped_early: str = ""  # why decoding stopped before the end of the file, if it did


def decode_video_frames(
    container: InputContainer, stream: VideoStream, label: str, stats: DecodeStats
) -> Iterator[av.VideoFrame]:
    """Yield decoded frames of ``stream`` in presentation order; never raises FFmpegError.

    ``label`` names the file in warnings; ``stats`` is filled in as decoding goes.
    """
    packets = container.demux(stream)
    consecutive_bad = 0
    try:
        while True:
            try:
                packet = next(packets)
            except StopIteration:
                _note_missing_frames(stats)
                return
            except av.FFmpegError as error:
                stats.stopped_early = f"reading the file failed ({error})"
                break
            if packet.size:
                stats.packets += 1
            try:
                frames = stream.decode(packet)
            except av.FFmpegError:
                stats.bad_packets += 1
                consecutive_bad += 1
                if consecutive_bad > MAX_CONSECUTIVE_BAD_PACKETS:
                    stats.stopped_early = f"{consecutive_bad} damaged packets in a row"
                    break
                continue
            consecutive_bad = 0
            for frame in frames:
                stats.frames += 1
                yield frame
        yield from _flush(stream, stats)
    finally:
        _warn_if_damaged(label, stats)


def _flush(stream: VideoStream, stats: DecodeStats) -> Iterator[av.VideoFrame]:
    """Drain frames still buffered in the decoder after an early stop."""
    try:
        frames = stream.decode(None)
    except av.FFmpegError:
        return
    for frame in frames:
        stats.frames += 1
        yield frame


def _note_missing_frames(stats: DecodeStats) -> None:
    missing = stats.expected_frames - stats.packets
    if stats.expected_frames and missing >= MISSING_FRAMES_WARN:
        stats.stopped_early = (
            f"the file ended {missing} frames short of the {stats.expected_frames} its header "
            "lists (it may be truncated)"
        )


def _warn_if_damaged(label: str, stats: DecodeStats) -> None:
    if not stats.frames:
        return  # nothing decoded: the caller reports the file as unusable instead
    if stats.stopped_early:
        log.warning(
            "Stopped decoding %s after %d frames: %s; the frames so far are kept.",
            label,
            stats.frames,
            stats.stopped_early,
        )
    elif stats.bad_packets:
        log.warning(
            "Skipped %d damaged packets in %s; %d frames were decoded.",
            stats.bad_packets,
            label,
            stats.frames,
        )
