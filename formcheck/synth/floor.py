"""Floor exercises: glute bridge, bird-dog, dead bug, side plank, forearm plank, cat-camel."""

from __future__ import annotations

from dataclasses import replace
from typing import ClassVar

from formcheck.synth.faults import Fault
from formcheck.synth.geometry import smoothstep
from formcheck.synth.landmarks import landmarks_world
from formcheck.synth.motion import Motion
from formcheck.synth.placement import Support, place
from formcheck.synth.posture import LUMBAR_SHARE, THORACIC_SHARE, add_joint, lerp_pose
from formcheck.synth.skeleton import LUMBAR_JOINTS, SIDES, THORACIC_JOINTS, Angles, BodyPose
from formcheck.synth.timeline import RepWindow
from formcheck.synth.truth import hip_line_offset_mm

CALIBRATION_ANGLE_DEG = 8.0  # bend used to find the mm-per-degree of sag and hip drop
BRIDGE_HIP_SEARCH_DEG = (10.0, 90.0)
BISECTION_STEPS = 30
QUADRUPED_WRIST_DEG = -90.0  # palms flat on the floor
CAT_NECK_DEG = 20.0  # head drops with the cat and lifts with the camel


def spine(pose: BodyPose, lumbar: float = 0.0, thoracic: float = 0.0, axis: int = 0) -> BodyPose:
    """Add flexion (axis 0), lateral bend (1) or axial rotation (2) spread over the pieces."""
    for names, total, shares in (
        (LUMBAR_JOINTS, lumbar, LUMBAR_SHARE),
        (THORACIC_JOINTS, thoracic, THORACIC_SHARE),
    ):
        for name, share in zip(names, shares, strict=True):
            delta = [0.0, 0.0, 0.0]
            delta[axis] = total * share
            pose = add_joint(pose, name, (delta[0], delta[1], delta[2]))
    return pose


def both(joint: str, angles: Angles) -> dict[str, Angles]:
    return {f"{joint}_{side}": angles for side in SIDES}


def quadruped() -> BodyPose:
    return BodyPose(
        root_deg=(0.0, 90.0, 0.0),
        joints={
            **both("knee", (90.0, 0.0, 0.0)),
            **both("ankle", (-80.0, 0.0, 0.0)),
            **both("wrist", (QUADRUPED_WRIST_DEG, 0.0, 0.0)),
        },
    )


# On all fours, hip and shoulder flexion are given from vertical (see limbs_from_vertical).
QUADRUPED_SUPPORT = Support(
    anchor=("wrist_left", "wrist_right", "knee_left", "knee_right"),
    balance=(("hand_left", "hand_right"), ("shank_left", "shank_right")),
    vertical_limbs=True,
)
TRUNK_LINE_DEG = 90.0  # a limb in line with the trunk on all fours is this far from vertical


class FloorRepMotion(Motion):
    """Reps blending a start pose into a working pose; faults add joint changes."""

    support: Support = Support(anchor=("pelvis",))
    on_floor = True

    def start_pose(self) -> BodyPose:
        return BodyPose()

    def work_pose(self, rep: RepWindow) -> BodyPose:
        del rep
        return self.start_pose()

    def apply_fault(self, pose: BodyPose, fault: Fault, w: float, t_s: float) -> BodyPose:
        del t_s
        if fault.kind == "lumbar_extension":
            return spine(pose, lumbar=-fault.size * w)
        if fault.kind == "lumbar_flexion":
            return spine(pose, lumbar=fault.size * w)
        return pose

    def pose_at(self, t_s: float, with_faults: bool = True) -> BodyPose:
        rep = self.rep_at(t_s)
        pose = self.start_pose()
        if rep is not None:
            pose = lerp_pose(pose, self.work_pose(rep), rep.progress(t_s))
        if with_faults:
            for fault, w in self.active_faults(t_s):
                pose = self.apply_fault(pose, fault, w, t_s)
        return pose

    def support_at(self, t_s: float) -> Support:
        return self.support


class GluteBridge(FloorRepMotion):
    exercise = "glute_bridge"
    phase_names = ("lift", "hold", "lower", "rest")
    supported_faults = ("lumbar_extension", "tempo")
    defaults: ClassVar[dict[str, float]] = {"knee_deg": 95.0, "top_hip_deg": 0.0}
    ranges: ClassVar[dict[str, tuple[float, float]]] = {
        "knee_deg": (85.0, 105.0),
        "top_hip_deg": (-5.0, 8.0),
    }
    support = Support(
        anchor=("ankle_left", "ankle_right"), balance=(("thorax",), ("foot_left", "foot_right"))
    )

    def _legs(self, hip: float) -> BodyPose:
        knee = self.params["knee_deg"]
        return BodyPose(
            root_deg=(0.0, -90.0, 0.0),
            joints={
                **both("hip", (hip, 0.0, 0.0)),
                **both("knee", (knee, 0.0, 0.0)),
                **both("ankle", (-90.0 + knee - hip, 0.0, 0.0)),
                **both("shoulder", (-12.0, 8.0, 0.0)),
            },
        )

    def setup(self) -> None:
        lying = Support(anchor=("ankle_left", "ankle_right"))
        lo, hi = BRIDGE_HIP_SEARCH_DEG

        def feet_gap(hip: float) -> float:
            placed = place(self.shape, self._legs(hip), lying)
            feet = min(p.lowest_y_m() for p in placed.prims if p.part.startswith("foot"))
            trunk = min(p.lowest_y_m() for p in placed.prims if p.part in ("pelvis", "thorax"))
            return feet - trunk

        for _ in range(BISECTION_STEPS):
            mid = (lo + hi) / 2
            if feet_gap(mid) > 0:
                lo = mid
            else:
                hi = mid
        self._start_hip = (lo + hi) / 2

    def start_pose(self) -> BodyPose:
        return self._legs(self._start_hip)

    def work_pose(self, rep: RepWindow) -> BodyPose:
        return self._legs(self.params["top_hip_deg"])

    def apply_fault(self, pose: BodyPose, fault: Fault, w: float, t_s: float) -> BodyPose:
        if fault.kind == "lumbar_extension":  # arching instead of extending the hips
            pose = spine(pose, lumbar=-fault.size * w)
            for side in SIDES:
                pose = add_joint(pose, f"hip_{side}", (fault.size * w, 0.0, 0.0))
            return pose
        return super().apply_fault(pose, fault, w, t_s)


class BirdDog(FloorRepMotion):
    """Alternating opposite arm and leg reach from all fours (rep 0: right arm, left leg)."""

    exercise = "bird_dog"
    phase_names = ("reach", "hold", "return", "rest")
    supported_faults = ("pelvis_rotation", "lumbar_extension", "tempo")
    defaults: ClassVar[dict[str, float]] = {"arm_reach_deg": 175.0, "hip_reach_deg": 0.0}
    ranges: ClassVar[dict[str, tuple[float, float]]] = {
        "arm_reach_deg": (160.0, 185.0),
        "hip_reach_deg": (-8.0, 10.0),
    }
    support = Support(anchor=("pelvis",), balance=QUADRUPED_SUPPORT.balance, vertical_limbs=True)

    def start_pose(self) -> BodyPose:
        return quadruped()

    @staticmethod
    def sides(rep: RepWindow) -> tuple[str, str]:
        """(arm side, leg side) lifted in this rep."""
        return ("right", "left") if rep.index % 2 == 0 else ("left", "right")

    def work_pose(self, rep: RepWindow) -> BodyPose:
        arm, leg = self.sides(rep)
        joints = dict(quadruped().joints)
        joints[f"shoulder_{arm}"] = (self.params["arm_reach_deg"] - TRUNK_LINE_DEG, 0.0, 0.0)
        joints[f"wrist_{arm}"] = (0.0, 0.0, 0.0)
        joints[f"hip_{leg}"] = (self.params["hip_reach_deg"] - TRUNK_LINE_DEG, 0.0, 0.0)
        joints[f"knee_{leg}"] = (0.0, 0.0, 0.0)
        joints[f"ankle_{leg}"] = (-30.0, 0.0, 0.0)
        return replace(quadruped(), joints=joints)

    def apply_fault(self, pose: BodyPose, fault: Fault, w: float, t_s: float) -> BodyPose:
        if fault.kind == "pelvis_rotation":
            rep = self.rep_at(t_s)
            sign = 1.0 if rep is None or self.sides(rep)[1] == "left" else -1.0
            twist = sign * fault.size * w
            return spine(
                replace(pose, root_twist_deg=pose.root_twist_deg + twist), lumbar=-twist, axis=2
            )
        return super().apply_fault(pose, fault, w, t_s)


class DeadBug(FloorRepMotion):
    """On the back, arms up, hips and knees at 90 degrees; alternately reach an arm overhead
    and straighten the opposite leg (rep 0: right arm, left leg)."""

    exercise = "dead_bug"
    phase_names = ("reach", "hold", "return", "rest")
    supported_faults = ("lumbar_extension", "tempo")
    defaults: ClassVar[dict[str, float]] = {"arm_reach_deg": 170.0, "hip_reach_deg": 15.0}
    ranges: ClassVar[dict[str, tuple[float, float]]] = {
        "arm_reach_deg": (155.0, 175.0),
        "hip_reach_deg": (8.0, 30.0),
    }

    def start_pose(self) -> BodyPose:
        return BodyPose(
            root_deg=(0.0, -90.0, 0.0),
            joints={
                **both("hip", (90.0, 0.0, 0.0)),
                **both("knee", (90.0, 0.0, 0.0)),
                **both("shoulder", (90.0, 0.0, 0.0)),
            },
        )

    def work_pose(self, rep: RepWindow) -> BodyPose:
        arm, leg = BirdDog.sides(rep)
        start = self.start_pose()
        joints = dict(start.joints)
        joints[f"shoulder_{arm}"] = (self.params["arm_reach_deg"], 0.0, 0.0)
        joints[f"hip_{leg}"] = (self.params["hip_reach_deg"], 0.0, 0.0)
        joints[f"knee_{leg}"] = (0.0, 0.0, 0.0)
        return replace(start, joints=joints)


class CatCamel(FloorRepMotion):
    """On all fours: round the whole spine (cat), then arch it (camel), then back to neutral."""

    exercise = "cat_camel"
    phase_names = ("to_cat", "cat", "to_camel", "camel_return")
    supported_faults = ("lumbar_extension", "tempo")
    defaults: ClassVar[dict[str, float]] = {
        "cat_lumbar_deg": 25.0,
        "cat_thoracic_deg": 20.0,
        "camel_lumbar_deg": 20.0,
        "camel_thoracic_deg": 10.0,
    }
    ranges: ClassVar[dict[str, tuple[float, float]]] = {
        "cat_lumbar_deg": (15.0, 30.0),
        "cat_thoracic_deg": (12.0, 25.0),
        "camel_lumbar_deg": (12.0, 25.0),
        "camel_thoracic_deg": (5.0, 15.0),
    }
    support = QUADRUPED_SUPPORT

    def curl(self, t_s: float) -> float:
        """+1 full cat, -1 full camel."""
        rep = self.rep_at(t_s)
        if rep is None:
            return 0.0
        p = rep.progress(t_s)
        if t_s < rep.up_start_s:
            return p
        if t_s < rep.end_s:
            return 2.0 * p - 1.0
        return -1.0 + smoothstep((t_s - rep.end_s) / max(rep.rest_end_s - rep.end_s, 1e-9))

    def pose_at(self, t_s: float, with_faults: bool = True) -> BodyPose:
        v = self.curl(t_s)
        key = "cat" if v >= 0 else "camel"
        lumbar = self.params[f"{key}_lumbar_deg"] * v
        thoracic = self.params[f"{key}_thoracic_deg"] * v
        pose = spine(quadruped(), lumbar, thoracic)
        pose = add_joint(pose, "neck", (CAT_NECK_DEG * v, 0.0, 0.0))
        if with_faults:
            for fault, w in self.active_faults(t_s):
                pose = self.apply_fault(pose, fault, w, t_s)
        return pose

    def rep_fault_weight(self, fault: Fault, rep: RepWindow, t_s: float) -> float:
        if fault.kind == "lumbar_extension":
            return max(0.0, -self.curl(t_s))
        return super().rep_fault_weight(fault, rep, t_s)


class _BentHold(FloorRepMotion):
    """A held position whose fault bends the body (sag or drop) by a size in millimetres."""

    is_hold = True
    fault_kind = ""

    def bend(self, pose: BodyPose, angle_deg: float) -> BodyPose:
        return pose

    def setup(self) -> None:
        def offset(angle: float) -> float:
            placed = place(self.shape, self.bend(self.start_pose(), angle), self.support)
            return hip_line_offset_mm(landmarks_world(self.shape, placed.skeleton))

        self._mm_per_deg = (offset(CALIBRATION_ANGLE_DEG) - offset(0.0)) / CALIBRATION_ANGLE_DEG

    def apply_fault(self, pose: BodyPose, fault: Fault, w: float, t_s: float) -> BodyPose:
        if fault.kind == self.fault_kind and abs(self._mm_per_deg) > 1e-6:
            return self.bend(pose, fault.size * w / self._mm_per_deg)
        return super().apply_fault(pose, fault, w, t_s)


class ForearmPlank(_BentHold):
    exercise = "forearm_plank"
    supported_faults = ("plank_sag",)
    fault_kind = "plank_sag"
    defaults: ClassVar[dict[str, float]] = {"elbow_deg": 90.0}
    ranges: ClassVar[dict[str, tuple[float, float]]] = {"elbow_deg": (80.0, 100.0)}
    support = Support(
        anchor=("elbow_left", "elbow_right", "ankle_left", "ankle_right"),
        balance=(("forearm_left", "forearm_right"), ("foot_left", "foot_right")),
    )

    def start_pose(self) -> BodyPose:
        return BodyPose(
            root_deg=(0.0, 80.0, 0.0),
            joints={
                **both("shoulder", (90.0, 0.0, 0.0)),
                **both("elbow", (self.params["elbow_deg"], 0.0, 0.0)),
            },
        )

    def bend(self, pose: BodyPose, angle_deg: float) -> BodyPose:
        for side in SIDES:
            pose = add_joint(pose, f"hip_{side}", (-angle_deg, 0.0, 0.0))
        return spine(pose, lumbar=-0.5 * angle_deg)


class SidePlank(_BentHold):
    """Side plank on the right forearm, filmed from the front."""

    exercise = "side_plank"
    supported_faults = ("side_plank_hip_drop",)
    fault_kind = "side_plank_hip_drop"
    camera_view = "front"
    defaults: ClassVar[dict[str, float]] = {"shoulder_abduction_deg": 75.0}
    ranges: ClassVar[dict[str, tuple[float, float]]] = {"shoulder_abduction_deg": (68.0, 82.0)}
    support = Support(
        anchor=("elbow_right", "ankle_right"),
        balance=(("forearm_right",), ("foot_right",)),
        balance_angle=2,
    )

    def start_pose(self) -> BodyPose:
        return BodyPose(
            root_deg=(0.0, 0.0, 70.0),
            joints={
                "shoulder_right": (0.0, self.params["shoulder_abduction_deg"], 0.0),
                "elbow_right": (90.0, 0.0, 0.0),
                "shoulder_left": (0.0, 5.0, 0.0),
            },
        )

    def bend(self, pose: BodyPose, angle_deg: float) -> BodyPose:
        pose = add_joint(pose, "hip_left", (0.0, angle_deg, 0.0))
        pose = add_joint(pose, "hip_right", (0.0, -angle_deg, 0.0))
        return spine(pose, lumbar=-angle_deg, axis=1)
