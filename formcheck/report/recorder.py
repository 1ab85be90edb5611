"""A sample sink that keeps what the overlays need (landmarks, back outline), without masks.

Pass an :class:`AnnotationRecorder` in ``analyze_video(..., sinks=(recorder,))``; after the
run it holds one small :class:`FrameOverlay` per frame, in the delivered (inference) frame's
pixels, for the annotated video and the key frames.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from formcheck.kinematics.spine import SpineConfig, extract_back_outline
from formcheck.types import Sample

F32 = npt.NDArray[np.float32]
BoolArray = npt.NDArray[np.bool_]

DEFAULT_MIN_VISIBILITY = 0.5  # landmarks less visible than this are not drawn
MATCH_TOLERANCE_MS = 1.0  # a decoded frame matches an overlay this close in time


@dataclass(frozen=True, slots=True)
class FrameOverlay:
    """What to draw on one frame.

    landmarks_px: (33, 2) x, y in the pixels of a frame ``image_size_px`` (width, height).
    visible: (33,) landmarks seen well enough to draw.
    outline_px: (N, 2) valid back-outline points, shoulder to hip, or None.
    """

    t_ms: float
    image_size_px: tuple[int, int]
    landmarks_px: F32 | None
    visible: BoolArray | None
    outline_px: F32 | None
    usable: bool


class AnnotationRecorder:
    """Collects one FrameOverlay per Sample (call it with each Sample, in time order)."""

    def __init__(
        self,
        *,
        spine: SpineConfig | None = None,
        min_visibility: float = DEFAULT_MIN_VISIBILITY,
        outlines: bool = True,
    ) -> None:
        self._spine = spine or SpineConfig()
        self._min_visibility = min_visibility
        self._outlines = outlines
        self._times_ms: list[float] = []
        self.overlays: list[FrameOverlay] = []

    def __call__(self, sample: Sample) -> None:
        pose = sample.pose
        landmarks: F32 | None = None
        visible: BoolArray | None = None
        outline: F32 | None = None
        if pose.landmarks_px is not None and pose.visibility is not None:
            landmarks = np.asarray(pose.landmarks_px[:, :2], dtype=np.float32).copy()
            visible = np.asarray(pose.visibility >= self._min_visibility, dtype=np.bool_)
            visible &= np.isfinite(landmarks).all(axis=1)
            if self._outlines and pose.mask is not None:
                outline = self._outline(sample)
        overlay = FrameOverlay(
            t_ms=sample.t_ms,
            image_size_px=(pose.image_width_px, pose.image_height_px),
            landmarks_px=landmarks,
            visible=visible,
            outline_px=outline,
            usable=sample.quality.usable,
        )
        if self._times_ms and sample.t_ms <= self._times_ms[-1]:
            raise ValueError("samples must reach the recorder in increasing time order")
        self._times_ms.append(sample.t_ms)
        self.overlays.append(overlay)

    def _outline(self, sample: Sample) -> F32 | None:
        back = extract_back_outline(sample.pose, sample.facing, self._spine)
        if back is None or not back.usable:
            return None
        points = back.points_px[back.valid]
        points = points[np.isfinite(points).all(axis=1)]
        return np.asarray(points, dtype=np.float32) if len(points) >= 2 else None

    def __len__(self) -> int:
        return len(self.overlays)

    def at(self, t_ms: float, tolerance_ms: float = MATCH_TOLERANCE_MS) -> FrameOverlay | None:
        """The overlay recorded at ``t_ms`` (within ``tolerance_ms``), else None."""
        i = bisect.bisect_left(self._times_ms, t_ms - tolerance_ms)
        if i < len(self._times_ms) and abs(self._times_ms[i] - t_ms) <= tolerance_ms:
            return self.overlays[i]
        return None
