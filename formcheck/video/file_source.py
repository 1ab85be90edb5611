"""Frames from a video file, decoded by PyAV ahead of the consumer.

Per frame, one swscale call converts the decoder's YUV straight to RGB and shrinks it to the
delivered size (no BGR->RGB copy, no separate resize); a quarter-turn rotation, when the
file's display matrix asks for one, is the only other pass over the pixels. Timestamps are
the frames' own presentation times (pts x time base), so variable-frame-rate phone clips
keep their real timing.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from fractions import Fraction
from functools import partial
from itertools import chain
from pathlib import Path

import numpy as np
from av.video.reformatter import Interpolation, VideoReformatter

from formcheck.types import VideoFrame
from formcheck.video.base import (
    DEFAULT_MAX_SIDE_PX,
    DEFAULT_PREFETCH_FRAMES,
    StreamingFrameSource,
    check_source_options,
)
from formcheck.video.geometry import delivered_size_px, rotate_upright, swaps_axes
from formcheck.video.probe import OpenedVideo, open_video

log = logging.getLogger(__name__)

MS_PER_S = 1000.0
FALLBACK_FPS = 30.0  # only to space frames that carry no timestamp at all
# swscale's area averaging: as fast as bilinear here and free of aliasing when shrinking.
DOWNSCALE_INTERPOLATION = Interpolation.AREA


class PtsClock:
    """Turns presentation timestamps into ms from the first frame, strictly increasing.

    Frames whose time does not advance (duplicated or out-of-order pts in a damaged file)
    are dropped, because pose tracking needs increasing timestamps. A frame without any
    pts is placed one nominal frame period after the previous one.
    """

    def __init__(self, time_base: Fraction | None, nominal_period_ms: float) -> None:
        self._ms_per_tick = float(time_base * 1000) if time_base else None
        self._nominal_period_ms = nominal_period_ms
        self._first_pts: int | None = None
        self._last_t_ms: float | None = None
        self.dropped_frames = 0
        self.frames_without_pts = 0

    def t_ms(self, pts: int | None) -> float | None:
        """Time of a frame with ``pts``, or None when the frame must be dropped."""
        if pts is None or self._ms_per_tick is None:
            self.frames_without_pts += 1
            t_ms = 0.0 if self._last_t_ms is None else self._last_t_ms + self._nominal_period_ms
        else:
            if self._first_pts is None:
                self._first_pts = pts
            t_ms = (pts - self._first_pts) * self._ms_per_tick
        if self._last_t_ms is not None and t_ms <= self._last_t_ms:
            self.dropped_frames += 1
            return None
        self._last_t_ms = t_ms
        return t_ms

    def warn_if_irregular(self, label: str) -> None:
        if self.dropped_frames:
            log.warning(
                "Dropped %d frames of %s whose timestamps did not advance.",
                self.dropped_frames,
                label,
            )
        if self.frames_without_pts:
            log.warning(
                "%d frames of %s had no timestamp; they were spaced %.1f ms apart.",
                self.frames_without_pts,
                label,
                self._nominal_period_ms,
            )


class FileFrameSource(StreamingFrameSource):
    """A video file as a :class:`FrameSource`; see :func:`formcheck.video.open_source`."""

    def __init__(
        self,
        path: str | Path,
        *,
        max_side_px: int | None = DEFAULT_MAX_SIDE_PX,
        prefetch_frames: int = DEFAULT_PREFETCH_FRAMES,
    ) -> None:
        check_source_options(max_side_px, prefetch_frames)
        opened = open_video(path)
        self.info = opened.info
        frame_size_px = delivered_size_px(self.info.width_px, self.info.height_px, max_side_px)
        self._start_frames(
            partial(_delivered_frames, opened, frame_size_px),
            frame_size_px,
            prefetch_frames,
            thread_name=f"formcheck-decode:{path}",
            release=opened.close,
        )


def _delivered_frames(opened: OpenedVideo, frame_size_px: tuple[int, int]) -> Iterator[VideoFrame]:
    """Decode, convert, shrink and turn upright every frame of ``opened``; closes it at the end."""
    label = str(opened.path)
    nominal_period_ms = MS_PER_S / (opened.info.fps or FALLBACK_FPS)
    clock = PtsClock(opened.stream.time_base, nominal_period_ms)
    width_px, height_px = frame_size_px
    if swaps_axes(opened.rotation_cw_deg):
        width_px, height_px = height_px, width_px  # size in the stored (unrotated) layout
    first = opened.first_frame
    shrinking = (width_px, height_px) != (first.width, first.height)
    interpolation = DOWNSCALE_INTERPOLATION if shrinking else None
    reformatter = VideoReformatter()
    index = 0
    try:
        for frame in chain((first,), opened.frames):
            t_ms = clock.t_ms(frame.pts)
            if t_ms is None:
                continue
            rgb_frame = reformatter.reformat(
                frame, width=width_px, height=height_px, format="rgb24", interpolation=interpolation
            )
            rgb = np.asarray(rgb_frame.to_ndarray(), dtype=np.uint8)  # rgb24: a view, no copy
            rgb = rotate_upright(rgb, opened.rotation_cw_deg)
            yield VideoFrame(index=index, t_ms=t_ms, rgb=rgb)
            index += 1
    finally:
        opened.close()
        clock.warn_if_irregular(label)
