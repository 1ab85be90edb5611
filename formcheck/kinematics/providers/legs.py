"""Standing exercises' extra measures: heels, the knee angle for the set's view, spikes
filtered out of a joint angle, hands on the thighs."""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from formcheck.kinematics import names as m
from formcheck.kinematics.geometry import flexion_deg
from formcheck.kinematics.providers.base import (
    MeasureProvider,
    ProviderContext,
    ProviderSpec,
    with_measures,
)
from formcheck.kinematics.stage import KNEE_FLEXION_MAX_DEG
from formcheck.pose.landmarks import Landmark
from formcheck.types import Facing, Sample

MS_PER_S = 1000.0
_SIDES = ("left", "right")
_FILTER_MIN_SAMPLES = 3  # a median needs three samples to drop a one-sample spike
Point = np.ndarray


# ----- heel row ------------------------------------------------------------------------------
class HeelRowSpec(ProviderSpec):
    """``heel_y_px``: the mean image row of both heels (a fixed pair of points: the near
    side may switch between frames, and the far heel sits higher in the image)."""

    provider: Literal["heel_row"]

    def build(self, context: ProviderContext) -> MeasureProvider:
        return heel_row


def heel_row(sample: Sample) -> Sample:
    pose = sample.pose
    value = math.nan
    if pose.landmarks_px is not None:
        value = float(pose.landmarks_px[[Landmark.LEFT_HEEL, Landmark.RIGHT_HEEL], 1].mean())
    return with_measures(sample, {m.HEEL_Y_PX: value})


# ----- the knee angle for the set's camera view -------------------------------------------------
class KneeByViewSpec(ProviderSpec):
    """``knee_flexion_deg`` replaced by the estimate the set's view needs, and
    ``front_view_set_flag``. The view is decided once, from the calibration's camera yaw or
    else the first frame that has one: from the front (yaw at least
    ``front_view_min_yaw_deg``) the knees bend towards the camera and the image angle hardly
    changes, so the world landmarks' 3D angle (mean of both legs) is used; from the side,
    the angle from both legs' midpoints (:func:`midline_knee_flexion_deg`)."""

    provider: Literal["knee_flexion_by_view"]
    front_view_min_yaw_deg: float

    def build(self, context: ProviderContext) -> MeasureProvider:
        return KneeByView(self.front_view_min_yaw_deg, context.baseline_value)


@dataclass(slots=True)
class KneeByView:
    front_view_min_yaw_deg: float
    baseline_value: Callable[[str], float]
    front_view: bool | None = None

    def __call__(self, sample: Sample) -> Sample:
        if self.front_view is None:
            self.front_view = self._is_front_view(sample)
        flag = math.nan if self.front_view is None else float(self.front_view)
        extra = {m.FRONT_VIEW_SET_FLAG: flag}
        if self.front_view:
            extra[m.KNEE_FLEXION_DEG] = world_knee_flexion_deg(sample)
        elif self.front_view is not None:
            value = midline_knee_flexion_deg(sample)
            if value is not None:
                extra[m.KNEE_FLEXION_DEG] = value
        return with_measures(sample, extra)

    def _is_front_view(self, sample: Sample) -> bool | None:
        yaw = self.baseline_value(m.CAMERA_YAW_FROM_SIDE_DEG)
        if not math.isfinite(yaw):
            yaw = sample.get(m.CAMERA_YAW_FROM_SIDE_DEG)
        if not math.isfinite(yaw):
            return None
        return yaw >= self.front_view_min_yaw_deg


def midline_knee_flexion_deg(sample: Sample) -> float | None:
    """``knee_flexion_deg`` from the midpoints of both hips, knees and ankles (image plane),
    or None to keep the pipeline's value: without landmarks or a knee angle, or when a leg
    reads folded beyond the knee's range (a misplaced landmark: the pipeline's value, from
    the other leg, is right then).

    Seen from the side the far leg is a guess that read its knee up to 25 deg off the near
    one, and the pipeline's near side switches between them: at each switch a squat's depth
    jumped, a rep's bottom was placed at the jump and its back and knee timing were judged
    there (held-out render: three rounded reps and three of four knee-first reps missed).
    Both legs bend alike in a squat, so their midpoints give one steady angle."""
    p = sample.pose.landmarks_px
    if p is None or not math.isfinite(sample.get(m.KNEE_FLEXION_DEG)):
        return None
    if any(sample.get(f"{side}_{m.KNEE_FLEXION_DEG}") > KNEE_FLEXION_MAX_DEG for side in _SIDES):
        return None

    def mid(joint: str) -> Point:
        left, right = Landmark[f"LEFT_{joint}"], Landmark[f"RIGHT_{joint}"]
        return np.asarray((p[left, :2] + p[right, :2]) / 2.0)

    return flexion_deg(mid("HIP"), mid("KNEE"), mid("ANKLE"))


def world_knee_flexion_deg(sample: Sample) -> float:
    """Knee flexion from the world landmarks (3D, mean of both legs): seen from the front
    the knees bend towards the camera and the image-plane angle hardly changes (real clip:
    10 -> 30 deg in a squat whose world-landmark angle goes 25 -> 95). NaN without them."""
    w = sample.pose.world_m
    if w is None:
        return math.nan
    angles = [
        flexion_3d_deg(w[hip], w[knee], w[ankle])
        for hip, knee, ankle in (
            (Landmark.LEFT_HIP, Landmark.LEFT_KNEE, Landmark.LEFT_ANKLE),
            (Landmark.RIGHT_HIP, Landmark.RIGHT_KNEE, Landmark.RIGHT_ANKLE),
        )
    ]
    return float(np.mean(angles))


def flexion_3d_deg(a: Point, joint: Point, b: Point) -> float:
    """180 minus the angle at ``joint`` between ``a`` and ``b`` (0 = straight)."""
    u, v = a - joint, b - joint
    norm = float(np.linalg.norm(u) * np.linalg.norm(v))
    if norm <= 0.0:
        return math.nan
    cos = float(np.clip(np.dot(u, v) / norm, -1.0, 1.0))
    return 180.0 - math.degrees(math.acos(cos))


# ----- spike filter ----------------------------------------------------------------------------
class DespikeSpec(ProviderSpec):
    """``measure`` with one- and two-frame flips dropped (the pose model swapping or bending
    a leg for a frame, up to 150 deg off on renders), which must neither end a rep nor start
    one: a sample further than ``max_deg`` from the median of the samples over the last
    ``window_s`` (at least three) is replaced by that median. A smooth movement stays within
    one frame's step of that median, so it passes unchanged and without lag."""

    provider: Literal["despike"]
    measure: str
    window_s: float
    max_deg: float

    def build(self, context: ProviderContext) -> MeasureProvider:
        return SpikeFilter(self.measure, self.window_s, self.max_deg)


@dataclass(slots=True)
class SpikeFilter:
    name: str
    window_s: float
    spike_max_deg: float
    _recent: deque[tuple[float, float]] = field(default_factory=deque)

    def __call__(self, sample: Sample) -> Sample:
        t_s, value = sample.t_ms / MS_PER_S, sample.get(self.name)
        if not math.isfinite(value):
            return sample
        self._recent.append((t_s, value))
        while len(self._recent) > _FILTER_MIN_SAMPLES and t_s - self._recent[0][0] > self.window_s:
            self._recent.popleft()
        median = float(np.median([v for _, v in self._recent]))
        if abs(value - median) <= self.spike_max_deg:
            return sample
        return with_measures(sample, {self.name: median})


# ----- hands on the thighs -----------------------------------------------------------------------
_HAND_SIDES = (
    (Landmark.LEFT_HIP, Landmark.LEFT_KNEE, Landmark.LEFT_WRIST),
    (Landmark.RIGHT_HIP, Landmark.RIGHT_KNEE, Landmark.RIGHT_WRIST),
)


class WristThighSpec(ProviderSpec):
    """``wrist_thigh_mm``: the smaller distance of either wrist from the same side's thigh
    (image plane, mm), from its part between ``thigh_span_fractions`` of the way from hip to
    knee (hands resting by the hips or crossed on the chest are far from it)."""

    provider: Literal["wrist_thigh"]
    thigh_span_fractions: tuple[float, float]

    def build(self, context: ProviderContext) -> MeasureProvider:
        lo, hi = self.thigh_span_fractions

        def provide(sample: Sample) -> Sample:
            pose, scale = sample.pose, sample.get(m.MM_PER_PX)
            value = math.nan
            if pose.landmarks_px is not None and math.isfinite(scale):
                p = pose.landmarks_px[:, :2]
                dists = [
                    distance_along(p[hip], p[knee], p[wrist], lo, hi)
                    for hip, knee, wrist in _HAND_SIDES
                ]
                finite = [d for d in dists if math.isfinite(d)]
                value = min(finite) * scale if finite else math.nan
            return with_measures(sample, {m.WRIST_THIGH_MM: value})

        return provide


def distance_along(hip: Point, knee: Point, wrist: Point, lo: float, hi: float) -> float:
    """Distance (px) of ``wrist`` from the part of the hip->knee segment between ``lo`` and
    ``hi`` of the way along it (NaN for a zero-length thigh)."""
    axis = knee - hip
    length2 = float(np.dot(axis, axis))
    if length2 <= 0.0:
        return math.nan
    along = min(max(float(np.dot(wrist - hip, axis)) / length2, lo), hi)
    return float(np.linalg.norm(wrist - (hip + along * axis)))


# ----- split stance ------------------------------------------------------------------------------
_FORWARD_X = {Facing.LEFT: -1.0, Facing.RIGHT: 1.0}  # image x of "forward"
_PAIRS = {
    "knee": (Landmark.LEFT_KNEE, Landmark.RIGHT_KNEE),
    "ankle": (Landmark.LEFT_ANKLE, Landmark.RIGHT_ANKLE),
    "toe": (Landmark.LEFT_FOOT_INDEX, Landmark.RIGHT_FOOT_INDEX),
}


class SplitStanceSpec(ProviderSpec):
    """A split stance seen from the side (lunge, split squat), read from where the joints
    are, not from their labels: seen from the side MediaPipe swaps the left and right leg's
    landmarks between frames and one joint at a time (a rendered left-front lunge read its
    front ankle as "right" in most frames and "left" in some), so the front knee, ankle and
    toes are the ones further forward along the facing direction, the rear ones the others.
    Once the ankles are at least ``stride_min_mm`` apart (feet side by side keep the last
    reading) it adds ``front_knee_flexion_deg`` and ``rear_knee_flexion_deg`` (mid-hip,
    knee, ankle), ``front_knee_past_toes_mm`` and ``front_leg_right_flag`` (the label
    MediaPipe gives the front ankle: which of the person's legs that is cannot be trusted
    from one side view)."""

    provider: Literal["split_stance"]
    stride_min_mm: float

    def build(self, context: ProviderContext) -> MeasureProvider:
        return SplitStance(self.stride_min_mm)


@dataclass(slots=True)
class SplitStance:
    stride_min_mm: float
    split: bool = False

    def __call__(self, sample: Sample) -> Sample:
        p, scale = sample.pose.landmarks_px, sample.get(m.MM_PER_PX)
        if p is None:
            return sample  # no pose (its measures are NaN), or a stream measured upstream
        forward = _FORWARD_X.get(sample.facing, math.nan)
        nan = math.nan
        out = dict.fromkeys(
            (
                m.FRONT_KNEE_FLEXION_DEG,
                m.REAR_KNEE_FLEXION_DEG,
                m.FRONT_KNEE_PAST_TOES_MM,
                m.FRONT_LEG_RIGHT_FLAG,
            ),
            nan,
        )
        if not (math.isfinite(forward) and math.isfinite(scale)):
            return with_measures(sample, out)

        def ahead(joint: str) -> tuple[np.ndarray, np.ndarray, int]:
            """(front point, rear point, index of the front one's label: 0 left, 1 right)."""
            pts = [np.asarray(p[j, :2], dtype=float) for j in _PAIRS[joint]]
            i = int(np.argmax([pt[0] * forward for pt in pts]))
            return pts[i], pts[1 - i], i

        front_ankle, rear_ankle, label = ahead("ankle")
        stride_mm = abs(float(front_ankle[0] - rear_ankle[0])) * scale
        self.split = stride_mm >= self.stride_min_mm or (self.split and stride_mm > 0.0)
        if not self.split:
            return with_measures(sample, out)
        front_knee, rear_knee, _ = ahead("knee")
        front_toe, _, _ = ahead("toe")
        hips = p[[Landmark.LEFT_HIP, Landmark.RIGHT_HIP], :2]
        mid_hip = np.asarray(hips.mean(axis=0), dtype=float)
        out[m.FRONT_KNEE_FLEXION_DEG] = flexion_deg(mid_hip, front_knee, front_ankle)
        out[m.REAR_KNEE_FLEXION_DEG] = flexion_deg(mid_hip, rear_knee, rear_ankle)
        out[m.FRONT_KNEE_PAST_TOES_MM] = float(front_knee[0] - front_toe[0]) * forward * scale
        out[m.FRONT_LEG_RIGHT_FLAG] = float(label)
        return with_measures(sample, out)
