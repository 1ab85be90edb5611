"""Frames from a local camera through OpenCV, timed by a monotonic clock.

Frames are grabbed in a background thread that keeps only the most recent
``prefetch_frames``: when inference is slower than the camera, old frames are dropped
rather than queued, so feedback stays live.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from functools import partial

import cv2
import numpy as np
import numpy.typing as npt

from formcheck.errors import VideoOpenError
from formcheck.types import VideoFrame, VideoInfo
from formcheck.video.base import (
    DEFAULT_MAX_SIDE_PX,
    DEFAULT_PREFETCH_FRAMES,
    StreamingFrameSource,
    check_source_options,
)
from formcheck.video.geometry import delivered_size_px

log = logging.getLogger(__name__)

NS_PER_MS = 1_000_000
CAMERA_CODEC = "camera"

CaptureFactory = Callable[[int], cv2.VideoCapture]


class CameraFrameSource(StreamingFrameSource):
    """A local camera as a :class:`FrameSource`; see :func:`formcheck.video.open_source`.

    ``capture_factory`` opens the device (``cv2.VideoCapture`` by default; tests pass a
    factory that plays a file instead).
    """

    def __init__(
        self,
        index: int,
        *,
        max_side_px: int | None = DEFAULT_MAX_SIDE_PX,
        prefetch_frames: int = DEFAULT_PREFETCH_FRAMES,
        capture_factory: CaptureFactory = cv2.VideoCapture,
    ) -> None:
        check_source_options(max_side_px, prefetch_frames)
        capture = capture_factory(index)
        if not capture.isOpened():
            capture.release()
            raise VideoOpenError(
                f"Camera {index} could not be opened; check that it is connected and not in "
                "use by another program, or give a video file instead."
            )
        ok, first_bgr = capture.read()
        first_ns = time.monotonic_ns()
        if not ok or first_bgr is None:
            capture.release()
            raise VideoOpenError(
                f"Camera {index} opened but delivered no picture; check that it is not "
                "covered or in use by another program, then retry."
            )
        height_px, width_px = first_bgr.shape[:2]
        fps = capture.get(cv2.CAP_PROP_FPS)
        self.info = VideoInfo(
            path=f"camera:{index}",
            width_px=width_px,
            height_px=height_px,
            fps=float(fps) if fps and fps > 0 else 0.0,
            frame_count=0,
            duration_s=0.0,
            rotation_deg=0,
            codec=CAMERA_CODEC,
        )
        frame_size_px = delivered_size_px(width_px, height_px, max_side_px)
        produce = partial(
            _camera_frames, capture, np.asarray(first_bgr), first_ns, frame_size_px, index
        )
        self._start_frames(
            produce,
            frame_size_px,
            prefetch_frames,
            thread_name=f"formcheck-camera:{index}",
            release=capture.release,
            drop_oldest=True,
        )


def _to_rgb(bgr: npt.NDArray[np.uint8], frame_size_px: tuple[int, int]) -> npt.NDArray[np.uint8]:
    """Shrink (area averaging) when needed, then convert; returns a new C-contiguous array."""
    if (bgr.shape[1], bgr.shape[0]) != frame_size_px:
        bgr = np.asarray(cv2.resize(bgr, frame_size_px, interpolation=cv2.INTER_AREA))
    return np.asarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), dtype=np.uint8)


def _camera_frames(
    capture: cv2.VideoCapture,
    first_bgr: npt.NDArray[np.uint8],
    first_ns: int,
    frame_size_px: tuple[int, int],
    index: int,
) -> Iterator[VideoFrame]:
    """Read until the camera stops; t_ms counts from the first frame; releases the camera."""
    try:
        yield VideoFrame(index=0, t_ms=0.0, rgb=_to_rgb(first_bgr, frame_size_px))
        frame_index = 1
        last_ns = first_ns
        while True:
            ok, bgr = capture.read()
            now_ns = time.monotonic_ns()
            if not ok or bgr is None:
                log.warning("Camera %d stopped delivering frames after %d.", index, frame_index)
                return
            if now_ns <= last_ns:
                continue  # timestamps must increase
            last_ns = now_ns
            t_ms = (now_ns - first_ns) / NS_PER_MS
            rgb = _to_rgb(np.asarray(bgr, dtype=np.uint8), frame_size_px)
            yield VideoFrame(index=frame_index, t_ms=t_ms, rgb=rgb)
            frame_index += 1
    finally:
        capture.release()
