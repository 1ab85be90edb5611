"""The part of the person mask that the back measures read: a box around the trunk.

The back outline (``formcheck.kinematics.spine``) is read along rays cast across the
shoulder-hip chord, from ``search_ventral_frac`` of the chord in front of it to
``search_dorsal_frac`` behind it, with the edge contrast sampled ``contrast_offset_px``
further. Nothing else reads the mask, so a frame only needs to keep (or send) the mask inside
the box that holds every such ray for either facing and for any choice of shoulder and hip
landmarks (left, right or their mean). Whole-frame masks are 1-8 MB a frame; the box is a
fraction of that, and reading the outline from it gives exactly the same values.

The box is computed from the estimator's raw landmarks, while the outline is read from the
smoothed ones (and by the floor analyzers with their own facing): ``smoothing_margin_frac``
of the chord plus ``margin_px`` leave room for the difference. The page computes the same box
in JavaScript (server/public/pose_browser.js) from the numbers the server sends it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from formcheck.kinematics.spine import SpineConfig
from formcheck.pose.landmarks import Landmark

F64 = npt.NDArray[np.float64]
Points = npt.NDArray[np.float32] | npt.NDArray[np.float64]

_TRUNK = (Landmark.LEFT_SHOULDER, Landmark.RIGHT_SHOULDER, Landmark.LEFT_HIP, Landmark.RIGHT_HIP)
# One Euro smoothing moved the shoulder-hip midpoints of the sample clips by at most about
# a tenth of the chord between raw and smoothed landmarks; a quarter leaves room for faster
# movements.
SMOOTHING_MARGIN_FRAC = 0.25
# Bilinear sampling reads the pixel beyond a sample point; a few more cover rounding.
SAMPLING_MARGIN_PX = 4.0


@dataclass(frozen=True, slots=True)
class MaskCropConfig:
    """How far around the trunk the mask is kept, from the back measures' own reach."""

    reach_frac: float  # of the longest shoulder-hip chord, beyond the trunk landmarks
    margin_px: float  # on top, in pixels
    min_chord_px: float  # a shorter chord is taken as this long (tiny or folded trunks)

    @classmethod
    def from_spine(cls, spine: SpineConfig | None = None) -> MaskCropConfig:
        cfg = spine or SpineConfig()
        return cls(
            reach_frac=max(cfg.search_ventral_frac, cfg.search_dorsal_frac) + SMOOTHING_MARGIN_FRAC,
            margin_px=cfg.contrast_offset_px + cfg.ray_step_px + SAMPLING_MARGIN_PX,
            min_chord_px=cfg.min_chord_px,
        )


DEFAULT_MASK_CROP = MaskCropConfig.from_spine()


@dataclass(frozen=True, slots=True)
class MaskBox:
    """A pixel box of the frame: columns x0..x1-1 and rows y0..y1-1."""

    x0: int
    y0: int
    x1: int
    y1: int

    @property
    def width_px(self) -> int:
        return self.x1 - self.x0

    @property
    def height_px(self) -> int:
        return self.y1 - self.y0

    def contains(self, other: MaskBox, tolerance_px: int = 0) -> bool:
        return (
            self.x0 <= other.x0 + tolerance_px
            and self.y0 <= other.y0 + tolerance_px
            and self.x1 >= other.x1 - tolerance_px
            and self.y1 >= other.y1 - tolerance_px
        )


def trunk_mask_box(
    landmarks_px: Points,
    width_px: int,
    height_px: int,
    config: MaskCropConfig = DEFAULT_MASK_CROP,
) -> MaskBox | None:
    """The box of the frame the back measures may read, or None when it is empty or unknown.

    ``landmarks_px`` is (33, >=2) in the frame's pixels.
    """
    trunk = np.asarray(landmarks_px[list(_TRUNK), :2], dtype=np.float64)
    if not np.isfinite(trunk).all():
        return None
    ls, rs, lh, rh = trunk
    chords = (
        np.linalg.norm(0.5 * (ls + rs) - 0.5 * (lh + rh)),
        np.linalg.norm(ls - lh),
        np.linalg.norm(rs - rh),
    )
    chord_px = max(float(max(chords)), config.min_chord_px)
    reach_px = config.reach_frac * chord_px + config.margin_px
    lo = trunk.min(axis=0) - reach_px
    hi = trunk.max(axis=0) + reach_px
    x0 = max(0, math.floor(lo[0]))
    y0 = max(0, math.floor(lo[1]))
    x1 = min(width_px, math.ceil(hi[0]) + 1)
    y1 = min(height_px, math.ceil(hi[1]) + 1)
    if x1 <= x0 or y1 <= y0:
        return None
    return MaskBox(x0, y0, x1, y1)
