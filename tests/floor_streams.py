"""Hand-made streams for the alternating floor analyzers (bird-dog, dead bug).

``reach_set(reps)`` describes alternating reaches with known timing, side, reach and back
change; ``reach_samples`` turns it into Samples carrying the floor measures directly (the
analyzer's frame reader leaves such samples as they are). ``floor_landmarks`` draws a side-view
stick figure on all fours or lying on the back with given limb reaches, for the geometry.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from formcheck.analyzers.testing import ease, frame_times, make_sample
from formcheck.kinematics import names as m
from formcheck.kinematics.providers.floor_reach import (
    ARM_REACH_DEG,
    HIP_LEVEL_MM,
    HIP_LEVEL_WORLD_MM,
    HIP_WIDTH_WORLD_MM,
    LEG_REACH_DEG,
    LIMB_REACH_DEG,
    FloorPosture,
)
from formcheck.pose.landmarks import NUM_LANDMARKS, Landmark
from formcheck.types import CameraView, Facing, FrameQuality, PoseFrame, Sample

L = Landmark
OFFSET_MM = 100.0  # back outline offset from the chord with a neutral back
CHORD_MM = 470.0
HIP_WIDTH_MM = 200.0
CURVE_MM = -10.0  # the outline's curve with a neutral back


@dataclass(frozen=True, slots=True)
class Reach:
    """One rep: the working leg's side, timing (s), reach (deg) and planted back change."""

    leg: str = "left"
    rest_s: float = 1.0  # still before the rep
    out_s: float = 1.5
    hold_s: float = 0.6
    back_s: float = 1.4
    arm_deg: float = 85.0
    leg_deg: float = 88.0
    sag_mm: float = 0.0  # the back outline lowered at full reach (+ sagging/lifting off)
    hike_mm: float = 0.0  # the working leg's hip raised against the other at full reach


@dataclass(slots=True)
class ReachSet:
    reps: list[Reach]
    tail_s: float = 1.5
    starts_s: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        t = 0.0
        for rep in self.reps:
            t += rep.rest_s
            self.starts_s.append(t)
            t += rep.out_s + rep.hold_s + rep.back_s

    @property
    def duration_s(self) -> float:
        last = self.reps[-1]
        return self.starts_s[-1] + last.out_s + last.hold_s + last.back_s + self.tail_s

    def progress(self, t: float) -> tuple[Reach | None, float]:
        for rep, start in zip(self.reps, self.starts_s, strict=True):
            if start <= t <= start + rep.out_s + rep.hold_s + rep.back_s:
                if t < start + rep.out_s:
                    return rep, ease((t - start) / rep.out_s)
                if t <= start + rep.out_s + rep.hold_s:
                    return rep, 1.0
                return rep, 1.0 - ease((t - start - rep.out_s - rep.hold_s) / rep.back_s)
        return None, 0.0

    def measures(self, t: float) -> dict[str, float]:
        rep, p = self.progress(t)
        limbs = {ARM_REACH_DEG[s]: 0.0 for s in ("left", "right")}
        limbs |= {LEG_REACH_DEG[s]: 0.0 for s in ("left", "right")}
        offset, hip_level = OFFSET_MM, 0.0
        if rep is not None:
            arm_side = "right" if rep.leg == "left" else "left"
            limbs[ARM_REACH_DEG[arm_side]] = rep.arm_deg * p
            limbs[LEG_REACH_DEG[rep.leg]] = rep.leg_deg * p
            offset -= rep.sag_mm * p
            hip_level = (-1.0 if rep.leg == "left" else 1.0) * rep.hike_mm * p  # + left lower
        return {
            HIP_LEVEL_WORLD_MM: hip_level,
            HIP_LEVEL_MM: hip_level,
            HIP_WIDTH_WORLD_MM: HIP_WIDTH_MM,
            **limbs,
            LIMB_REACH_DEG: max(limbs.values()),
            m.BACK_OFFSET_MM: offset,
            m.BACK_CURVE_MM: offset - OFFSET_MM + CURVE_MM,
            m.SPINE_CHORD_MM: CHORD_MM,
        }


def alternating(count: int, **kwargs: Any) -> list[Reach]:
    """``count`` reps, left leg first, then alternating."""
    return [Reach(leg="left" if i % 2 == 0 else "right", **kwargs) for i in range(count)]


def reach_samples(reach_set: ReachSet, fps: float = 30.0, seed: int = 0) -> list[Sample]:
    rng = np.random.default_rng(seed)
    out = []
    for t in frame_times(reach_set.duration_s, fps):
        values = reach_set.measures(t)
        for name in (m.BACK_OFFSET_MM, m.BACK_CURVE_MM):
            values[name] += float(rng.normal(0.0, 0.5))
        out.append(make_sample(t * 1000.0, values))
    return out


# ----- stick figures ------------------------------------------------------------------------
_SEGMENT_PX = {"trunk": 200.0, "upper_arm": 110.0, "forearm": 100.0, "thigh": 170.0, "shin": 160.0}


def _ray(start: np.ndarray, length: float, angle_deg: float, head_x: float, up: bool) -> np.ndarray:
    """A point ``length`` from ``start``, ``angle_deg`` from straight down (``up``: straight
    up), positive towards the head."""
    a = math.radians(angle_deg)
    return start + length * np.array([head_x * math.sin(a), -math.cos(a) if up else math.cos(a)])


def floor_landmarks(
    posture: FloorPosture,
    arm_deg: dict[str, float],
    leg_deg: dict[str, float],
    head_x: float = 1.0,
) -> np.ndarray:
    """(33, 3) landmarks of a side-view figure: each arm ``arm_deg`` towards the head from
    its start direction, each leg's thigh (all fours) or knee (on the back) ``leg_deg`` from
    its start; both sides overlap as in a side view."""
    up = posture is FloorPosture.SUPINE
    floor_y = 300.0 if up else 200.0
    hip = np.array([320.0 - head_x * _SEGMENT_PX["trunk"] / 2, floor_y])
    shoulder = hip + np.array([head_x * _SEGMENT_PX["trunk"], 0.0])
    pts = np.zeros((NUM_LANDMARKS, 3))
    for side in ("left", "right"):
        elbow = _ray(shoulder, _SEGMENT_PX["upper_arm"], arm_deg[side], head_x, up)
        wrist = _ray(elbow, _SEGMENT_PX["forearm"], arm_deg[side], head_x, up)
        if up:  # thigh up, shin towards the feet; straightening turns the shin up
            knee = _ray(hip, _SEGMENT_PX["thigh"], 0.0, head_x, up)
            ankle = _ray(knee, _SEGMENT_PX["shin"], -(90.0 - leg_deg[side]), head_x, up)
        else:  # thigh down, shin back along the floor; the thigh swings back
            knee = _ray(hip, _SEGMENT_PX["thigh"], -leg_deg[side], head_x, up)
            ankle = knee + np.array([-head_x * _SEGMENT_PX["shin"], 0.0])
        for name, point in (
            ("shoulder", shoulder),
            ("elbow", elbow),
            ("wrist", wrist),
            ("hip", hip),
            ("knee", knee),
            ("ankle", ankle),
            ("heel", ankle),
            ("foot_index", ankle),
        ):
            pts[Landmark.__members__[f"{side}_{name}".upper()], :2] = point
    head = shoulder + np.array([head_x * 60.0, -20.0 if not up else 0.0])
    for lm in (L.NOSE, L.LEFT_EAR, L.RIGHT_EAR, L.LEFT_EYE, L.RIGHT_EYE):
        pts[lm, :2] = head
    return pts


def landmark_sample(t_ms: float, points: np.ndarray, mm_per_px: float = 4.0) -> Sample:
    """A sample whose pose carries ``points`` (no measures of the floor reader yet)."""
    pose = PoseFrame(
        t_ms=t_ms,
        image_width_px=640,
        image_height_px=480,
        landmarks_px=points,
        visibility=np.full(NUM_LANDMARKS, 0.9),
    )
    measures = {m.MM_PER_PX: mm_per_px, m.SPINE_CHORD_MM: CHORD_MM}
    # as the standing person's checks judge a floor posture (too small, toes backwards):
    # the floor reader judges both again
    quality = FrameQuality(has_pose=True, in_frame=False, too_small=True)
    return Sample(t_ms, measures, Facing.LEFT, CameraView.SIDE, quality, pose)
