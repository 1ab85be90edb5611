"""Frames of floor exercises (lying or on all fours): quality, facing and back outline.

Three things the standing-person pipeline gets wrong on the floor, fixed here per sample
by the measure providers a floor exercise's spec asks for (``kinematics.providers``):

- Frame quality: a lying person is short in the image's vertical direction, so the
  pipeline's ``too_small`` (vertical extent below the minimum) rejects a well-framed, 350 px
  long person; and a foot cut off at the edge rejects a frame whose shoulders, hips and
  knees are all in view. :func:`floor_usable` judges the person's length along the body and
  only the joints the exercise needs.
- Facing on the floor: :func:`quadruped_facing` is the side the shoulders are on, in any
  floor posture. On all fours the pipeline's own facing now agrees (kinematics.orientation
  reads the trunk there, since the toes point backwards), so its back outline, measured
  from the first frame on, is on the back; lying on the back its toe-based facing may not.
- The back outline under arms that lie along the body (a glute bridge): the pipeline drops
  every station an arm reaches, so the outline is gone at the top of the bridge although
  the arm lies inside the silhouette. :func:`back_outline_measures` recomputes it with the
  caller's :class:`SpineConfig`.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

import numpy as np

from formcheck.config import QualityConfig
from formcheck.kinematics import names as m
from formcheck.kinematics.body_lines import inside_image
from formcheck.kinematics.spine import SpineConfig, measure_back
from formcheck.pose.landmarks import Landmark
from formcheck.types import Facing, Sample

TRUNK_JOINTS = (
    Landmark.LEFT_SHOULDER,
    Landmark.RIGHT_SHOULDER,
    Landmark.LEFT_HIP,
    Landmark.RIGHT_HIP,
)
LEG_JOINTS = (Landmark.LEFT_KNEE, Landmark.RIGHT_KNEE)
_QUALITY = QualityConfig()


def body_length_px(sample: Sample) -> float:
    """The person's size in the image whatever their posture: the larger of the landmarks'
    horizontal and vertical extents (a lying person is long, not tall)."""
    p = sample.pose.landmarks_px
    if p is None:
        return math.nan
    return max(float(np.ptp(p[:, 0])), float(np.ptp(p[:, 1])))


def floor_usable(
    sample: Sample,
    joints: Sequence[Landmark],
    min_length_px: float = _QUALITY.min_person_height_px,
    margin_px: float = _QUALITY.edge_margin_px,
) -> Sample:
    """The sample, marked usable when the person is long enough along the body and the
    ``joints`` the exercise needs are inside the frame (a usable sample is returned as is;
    a frame without a pose stays unusable)."""
    q = sample.quality
    if q.usable or not q.has_pose:
        return sample
    if not body_length_px(sample) >= min_length_px:
        return sample
    if not inside_image(sample, tuple(joints), margin_px):
        return sample
    quality = dataclasses.replace(q, in_frame=True, too_small=False)
    return dataclasses.replace(sample, quality=quality)


def quadruped_facing(sample: Sample) -> Facing:
    """On all fours the head is ahead of the shoulders, which are ahead of the hips: the
    person faces the side of the image where the shoulders are."""
    p = sample.pose.landmarks_px
    if p is None:
        return Facing.UNKNOWN
    shoulder_x = 0.5 * float(p[Landmark.LEFT_SHOULDER, 0] + p[Landmark.RIGHT_SHOULDER, 0])
    hip_x = 0.5 * float(p[Landmark.LEFT_HIP, 0] + p[Landmark.RIGHT_HIP, 0])
    if not (math.isfinite(shoulder_x) and math.isfinite(hip_x)) or shoulder_x == hip_x:
        return Facing.UNKNOWN
    return Facing.LEFT if shoulder_x < hip_x else Facing.RIGHT


def back_outline_measures(
    sample: Sample, facing: Facing, config: SpineConfig
) -> dict[str, float] | None:
    """back_bulge_mm, back_curve_mm and back_offset_mm recomputed from the sample's mask
    with ``facing`` and ``config``; None when the sample carries no mask or no scale (the
    caller then keeps the pipeline's values)."""
    mm_per_px = sample.get(m.MM_PER_PX)
    if sample.pose.mask is None or not (math.isfinite(mm_per_px) and mm_per_px > 0):
        return None
    if facing not in (Facing.LEFT, Facing.RIGHT):
        return None
    back = measure_back(sample.pose, facing, mm_per_px, config)
    return {
        m.BACK_BULGE_MM: back.back_bulge_mm,
        m.BACK_CURVE_MM: back.back_curve_mm,
        m.BACK_OFFSET_MM: back.back_offset_mm,
    }


def with_measures(sample: Sample, extra: dict[str, float]) -> Sample:
    return dataclasses.replace(sample, measures={**sample.measures, **extra})


def arc_deg(sagitta_mm: float, span_mm: float) -> float:
    """The bend of a circular arc, in degrees, from its sagitta over a span: the angle
    between the tangents at its two ends (4 atan(2 s / c)); + convex (flexed)."""
    if not (math.isfinite(sagitta_mm) and math.isfinite(span_mm)) or span_mm <= 0:
        return math.nan
    return math.degrees(4.0 * math.atan(2.0 * sagitta_mm / span_mm))
