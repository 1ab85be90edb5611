"""Named body measures of one frame, computed from smoothed landmarks (stage 4 of the pipeline).

Angles are measured in the image plane, which is the sagittal plane in a side view.
Lengths in millimetres use the calibration's scale. See ``names.py`` for each definition.
"""

from __future__ import annotations

import math

import numpy as np

from formcheck.kinematics import names as n
from formcheck.kinematics.geometry import (
    angle_at_deg,
    distance,
    flexion_deg,
    inclination_from_vertical_deg,
    signed_distance_to_line,
    signed_lean_deg,
)
from formcheck.pose.landmarks import SIDE_JOINTS, Landmark
from formcheck.types import PoseFrame

L = Landmark

# Measures every Sample carries, in this order (CSV columns follow it).
SIDED = tuple(f"{side}_{name}" for side in ("left", "right") for name in n.SIDED_ANGLES)
MEASURE_NAMES: tuple[str, ...] = (
    n.HIP_FLEXION_DEG,
    n.KNEE_FLEXION_DEG,
    n.ANKLE_DORSIFLEXION_DEG,
    *SIDED,
    n.TRUNK_INCLINATION_DEG,
    n.TRUNK_LEAN_DEG,
    n.SHIN_ANGLE_DEG,
    n.NECK_FLEXION_DEG,
    n.CAMERA_YAW_FROM_SIDE_DEG,
    n.HEAD_FORWARD_MM,
    n.STANCE_WIDTH_MM,
    n.HIP_HEIGHT_MM,
    n.SHOULDER_HEIGHT_MM,
    n.HIP_BACK_MM,
    n.KNEE_FORWARD_MM,
    n.THIGH_LENGTH_MM,
    n.SHANK_LENGTH_MM,
    n.TRUNK_LENGTH_MM,
    n.BACK_BULGE_MM,
    n.BACK_CURVE_MM,
    n.BACK_OFFSET_MM,
    n.SPINE_CHORD_MM,
    n.CHIN_DROP_MM,
    n.LUMBAR_FLEXION_DEG,
    n.LUMBAR_FLEXION_SD_DEG,
    n.BACK_ROUNDING_MM,
    n.MM_PER_PX,
)


def sagittal_chain_px(points: np.ndarray, side: str) -> float:
    """Thigh + shank + trunk length of one side, in the points' units (for scale)."""
    j = SIDE_JOINTS[side]
    return (
        distance(points[j["shoulder"], :2], points[j["hip"], :2])
        + distance(points[j["hip"], :2], points[j["knee"], :2])
        + distance(points[j["knee"], :2], points[j["ankle"], :2])
    )


def knee_flexion_deg(p: np.ndarray, side: str) -> float:
    """One leg's knee flexion in the image (0 straight), from landmark pixels ``p``."""
    j = SIDE_JOINTS[side]
    return flexion_deg(p[j["hip"], :2], p[j["knee"], :2], p[j["ankle"], :2])


def _side_angles(p: np.ndarray, side: str) -> dict[str, float]:
    j = SIDE_JOINTS[side]
    shin_to_foot = angle_at_deg(
        p[j["knee"], :2],
        p[j["ankle"], :2],
        p[j["ankle"], :2] + (p[j["foot_index"], :2] - p[j["heel"], :2]),
    )
    return {
        n.HIP_FLEXION_DEG: flexion_deg(p[j["shoulder"], :2], p[j["hip"], :2], p[j["knee"], :2]),
        n.KNEE_FLEXION_DEG: knee_flexion_deg(p, side),
        n.ANKLE_DORSIFLEXION_DEG: 90.0 - shin_to_foot,
    }


def compute_measures(
    pose: PoseFrame,
    *,
    side: str,
    forward_x: float,
    mm_per_px: float,
    world_to_mm: float,
) -> dict[str, float]:
    """All landmark-based measures of one frame (spine measures are added by the caller).

    ``side`` is the near side; ``forward_x`` is +1/-1 for facing image right/left and 0 when
    unknown (measures that need a forward direction are then NaN); ``world_to_mm`` converts
    world-landmark metres to millimetres (1000 times any correction from a stated height).
    """
    out = dict.fromkeys(MEASURE_NAMES, math.nan)
    p = pose.landmarks_px
    if p is None:
        return out
    for s in ("left", "right"):
        for name, value in _side_angles(p, s).items():
            out[f"{s}_{name}"] = value
    for name in n.SIDED_ANGLES:
        out[name] = out[f"{side}_{name}"]

    j = SIDE_JOINTS[side]
    shoulder, hip, knee = p[j["shoulder"], :2], p[j["hip"], :2], p[j["knee"], :2]
    ankle, ear, toe = p[j["ankle"], :2], p[j["ear"], :2], p[j["foot_index"], :2]
    out[n.TRUNK_INCLINATION_DEG] = inclination_from_vertical_deg(hip, shoulder)
    out[n.MM_PER_PX] = mm_per_px
    out[n.HIP_HEIGHT_MM] = (float(ankle[1]) - float(hip[1])) * mm_per_px
    out[n.SHOULDER_HEIGHT_MM] = (float(ankle[1]) - float(shoulder[1])) * mm_per_px
    out[n.THIGH_LENGTH_MM] = distance(hip, knee) * mm_per_px
    out[n.SHANK_LENGTH_MM] = distance(knee, ankle) * mm_per_px
    out[n.TRUNK_LENGTH_MM] = distance(hip, shoulder) * mm_per_px

    if forward_x != 0.0:
        # both sides' midpoints: no jump when the near side switches in an oblique view
        mid_hip = (p[L.LEFT_HIP, :2] + p[L.RIGHT_HIP, :2]) / 2.0
        mid_shoulder = (p[L.LEFT_SHOULDER, :2] + p[L.RIGHT_SHOULDER, :2]) / 2.0
        out[n.TRUNK_LEAN_DEG] = signed_lean_deg(mid_hip, mid_shoulder, forward_x)
        out[n.SHIN_ANGLE_DEG] = signed_lean_deg(ankle, knee, forward_x)
        out[n.NECK_FLEXION_DEG] = signed_lean_deg(shoulder, ear, forward_x) - signed_lean_deg(
            hip, shoulder, forward_x
        )
        # Along hip->shoulder, a point ahead of a right-facing person is on the right-hand
        # side (positive); multiplying by forward_x makes "ahead" positive either way. Both
        # sides' midpoints: the near side's ear jumped 70 mm when the near side switched.
        mid_ear = (p[L.LEFT_EAR, :2] + p[L.RIGHT_EAR, :2]) / 2.0
        out[n.HEAD_FORWARD_MM] = (
            signed_distance_to_line(mid_ear, mid_hip, mid_shoulder) * forward_x * mm_per_px
        )
        out[n.HIP_BACK_MM] = (float(ankle[0]) - float(hip[0])) * forward_x * mm_per_px
        out[n.KNEE_FORWARD_MM] = (float(knee[0]) - float(toe[0])) * forward_x * mm_per_px

    w = pose.world_m
    if w is not None:
        hip_axis = w[L.LEFT_HIP] - w[L.RIGHT_HIP]
        norm = float(np.linalg.norm(hip_axis))
        if norm > 0:
            across = abs(float(np.dot(w[L.LEFT_ANKLE] - w[L.RIGHT_ANKLE], hip_axis / norm)))
            out[n.STANCE_WIDTH_MM] = across * world_to_mm
    return out
