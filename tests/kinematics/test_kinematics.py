"""Kinematics on hand-made landmark arrays with known answers."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from formcheck.config import QualityConfig
from formcheck.kinematics import names as n
from formcheck.kinematics.measures import MEASURE_NAMES, compute_measures
from formcheck.kinematics.orientation import (
    FacingTracker,
    OrientationConfig,
    camera_yaw_from_side_deg,
    classify_view,
    facing_score,
    near_side,
    on_all_fours,
)
from formcheck.kinematics.stage import KinematicsStage, frame_quality
from formcheck.pose.landmarks import SIDE_JOINTS, Landmark
from formcheck.types import CameraView, Facing, PoseFrame
from tests.stick_figure import StickPose, mirrored, stick_frame

MM_PER_PX = 2.0


def _measures(pose: StickPose, **kw: float) -> dict[str, float]:
    frame = stick_frame(pose, **kw)
    return compute_measures(
        frame, side="left", forward_x=pose.forward_x, mm_per_px=MM_PER_PX, world_to_mm=1000.0
    )


@pytest.mark.parametrize("forward_x", [1.0, -1.0])
@pytest.mark.parametrize(
    ("shin", "knee", "hip"), [(0, 0, 0), (10, 20, 80), (25, 60, 95), (35, 90, 110), (5, 15, 45)]
)
def test_joint_angles_of_known_pose(forward_x, shin, knee, hip):
    m = _measures(
        StickPose(
            shin_lean_deg=shin, knee_flexion_deg=knee, hip_flexion_deg=hip, forward_x=forward_x
        )
    )
    assert m[n.KNEE_FLEXION_DEG] == pytest.approx(knee, abs=1e-6)
    assert m[n.HIP_FLEXION_DEG] == pytest.approx(hip, abs=1e-6)
    assert m[n.SHIN_ANGLE_DEG] == pytest.approx(shin, abs=1e-6)
    assert m[n.TRUNK_INCLINATION_DEG] == pytest.approx(abs(shin - knee + hip), abs=1e-6)
    # Shin forward by `shin` degrees with a level foot: dorsiflexion equals the shin lean.
    assert m[n.ANKLE_DORSIFLEXION_DEG] == pytest.approx(shin, abs=1e-6)


def test_lengths_in_millimetres():
    p = StickPose()
    m = _measures(p)
    assert m[n.THIGH_LENGTH_MM] == pytest.approx(p.thigh_px * MM_PER_PX)
    assert m[n.SHANK_LENGTH_MM] == pytest.approx(p.shank_px * MM_PER_PX)
    assert m[n.TRUNK_LENGTH_MM] == pytest.approx(p.trunk_px * MM_PER_PX)
    assert m[n.HIP_HEIGHT_MM] == pytest.approx((p.shank_px + p.thigh_px) * MM_PER_PX)


def test_head_forward_sign_and_size():
    neck_px = 35.0
    m = _measures(StickPose(neck_flexion_deg=30.0, neck_px=neck_px))
    assert m[n.HEAD_FORWARD_MM] == pytest.approx(neck_px * math.sin(math.radians(30)) * MM_PER_PX)
    assert m[n.NECK_FLEXION_DEG] == pytest.approx(30.0)
    back = _measures(StickPose(neck_flexion_deg=-10.0))
    assert back[n.HEAD_FORWARD_MM] < 0


def test_hips_back_positive_when_hips_behind_ankles():
    m = _measures(StickPose(shin_lean_deg=10, knee_flexion_deg=25, hip_flexion_deg=90))
    assert m[n.HIP_BACK_MM] > 0
    standing = _measures(StickPose())
    assert standing[n.HIP_BACK_MM] == pytest.approx(0.0, abs=1e-6)


def test_measures_stable_when_person_turns_around():
    """Mirroring the image (the person facing the other way) leaves every measure alone."""
    pose = StickPose(shin_lean_deg=15, knee_flexion_deg=30, hip_flexion_deg=70, neck_flexion_deg=20)
    frame = stick_frame(pose)
    flipped = mirrored(frame)
    a = compute_measures(frame, side="left", forward_x=1.0, mm_per_px=1.0, world_to_mm=1000.0)
    b = compute_measures(flipped, side="left", forward_x=-1.0, mm_per_px=1.0, world_to_mm=1000.0)
    for name in MEASURE_NAMES:
        if math.isnan(a[name]):
            assert math.isnan(b[name]), name
        else:
            assert a[name] == pytest.approx(b[name], abs=1e-6), name


def test_no_pose_gives_all_nan():
    m = compute_measures(
        PoseFrame(0.0, 640, 480), side="left", forward_x=1.0, mm_per_px=1.0, world_to_mm=1000.0
    )
    assert set(m) == set(MEASURE_NAMES)
    assert all(math.isnan(v) for v in m.values())


def test_unknown_facing_leaves_directional_measures_nan():
    frame = stick_frame(StickPose(hip_flexion_deg=40))
    m = compute_measures(frame, side="left", forward_x=0.0, mm_per_px=1.0, world_to_mm=1000.0)
    assert math.isnan(m[n.HEAD_FORWARD_MM]) and math.isnan(m[n.HIP_BACK_MM])
    assert m[n.HIP_FLEXION_DEG] == pytest.approx(40)


@pytest.mark.parametrize("yaw", [0.0, 15.0, 30.0, 45.0, 70.0, 85.0])
def test_camera_yaw_recovered(yaw):
    frame = stick_frame(StickPose(), yaw_from_side_deg=yaw)
    assert camera_yaw_from_side_deg(frame) == pytest.approx(yaw, abs=1.0)


@pytest.mark.parametrize(
    ("yaw", "view"),
    [(5.0, CameraView.SIDE), (40.0, CameraView.OBLIQUE), (80.0, CameraView.FRONT)],
)
def test_view_classification(yaw, view):
    frame = stick_frame(StickPose(), yaw_from_side_deg=yaw)
    assert classify_view(camera_yaw_from_side_deg(frame), OrientationConfig()) is view


@pytest.mark.parametrize("side", ["left", "right"])
def test_near_side_from_visibility_and_depth(side):
    assert near_side(stick_frame(StickPose(near_side=side))) == side


def test_facing_tracker_hysteresis():
    cfg = OrientationConfig()
    tracker = FacingTracker(cfg)
    right = stick_frame(StickPose(forward_x=1.0))
    assert tracker.update(right, CameraView.SIDE) is Facing.RIGHT
    left = mirrored(right)
    # One frame facing the other way does not flip the convention...
    flipped = PoseFrame(10.0, 640, 480, left.landmarks_px, left.world_m, left.visibility)
    assert tracker.update(flipped, CameraView.SIDE) is Facing.RIGHT
    # ...but holding it past the persistence time does.
    t = 10.0
    while t < 10.0 + cfg.facing_switch_persist_ms + 50:
        t += 33.0
        frame = PoseFrame(t, 640, 480, left.landmarks_px, left.world_m, left.visibility)
        facing = tracker.update(frame, CameraView.SIDE)
    assert facing is Facing.LEFT


@pytest.mark.parametrize("forward_x", [1.0, -1.0])
def test_facing_on_all_fours_follows_the_trunk_not_the_toes(forward_x):
    # on all fours the feet lie on their backs with the toes pointing behind the person:
    # the toes would say the person faces backwards, the back outline would be looked for
    # on the belly side
    four = stick_frame(StickPose(shin_lean_deg=90, knee_flexion_deg=90, hip_flexion_deg=90,
                                 forward_x=forward_x))  # fmt: skip
    p = four.landmarks_px.copy()
    for side in ("LEFT", "RIGHT"):
        heel, toe, ankle = (Landmark[f"{side}_{j}"] for j in ("HEEL", "FOOT_INDEX", "ANKLE"))
        p[heel, :2] = p[ankle, :2] + [0.0, -20.0]
        p[toe, :2] = p[ankle, :2] + [-forward_x * 60.0, 5.0]
    frame = dataclasses.replace(four, landmarks_px=p)
    assert on_all_fours(p, 130.0)
    assert np.sign(facing_score(frame)) == forward_x
    # the same toes under an upright shin (standing) still count
    standing = stick_frame(StickPose(forward_x=forward_x))
    assert not on_all_fours(standing.landmarks_px, 130.0)
    assert np.sign(facing_score(standing)) == forward_x
    # a plank (knees level with the hips) and lying on the back with the shins up are not
    plank = stick_frame(StickPose(shin_lean_deg=80, forward_x=forward_x))
    assert not on_all_fours(plank.landmarks_px, 130.0)
    dead_bug = stick_frame(StickPose(shin_lean_deg=90, knee_flexion_deg=-90, hip_flexion_deg=-90,
                                     forward_x=forward_x))  # fmt: skip
    assert not on_all_fours(dead_bug.landmarks_px, 130.0)


def test_quality_flags():
    cfg = QualityConfig()
    q = frame_quality(stick_frame(StickPose()), cfg)
    assert q.has_pose and q.in_frame and not q.too_small and q.usable
    small = stick_frame(StickPose(shank_px=15, thigh_px=16, trunk_px=20, neck_px=5))
    assert frame_quality(small, cfg).too_small
    cut = stick_frame(StickPose(ankle_px=(320.0, 470.0)))  # feet below the image edge
    assert not frame_quality(cut, cfg).in_frame
    assert not frame_quality(PoseFrame(0.0, 640, 480), cfg).has_pose


def test_stage_produces_sample_with_every_measure():
    stage = KinematicsStage(QualityConfig())
    frame = stick_frame(StickPose(hip_flexion_deg=50, forward_x=-1.0))
    sample = stage.sample(frame, stage.orient(frame), mm_per_px=1.5, world_to_mm=1000.0)
    assert list(sample.measures) == list(MEASURE_NAMES)
    assert sample.facing is Facing.LEFT and sample.view is CameraView.SIDE
    assert sample.get(n.HIP_FLEXION_DEG) == pytest.approx(50)
    # Feet under the hips: ankles one hip width apart across the body.
    assert sample.get(n.STANCE_WIDTH_MM) == pytest.approx(2 * StickPose().half_width_m * 1000.0)
    assert np.isfinite(sample.get(n.CAMERA_YAW_FROM_SIDE_DEG))


def test_misplaced_near_knee_falls_back_to_far_leg():
    """A near knee landmark pulled onto a held weight makes the near leg implausible."""
    stage = KinematicsStage(QualityConfig())
    pose = StickPose(knee_flexion_deg=10.0, hip_flexion_deg=20.0)
    for i in range(30):  # a normal stretch teaches the typical thigh/shank split
        frame = stick_frame(pose, t_ms=i * 33.0)
        stage.orient(frame)
    frame = stick_frame(pose, t_ms=31 * 33.0)
    assert frame.landmarks_px is not None and frame.visibility is not None
    bad = frame.landmarks_px.copy()
    bad[SIDE_JOINTS["left"]["knee"], :2] += np.array([60.0, -40.0])  # onto the kettlebell
    broken = PoseFrame(frame.t_ms, 640, 480, bad, frame.world_m, frame.visibility)
    orientation = stage.orient(broken)
    assert orientation.side == "right"
    sample = stage.sample(broken, orientation, mm_per_px=1.0, world_to_mm=1000.0)
    assert sample.get(n.KNEE_FLEXION_DEG) == pytest.approx(10.0, abs=1e-6)
    # A healthy frame goes back to the near side.
    assert stage.orient(stick_frame(pose, t_ms=32 * 33.0)).side == "left"


def test_near_leg_folded_beyond_the_knee_range_falls_back_to_far_leg():
    """Standing side-on, a render's near ankle landmark jumped up to the hip: that leg read
    170-179 deg of knee flexion for 1.6 s, and each such stretch counted as a squat rep."""
    stage = KinematicsStage(QualityConfig())
    frame = stick_frame(StickPose(knee_flexion_deg=4.0))
    assert frame.landmarks_px is not None
    folded = frame.landmarks_px.copy()
    near = SIDE_JOINTS["left"]
    # the ankle back up beside the hip: thigh and shank folded onto each other, with the
    # same thigh/shank split as before (the split alone does not catch it)
    hip, knee = folded[near["hip"], :2], folded[near["knee"], :2]
    folded[near["ankle"], :2] = hip + (knee - hip) * 0.05 + np.array([3.0, 0.0])
    broken = dataclasses.replace(frame, landmarks_px=folded)
    orientation = stage.orient(broken)
    assert orientation.side == "right"
    sample = stage.sample(broken, orientation, mm_per_px=1.0, world_to_mm=1000.0)
    assert sample.get(n.KNEE_FLEXION_DEG) == pytest.approx(4.0, abs=1e-6)
    # a deep squat (150 deg) on the near leg is a knee, and stays on the near side
    deep = stick_frame(StickPose(knee_flexion_deg=150.0, hip_flexion_deg=140.0))
    assert stage.orient(deep).side == "left"
