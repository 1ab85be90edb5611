"""Floor exercises' frames: quality judged for a floor posture, the back outline read for
it, the signed hip angle lying on the back, the pelvis from the front, the spine's bend on
all fours and the limb reaches of the alternating exercises."""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from formcheck.kinematics import names as m
from formcheck.kinematics.floor import (
    LEG_JOINTS,
    TRUNK_JOINTS,
    arc_deg,
    back_outline_measures,
    floor_usable,
    quadruped_facing,
)
from formcheck.kinematics.geometry import flexion_deg
from formcheck.kinematics.providers.base import (
    MeasureProvider,
    ProviderContext,
    ProviderSpec,
    with_measures,
)
from formcheck.kinematics.providers.floor_reach import (
    FloorFrameConfig,
    FloorFrameReader,
    FloorPosture,
)
from formcheck.kinematics.spine import SpineConfig
from formcheck.pose.landmarks import Landmark
from formcheck.types import CameraView, Sample

MS_PER_S = 1000.0
_OUTLINE_MEASURES = (m.BACK_BULGE_MM, m.BACK_CURVE_MM, m.BACK_OFFSET_MM)
_ARMS_IGNORED_VISIBILITY = 2.0  # above any visibility (0..1): the arm test never runs
_JOINT_SETS = {"trunk": TRUNK_JOINTS, "trunk_and_knees": TRUNK_JOINTS + LEG_JOINTS}


class FloorQualitySpec(ProviderSpec):
    """A frame usable when the person is long enough along the body (a lying person is
    long, not tall) and the ``joints`` the exercise needs are in frame (a foot cut off at
    the edge does not matter): :func:`kinematics.floor.floor_usable` with the pipeline's
    limits."""

    provider: Literal["floor_quality"]
    joints: Literal["trunk", "trunk_and_knees"]

    def build(self, context: ProviderContext) -> MeasureProvider:
        joints = _JOINT_SETS[self.joints]
        q = context.quality

        def provide(sample: Sample) -> Sample:
            return floor_usable(sample, joints, q.min_person_height_px, q.edge_margin_px)

        return provide


class OutlineArmsIgnoredSpec(ProviderSpec):
    """The back outline (bulge, curve, offset) read again with the arm test off: lying on
    the back with the arms along the body (a glute bridge) the pipeline drops every station
    an arm reaches, so the outline is gone at the top although the arm lies inside the
    silhouette, not across its edge. A real frame whose mask was not kept (held before
    calibration) keeps no outline: the pipeline's, read with the arm test, is not
    comparable."""

    provider: Literal["outline_arms_ignored"]

    def build(self, context: ProviderContext) -> MeasureProvider:
        config = SpineConfig(arm_min_visibility=_ARMS_IGNORED_VISIBILITY)

        def provide(sample: Sample) -> Sample:
            extra = back_outline_measures(sample, sample.facing, config)
            if extra is None:
                real = sample.pose.landmarks_px is not None
                extra = dict.fromkeys(_OUTLINE_MEASURES, math.nan) if real else {}
            return with_measures(sample, extra)

        return provide


class PelvisTiltSpec(ProviderSpec):
    """``pelvis_tilt_mm``: the left hip above the right hip in mm, from the front (NaN from
    the side, where one hip hides behind the other)."""

    provider: Literal["pelvis_tilt_front"]

    def build(self, context: ProviderContext) -> MeasureProvider:
        def provide(sample: Sample) -> Sample:
            p = sample.pose.landmarks_px
            scale = sample.get(m.MM_PER_PX)
            value = math.nan
            if p is not None and sample.view is CameraView.FRONT and math.isfinite(scale):
                value = float(p[Landmark.RIGHT_HIP, 1] - p[Landmark.LEFT_HIP, 1]) * scale
            return with_measures(sample, {m.PELVIS_TILT_MM: value})

        return provide


class SignedLyingHipSpec(ProviderSpec):
    """``hip_flexion_deg`` replaced by :func:`signed_lying_hip_flexion_deg`."""

    provider: Literal["hip_flexion_signed_lying"]

    def build(self, context: ProviderContext) -> MeasureProvider:
        def provide(sample: Sample) -> Sample:
            return with_measures(sample, {m.HIP_FLEXION_DEG: signed_lying_hip_flexion_deg(sample)})

        return provide


def signed_lying_hip_flexion_deg(sample: Sample) -> float:
    """Hip flexion from the midpoints of both sides' shoulders, hips and knees, negative
    when the hips rise above the shoulder-knee line (lying on the back).

    Both sides: lying on the back seen from the side, the far side's joints are guesses and
    read its hip 10-12 deg more flexed than the near one; the pipeline's near side switched
    between them for a second at a time on a render, its lying value followed the far side
    and three of five bridge reps merged. A bridge moves both legs alike, so the midpoints
    follow it without the switches. Signed: the pipeline's angle is unsigned, so a bridge
    that goes past straight read as flexing again, its top plateau sat 10-13 deg above the
    straight moment and the phases were timed from that dip (renders: every lift 0.8 s
    short). Lying on the back the belly faces up, so the knee above the line from the
    shoulders through the hips is flexion."""
    hip_deg = sample.get(m.HIP_FLEXION_DEG)
    p = sample.pose.landmarks_px
    if p is None or not math.isfinite(hip_deg):
        return hip_deg

    def mid(a: Landmark, b: Landmark) -> np.ndarray:
        return np.asarray((p[a, :2] + p[b, :2]) / 2.0, dtype=float)

    shoulder = mid(Landmark.LEFT_SHOULDER, Landmark.RIGHT_SHOULDER)
    hip = mid(Landmark.LEFT_HIP, Landmark.RIGHT_HIP)
    knee = mid(Landmark.LEFT_KNEE, Landmark.RIGHT_KNEE)
    flexion = flexion_deg(shoulder, hip, knee)
    along = hip - shoulder
    up = np.array([along[1], -along[0]])  # a normal of the trunk line ...
    if up[1] > 0:
        up = -up  # ... the one pointing up the image (image y grows downwards)
    return flexion if float(np.dot(knee - hip, up)) >= 0.0 else -flexion


class SpineArcSpec(ProviderSpec):
    """On all fours: the back outline read on the back (the side the shoulders are on,
    :func:`kinematics.floor.quadruped_facing`) and ``spine_arc_deg``, the angle between the
    tangents at the two ends of the lumbar/lower-thoracic outline (from ``back_curve_mm``
    over its span; + flexed, the cat), as a causal median over ``median_s``: a mask glitch
    bends the outline for a frame or two, which must not start or end a rep."""

    provider: Literal["spine_arc_on_all_fours"]
    median_s: float

    def build(self, context: ProviderContext) -> MeasureProvider:
        return SpineArc(self.median_s)


_SPINE = SpineConfig()
# back_curve_mm is the sagitta over these stations (fractions of the shoulder-hip chord)
CURVE_SPAN_FRACTION = _SPINE.curve_stop_frac - _SPINE.curve_start_frac


@dataclass(slots=True)
class SpineArc:
    median_s: float
    _recent: deque[tuple[float, float]] = field(default_factory=deque)

    def __call__(self, sample: Sample) -> Sample:
        extra: dict[str, float] = {}
        facing = quadruped_facing(sample)
        outline = back_outline_measures(sample, facing, _SPINE)
        if outline is not None:
            extra.update(outline)
        elif sample.pose.landmarks_px is not None and facing is not sample.facing:
            # a frame whose mask was not kept, read by the pipeline with another facing
            # (its facing hysteresis had not yet followed): that outline is the belly's
            extra.update({m.BACK_BULGE_MM: math.nan, m.BACK_CURVE_MM: math.nan})
        curve = extra.get(m.BACK_CURVE_MM, sample.get(m.BACK_CURVE_MM))
        arc = arc_deg(curve, CURVE_SPAN_FRACTION * sample.get(m.SPINE_CHORD_MM))
        extra[m.SPINE_ARC_DEG] = self._median(sample.t_ms / MS_PER_S, arc)
        return with_measures(sample, extra)

    def _median(self, t_s: float, arc: float) -> float:
        self._recent.append((t_s, arc))
        while self._recent and t_s - self._recent[0][0] > self.median_s:
            self._recent.popleft()
        values = np.array([v for _, v in self._recent])
        finite = values[np.isfinite(values)]
        return float(np.median(finite)) if finite.size else math.nan


class FloorReachSpec(ProviderSpec):
    """Alternating floor exercises (bird-dog, dead bug): each limb's reach from its start
    direction, the largest of the four (``limb_reach_deg``), the back outline read for the
    posture, the hips' levels and a floor-posture frame quality
    (:class:`~formcheck.kinematics.providers.floor_reach.FloorFrameReader`)."""

    provider: Literal["floor_reach"]
    posture: Literal["quadruped", "supine"]

    def build(self, context: ProviderContext) -> MeasureProvider:
        q = context.quality
        return FloorFrameReader(
            FloorPosture(self.posture),
            FloorFrameConfig(
                min_body_length_px=q.min_person_height_px, edge_margin_px=q.edge_margin_px
            ),
        ).read
