"""Turns smoothed PoseFrames into Samples: orientation, quality and all measures."""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from formcheck.config import QualityConfig
from formcheck.kinematics import names as n
from formcheck.kinematics.measures import MEASURE_NAMES, compute_measures, knee_flexion_deg
from formcheck.kinematics.orientation import (
    FacingTracker,
    OrientationConfig,
    camera_yaw_from_side_deg,
    classify_view,
    forward_x,
    near_side,
)
from formcheck.pose.landmarks import SIDE_JOINTS, Landmark
from formcheck.types import CameraView, Facing, FrameQuality, PoseFrame, Sample

# Beyond the knee's range (about 160 deg when pushed passively): a leg that reads folded
# further back on itself is a misplaced landmark, not a knee. A side-on render read the near
# knee at 170-179 deg for 1.6 s while the person stood (the far knee 3-7 deg), and every
# such stretch counted as a squat rep (13 reps for 5).
KNEE_FLEXION_MAX_DEG = 165.0

# Extra measures from the person mask (kinematics.spine), merged into each Sample: lengths
# (names ending in ``_mm``) come in pixels and are converted to millimetres with the
# calibration's scale; other measures (``lumbar_flexion_deg``) pass as they are.
SpineMeasurer = Callable[[PoseFrame, Facing], dict[str, float]]
MM_SUFFIX = "_mm"


@dataclass(frozen=True, slots=True)
class FrameOrientation:
    """What a frame says before the scale is known: orientation and mask-derived lengths."""

    side: str
    facing: Facing
    view: CameraView
    yaw_from_side_deg: float
    spine_px: dict[str, float] = field(default_factory=dict)


NO_ORIENTATION = FrameOrientation("left", Facing.UNKNOWN, CameraView.UNKNOWN, math.nan)

_KEY_JOINTS = [Landmark.NOSE] + [
    SIDE_JOINTS[s][j]
    for s in ("left", "right")
    for j in ("shoulder", "hip", "knee", "ankle", "heel", "foot_index")
]


def frame_quality(pose: PoseFrame, config: QualityConfig) -> FrameQuality:
    p, vis = pose.landmarks_px, pose.visibility
    if p is None or vis is None:
        return FrameQuality(has_pose=False)
    key = p[_KEY_JOINTS, :2]
    margin = config.edge_margin_px
    in_frame = bool(
        np.all(key[:, 0] >= margin)
        and np.all(key[:, 0] <= pose.image_width_px - margin)
        and np.all(key[:, 1] >= margin)
        and np.all(key[:, 1] <= pose.image_height_px - margin)
    )
    height_px = float(np.ptp(p[:, 1]))
    # A lying person (plank, bridge) is long, not tall: their size is their longest extent.
    extent_px = max(height_px, float(np.ptp(p[:, 0])))
    return FrameQuality(
        has_pose=True,
        in_frame=in_frame,
        mean_visibility=float(np.mean(vis[_KEY_JOINTS])),
        person_height_px=height_px,
        too_small=extent_px < config.min_person_height_px,
    )


class NearSideTracker:
    """Which side faces the camera, voted over recent frames so it does not flicker."""

    def __init__(self, memory_frames: float = 15.0) -> None:
        self._vote = 0.0  # > 0 left, < 0 right
        self._decay = 1.0 - 1.0 / memory_frames
        self.side = "left"

    def update(self, pose: PoseFrame) -> str:
        self._vote = self._decay * self._vote + (1.0 if near_side(pose) == "left" else -1.0)
        if self._vote > 0:
            self.side = "left"
        elif self._vote < 0:
            self.side = "right"
        return self.side


def thigh_fraction(pose: PoseFrame, side: str) -> float:
    """Thigh length over thigh + shank length of one leg, in the image."""
    p = pose.landmarks_px
    assert p is not None
    j = SIDE_JOINTS[side]
    thigh = float(np.linalg.norm(p[j["hip"], :2] - p[j["knee"], :2]))
    shank = float(np.linalg.norm(p[j["knee"], :2] - p[j["ankle"], :2]))
    return thigh / (thigh + shank) if thigh + shank > 0 else math.nan


class LegConsistencyCheck:
    """Falls back to the far leg when the near leg's landmarks are implausible.

    A misplaced knee (on a kettlebell, a hand, the other leg) changes how a leg splits into
    thigh and shank, which in a person stays fixed. The typical split is the running median
    over both legs and recent frames; when the near leg departs from it by more than
    ``tolerance`` and the far leg fits clearly better, the far leg's side is used for the
    frame's sagittal measures. So it is when the near knee reads folded beyond the knee's
    range (``knee_flexion_max_deg``) and the far one does not.
    """

    def __init__(
        self,
        memory_frames: int = 600,
        tolerance: float = 0.03,
        margin: float = 0.02,
        knee_flexion_max_deg: float = KNEE_FLEXION_MAX_DEG,
    ) -> None:
        self._fractions: deque[float] = deque(maxlen=2 * memory_frames)
        self._tolerance = tolerance
        self._margin = margin
        self._knee_max = knee_flexion_max_deg

    def choose(self, pose: PoseFrame, near: str) -> str:
        far = "right" if near == "left" else "left"
        p = pose.landmarks_px
        assert p is not None
        if knee_flexion_deg(p, near) > self._knee_max >= knee_flexion_deg(p, far):
            return far  # the near leg is folded back on itself: a misplaced landmark
        f_near, f_far = thigh_fraction(pose, near), thigh_fraction(pose, far)
        if not (math.isfinite(f_near) and math.isfinite(f_far)):
            return near
        self._fractions.extend((f_near, f_far))
        typical = float(np.median(self._fractions))
        off_near, off_far = abs(f_near - typical), abs(f_far - typical)
        if off_near > self._tolerance and off_far < off_near - self._margin:
            return far
        return near


class KinematicsStage:
    """One per stream: keeps the facing and near-side state between frames."""

    def __init__(
        self,
        quality: QualityConfig,
        orientation: OrientationConfig | None = None,
        spine: SpineMeasurer | None = None,
    ) -> None:
        self._quality = quality
        self._orientation = orientation or OrientationConfig()
        self._facing = FacingTracker(self._orientation)
        self._near = NearSideTracker()
        self._legs = LegConsistencyCheck()
        self._spine = spine

    def orient(self, pose: PoseFrame) -> FrameOrientation:
        """Update the orientation state with this frame and read its mask.

        After this the frame's mask is no longer needed, so frames held back during
        calibration can drop it.
        """
        if not pose.has_pose:
            return NO_ORIENTATION
        yaw_deg = camera_yaw_from_side_deg(pose)
        view = classify_view(yaw_deg, self._orientation)
        facing = self._facing.update(pose, view)
        side = self._legs.choose(pose, self._near.update(pose))
        spine_px = self._spine(pose, facing) if self._spine is not None else {}
        return FrameOrientation(side, facing, view, yaw_deg, spine_px)

    def sample(
        self,
        pose: PoseFrame,
        orientation: FrameOrientation,
        mm_per_px: float,
        world_to_mm: float,
    ) -> Sample:
        """Measures of a frame whose orientation was found by ``orient``."""
        quality = frame_quality(pose, self._quality)
        if not pose.has_pose:
            return Sample(
                t_ms=pose.t_ms,
                measures=dict.fromkeys(MEASURE_NAMES, math.nan),
                facing=Facing.UNKNOWN,
                view=CameraView.UNKNOWN,
                quality=quality,
                pose=pose,
            )
        measures = compute_measures(
            pose,
            side=orientation.side,
            forward_x=forward_x(orientation.facing),
            mm_per_px=mm_per_px,
            world_to_mm=world_to_mm,
        )
        measures[n.CAMERA_YAW_FROM_SIDE_DEG] = orientation.yaw_from_side_deg
        for name, value in orientation.spine_px.items():
            # lengths come in pixels; anything else (lumbar_flexion_deg) is already in its unit
            measures[name] = value * mm_per_px if name.endswith(MM_SUFFIX) else value
        return Sample(
            t_ms=pose.t_ms,
            measures=measures,
            facing=orientation.facing,
            view=orientation.view,
            quality=quality,
            pose=pose,
        )
