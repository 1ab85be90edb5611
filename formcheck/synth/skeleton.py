"""Forward kinematics: joint angles (the state) -> 3D joint positions and segment frames.

World frame (metres): +y up, the floor is y = 0; with all root angles zero the person faces
+x and +z points to the person's right. Every segment frame uses the same axes at rest
(standing upright, arms hanging, feet pointing forward). Joint angles are degrees measured
from neutral standing, as ``(flexion, abduction, rotation)``:

* spine pieces, neck, head: flexion bends forward, abduction bends to the right side,
  rotation turns about the segment's long axis;
* hip, shoulder: flexion swings the limb forward, abduction swings it away from the midline
  (at the hip, abduction is the straight leg's stance angle and keeps the feet in place when
  the knees bend, see ``hip_rotation``);
* knee: flexion bends the shank backwards; ankle: dorsiflexion lifts the toes;
  elbow, wrist: flexion bends forwards.

The root (pelvis) angles are ``(yaw, pitch, roll)``: yaw about the world up axis, pitch tilts
the pelvis forward (anterior tilt; 90 lies the body face down), roll tips it to its right.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from formcheck.synth.body import BodyShape
from formcheck.synth.geometry import Mat, Vec, rot_axis, rot_x, rot_y, rot_z

SIDES = ("left", "right")
LUMBAR_JOINTS = ("lumbar_0", "lumbar_1", "lumbar_2")
THORACIC_JOINTS = ("thoracic_0", "thoracic_1", "thoracic_2")
SPINE_JOINTS = LUMBAR_JOINTS + THORACIC_JOINTS
LIMB_JOINTS = tuple(
    f"{joint}_{side}"
    for side in SIDES
    for joint in ("hip", "knee", "ankle", "shoulder", "elbow", "wrist")
)
ALL_JOINTS = (*SPINE_JOINTS, "neck", "head", *LIMB_JOINTS)

MIN_LEG_REACH = 0.05  # hip-to-ankle distance (leg lengths) below which stance is ignored
Angles = tuple[float, float, float]
ZERO: Angles = (0.0, 0.0, 0.0)


@dataclass(frozen=True, slots=True)
class BodyPose:
    """The state of the body at one instant: root orientation and joint angles (degrees).

    Joints not named in ``joints`` are at neutral standing. The root position is not part
    of the pose: placing the body on the floor is done afterwards (see ``placement``).
    """

    root_deg: Angles = ZERO
    joints: Mapping[str, Angles] = field(default_factory=dict)
    root_twist_deg: float = 0.0  # turn of the pelvis about its own long (up) axis

    def angle(self, joint: str) -> Angles:
        return self.joints.get(joint, ZERO)


@dataclass(slots=True)
class Skeleton:
    """Joint centres (``points``, world metres) and segment orientations (``frames``).

    Points: pelvis (mid hip joint centres), hip_/knee_/ankle_/shoulder_/elbow_/wrist_<side>,
    spine_0 (L5/S1) .. spine_6 (C7), head_joint (atlanto-occipital), head_centre.
    Frames: pelvis, the six spine pieces, neck, head, and thigh_/shank_/foot_/upper_arm_/
    forearm_/hand_<side>; each a 3x3 rotation from segment axes to world axes.
    """

    points: dict[str, Vec]
    frames: dict[str, Mat]

    def translate(self, offset_m: Vec) -> None:
        for name in self.points:
            self.points[name] = self.points[name] + offset_m

    def local_point(self, frame: str, origin: str, offset_m: Vec) -> Vec:
        """A point fixed in a segment: ``origin`` point plus ``offset_m`` in ``frame`` axes."""
        return self.points[origin] + self.frames[frame] @ offset_m


def root_rotation(root_deg: Angles, twist_deg: float = 0.0) -> Mat:
    yaw, pitch, roll = root_deg
    return rot_y(yaw) @ rot_z(-pitch) @ rot_x(roll) @ rot_y(twist_deg)


def spine_joint_rotation(angles: Angles, neutral_flex_deg: float = 0.0) -> Mat:
    flex, abd, rot = angles
    return rot_z(-(flex + neutral_flex_deg)) @ rot_x(abd) @ rot_y(rot)


def limb_joint_rotation(angles: Angles, side: str, flex_sign: float) -> Mat:
    flex, abd, rot = angles
    abd_sign = 1.0 if side == "left" else -1.0
    return rot_z(flex_sign * flex) @ rot_x(abd_sign * abd) @ rot_y(abd_sign * rot)


def hip_rotation(hip: Angles, knee_flex_deg: float, side: str) -> Mat:
    """Hip joint rotation. Abduction is the stance angle of the straight leg: the whole leg
    (thigh and shank in one plane) turns about the axis across the hip-to-ankle line, by the
    angle that puts the ankle as far out as a straight leg abducted by ``abd`` would be, so
    bending the knees keeps the feet where they stand and the knees track outwards."""
    flex, abd, rot = hip
    t1 = math.radians(flex)
    t2 = math.radians(flex - knee_flex_deg)
    vx = (math.sin(t1) + math.sin(t2)) / 2.0  # hip -> ankle in leg lengths, pelvis sagittal plane
    vy = -(math.cos(t1) + math.cos(t2)) / 2.0
    reach = math.hypot(vx, vy)
    if reach < MIN_LEG_REACH:
        return rot_z(flex) @ rot_y(rot)
    spread = max(-1.0, min(1.0, math.sin(math.radians(abd)) / reach))
    swing = math.degrees(math.asin(spread)) * (1.0 if side == "left" else -1.0)
    axis = np.array([-vy / reach, vx / reach, 0.0])
    return rot_axis(axis, swing) @ rot_z(flex) @ rot_y(rot)


def _spine_neutral_flex(shape: BodyShape) -> list[float]:
    incl = list(shape.spine_rest_deg)
    prev = [0.0, *incl[:-1]]
    return [a - b for a, b in zip(incl, prev, strict=True)]


def forward_kinematics(shape: BodyShape, pose: BodyPose, root_pos_m: Vec | None = None) -> Skeleton:
    """Joint positions and frames for ``pose``, with the pelvis centre at ``root_pos_m``."""
    pts: dict[str, Vec] = {}
    frm: dict[str, Mat] = {}
    pelvis_rot = root_rotation(pose.root_deg, pose.root_twist_deg)
    pelvis = np.zeros(3) if root_pos_m is None else np.asarray(root_pos_m, dtype=np.float64)
    pts["pelvis"] = pelvis
    frm["pelvis"] = pelvis_rot

    # Spine: L5/S1 then the pieces up to C7.
    pts["spine_0"] = pelvis + pelvis_rot @ np.array([-shape.sacrum_back_m, shape.sacrum_up_m, 0.0])
    rot = pelvis_rot
    neutral = _spine_neutral_flex(shape)
    for i, (name, seg_len) in enumerate(zip(SPINE_JOINTS, shape.spine_lengths_m, strict=True)):
        rot = rot @ spine_joint_rotation(pose.angle(name), neutral[i])
        frm[name] = rot
        pts[f"spine_{i + 1}"] = pts[f"spine_{i}"] + rot @ np.array([0.0, seg_len, 0.0])
    thorax = rot
    # The shoulder girdle: the upper thorax frame without its rest kyphosis, so the arms hang
    # vertically in neutral standing.
    girdle = thorax @ rot_z(shape.spine_rest_deg[-1])
    c7 = pts[f"spine_{len(SPINE_JOINTS)}"]
    rot = rot @ spine_joint_rotation(
        pose.angle("neck"), shape.neck_rest_deg - shape.spine_rest_deg[-1]
    )
    frm["neck"] = rot
    pts["head_joint"] = c7 + rot @ np.array([0.0, shape.neck_m, 0.0])
    rot = rot @ spine_joint_rotation(pose.angle("head"), -shape.neck_rest_deg)
    frm["head"] = rot
    pts["head_centre"] = pts["head_joint"] + rot @ np.array(
        [shape.head_centre_forward_m, shape.head_centre_up_m, 0.0]
    )

    for side in SIDES:
        lateral = -1.0 if side == "left" else 1.0
        # Leg.
        hip = pelvis + pelvis_rot @ np.array([0.0, 0.0, lateral * shape.hip_half_width_m])
        pts[f"hip_{side}"] = hip
        r = pelvis_rot @ hip_rotation(
            pose.angle(f"hip_{side}"), pose.angle(f"knee_{side}")[0], side
        )
        frm[f"thigh_{side}"] = r
        knee = hip + r @ np.array([0.0, -shape.thigh_m, 0.0])
        pts[f"knee_{side}"] = knee
        r = r @ limb_joint_rotation(pose.angle(f"knee_{side}"), side, -1.0)
        frm[f"shank_{side}"] = r
        ankle = knee + r @ np.array([0.0, -shape.shank_m, 0.0])
        pts[f"ankle_{side}"] = ankle
        r = r @ limb_joint_rotation(pose.angle(f"ankle_{side}"), side, 1.0)
        frm[f"foot_{side}"] = r
        # Arm.
        shoulder = c7 + girdle @ np.array(
            [
                shape.shoulder_forward_m,
                -shape.shoulder_down_m,
                lateral * shape.shoulder_half_width_m,
            ]
        )
        pts[f"shoulder_{side}"] = shoulder
        r = girdle @ limb_joint_rotation(pose.angle(f"shoulder_{side}"), side, 1.0)
        frm[f"upper_arm_{side}"] = r
        elbow = shoulder + r @ np.array([0.0, -shape.upper_arm_m, 0.0])
        pts[f"elbow_{side}"] = elbow
        r = r @ limb_joint_rotation(pose.angle(f"elbow_{side}"), side, 1.0)
        frm[f"forearm_{side}"] = r
        pts[f"wrist_{side}"] = elbow + r @ np.array([0.0, -shape.forearm_m, 0.0])
        r = r @ limb_joint_rotation(pose.angle(f"wrist_{side}"), side, 1.0)
        frm[f"hand_{side}"] = r
    return Skeleton(points=pts, frames=frm)
