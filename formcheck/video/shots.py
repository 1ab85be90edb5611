"""Camera cuts in a video file: the frames where an edited clip jumps to another shot.

People post edited clips: a lift filmed from two angles, a title card, the tail of the
previous clip in the first frame. Across a cut, every landmark jumps at once; the measures
read as a movement that never happened (a chest "dropping" 18 deg between two shots). The
analysis marks the frame that begins a shot (``PoseFrame.shot_cut``); a rep that spans a cut
is counted but not judged. Thresholds and their measurement: :class:`ShotCutConfig`.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

import cv2
import numpy as np
import numpy.typing as npt

from formcheck.config import ShotCutConfig

T = TypeVar("T")
Thumbnail = npt.NDArray[np.float32]


# Every few pixels are read before averaging: at least this many samples a thumbnail pixel
# along each axis (a full-size area average cost 3 ms of a 720p frame; this 0.1 ms).
SAMPLES_PER_THUMBNAIL_PX = 4


def thumbnail(rgb: npt.NDArray[np.uint8], config: ShotCutConfig) -> Thumbnail:
    """The frame shrunk (every few pixels, then area average) and turned to HSV, as float32
    0..255."""
    height_px, width_px = rgb.shape[:2]
    stride = max(
        1,
        min(
            height_px // (config.thumbnail_height_px * SAMPLES_PER_THUMBNAIL_PX),
            width_px // (config.thumbnail_width_px * SAMPLES_PER_THUMBNAIL_PX),
        ),
    )
    small = cv2.resize(
        rgb[::stride, ::stride],
        (config.thumbnail_width_px, config.thumbnail_height_px),
        interpolation=cv2.INTER_AREA,
    )
    return cv2.cvtColor(small, cv2.COLOR_RGB2HSV).astype(np.float32)


def change(a: Thumbnail, b: Thumbnail) -> float:
    """Mean absolute difference of two thumbnails over pixels and channels (0..255)."""
    return float(np.abs(a - b).mean())


def is_cut(changes: list[float], index: int, config: ShotCutConfig) -> bool:
    """Whether frame ``index`` begins a new shot, given every frame's change from the one
    before (``changes[0]`` is the first frame's: 0), at least ``frames_after`` beyond it
    where the video has them."""
    if index < 1:
        return False
    value = changes[index]
    if value < config.change_min_level:
        return False
    before = changes[max(1, index - config.frames_before) : index]
    after = changes[index + 1 : index + 1 + config.frames_after]
    usual = max(
        float(np.median(before)) if before else 0.0,
        float(np.median(after)) if after else 0.0,
        config.change_floor_level,
    )
    return value >= config.spike_ratio_min * usual


def mark_cuts(
    items: Iterable[T], rgb_of: Callable[[T], npt.NDArray[np.uint8]], config: ShotCutConfig
) -> Iterator[tuple[T, bool]]:
    """Each item with whether its frame begins a new shot, in order, reading
    ``frames_after`` frames ahead (only thumbnails and the items themselves are held)."""
    if not config.enabled:
        for item in items:
            yield item, False
        return
    changes: list[float] = []
    ahead: deque[T] = deque()
    previous: Thumbnail | None = None
    first = 0  # index in ``changes`` of the oldest item held in ``ahead``
    keep = config.frames_before + config.frames_after + 1
    for item in items:
        thumb = thumbnail(rgb_of(item), config)
        changes.append(0.0 if previous is None else change(previous, thumb))
        previous = thumb
        ahead.append(item)
        if len(ahead) > config.frames_after:
            yield ahead.popleft(), is_cut(changes, first, config)
            first += 1
        if len(changes) > 2 * keep:  # keep the history bounded: drop what no test reads
            drop = len(changes) - keep
            del changes[:drop]
            first -= drop
    while ahead:
        yield ahead.popleft(), is_cut(changes, first, config)
        first += 1
