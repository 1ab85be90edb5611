"""Frame sources: video files and cameras as upright RGB frames with real timestamps."""

from formcheck.video.base import DEFAULT_MAX_SIDE_PX, DEFAULT_PREFETCH_FRAMES, FrameSource
from formcheck.video.probe import probe_video
from formcheck.video.source import open_source

__all__ = [
    "DEFAULT_MAX_SIDE_PX",
    "DEFAULT_PREFETCH_FRAMES",
    "FrameSource",
    "open_source",
    "probe_video",
]
