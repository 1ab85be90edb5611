"""Which way the person faces, which side is nearer the camera, and the camera view."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from formcheck.pose.landmarks import SIDE_JOINTS, Landmark
from formcheck.types import CameraView, Facing, PoseFrame

L = Landmark


class OrientationConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    side_view_max_yaw_deg: float = Field(
        25.0, gt=0, lt=90, description="camera within this angle of the side: side view"
    )
    front_view_min_yaw_deg: float = Field(
        60.0, gt=0, le=90, description="camera beyond this angle from the side: front view"
    )
    facing_switch_score: float = Field(
        0.15, gt=0, description="facing score (torso lengths) needed to switch facing"
    )
    facing_switch_persist_ms: float = Field(
        250.0, ge=0, description="how long the new facing must hold before it is taken"
    )


def _mid(points: np.ndarray, a: Landmark, b: Landmark) -> np.ndarray:
    return np.asarray((points[a] + points[b]) / 2.0)


def near_side(pose: PoseFrame) -> str:
    """The side ("left"/"right", the person's own) that the camera sees better.

    In a side view the far-side joints are guesses; the near side has higher visibility and,
    in MediaPipe's relative depth, smaller z (closer to the camera).
    """
    assert pose.visibility is not None and pose.landmarks_px is not None
    score = {}
    for side, joints in SIDE_JOINTS.items():
        idx = [joints[j] for j in ("shoulder", "hip", "knee", "ankle")]
        score[side] = float(np.sum(pose.visibility[idx])) - float(
            np.mean(pose.landmarks_px[idx, 2])
        ) / max(float(np.ptp(pose.landmarks_px[:, 1])), 1.0)
    return "left" if score["left"] >= score["right"] else "right"


def facing_score(pose: PoseFrame) -> float:
    """Positive when the person faces image right, negative for image left, in torso lengths.

    Uses where the nose points relative to the ears and where the toes point relative to the
    heels; both stay right when the person bends over. On all fours (trunk nearer level than
    upright, a shin along the floor under a knee well below the hip, no shin upright) the
    toes point backwards, so the trunk decides: the shoulders are ahead of the hips.
    """
    p = pose.landmarks_px
    assert p is not None
    torso_px = max(
        float(
            np.linalg.norm(
                _mid(p, L.LEFT_SHOULDER, L.RIGHT_SHOULDER)[:2]
                - _mid(p, L.LEFT_HIP, L.RIGHT_HIP)[:2]
            )
        ),
        1.0,
    )
    head = float(p[L.NOSE, 0] - _mid(p, L.LEFT_EAR, L.RIGHT_EAR)[0])
    toes = float(
        (
            p[L.LEFT_FOOT_INDEX, 0]
            - p[L.LEFT_HEEL, 0]
            + p[L.RIGHT_FOOT_INDEX, 0]
            - p[L.RIGHT_HEEL, 0]
        )
        / 2.0
    )
    trunk = _mid(p, L.LEFT_SHOULDER, L.RIGHT_SHOULDER)[:2] - _mid(p, L.LEFT_HIP, L.RIGHT_HIP)[:2]
    if abs(float(trunk[0])) > abs(float(trunk[1])) and on_all_fours(p, torso_px):
        return float(trunk[0]) / torso_px  # the shoulders are ahead of the hips
    return (head + toes) / torso_px


# a knee at least this far below its hip (torso lengths) is a kneeling one, not a plank's
_KNEEL_DROP_TORSO = 0.5


def on_all_fours(p: np.ndarray, torso_px: float) -> bool:
    """Kneeling on all fours, from image landmarks: some leg kneels (its shin nearer the
    horizontal than the vertical, its knee half a torso or more below the hip) and no shin
    stands upright. A bird-dog's reaching leg is neither; lying on the back with the shins
    up (a dead bug) puts the knees above the hips."""
    kneeling = upright = False
    for hip, knee, ankle in (
        (L.LEFT_HIP, L.LEFT_KNEE, L.LEFT_ANKLE),
        (L.RIGHT_HIP, L.RIGHT_KNEE, L.RIGHT_ANKLE),
    ):
        dx, dy = abs(float(p[knee, 0] - p[ankle, 0])), abs(float(p[knee, 1] - p[ankle, 1]))
        if not (math.isfinite(dx) and math.isfinite(dy)):
            return False
        if dy > dx:
            upright = True
        elif float(p[knee, 1] - p[hip, 1]) >= _KNEEL_DROP_TORSO * torso_px:
            kneeling = True
    return kneeling and not upright


def camera_yaw_from_side_deg(pose: PoseFrame) -> float:
    """Angle between the camera's line of sight and the person's left-right axis, in degrees.

    0 in a pure side view, 90 facing (or back to) the camera. The body's true shoulder and
    hip widths come from the metric world landmarks; their apparent width in the image,
    against the torso length, gives the sine of the angle.
    """
    p, w = pose.landmarks_px, pose.world_m
    if p is None or w is None:
        return math.nan
    ratios = []
    torso_img = float(
        np.linalg.norm(
            _mid(p, L.LEFT_SHOULDER, L.RIGHT_SHOULDER)[:2] - _mid(p, L.LEFT_HIP, L.RIGHT_HIP)[:2]
        )
    )
    torso_w = float(
        np.linalg.norm(
            _mid(w, L.LEFT_SHOULDER, L.RIGHT_SHOULDER) - _mid(w, L.LEFT_HIP, L.RIGHT_HIP)
        )
    )
    for a, b in ((L.LEFT_SHOULDER, L.RIGHT_SHOULDER), (L.LEFT_HIP, L.RIGHT_HIP)):
        width_w = float(np.linalg.norm(w[a] - w[b]))
        if torso_img <= 0 or torso_w <= 0 or width_w <= 0:
            continue
        width_img = abs(float(p[a, 0] - p[b, 0]))
        ratios.append((width_img / torso_img) / (width_w / torso_w))
    if not ratios:
        return math.nan
    return math.degrees(math.asin(min(1.0, float(np.mean(ratios)))))


def classify_view(yaw_from_side_deg: float, config: OrientationConfig) -> CameraView:
    if math.isnan(yaw_from_side_deg):
        return CameraView.UNKNOWN
    if yaw_from_side_deg <= config.side_view_max_yaw_deg:
        return CameraView.SIDE
    if yaw_from_side_deg >= config.front_view_min_yaw_deg:
        return CameraView.FRONT
    return CameraView.OBLIQUE


def front_or_back(pose: PoseFrame) -> Facing:
    """In a front view: TOWARD when the person's left shoulder is on the image's right."""
    p = pose.landmarks_px
    assert p is not None
    return Facing.TOWARD if p[L.LEFT_SHOULDER, 0] > p[L.RIGHT_SHOULDER, 0] else Facing.AWAY


@dataclass
class FacingTracker:
    """Left/right facing with hysteresis, so one noisy frame never flips the sign conventions."""

    config: OrientationConfig
    facing: Facing = Facing.UNKNOWN
    _candidate: Facing = Facing.UNKNOWN
    _candidate_since_ms: float = 0.0

    def update(self, pose: PoseFrame, view: CameraView) -> Facing:
        if view is CameraView.FRONT:
            return front_or_back(pose)
        score = facing_score(pose)
        if math.isnan(score):
            return self.facing
        proposed = Facing.RIGHT if score > 0 else Facing.LEFT
        if self.facing in (Facing.UNKNOWN, Facing.TOWARD, Facing.AWAY):
            self.facing = proposed
            self._candidate = proposed
            return self.facing
        if proposed is self.facing or abs(score) < self.config.facing_switch_score:
            self._candidate = self.facing
            return self.facing
        if self._candidate is not proposed:
            self._candidate, self._candidate_since_ms = proposed, pose.t_ms
        elif pose.t_ms - self._candidate_since_ms >= self.config.facing_switch_persist_ms:
            self.facing = proposed
        return self.facing


def forward_x(facing: Facing) -> float:
    """+1 when forward is image right, -1 when image left, 0 when not a side-ish view."""
    return {Facing.RIGHT: 1.0, Facing.LEFT: -1.0}.get(facing, 0.0)
