"""Standing and seated exercises: hip hinge, squat, sit-to-stand, standing posture."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import ClassVar

import numpy as np
import numpy.typing as npt

from formcheck.synth.body import BodyShape
from formcheck.synth.faults import Fault
from formcheck.synth.geometry import smoothstep
from formcheck.synth.motion import MS_PER_S, Motion
from formcheck.synth.placement import Support, place
from formcheck.synth.posture import LegPosture, SagittalPosture, arm_angles
from formcheck.synth.raycast import Box
from formcheck.synth.skeleton import BodyPose, Skeleton
from formcheck.synth.surface import (
    HAIR_OFFSET_FRAC,
    HAIR_RADII_SCALE,
    Capsule,
    Ellipsoid,
    Primitive,
    trunk_pieces,
)
from formcheck.synth.timeline import RepWindow, SetEnding

FEET = Support(anchor=("ankle_left", "ankle_right"))
MM_PER_M = 1000.0
LUMBAR_PELVIS_COMPENSATION = 0.5  # share of a rounded back's flexion the pelvis gives back
KNEE_DOMINANT_SHANK = 0.45  # extra shin tilt per degree of extra knee flexion
KNEE_DOMINANT_TRUNK = 0.6  # less pelvis tilt per degree of extra knee flexion
DOWEL_RADIUS_M = 0.014
KETTLEBELL_RADIUS_M = 0.095
KETTLEBELL_DROP_M = 0.13
HANDLE_RADIUS_M = 0.012
PROP = "prop"
CHAIR = "chair"
CHAIR_BACK_M = 0.22  # seat extends this far behind the hip joints
CHAIR_FRONT_FRACTION = 0.55  # ... and this share of the thigh in front of them
CHAIR_HALF_WIDTH_M = 0.24

# Putting the weight down at the end of a set: a little deeper than a rep (the weight goes to
# the floor, the knees give more), then walking out of the side view with a plain gait.
SET_DOWN_EXTRA_KNEE_DEG = 20.0
SET_DOWN_EXTRA_PELVIS_DEG = 8.0
ARMS_RELEASE_S = 0.3  # the arms settle from the grip to hanging after letting go
WALK_SPEED_M_S = 1.2  # an unhurried adult walk
STRIDE_HZ = 0.9  # strides per second (1.8 steps/s at that speed)
WALK_RAMP_S = 0.5  # from standing to full gait
THIGH_SWING_DEG = 20.0  # thigh angle either side of vertical in the gait
KNEE_SWING_DEG = 40.0  # knee flexion of the swinging leg at mid-swing
KNEE_WALK_BASE_DEG = 3.0


# Dowel drill: the right hand holds the dowel behind the neck, the left behind the lower back.
# Directions of the upper arm and forearm in the shoulder-girdle frame (forward, up, right).
DOWEL_RIGHT_ARM = ((-0.2, 0.85, 0.45), (-0.05, -0.42, -0.9))
DOWEL_LEFT_ARM = ((-0.45, -0.85, 0.1), (0.15, -0.6, 0.78))
DOWEL_TAIL_M = 0.12  # dowel beyond the sacrum
DOWEL_HEAD_M = 0.25  # dowel beyond the back of the head


def dowel_on_back(shape: BodyShape, skel: Skeleton) -> Capsule:
    """A dowel laid along the back: from the sacrum, tangent to the back (and head), so a
    rounded or arched spine lifts it off the thoracic spine or the head."""
    pelvis = skel.frames["pelvis"]
    origin = skel.points["pelvis"]
    pieces = trunk_pieces(shape, skel)
    backs = [start - f0[:, 0] * sec.back_depth_m for start, _, f0, _, sec, _ in pieces]
    _, top_end, _, top_frame, top_sec, _ = pieces[-1]
    backs.append(top_end - top_frame[:, 0] * top_sec.back_depth_m)
    head = skel.frames["head"]
    h = shape.height_m
    head_back = skel.points["head_centre"] + head[:, 0] * (
        HAIR_OFFSET_FRAC[0] * h - HAIR_RADII_SCALE[0] * shape.head_radii_m[0]
    )
    sacrum = backs[0]
    candidates = [*backs[2:], head_back]
    local = [pelvis.T @ (p - origin) for p in candidates]
    s2 = (pelvis.T @ (sacrum - origin))[:2]
    # The tangent from the sacrum: the candidate seen furthest towards the back (-x).
    angles = [np.arctan2(-(q[0] - s2[0]), q[1] - s2[1]) for q in local]
    touch = candidates[int(np.argmax(angles))]
    direction = (touch - sacrum) / np.linalg.norm(touch - sacrum)
    dorsal = -pelvis[:, 0] + np.dot(pelvis[:, 0], direction) * direction
    dorsal /= np.linalg.norm(dorsal)
    length = float(np.dot(head_back - sacrum, direction)) + DOWEL_HEAD_M
    base = sacrum + DOWEL_RADIUS_M * dorsal
    return Capsule(
        base - DOWEL_TAIL_M * direction, base + length * direction, DOWEL_RADIUS_M, PROP, PROP
    )


def forward_head_deltas(size_mm: float, neck_m: float) -> SagittalPosture:
    """Neck flexion with head extension that moves the ear forward by about ``size_mm``."""
    ratio = max(-0.9, min(0.9, size_mm / MM_PER_M / neck_m))
    neck = math.degrees(math.asin(ratio))
    return SagittalPosture(neck_deg=neck, head_deg=-neck)


def rounded_back_delta(size_deg: float) -> SagittalPosture:
    """A rounded lower back: lumbar flexion, part of it given back by the pelvis."""
    return SagittalPosture(
        lumbar_deg=size_deg, pelvis_tilt_deg=-LUMBAR_PELVIS_COMPENSATION * size_deg
    )


def stance_abduction_deg(width_mm: float, leg_m: float) -> float:
    """Hip abduction per side that widens the stance by ``width_mm``."""
    return math.degrees(math.asin(max(-0.9, min(0.9, width_mm / MM_PER_M / (2.0 * leg_m)))))


class StandingRepMotion(Motion):
    """Reps between a ``top`` and a ``bottom`` sagittal posture; the knee group (knee, shin)
    and the trunk group (pelvis, spine, arms) have their own timing for timing faults.

    With a set ending (``MotionConfig.ending``) the person then bends to a deeper
    ``set_down_posture`` to put the weight down, stays there while letting go, stands up
    without it (``unloaded_top``) and walks forward out of the side view."""

    supports_ending = True

    def top(self) -> SagittalPosture:
        return SagittalPosture()

    def bottom(self) -> SagittalPosture:
        return SagittalPosture()

    def bump(self) -> SagittalPosture | None:
        """Added with weight sin(pi * progress): a path that leaves the straight line."""
        return None

    def fault_delta(self, fault: Fault) -> SagittalPosture:
        """The posture change of a fault at full size."""
        k = fault.size
        if fault.kind == "lumbar_flexion":
            return rounded_back_delta(k)
        if fault.kind == "lumbar_extension":
            return SagittalPosture(lumbar_deg=-k, pelvis_tilt_deg=LUMBAR_PELVIS_COMPENSATION * k)
        if fault.kind == "knee_dominant":
            return SagittalPosture(
                knee_deg=k,
                shank_deg=KNEE_DOMINANT_SHANK * k,
                pelvis_tilt_deg=-KNEE_DOMINANT_TRUNK * k,
            )
        if fault.kind == "forward_head":
            return forward_head_deltas(k, self.shape.neck_m)
        if fault.kind == "stance_width":
            leg = self.shape.thigh_m + self.shape.shank_m
            base = self.top().stance_abduction_deg
            base_width = 2 * leg * math.sin(math.radians(base)) * MM_PER_M
            return SagittalPosture(
                stance_abduction_deg=stance_abduction_deg(base_width + k, leg) - base
            )
        return SagittalPosture()

    def set_down_posture(self) -> SagittalPosture:
        """Bent to put the weight on the floor: a rep's bottom, knees and hips further."""
        return self.bottom() + SagittalPosture(
            knee_deg=SET_DOWN_EXTRA_KNEE_DEG,
            shank_deg=0.35 * SET_DOWN_EXTRA_KNEE_DEG,
            pelvis_tilt_deg=SET_DOWN_EXTRA_PELVIS_DEG,
        )

    def unloaded_top(self) -> SagittalPosture:
        """Standing after the weight was put down (arms hanging free)."""
        return self.top()

    def released(self, t_s: float) -> float:
        """0 while the weight is held, 1 once let go (ramped over ARMS_RELEASE_S)."""
        if self.ending is None:
            return 0.0
        return smoothstep((t_s - self.ending.release_s) / ARMS_RELEASE_S)

    def walked_m(self, t_s: float) -> float:
        """How far the person has walked forward (+x) at ``t_s``."""
        if self.ending is None or t_s <= self.ending.walk_start_s:
            return 0.0
        tau = min(t_s, self.ending.walk_end_s) - self.ending.walk_start_s
        return WALK_SPEED_M_S * tau * smoothstep(tau / WALK_RAMP_S)

    def _walk_legs(self, ending: SetEnding, t_s: float) -> dict[str, LegPosture] | None:
        if t_s < ending.walk_start_s or t_s >= ending.walk_end_s:
            return None
        tau = t_s - ending.walk_start_s
        ramp = smoothstep(tau / WALK_RAMP_S)
        phase = 2.0 * math.pi * STRIDE_HZ * tau
        legs = {}
        for side, sign in (("left", 1.0), ("right", -1.0)):
            thigh = ramp * THIGH_SWING_DEG * sign * math.sin(phase)
            swinging = max(0.0, sign * math.cos(phase))  # this thigh moves forward
            knee = KNEE_WALK_BASE_DEG + ramp * KNEE_SWING_DEG * swinging
            legs[side] = LegPosture(knee_deg=knee, shank_deg=knee - thigh)
        return legs

    def _ending_pose(self, ending: SetEnding, t_s: float) -> BodyPose:
        loaded, free = self.top(), self.unloaded_top()
        standing = loaded.blend(free, self.released(t_s))
        posture = standing.blend(self.set_down_posture(), ending.bend(t_s))
        return posture.to_pose(self._walk_legs(ending, t_s))

    def support_at(self, t_s: float) -> Support:
        walked = self.walked_m(t_s)
        return FEET if walked == 0.0 else Support(anchor=FEET.anchor, anchor_xz_m=(walked, 0.0))

    def _delays(self, rep: RepWindow) -> tuple[float, float]:
        down = up = 0.0
        for f in self.faults:
            if f.affects(rep.index) and f.kind == "knee_first":
                down = f.size / MS_PER_S
            if f.affects(rep.index) and f.kind == "hips_rise_first":
                up = f.size / MS_PER_S
        return down, up

    def posture_at(self, t_s: float, with_faults: bool = True) -> SagittalPosture:
        top, bottom = self.top(), self.bottom()
        rep = self.rep_at(t_s)
        posture = top
        if rep is not None:
            trunk_down, trunk_up = self._delays(rep) if with_faults else (0.0, 0.0)
            s_knee = rep.progress(t_s)
            s_trunk = rep.progress(t_s, trunk_down, trunk_up)
            posture = top.blend(bottom, s_trunk).with_knees_from(top.blend(bottom, s_knee))
            bump = self.bump()
            if bump is not None:
                posture = posture + bump.scale(math.sin(math.pi * s_trunk))
        if with_faults:
            for fault, w in self.active_faults(t_s):
                posture = posture + self.fault_delta(fault).scale(w)
        return posture

    def pose_at(self, t_s: float, with_faults: bool = True) -> BodyPose:
        if self.ending is not None and t_s >= self.ending.start_s:
            return self._ending_pose(self.ending, t_s)
        return self.posture_at(t_s, with_faults).to_pose()


class HipHinge(StandingRepMotion):
    """Hip hinge / Romanian deadlift: knees soft, hips back, trunk towards horizontal."""

    exercise = "hip_hinge"
    phase_names = ("descent", "bottom", "ascent", "top")
    supported_faults = (
        "lumbar_flexion",
        "lumbar_extension",
        "knee_first",
        "hips_rise_first",
        "knee_dominant",
        "tempo",
        "stance_width",
        "forward_head",
    )
    variants = ("bodyweight", "dowel", "kettlebell")
    defaults: ClassVar[dict[str, float]] = {
        "bottom_pelvis_tilt_deg": 70.0,
        "bottom_knee_deg": 20.0,
        "bottom_thoracic_deg": 4.0,
        "stance_abduction_deg": 3.0,
    }
    ranges: ClassVar[dict[str, tuple[float, float]]] = {
        "bottom_pelvis_tilt_deg": (60.0, 78.0),
        "bottom_knee_deg": (12.0, 26.0),
        "bottom_thoracic_deg": (0.0, 8.0),
        "stance_abduction_deg": (1.0, 6.0),
    }

    def _arms(self) -> tuple[float, float]:
        """(forward angle, abduction) of the arms: hands together for a kettlebell."""
        return (8.0, -10.0) if self.variant == "kettlebell" else (0.0, 0.0)

    def setup(self) -> None:
        self._bell_on_floor: npt.NDArray[np.float64] | None = None
        if self.ending is None:
            return
        if self.variant == "dowel":
            raise ValueError("a dowel set has no set-down ending (the dowel stays on the back)")
        if self.variant == "kettlebell":  # where the bell is set down: under the hands
            t = self.ending.release_s
            placed = place(self.shape, self.pose_at(t), self.support_at(t))
            bell = self._hanging_bell(placed.skeleton)
            bell[1] = KETTLEBELL_RADIUS_M
            self._bell_on_floor = bell

    def unloaded_top(self) -> SagittalPosture:
        return replace(self.top(), arm_deg=0.0, arm_abduction_deg=0.0)

    def _grip(self, skel: Skeleton) -> npt.NDArray[np.float64]:
        hands = (skel.points["wrist_left"] + skel.points["wrist_right"]) / 2.0
        return np.asarray(hands + np.array([0.0, -0.05 * self.shape.height_m, 0.0]))

    def _hanging_bell(self, skel: Skeleton) -> npt.NDArray[np.float64]:
        """The bell under the hands (with a set ending, which goes deeper: never through the
        floor; sets without one are drawn as they always were)."""
        bell = self._grip(skel) + np.array([0.0, -KETTLEBELL_DROP_M, 0.0])
        if self.ending is not None:
            bell[1] = max(bell[1], KETTLEBELL_RADIUS_M)
        return bell

    def top(self) -> SagittalPosture:
        arm, abd = self._arms()
        return SagittalPosture(
            knee_deg=3.0,
            shank_deg=1.0,
            arm_deg=arm,
            arm_abduction_deg=abd,
            stance_abduction_deg=self.params["stance_abduction_deg"],
        )

    def bottom(self) -> SagittalPosture:
        knee = self.params["bottom_knee_deg"]
        _, abd = self._arms()
        return SagittalPosture(
            knee_deg=knee,
            shank_deg=0.35 * knee,
            pelvis_tilt_deg=self.params["bottom_pelvis_tilt_deg"],
            thoracic_deg=self.params["bottom_thoracic_deg"],
            arm_abduction_deg=abd,
            stance_abduction_deg=self.params["stance_abduction_deg"],
        )

    def pose_at(self, t_s: float, with_faults: bool = True) -> BodyPose:
        pose = super().pose_at(t_s, with_faults)
        if self.variant != "dowel":
            return pose
        joints = dict(pose.joints)  # hands hold the dowel behind the neck and the lower back
        for side, (upper, fore) in (("right", DOWEL_RIGHT_ARM), ("left", DOWEL_LEFT_ARM)):
            shoulder, elbow = arm_angles(np.array(upper), np.array(fore), side)
            joints[f"shoulder_{side}"] = shoulder
            joints[f"elbow_{side}"] = elbow
        return BodyPose(root_deg=pose.root_deg, joints=joints, root_twist_deg=pose.root_twist_deg)

    def props(self, skel: Skeleton) -> list[Primitive]:
        if self.variant == "dowel":
            return [dowel_on_back(self.shape, skel)]
        if self.variant == "kettlebell":
            return self._kettlebell(self._hanging_bell(skel), skel.frames["pelvis"][:, 2])
        return []

    def props_at(self, skel: Skeleton, t_s: float) -> list[Primitive]:
        if self._bell_on_floor is not None and self.released(t_s) > 0.0:
            return self._kettlebell(self._bell_on_floor, np.array([0.0, 0.0, 1.0]))
        return self.props(skel)

    def _kettlebell(
        self, bell: npt.NDArray[np.float64], lateral: npt.NDArray[np.float64]
    ) -> list[Primitive]:
        r = KETTLEBELL_RADIUS_M
        grip = bell + np.array([0.0, KETTLEBELL_DROP_M, 0.0])
        return [
            Ellipsoid(bell, np.eye(3), np.array([r, r, r]), PROP, PROP),
            Capsule(grip - 0.06 * lateral, grip + 0.06 * lateral, HANDLE_RADIUS_M, PROP, PROP),
        ]


class Squat(StandingRepMotion):
    exercise = "squat"
    phase_names = ("descent", "bottom", "ascent", "top")
    supported_faults = (
        "lumbar_flexion",
        "knee_first",
        "hips_rise_first",
        "tempo",
        "stance_width",
        "forward_head",
    )
    defaults: ClassVar[dict[str, float]] = {
        "bottom_knee_deg": 105.0,
        "bottom_shank_deg": 32.0,
        "bottom_pelvis_tilt_deg": 40.0,
        "stance_abduction_deg": 10.0,
    }
    ranges: ClassVar[dict[str, tuple[float, float]]] = {
        "bottom_knee_deg": (90.0, 115.0),
        "bottom_shank_deg": (25.0, 36.0),
        "bottom_pelvis_tilt_deg": (32.0, 48.0),
        "stance_abduction_deg": (6.0, 14.0),
    }

    def top(self) -> SagittalPosture:
        return SagittalPosture(
            knee_deg=2.0, shank_deg=1.0, stance_abduction_deg=self.params["stance_abduction_deg"]
        )

    def bottom(self) -> SagittalPosture:
        return SagittalPosture(
            knee_deg=self.params["bottom_knee_deg"],
            shank_deg=self.params["bottom_shank_deg"],
            pelvis_tilt_deg=self.params["bottom_pelvis_tilt_deg"],
            arm_deg=80.0,
            stance_abduction_deg=self.params["stance_abduction_deg"],
        )


class SitToStand(StandingRepMotion):
    """From seated on a box to standing and back; the still period is seated."""

    exercise = "sit_to_stand"
    supports_ending = False  # the chair stays: no weight to put down
    phase_names = ("rise", "stand", "sit", "seated")
    supported_faults = ("lumbar_flexion", "tempo", "forward_head")
    defaults: ClassVar[dict[str, float]] = {
        "seated_knee_deg": 90.0,
        "lean_deg": 38.0,
        "arm_deg": 30.0,
    }
    ranges: ClassVar[dict[str, tuple[float, float]]] = {
        "seated_knee_deg": (80.0, 100.0),
        "lean_deg": (30.0, 45.0),
        "arm_deg": (0.0, 60.0),
    }

    def top(self) -> SagittalPosture:
        knee = self.params["seated_knee_deg"]
        return SagittalPosture(
            knee_deg=knee,
            shank_deg=knee - 85.0,
            pelvis_tilt_deg=5.0,
            arm_deg=self.params["arm_deg"],
            elbow_deg=40.0,
            stance_abduction_deg=4.0,
        )

    def bottom(self) -> SagittalPosture:
        return SagittalPosture(
            knee_deg=2.0,
            shank_deg=1.0,
            arm_deg=self.params["arm_deg"],
            elbow_deg=40.0,
            stance_abduction_deg=4.0,
        )

    def bump(self) -> SagittalPosture:
        return SagittalPosture(pelvis_tilt_deg=self.params["lean_deg"], shank_deg=6.0)

    def rep_fault_weight(self, fault: Fault, rep: RepWindow, t_s: float) -> float:
        if fault.kind == "lumbar_flexion":  # rounds the back while leaning forward to rise
            return math.sin(math.pi * rep.progress(t_s)) if t_s < rep.bottom_start_s else 0.0
        return super().rep_fault_weight(fault, rep, t_s)

    def setup(self) -> None:
        seated = place(self.shape, self.top().to_pose(), FEET)
        buttocks = min(p.lowest_y_m() for p in seated.prims if p.part == "pelvis")
        hip = seated.skeleton.points["pelvis"]
        front = hip[0] + CHAIR_FRONT_FRACTION * self.shape.thigh_m
        self._chair = Box(
            np.array([hip[0] - CHAIR_BACK_M, 0.0, -CHAIR_HALF_WIDTH_M]),
            np.array([front, buttocks, CHAIR_HALF_WIDTH_M]),
            CHAIR,
        )

    def scenery(self) -> list[Box]:
        return [self._chair]


class StandingPosture(StandingRepMotion):
    """Quiet standing held for a while; faults (forward head) ramp in during the hold."""

    exercise = "standing_posture"
    is_hold = True
    supported_faults = ("forward_head", "stance_width")
    defaults: ClassVar[dict[str, float]] = {"thoracic_deg": 0.0, "stance_abduction_deg": 3.0}
    ranges: ClassVar[dict[str, tuple[float, float]]] = {
        "thoracic_deg": (-3.0, 6.0),
        "stance_abduction_deg": (1.0, 6.0),
    }

    def top(self) -> SagittalPosture:
        return SagittalPosture(
            knee_deg=2.0,
            shank_deg=1.0,
            thoracic_deg=self.params["thoracic_deg"],
            stance_abduction_deg=self.params["stance_abduction_deg"],
        )
