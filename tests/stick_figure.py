"""Hand-made landmark arrays with known joint angles, for kinematics tests.

A side-view stick figure is built up from the ankle: every segment leans from the upward
vertical by a known angle, forward positive, towards image right when ``forward_x`` is +1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from formcheck.pose.landmarks import NUM_LANDMARKS, SIDE_JOINTS, Landmark
from formcheck.types import PoseFrame

L = Landmark
M_PER_PX = 0.002  # world metres per image pixel of the figure


@dataclass(frozen=True)
class StickPose:
    shin_lean_deg: float = 0.0
    knee_flexion_deg: float = 0.0
    hip_flexion_deg: float = 0.0
    neck_flexion_deg: float = 0.0
    forward_x: float = 1.0  # +1 faces image right, -1 image left
    shank_px: float = 100.0
    thigh_px: float = 110.0
    trunk_px: float = 130.0
    neck_px: float = 35.0
    ankle_px: tuple[float, float] = (320.0, 440.0)
    near_side: str = "left"
    half_width_m: float = 0.1  # half the hip/shoulder width, along the camera axis


def _step(start: np.ndarray, length: float, lean_deg: float, fx: float) -> np.ndarray:
    a = math.radians(lean_deg)
    return start + length * np.array([fx * math.sin(a), -math.cos(a)])


def stick_landmarks(p: StickPose) -> np.ndarray:
    """(33, 3) image landmarks (z = 0) of the figure; both sides overlap in a side view."""
    fx = p.forward_x
    ankle = np.array(p.ankle_px, dtype=float)
    thigh_lean = p.shin_lean_deg - p.knee_flexion_deg
    trunk_lean = thigh_lean + p.hip_flexion_deg
    knee = _step(ankle, p.shank_px, p.shin_lean_deg, fx)
    hip = _step(knee, p.thigh_px, thigh_lean, fx)
    shoulder = _step(hip, p.trunk_px, trunk_lean, fx)
    ear = _step(shoulder, p.neck_px, trunk_lean + p.neck_flexion_deg, fx)
    nose = ear + np.array([fx * 25.0, 5.0])
    heel = ankle + np.array([-fx * 20.0, 15.0])
    toe = ankle + np.array([fx * 60.0, 15.0])
    elbow = _step(shoulder, 0.55 * p.trunk_px, 180.0, fx)
    wrist = _step(elbow, 0.45 * p.trunk_px, 180.0, fx)
    pts = np.zeros((NUM_LANDMARKS, 3))
    for side in ("left", "right"):
        j = SIDE_JOINTS[side]
        for name, value in (
            ("ear", ear),
            ("shoulder", shoulder),
            ("elbow", elbow),
            ("wrist", wrist),
            ("hip", hip),
            ("knee", knee),
            ("ankle", ankle),
            ("heel", heel),
            ("foot_index", toe),
        ):
            pts[j[name], :2] = value
    for idx in (
        L.NOSE,
        L.LEFT_EYE,
        L.RIGHT_EYE,
        L.LEFT_EYE_INNER,
        L.RIGHT_EYE_INNER,
        L.LEFT_EYE_OUTER,
        L.RIGHT_EYE_OUTER,
        L.MOUTH_LEFT,
        L.MOUTH_RIGHT,
    ):
        pts[idx, :2] = nose
    for idx in (
        L.LEFT_PINKY,
        L.RIGHT_PINKY,
        L.LEFT_INDEX,
        L.RIGHT_INDEX,
        L.LEFT_THUMB,
        L.RIGHT_THUMB,
    ):
        pts[idx, :2] = pts[L.LEFT_WRIST, :2]
    return pts


def stick_frame(
    p: StickPose,
    t_ms: float = 0.0,
    width_px: int = 640,
    height_px: int = 480,
    yaw_from_side_deg: float = 0.0,
) -> PoseFrame:
    """A PoseFrame of the figure seen from ``yaw_from_side_deg`` off the pure side view.

    The figure's left-right axis is turned towards the camera by that angle: its two sides
    separate in the image by ``2 * half_width * sin(yaw)``; world landmarks keep the true
    metric geometry.
    """
    px = stick_landmarks(p)
    yaw = math.radians(yaw_from_side_deg)
    half_px = p.half_width_m / M_PER_PX
    world = np.zeros((NUM_LANDMARKS, 3))
    hip_mid = px[L.LEFT_HIP, :2].copy()
    for side, sign in (("left", 1.0), ("right", -1.0)):
        # Person's left is nearer the camera when near_side is "left".
        toward_camera = sign if p.near_side == "left" else -sign
        for idx in SIDE_JOINTS[side].values():
            world[idx, :2] = (px[idx, :2] - hip_mid) * M_PER_PX
            world[idx, 2] = -toward_camera * p.half_width_m
            px[idx, 0] += toward_camera * p.forward_x * half_px * math.sin(yaw)
            px[idx, 2] = -toward_camera * half_px * math.cos(yaw)
    for idx in range(NUM_LANDMARKS):
        if not any(idx in j.values() for j in SIDE_JOINTS.values()):
            world[idx, :2] = (px[idx, :2] - hip_mid) * M_PER_PX
    vis = np.full(NUM_LANDMARKS, 0.95)
    far = "right" if p.near_side == "left" else "left"
    for idx in SIDE_JOINTS[far].values():
        vis[idx] = 0.6
    return PoseFrame(t_ms, width_px, height_px, landmarks_px=px, world_m=world, visibility=vis)


def mirrored(frame: PoseFrame) -> PoseFrame:
    """The same frame flipped left-right in the image (the person turned around)."""
    assert frame.landmarks_px is not None
    px = frame.landmarks_px.copy()
    px[:, 0] = frame.image_width_px - px[:, 0]
    return PoseFrame(
        frame.t_ms,
        frame.image_width_px,
        frame.image_height_px,
        landmarks_px=px,
        world_m=frame.world_m,
        visibility=frame.visibility,
    )
