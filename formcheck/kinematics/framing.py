"""Is the person framed so they can be measured? One frame's answer, for the live setup check
and the report alike (one place for the rule and its limits: ``QualityConfig`` and the
exercise's ``SetupSpec``).

- cut at the edge: the feet (ankles, heels, toes), the head (nose, ears) or another key joint
  within ``edge_margin_px`` of the picture's edge;
- too small: below the pose model's own pixel floor (``min_person_height_px``) or filling
  less than ``min_fill_share`` of the picture (height standing, length lying down);
- the wrong view: the camera's angle from the side beyond what the exercise accepts.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Collection
from dataclasses import dataclass

import numpy as np

from formcheck.config import QualityConfig
from formcheck.kinematics.orientation import OrientationConfig, classify_view
from formcheck.kinematics.stage import frame_quality
from formcheck.pose.landmarks import SIDE_JOINTS, Landmark
from formcheck.types import CameraView, PoseFrame

VIEW_WINDOW_S = 0.5  # the view is judged on the median camera angle over this long
MS_PER_S = 1000.0
FEET = [SIDE_JOINTS[s][j] for s in ("left", "right") for j in ("ankle", "heel", "foot_index")]
HEAD = [Landmark.NOSE, Landmark.LEFT_EAR, Landmark.RIGHT_EAR]


@dataclass(frozen=True, slots=True)
class Framing:
    """One frame's framing. ``fill_share``: the person's extent over the picture's, along
    the person's longer axis (NaN without a pose)."""

    has_pose: bool
    feet_out: bool = False
    head_out: bool = False
    body_out: bool = False  # a key joint other than the feet and head at the edge
    too_small: bool = False  # below_pixel_floor, or filling less than min_fill_share
    below_pixel_floor: bool = False
    fill_share: float = math.nan
    seen_clearly: bool = False  # the key joints' mean visibility reaches min_visibility

    @property
    def cut(self) -> bool:
        return self.feet_out or self.head_out or self.body_out


def frame_framing(pose: PoseFrame, quality: QualityConfig) -> Framing:
    """How ``pose`` sits in its picture (the raw pose: before smoothing or calibration)."""
    p = pose.landmarks_px
    if p is None or not pose.has_pose:
        return Framing(has_pose=False)
    frame_q = frame_quality(pose, quality)
    margin = quality.edge_margin_px
    width_px, height_px = pose.image_width_px, pose.image_height_px

    def outside(indices: list[Landmark]) -> bool:
        pts = p[indices, :2]
        return bool(
            np.any(pts[:, 0] < margin)
            or np.any(pts[:, 0] > width_px - margin)
            or np.any(pts[:, 1] < margin)
            or np.any(pts[:, 1] > height_px - margin)
        )

    feet_out = outside(FEET)
    head_out = outside(HEAD)
    # The person's longer axis decides which side of the picture they are measured against:
    # a standing person against its height, a lying one against its width.
    extent_y = float(np.ptp(p[:, 1]))
    extent_x = float(np.ptp(p[:, 0]))
    if extent_y >= extent_x:
        share = extent_y / height_px if height_px > 0 else math.nan
    else:
        share = extent_x / width_px if width_px > 0 else math.nan
    return Framing(
        has_pose=True,
        feet_out=feet_out,
        head_out=head_out,
        body_out=not frame_q.in_frame and not (feet_out or head_out),
        too_small=frame_q.too_small or share < quality.min_fill_share,
        below_pixel_floor=frame_q.too_small,
        seen_clearly=frame_q.mean_visibility >= quality.min_visibility,
        fill_share=min(1.0, share),
    )


def wrong_view(
    yaw_deg: float,
    *,
    accepted_views: Collection[str],
    max_yaw_from_side_deg: float | None,
    orientation: OrientationConfig,
) -> bool:
    """Whether a camera ``yaw_deg`` from the side is a view the exercise does not accept (its
    setup spec's views and yaw limit; an unknown yaw, NaN, is not a problem)."""
    return view_not_accepted(
        classify_view(yaw_deg, orientation),
        yaw_deg,
        accepted_views=accepted_views,
        max_yaw_from_side_deg=max_yaw_from_side_deg,
    )


def view_not_accepted(
    view: CameraView,
    yaw_deg: float,
    *,
    accepted_views: Collection[str],
    max_yaw_from_side_deg: float | None,
) -> bool:
    """:func:`wrong_view` for a view already classified (a Sample's)."""
    if max_yaw_from_side_deg is not None and yaw_deg > max_yaw_from_side_deg:
        return True  # NaN compares False: an unknown yaw is not a problem
    return view is not CameraView.UNKNOWN and view.value not in accepted_views


class YawWindow:
    """The median camera angle from the side over the last ``window_s`` (one frame's angle
    flickers by several degrees; the view is judged on this median)."""

    def __init__(self, window_s: float = VIEW_WINDOW_S) -> None:
        self._window_ms = window_s * MS_PER_S
        self._yaw_deg: deque[tuple[float, float]] = deque()

    def push(self, t_ms: float, yaw_deg: float) -> float:
        """Add one frame's angle (NaN: unknown, not added); the window's median, NaN if empty."""
        if not math.isnan(yaw_deg):
            self._yaw_deg.append((t_ms, yaw_deg))
        while self._yaw_deg and self._yaw_deg[0][0] < t_ms - self._window_ms:
            self._yaw_deg.popleft()
        if not self._yaw_deg:
            return math.nan
        return float(np.median([yaw for _, yaw in self._yaw_deg]))

    def clear(self) -> None:
        self._yaw_deg.clear()
