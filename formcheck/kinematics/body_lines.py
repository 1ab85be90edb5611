"""Body lines from a Sample's landmarks, for the isometric holds (planks, standing posture).

A hold is judged against the person's own straight line: the hips against the line from the
shoulders to the ankles, the arm that carries the body against the vertical, the shoulders
against the hips. Points are the midpoints of the left and right landmarks (a plank or a
side plank moves both sides together, and averaging halves the far side's guesswork);
distances come out in millimetres through the frame's ``mm_per_px``. Image y points down,
which is towards the floor for a camera held level.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from formcheck.kinematics import names as m
from formcheck.kinematics.geometry import flexion_deg
from formcheck.pose.landmarks import Landmark
from formcheck.types import Sample

Point = npt.NDArray[np.float64]
L = Landmark

# The pairs whose midpoints make the body line.
_PAIRS: dict[str, tuple[Landmark, Landmark]] = {
    "ear": (L.LEFT_EAR, L.RIGHT_EAR),
    "shoulder": (L.LEFT_SHOULDER, L.RIGHT_SHOULDER),
    "hip": (L.LEFT_HIP, L.RIGHT_HIP),
    "knee": (L.LEFT_KNEE, L.RIGHT_KNEE),
    "ankle": (L.LEFT_ANKLE, L.RIGHT_ANKLE),
}
_FORWARD_X = {"left": -1.0, "right": 1.0}  # image x of the facing direction
_ARMS = ((L.LEFT_SHOULDER, L.LEFT_ELBOW), (L.RIGHT_SHOULDER, L.RIGHT_ELBOW))


@dataclass(frozen=True, slots=True)
class BodyLine:
    """Midpoints (px) of one frame's shoulders, hips, knees and ankles, with the frame's
    scale; ``foot`` is the far end of the line: the ankles, or the knees when the ankles
    are outside the image (``foot_is_ankle`` False)."""

    shoulder: Point
    hip: Point
    knee: Point
    foot: Point
    foot_is_ankle: bool
    mm_per_px: float

    @property
    def length_px(self) -> float:
        return float(np.hypot(*(self.shoulder - self.foot)))

    def hip_offset_mm(self) -> float:
        """The hips below (+, towards the floor) or above (-) the shoulder-foot line, mm."""
        return offset_below_line_px(self.hip, self.shoulder, self.foot) * self.mm_per_px

    def hip_bend_deg(self) -> float:
        """Bend of the body line at the hips, deg: 0 straight, + hips below the line (sag or
        drop), - above it (pike)."""
        bend = flexion_deg(self.shoulder, self.hip, self.foot)
        offset = offset_below_line_px(self.hip, self.shoulder, self.foot)
        if not math.isfinite(offset):
            return math.nan
        return bend if offset >= 0 else -bend

    def elevation_deg(self) -> float:
        """Angle of the foot-to-shoulder line from the image horizontal, deg (0 lying level,
        90 upright)."""
        return elevation_deg(self.foot, self.shoulder)


def inside_image(sample: Sample, landmarks: tuple[Landmark, ...], margin_px: float) -> bool:
    """Whether all ``landmarks`` lie inside the image, at least ``margin_px`` from its edge."""
    p = sample.pose.landmarks_px
    if p is None:
        return False
    xy = np.asarray(p, dtype=np.float64)[list(landmarks), :2]
    w, h = sample.pose.image_width_px, sample.pose.image_height_px
    return bool(
        np.all(xy[:, 0] >= margin_px)
        and np.all(xy[:, 0] <= w - margin_px)
        and np.all(xy[:, 1] >= margin_px)
        and np.all(xy[:, 1] <= h - margin_px)
    )


def midpoint_px(sample: Sample, name: str) -> Point | None:
    """Midpoint of the left and right landmark ``name`` ("shoulder", "hip", ...), px."""
    p = sample.pose.landmarks_px
    if p is None:
        return None
    left, right = _PAIRS[name]
    xy = np.asarray(p, dtype=np.float64)
    return (xy[left, :2] + xy[right, :2]) / 2.0


def pair(name: str) -> tuple[Landmark, Landmark]:
    return _PAIRS[name]


def body_line(sample: Sample, margin_px: float) -> BodyLine | None:
    """The frame's body line, or None without a pose, a scale, or the shoulders, hips and
    knees inside the image."""
    scale = sample.get(m.MM_PER_PX)
    if sample.pose.landmarks_px is None or not (math.isfinite(scale) and scale > 0):
        return None
    core = (*_PAIRS["shoulder"], *_PAIRS["hip"], *_PAIRS["knee"])
    if not inside_image(sample, core, margin_px):
        return None
    points = {name: midpoint_px(sample, name) for name in ("shoulder", "hip", "knee", "ankle")}
    shoulder, hip, knee, ankle = (points[k] for k in ("shoulder", "hip", "knee", "ankle"))
    assert shoulder is not None and hip is not None and knee is not None and ankle is not None
    ankles_in = inside_image(sample, _PAIRS["ankle"], margin_px)
    foot = ankle if ankles_in else knee
    return BodyLine(shoulder, hip, knee, foot, ankles_in, float(scale))


def offset_below_line_px(point: Point, start: Point, end: Point) -> float:
    """Perpendicular distance of ``point`` from the line start-end, positive below it (image
    +y, towards the floor). NaN for a degenerate or vertical line (no "below")."""
    d = end - start
    length = float(np.hypot(d[0], d[1]))
    if length == 0.0 or d[0] == 0.0:
        return math.nan
    normal = np.array([-d[1], d[0]]) / length
    if normal[1] < 0:
        normal = -normal  # the normal pointing down the image
    return float(np.dot(point - start, normal))


def elevation_deg(low: Point, high: Point) -> float:
    """Angle of the line low->high above the image horizontal, deg in [0, 90] (sign-free)."""
    d = high - low
    if not np.any(d):
        return math.nan
    return math.degrees(math.atan2(abs(float(d[1])), abs(float(d[0]))))


def support_arm_from_vertical_deg(sample: Sample) -> float:
    """How far the supporting upper arm (elbow to shoulder, of the arm whose elbow is lower
    in the image: the one on the floor) leans from the vertical, deg. A plank or a side
    plank stacks the shoulder over the elbow (near 0); lying down lays the arm flat (near
    90). NaN without a pose."""
    p = sample.pose.landmarks_px
    if p is None:
        return math.nan
    xy = np.asarray(p, dtype=np.float64)
    shoulder, elbow = max(_ARMS, key=lambda arm: float(xy[arm[1], 1]))
    d = xy[shoulder, :2] - xy[elbow, :2]
    if not np.any(d):
        return math.nan
    return math.degrees(math.atan2(abs(float(d[0])), -float(d[1])))


def forward_offset_mm(sample: Sample, front: str, back: str) -> float:
    """How far the midpoint ``front`` is ahead of the midpoint ``back`` along the image
    horizontal in the direction the person faces, mm (NaN when the facing is unknown)."""
    forward = _FORWARD_X.get(sample.facing.value, 0.0)
    a, b = midpoint_px(sample, front), midpoint_px(sample, back)
    scale = sample.get(m.MM_PER_PX)
    if forward == 0.0 or a is None or b is None or not math.isfinite(scale):
        return math.nan
    return float(a[0] - b[0]) * forward * scale


def heel_gap_mm(sample: Sample) -> float:
    """Distance between the two heels in the image, mm. From the front it is the stance
    width; from the side, feet moving apart still move the far heel up the image
    (perspective) and sideways (a camera off the side), so its change tracks a change of
    stance (at a lower gain), where MediaPipe's depth of the ankles barely does."""
    p = sample.pose.landmarks_px
    scale = sample.get(m.MM_PER_PX)
    if p is None or not math.isfinite(scale):
        return math.nan
    xy = np.asarray(p, dtype=np.float64)
    return float(np.hypot(*(xy[L.LEFT_HEEL, :2] - xy[L.RIGHT_HEEL, :2]))) * scale


def head_ahead_of_trunk_mm(sample: Sample) -> float:
    """How far the mid-ear is ahead of the trunk line (mid-hip to mid-shoulder) in the
    direction the person faces, mm (NaN when the facing is unknown). Midpoints of both sides
    keep it steady when the near side flips between frames."""
    forward = _FORWARD_X.get(sample.facing.value, 0.0)
    ear, shoulder, hip = (midpoint_px(sample, k) for k in ("ear", "shoulder", "hip"))
    scale = sample.get(m.MM_PER_PX)
    if forward == 0.0 or ear is None or shoulder is None or hip is None:
        return math.nan
    d = shoulder - hip
    length = float(np.hypot(d[0], d[1]))
    if length == 0.0 or not math.isfinite(scale):
        return math.nan
    # along hip->shoulder, a point ahead of a right-facing person is on the right-hand side
    cross = float(d[0] * (ear[1] - hip[1]) - d[1] * (ear[0] - hip[0])) / length
    return cross * forward * scale


def shoulder_roll_deg(sample: Sample) -> float:
    """Angle of the shoulder axis (left to right shoulder, world landmarks) out of the image
    plane, deg: 0 when both shoulders are at the same depth (a side plank's chest square to
    a camera in front), +-90 when one is straight behind the other. NaN without world
    landmarks."""
    w = sample.pose.world_m
    if w is None:
        return math.nan
    axis = np.asarray(w[L.LEFT_SHOULDER] - w[L.RIGHT_SHOULDER], dtype=np.float64)
    across = float(np.hypot(axis[0], axis[1]))
    if across == 0.0 and axis[2] == 0.0:
        return math.nan
    return math.degrees(math.atan2(float(axis[2]), across))
