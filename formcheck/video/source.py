"""Open a frame source from what the user typed: a video file path or a camera index.

Example::

    with open_source("clip.mp4", max_side_px=1280) as source:
        width_px, height_px = source.frame_size_px
        for frame in source:  # VideoFrame(index, t_ms, rgb), upright RGB uint8
            ...
"""

from __future__ import annotations

from pathlib import Path

from formcheck.video.base import DEFAULT_MAX_SIDE_PX, DEFAULT_PREFETCH_FRAMES, FrameSource
from formcheck.video.camera import CameraFrameSource
from formcheck.video.file_source import FileFrameSource


def camera_index(spec: str | Path | int) -> int | None:
    """The camera index ``spec`` names (an int, or digits such as "0"), else None.

    A string of digits that is also the name of an existing file means the file.
    """
    if isinstance(spec, bool):
        raise TypeError("a frame source is a file path or a camera index, not a bool")
    if isinstance(spec, int):
        return spec
    if isinstance(spec, str):
        text = spec.strip()
        if text.isdigit() and not Path(spec).exists():
            return int(text)
    return None


def open_source(
    spec: str | Path | int,
    *,
    max_side_px: int | None = DEFAULT_MAX_SIDE_PX,
    prefetch_frames: int = DEFAULT_PREFETCH_FRAMES,
) -> FrameSource:
    """Open a video file (path) or a local camera (int or digits such as "0").

    ``max_side_px``: frames whose long side is larger are shrunk to it, keeping the aspect
    ratio (None keeps the native size). ``prefetch_frames``: frames decoded ahead in a
    background thread (0 decodes in the caller's thread). Raises
    :class:`formcheck.errors.VideoOpenError` when the input cannot be used.
    """
    index = camera_index(spec)
    if index is not None:
        return CameraFrameSource(index, max_side_px=max_side_px, prefetch_frames=prefetch_frames)
    path = spec if isinstance(spec, Path) else Path(str(spec))
    return FileFrameSource(path, max_side_px=max_side_px, prefetch_frames=prefetch_frames)
