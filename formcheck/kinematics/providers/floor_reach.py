"""Per-frame measures for floor exercises seen from the side (on all fours, lying on the back).

The pipeline's orientation and quality are made for a standing person: on all fours the toes
point backwards (so the toe-based facing comes out reversed), lying down the person is far
wider than tall (so "too small" by height), and a close floor crop puts a hand or a foot at the
frame's edge in the frames that matter. This module re-reads a frame for a floor posture:

- the head direction from the landmarks (shoulders against hips along the image x axis,
  ``kinematics.floor.quadruped_facing``);
- each limb's reach in degrees from its start direction (``left_arm_reach_deg`` ...), and the
  largest of the four (``limb_reach_deg``), the signal that drives an alternating exercise's
  phases whichever side works;
- the back outline (``back_bulge_mm``, ``back_curve_mm``, ``back_offset_mm``) with the dorsal
  side taken from the posture, plus the outline's offset at its hip end
  (``back_hip_end_mm``, where a pelvis that turns or hikes shows);
- the hip-to-hip height difference in the image (``hip_level_mm``) and in MediaPipe's metric
  world landmarks (``hip_level_world_mm``), and the hip width there (``hip_width_world_mm``);
- a frame quality judged on the trunk (shoulders and hips in frame) and the body's length
  (``kinematics.floor.floor_usable``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from enum import Enum

import numpy as np

from formcheck.kinematics import names as m
from formcheck.kinematics.floor import TRUNK_JOINTS, floor_usable, quadruped_facing
from formcheck.kinematics.spine import BackMeasurer, SpineConfig
from formcheck.pose.landmarks import Landmark
from formcheck.types import Facing, PoseFrame, Sample

L = Landmark

LIMB_REACH_DEG = m.LIMB_REACH_DEG
ARMS_REACH_DEG = m.ARMS_REACH_DEG
LEGS_REACH_DEG = m.LEGS_REACH_DEG
ARM_REACH_DEG = m.ARM_REACH_DEG
LEG_REACH_DEG = m.LEG_REACH_DEG
HIP_LEVEL_MM = m.HIP_LEVEL_MM
HIP_LEVEL_WORLD_MM = m.HIP_LEVEL_WORLD_MM
HIP_WIDTH_WORLD_MM = m.HIP_WIDTH_WORLD_MM
BACK_HIP_END_MM = m.BACK_HIP_END_MM
HEAD_DIRECTION = m.HEAD_DIRECTION_X

SIDES = ("left", "right")
_ARM = {"left": (L.LEFT_SHOULDER, L.LEFT_ELBOW), "right": (L.RIGHT_SHOULDER, L.RIGHT_ELBOW)}
_LEG = {
    "left": (L.LEFT_HIP, L.LEFT_KNEE, L.LEFT_ANKLE),
    "right": (L.RIGHT_HIP, L.RIGHT_KNEE, L.RIGHT_ANKLE),
}
_RIGHT_ANGLE_DEG = 90.0
_MM_PER_M = 1000.0


class FloorPosture(Enum):
    """How the person lies: the start direction of the limbs and which side is the back."""

    QUADRUPED = "quadruped"  # on all fours: limbs hang down, the back faces up
    SUPINE = "supine"  # on the back: limbs point up, the back faces the floor


@dataclass(frozen=True, slots=True)
class FloorFrameConfig:
    """Quality limits for a floor frame (pixels of the delivered frame)."""

    min_body_length_px: float = 125.0  # the person's longest extent; smaller ones get lost
    edge_margin_px: float = 2.0  # trunk joints this close to the edge are out of frame
    hip_end_start_frac: float = 0.8  # the outline's hip end: stations from 80% of the chord
    spine: SpineConfig = field(default_factory=SpineConfig)


def head_direction_x(sample: Sample) -> float:
    """+1 when the head lies towards image right (shoulders right of the hips), -1 left,
    NaN when unknown (the shoulders-ahead-of-hips rule of ``kinematics.floor``, which holds on
    all fours and lying on the back alike)."""
    return {Facing.RIGHT: 1.0, Facing.LEFT: -1.0}.get(quadruped_facing(sample), math.nan)


def limb_angle_deg(start_px: np.ndarray, end_px: np.ndarray, head_x: float, up: bool) -> float:
    """Angle of the limb start->end from straight down (``up``: straight up), in degrees,
    positive towards the head."""
    dx = float(end_px[0] - start_px[0]) * head_x
    dy = float(end_px[1] - start_px[1])
    return math.degrees(math.atan2(dx, -dy if up else dy))


def knee_extension_deg(points_px: np.ndarray, side: str) -> float:
    """How far the knee is straightened from a right angle (0 bent 90 deg, 90 straight)."""
    hip, knee, ankle = (points_px[j, :2] for j in _LEG[side])
    a, b = hip - knee, ankle - knee
    norm = float(np.linalg.norm(a) * np.linalg.norm(b))
    if not norm > 0:
        return math.nan
    cos = float(np.clip(np.dot(a, b) / norm, -1.0, 1.0))
    return math.degrees(math.acos(cos)) - _RIGHT_ANGLE_DEG


def limb_reaches_deg(
    points_px: np.ndarray, posture: FloorPosture, head_x: float
) -> dict[str, float]:
    """Each limb's reach from its start position, in degrees: an arm's angle towards the head
    from hanging down (all fours) or pointing up (on the back); a leg's thigh angle away from
    the head from hanging down (all fours), or its knee straightening from a right angle (on
    the back, where the knees start bent: dead bug, heel slides). 0 at the start position."""
    out = {LIMB_REACH_DEG: math.nan, HEAD_DIRECTION: head_x}
    out |= {ARMS_REACH_DEG: math.nan, LEGS_REACH_DEG: math.nan}
    if not math.isfinite(head_x):
        return out | {n: math.nan for n in (*ARM_REACH_DEG.values(), *LEG_REACH_DEG.values())}
    up = posture is FloorPosture.SUPINE
    for side in SIDES:
        a, b = _ARM[side]
        out[ARM_REACH_DEG[side]] = limb_angle_deg(points_px[a], points_px[b], head_x, up)
        if up:
            out[LEG_REACH_DEG[side]] = knee_extension_deg(points_px, side)
        else:
            a, b = _LEG[side][:2]
            out[LEG_REACH_DEG[side]] = -limb_angle_deg(points_px[a], points_px[b], head_x, up)
    out[ARMS_REACH_DEG] = _max_finite([out[ARM_REACH_DEG[s]] for s in SIDES])
    out[LEGS_REACH_DEG] = _max_finite([out[LEG_REACH_DEG[s]] for s in SIDES])
    out[LIMB_REACH_DEG] = _max_finite([out[ARMS_REACH_DEG], out[LEGS_REACH_DEG]])
    return out


def _max_finite(values: list[float]) -> float:
    finite = [v for v in values if math.isfinite(v)]
    return max(finite) if finite else math.nan


def outline_facing(head_x: float, posture: FloorPosture) -> Facing:
    """The facing that points the spine module's ventral normal at the belly: the head's
    direction on all fours (belly down), the opposite lying on the back (belly up)."""
    if not math.isfinite(head_x):
        return Facing.UNKNOWN
    towards_right = head_x > 0
    if posture is FloorPosture.SUPINE:
        towards_right = not towards_right
    return Facing.RIGHT if towards_right else Facing.LEFT


class FloorFrameReader:
    """Adds the floor measures to each Sample and re-judges its quality (one per stream)."""

    def __init__(self, posture: FloorPosture, config: FloorFrameConfig | None = None) -> None:
        self.posture = posture
        self.config = config or FloorFrameConfig()
        self._back = BackMeasurer(self.config.spine)

    def read(self, sample: Sample) -> Sample:
        """The sample with the floor measures and quality; a sample that already carries them
        (measured upstream, or a hand-made stream) or has no landmarks is left as it is."""
        pose = sample.pose
        p = pose.landmarks_px
        if p is None or LIMB_REACH_DEG in sample.measures:
            return sample
        measures = dict(sample.measures)
        measures.update(limb_reaches_deg(p, self.posture, head_direction_x(sample)))
        mm_per_px = sample.get(m.MM_PER_PX)
        measures.update(self._back_measures(pose, measures[HEAD_DIRECTION], mm_per_px))
        measures[HIP_LEVEL_MM] = float(p[L.LEFT_HIP, 1] - p[L.RIGHT_HIP, 1]) * mm_per_px
        w = pose.world_m
        if w is None:
            measures[HIP_LEVEL_WORLD_MM] = measures[HIP_WIDTH_WORLD_MM] = math.nan
        else:
            hips = w[L.LEFT_HIP] - w[L.RIGHT_HIP]
            measures[HIP_LEVEL_WORLD_MM] = float(hips[1]) * _MM_PER_M
            measures[HIP_WIDTH_WORLD_MM] = float(np.linalg.norm(hips)) * _MM_PER_M
        # usable when the trunk is in frame and the body long enough: hands and feet may
        # leave a close floor crop
        read = replace(sample, measures=measures)
        return floor_usable(
            read, TRUNK_JOINTS, self.config.min_body_length_px, self.config.edge_margin_px
        )

    def _back_measures(self, pose: PoseFrame, head_x: float, mm_per_px: float) -> dict[str, float]:
        keys = (m.BACK_BULGE_MM, m.BACK_CURVE_MM, m.BACK_OFFSET_MM, BACK_HIP_END_MM)
        out = dict.fromkeys(keys, math.nan)
        facing = outline_facing(head_x, self.posture)
        if pose.mask is None or facing is Facing.UNKNOWN or not mm_per_px > 0:
            return out
        px = self._back(pose, facing)
        for key in keys[:3]:
            out[key] = px.get(key, math.nan) * mm_per_px
        out[BACK_HIP_END_MM] = self._hip_end_px() * mm_per_px
        return out

    def _hip_end_px(self) -> float:
        """Mean dorsal offset of the last outline's hip-end stations from the chord."""
        outline = self._back.last_outline
        if outline is None or not outline.usable:
            return math.nan
        band = (outline.fractions >= self.config.hip_end_start_frac) & outline.valid
        if not band.any():
            return math.nan
        return float(np.mean(outline.offsets_px[band]))
