"""Postures described the way a coach sees them, turned into joint angles.

``SagittalPosture`` describes standing and seated postures by segment angles in the
sagittal plane: the shank's forward tilt, knee flexion, the pelvis's forward tilt, lumbar and
thoracic flexion (spread over their pieces), neck and head, and the arms' angle from hanging.
Hip flexion and ankle dorsiflexion follow so that the feet stay flat on the floor. Both legs
bend alike unless ``to_pose`` is given a ``LegPosture`` per side (a split stance, where the
rear foot may stand on its toes).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace

import numpy as np

from formcheck.synth.geometry import Vec, rot_x, rot_z
from formcheck.synth.skeleton import LUMBAR_JOINTS, SIDES, THORACIC_JOINTS, Angles, BodyPose

# Share of lumbar flexion taken by L5-L4, L3-L2, L1 pieces (the lower segments move most).
LUMBAR_SHARE = (0.40, 0.35, 0.25)
THORACIC_SHARE = (1 / 3, 1 / 3, 1 / 3)


@dataclass(frozen=True, slots=True)
class LegPosture:
    """One leg's sagittal angles when the two legs differ: knee flexion, the shin's forward
    tilt from vertical, and the foot's pitch from flat with the heel up (toes on the floor)."""

    knee_deg: float
    shank_deg: float
    heel_lift_deg: float = 0.0

    @property
    def thigh_deg(self) -> float:
        """The thigh's forward tilt from vertical."""
        return self.knee_deg - self.shank_deg


@dataclass(frozen=True, slots=True)
class SagittalPosture:
    knee_deg: float = 0.0
    shank_deg: float = 0.0  # forward tilt of the shin from vertical (= ankle dorsiflexion)
    pelvis_tilt_deg: float = 0.0  # forward tilt of the pelvis from standing
    lumbar_deg: float = 0.0  # total lumbar flexion (negative = extension)
    thoracic_deg: float = 0.0
    neck_deg: float = 0.0
    head_deg: float = 0.0
    arm_deg: float = 0.0  # arms' forward angle from hanging vertically (world)
    arm_abduction_deg: float = 0.0
    elbow_deg: float = 0.0
    stance_abduction_deg: float = 0.0  # both hips, when standing straight (feet stay put)

    def __add__(self, other: SagittalPosture) -> SagittalPosture:
        return SagittalPosture(
            *(getattr(self, f.name) + getattr(other, f.name) for f in fields(self))
        )

    def scale(self, k: float) -> SagittalPosture:
        return SagittalPosture(*(getattr(self, f.name) * k for f in fields(self)))

    def blend(self, other: SagittalPosture, s: float) -> SagittalPosture:
        return self + (other + self.scale(-1.0)).scale(s)

    def with_knees_from(self, other: SagittalPosture) -> SagittalPosture:
        """This posture with the knee group (knee, shank) taken from ``other``."""
        return replace(self, knee_deg=other.knee_deg, shank_deg=other.shank_deg)

    def to_pose(self, legs: Mapping[str, LegPosture] | None = None) -> BodyPose:
        """The joint angles; ``legs`` gives a side its own angles instead of the shared
        ``knee_deg`` and ``shank_deg`` (the feet are then placed by the caller)."""
        thigh_deg = self.knee_deg - self.shank_deg  # thigh's forward tilt from vertical
        hip = thigh_deg + self.pelvis_tilt_deg
        girdle = self.pelvis_tilt_deg + self.lumbar_deg + self.thoracic_deg
        joints: dict[str, Angles] = {}
        for name, share in zip(LUMBAR_JOINTS, LUMBAR_SHARE, strict=True):
            joints[name] = (self.lumbar_deg * share, 0.0, 0.0)
        for name, share in zip(THORACIC_JOINTS, THORACIC_SHARE, strict=True):
            joints[name] = (self.thoracic_deg * share, 0.0, 0.0)
        joints["neck"] = (self.neck_deg, 0.0, 0.0)
        joints["head"] = (self.head_deg, 0.0, 0.0)
        for side in SIDES:
            leg = legs.get(side) if legs is not None else None
            if leg is None:
                joints[f"hip_{side}"] = (hip, self.stance_abduction_deg, 0.0)
                joints[f"knee_{side}"] = (self.knee_deg, 0.0, 0.0)
                joints[f"ankle_{side}"] = (self.shank_deg, 0.0, 0.0)
            else:
                hip_side = leg.thigh_deg + self.pelvis_tilt_deg
                joints[f"hip_{side}"] = (hip_side, self.stance_abduction_deg, 0.0)
                joints[f"knee_{side}"] = (leg.knee_deg, 0.0, 0.0)
                joints[f"ankle_{side}"] = (leg.shank_deg - leg.heel_lift_deg, 0.0, 0.0)
            joints[f"shoulder_{side}"] = (self.arm_deg + girdle, self.arm_abduction_deg, 0.0)
            joints[f"elbow_{side}"] = (self.elbow_deg, 0.0, 0.0)
        return BodyPose(root_deg=(0.0, self.pelvis_tilt_deg, 0.0), joints=joints)


def lerp_pose(a: BodyPose, b: BodyPose, s: float) -> BodyPose:
    """Joint-wise linear blend of two poses (s = 0 gives a, 1 gives b)."""
    names = set(a.joints) | set(b.joints)
    joints = {
        n: tuple(x + (y - x) * s for x, y in zip(a.angle(n), b.angle(n), strict=True))
        for n in names
    }
    root = tuple(x + (y - x) * s for x, y in zip(a.root_deg, b.root_deg, strict=True))
    return BodyPose(
        root_deg=(root[0], root[1], root[2]),
        joints={n: (v[0], v[1], v[2]) for n, v in joints.items()},
        root_twist_deg=a.root_twist_deg + (b.root_twist_deg - a.root_twist_deg) * s,
    )


def add_joint(pose: BodyPose, joint: str, delta: Angles) -> BodyPose:
    old = pose.angle(joint)
    joints = dict(pose.joints)
    joints[joint] = (old[0] + delta[0], old[1] + delta[1], old[2] + delta[2])
    return replace(pose, joints=joints)


def arm_angles(upper_dir: Vec, fore_dir: Vec, side: str) -> tuple[Angles, Angles]:
    """Shoulder (flexion, abduction, rotation) and elbow angles that point the upper arm and
    the forearm along the given directions of the shoulder-girdle frame (inverse of the FK)."""
    u = upper_dir / np.linalg.norm(upper_dir)
    w = fore_dir / np.linalg.norm(fore_dir)
    sign = 1.0 if side == "left" else -1.0
    abd = math.degrees(math.asin(max(-1.0, min(1.0, -sign * u[2]))))
    flex = math.degrees(math.atan2(u[0], -u[1]))
    local = (rot_z(flex) @ rot_x(sign * abd)).T @ w
    elbow = math.degrees(math.acos(max(-1.0, min(1.0, -local[1]))))
    twist = math.degrees(math.atan2(-local[2], local[0]))
    return (flex, abd, sign * twist), (elbow, 0.0, 0.0)
