"""The static split squat ("lunge"), filmed from the side.

The feet stay where they stand: the front foot flat, the rear foot on its toes (the toes
pivot on the floor as the heel rises). The hips travel on a straight line from the top (both
knees nearly straight) to the bottom, where the front shin tilts forward by
``bottom_shank_deg`` and the rear knee hovers ``bottom_rear_knee_gap_m`` above the floor.
Both legs are solved from the hip to their foot (two-link inverse kinematics in the sagittal
plane, knees forward), so each knee bends by what the stance asks of it. The trunk tips
forward a little at the bottom.

Geometry is worked out in the sagittal plane with the front ankle joint at the origin, x
forward and y up; ``place`` then puts the front ankle at the world origin and the lowest
points (the front sole and the rear toes, at the same height) on the floor.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import numpy.typing as npt

from formcheck.pose.landmarks import Landmark
from formcheck.synth.faults import Fault
from formcheck.synth.geometry import Vec, rot_z, unit
from formcheck.synth.motion import Motion
from formcheck.synth.placement import Support
from formcheck.synth.posture import LegPosture, SagittalPosture, arm_angles
from formcheck.synth.skeleton import SIDES, SPINE_JOINTS, BodyPose, Skeleton, forward_kinematics
from formcheck.synth.standing import MM_PER_M, rounded_back_delta
from formcheck.synth.surface import FOOT_BACK_FRAC, FOOT_FRONT_FRAC
from formcheck.synth.timeline import RepWindow

F64 = npt.NDArray[np.float64]

TOP_FRONT_KNEE_DEG = 4.0  # knees at the top: nearly straight, never locked
TOP_REAR_KNEE_DEG = 6.0
TOP_PELVIS_TILT_DEG = 2.0
TOP_HEEL_LIFT_DEG = 25.0  # the rear heel is off the floor already when standing split
REACH_MARGIN = 1e-6  # a leg is never asked to reach further than this short of straight
# Hands on hips: the wrist sits on the iliac crest, this far (fractions of body height) in
# the pelvis frame (forward, up) and outside the pelvis's half width; the elbows point out
# and back.
HIP_GRIP_FRAC = (0.005, 0.075)
HIP_GRIP_OUT_FRAC = 0.012
ELBOW_POLE = (-0.35, 0.0, 1.0)  # (forward, up, outward) in the shoulder-girdle frame
HANDS_ON_HIPS = "hands_on_hips"


@dataclass(frozen=True, slots=True)
class SplitStance:
    """Where the feet are and where the hips go (sagittal metres, front ankle at 0)."""

    rear_toe: Vec  # centre of the rear foot's toe sphere (fixed on the floor)
    hip_top: Vec
    hip_bottom: Vec


def _lerp(a: float, b: float, s: float) -> float:
    return a + (b - a) * s


def _rot2(v: Vec, angle_deg: float) -> Vec:
    """``v`` turned counter-clockwise (forward-to-up) by ``angle_deg``."""
    a = math.radians(angle_deg)
    c, s = math.cos(a), math.sin(a)
    return np.array([c * v[0] - s * v[1], s * v[0] + c * v[1]])


def leg_reach_m(thigh_m: float, shank_m: float, knee_deg: float) -> float:
    """Hip-to-ankle distance of a leg with the knee flexed by ``knee_deg``."""
    return math.sqrt(
        thigh_m**2 + shank_m**2 + 2.0 * thigh_m * shank_m * math.cos(math.radians(knee_deg))
    )


def solve_leg(hip: Vec, ankle: Vec, thigh_m: float, shank_m: float) -> tuple[float, float]:
    """(knee flexion, shin's forward tilt) in degrees that join ``hip`` to ``ankle`` with the
    knee in front of the hip-ankle line; a target out of reach leaves the leg straight."""
    v = ankle - hip
    d = min(float(np.linalg.norm(v)), thigh_m + shank_m - REACH_MARGIN)
    cos_hip = (thigh_m**2 + d**2 - shank_m**2) / (2.0 * thigh_m * d)
    opening = math.degrees(math.acos(max(-1.0, min(1.0, cos_hip))))
    # Turning the hip-ankle direction by +opening (counter-clockwise) swings it forward
    # when it points down: the knee ends up in front.
    thigh_dir = _rot2(unit(v), opening)
    knee = hip + thigh_m * thigh_dir
    thigh_tilt = math.degrees(math.atan2(thigh_dir[0], -thigh_dir[1]))
    up_shin = knee - ankle  # ankle -> knee
    shank_tilt = math.degrees(math.atan2(up_shin[0], up_shin[1]))
    return thigh_tilt + shank_tilt, shank_tilt


def circle_intersection_upper(a: Vec, ra: float, b: Vec, rb: float) -> Vec:
    """The higher of the two points at distance ``ra`` from ``a`` and ``rb`` from ``b``."""
    d = float(np.linalg.norm(b - a))
    along = (ra**2 - rb**2 + d**2) / (2.0 * d)
    h = math.sqrt(max(ra**2 - along**2, 0.0))
    e = (b - a) / d
    n = np.array([-e[1], e[0]])
    p1, p2 = a + along * e + h * n, a + along * e - h * n
    return p1 if p1[1] >= p2[1] else p2


class Lunge(Motion):
    """Static split squat: reps of lowering the hips between split feet and rising again.

    Variants name the front leg and the arms: ``left_front``/``right_front`` with the arms
    hanging, ``..._hands_on_hips`` with the hands on the iliac crests. Each rep's truth
    records the front leg (``side``).
    """

    exercise = "lunge"
    phase_names = ("descent", "bottom", "ascent", "top")
    supported_faults = ("lumbar_flexion", "trunk_lean", "knee_travel", "tempo")
    variants = (
        "left_front",
        "right_front",
        f"left_front_{HANDS_ON_HIPS}",
        f"right_front_{HANDS_ON_HIPS}",
    )
    defaults: ClassVar[dict[str, float]] = {
        "stride_frac": 0.88,  # front ankle to the rear toes, in leg lengths (thigh + shank)
        "bottom_rear_knee_gap_m": 0.04,  # between the rear knee's surface and the floor
        "bottom_shank_deg": 10.0,  # front shin's forward tilt at the bottom
        "bottom_pelvis_tilt_deg": 8.0,
        "bottom_heel_lift_deg": 55.0,  # rear foot's pitch at the bottom
    }
    ranges: ClassVar[dict[str, tuple[float, float]]] = {
        "stride_frac": (0.8, 0.92),
        "bottom_rear_knee_gap_m": (0.02, 0.06),
        "bottom_shank_deg": (5.0, 14.0),
        "bottom_pelvis_tilt_deg": (2.0, 15.0),
        "bottom_heel_lift_deg": (52.0, 65.0),
    }

    # -- set-up ---------------------------------------------------------------------------
    @property
    def front(self) -> str:
        return "right" if self.variant.startswith("right") else "left"

    @property
    def rear(self) -> str:
        return "left" if self.front == "right" else "right"

    @property
    def hands_on_hips(self) -> bool:
        return self.variant.endswith(HANDS_ON_HIPS)

    def setup(self) -> None:
        shape = self.shape
        h = shape.height_m
        self._toe_local = np.array([FOOT_FRONT_FRAC[0] * h, FOOT_FRONT_FRAC[1] * h])
        heel_local = np.array([FOOT_BACK_FRAC[0] * h, FOOT_BACK_FRAC[1] * h])
        floor = min(self._toe_local[1], heel_local[1]) - shape.foot_radius_m
        thigh, shank = shape.thigh_m, shape.shank_m
        rear_toe = np.array(
            [-self.params["stride_frac"] * (thigh + shank), floor + shape.foot_radius_m]
        )
        hip_top = circle_intersection_upper(
            np.zeros(2),
            leg_reach_m(thigh, shank, TOP_FRONT_KNEE_DEG),
            self.rear_ankle(rear_toe, TOP_HEEL_LIFT_DEG),
            leg_reach_m(thigh, shank, TOP_REAR_KNEE_DEG),
        )
        # The bottom: the rear knee hovers above the floor, the front shin tilts forward.
        shank_deg = self.params["bottom_shank_deg"]
        front_knee = self.front_knee(shank_deg)
        rear_ankle = self.rear_ankle(rear_toe, self.params["bottom_heel_lift_deg"])
        knee_y = (
            floor
            + max(shape.thigh_radius_m, shape.shank_radius_m)
            + self.params["bottom_rear_knee_gap_m"]
        )
        dy = knee_y - rear_ankle[1]
        rear_knee = rear_ankle + np.array([math.sqrt(max(shank**2 - dy**2, 0.0)), dy])
        self.stance = SplitStance(
            rear_toe=rear_toe,
            hip_top=hip_top,
            hip_bottom=circle_intersection_upper(front_knee, thigh, rear_knee, thigh),
        )

    def rear_ankle(self, rear_toe: Vec, heel_lift_deg: float) -> Vec:
        """The rear ankle joint for the toe sphere at ``rear_toe`` and the foot pitched
        ``heel_lift_deg`` from flat (toes down)."""
        return np.asarray(rear_toe - _rot2(self._toe_local, -heel_lift_deg))

    def front_knee(self, shank_deg: float) -> Vec:
        """The front knee joint with the shin tilted ``shank_deg`` forward over the flat foot."""
        return self.shape.shank_m * _rot2(np.array([0.0, 1.0]), -shank_deg)

    def knee_travel_shift(self, size_mm: float) -> Vec:
        """How far the hip moves (at the same height) when the front shin tilts further
        forward, so that the front knee goes ``size_mm`` further forward at the bottom."""
        hip = self.stance.hip_bottom
        sin_tilt = math.sin(math.radians(self.params["bottom_shank_deg"]))
        forward = size_mm / MM_PER_M / self.shape.shank_m + sin_tilt
        knee = self.front_knee(math.degrees(math.asin(max(-1.0, min(1.0, forward)))))
        dy = hip[1] - knee[1]
        moved = np.array([knee[0] - math.sqrt(max(self.shape.thigh_m**2 - dy**2, 0.0)), hip[1]])
        return np.asarray(moved - hip)

    # -- motion ---------------------------------------------------------------------------
    def support_at(self, t_s: float) -> Support:
        return Support(anchor=(f"ankle_{self.front}",))

    def progress(self, t_s: float) -> float:
        rep = self.rep_at(t_s)
        return 0.0 if rep is None else rep.progress(t_s)

    def trunk(self, s: float) -> SagittalPosture:
        """The trunk (pelvis tilt; spine neutral, arms hanging) at progress ``s``."""
        return SagittalPosture(
            pelvis_tilt_deg=_lerp(TOP_PELVIS_TILT_DEG, self.params["bottom_pelvis_tilt_deg"], s)
        )

    def fault_delta(self, fault: Fault) -> SagittalPosture:
        """The trunk's change at full size (knee travel moves the hips instead)."""
        if fault.kind == "lumbar_flexion":
            return rounded_back_delta(fault.size)
        if fault.kind == "trunk_lean":  # the whole trunk tips forward about the hips
            return SagittalPosture(pelvis_tilt_deg=fault.size)
        return SagittalPosture()

    def pose_at(self, t_s: float, with_faults: bool = True) -> BodyPose:
        s = self.progress(t_s)
        st = self.stance
        posture = self.trunk(s)
        hip = st.hip_top + (st.hip_bottom - st.hip_top) * s
        if with_faults:
            for fault, w in self.active_faults(t_s):
                posture = posture + self.fault_delta(fault).scale(w)
                if fault.kind == "knee_travel":
                    hip = hip + self.knee_travel_shift(fault.size) * w
        lift = _lerp(TOP_HEEL_LIFT_DEG, self.params["bottom_heel_lift_deg"], s)
        thigh, shank = self.shape.thigh_m, self.shape.shank_m
        front_knee_deg, front_shank_deg = solve_leg(hip, np.zeros(2), thigh, shank)
        rear_ankle = self.rear_ankle(st.rear_toe, lift)
        rear_knee_deg, rear_shank_deg = solve_leg(hip, rear_ankle, thigh, shank)
        legs = {
            self.front: LegPosture(front_knee_deg, front_shank_deg),
            self.rear: LegPosture(rear_knee_deg, rear_shank_deg, lift),
        }
        pose = posture.to_pose(legs)
        return self._with_hands_on_hips(pose) if self.hands_on_hips else pose

    def _with_hands_on_hips(self, pose: BodyPose) -> BodyPose:
        """Arms solved so each wrist rests on its iliac crest, elbows out and back."""
        shape = self.shape
        h = shape.height_m
        skel = forward_kinematics(shape, pose)
        pelvis = skel.frames["pelvis"]
        girdle = skel.frames[SPINE_JOINTS[-1]] @ rot_z(shape.spine_rest_deg[-1])
        joints = dict(pose.joints)
        for side in SIDES:
            lateral = 1.0 if side == "right" else -1.0
            out = shape.pelvis_piece.half_width_m + HIP_GRIP_OUT_FRAC * h
            wrist = skel.points["pelvis"] + pelvis @ np.array(
                [HIP_GRIP_FRAC[0] * h, HIP_GRIP_FRAC[1] * h, lateral * out]
            )
            shoulder = skel.points[f"shoulder_{side}"]
            pole = girdle @ np.array([ELBOW_POLE[0], ELBOW_POLE[1], lateral * ELBOW_POLE[2]])
            elbow = _elbow(shoulder, wrist, shape.upper_arm_m, shape.forearm_m, pole)
            upper, fore = girdle.T @ (elbow - shoulder), girdle.T @ (wrist - elbow)
            joints[f"shoulder_{side}"], joints[f"elbow_{side}"] = arm_angles(upper, fore, side)
        return BodyPose(root_deg=pose.root_deg, joints=joints, root_twist_deg=pose.root_twist_deg)

    # -- truth ----------------------------------------------------------------------------
    def extra_measures(
        self, lm: F64, skel: Skeleton, measures: Mapping[str, float]
    ) -> dict[str, float]:
        """The lunge's own true measures: the front and rear knee flexion (degrees, as the
        per-side ones), the trunk's inclination from vertical (mid-hip to mid-shoulder in the
        sagittal plane, degrees) and how far the front knee is ahead of the front toes'
        tip along the front foot's horizontal direction (mm, negative = behind the toes)."""
        lateral = skel.frames["pelvis"][:, 2]
        hips = (lm[Landmark.LEFT_HIP] + lm[Landmark.RIGHT_HIP]) / 2.0
        shoulders = (lm[Landmark.LEFT_SHOULDER] + lm[Landmark.RIGHT_SHOULDER]) / 2.0
        trunk = shoulders - hips
        trunk = trunk - np.dot(trunk, lateral) * lateral
        incline = math.degrees(math.acos(max(-1.0, min(1.0, float(unit(trunk)[1])))))
        foot_fwd = skel.frames[f"foot_{self.front}"][:, 0].copy()
        foot_fwd[1] = 0.0
        up = self.front.upper()
        past = lm[Landmark[f"{up}_KNEE"]] - lm[Landmark[f"{up}_FOOT_INDEX"]]
        return {
            "front_knee_flexion_deg": measures[f"{self.front}_knee_flexion_deg"],
            "rear_knee_flexion_deg": measures[f"{self.rear}_knee_flexion_deg"],
            "trunk_inclination_deg": incline,
            "front_knee_past_toes_mm": float(np.dot(past, unit(foot_fwd))) * MM_PER_M,
        }

    def rep_truth(self, rep: RepWindow) -> dict[str, str | float]:
        del rep
        return {"side": self.front}


def _elbow(shoulder: Vec, wrist: Vec, upper_m: float, fore_m: float, pole: Vec) -> Vec:
    """The elbow joining the two arm segments between ``shoulder`` and ``wrist``, on the side
    of ``pole`` (a wrist out of reach straightens the arm towards it)."""
    d_vec = wrist - shoulder
    d = min(float(np.linalg.norm(d_vec)), upper_m + fore_m - REACH_MARGIN)
    axis = unit(d_vec)
    along = (upper_m**2 - fore_m**2 + d**2) / (2.0 * d)
    radius = math.sqrt(max(upper_m**2 - along**2, 0.0))
    side = unit(pole - np.dot(pole, axis) * axis)
    return np.asarray(shoulder + along * axis + radius * side)
