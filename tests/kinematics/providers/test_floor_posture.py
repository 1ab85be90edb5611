"""Floor exercises' providers: a floor-posture frame quality, the pelvis from the front, the
signed hip angle lying on the back, the spine's bend."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from formcheck.analyzers import get_analyzer
from formcheck.kinematics import names as m
from formcheck.kinematics.floor import arc_deg, body_length_px, floor_usable
from formcheck.kinematics.geometry import flexion_deg
from formcheck.kinematics.names import PELVIS_TILT_MM
from formcheck.kinematics.providers.floor_posture import (
    signed_lying_hip_flexion_deg as _signed_hip_flexion_deg,
)
from formcheck.pose.landmarks import Landmark
from formcheck.types import CameraView, Facing, FrameQuality, PoseFrame, Sample


def _lying_pose(
    width_px: int = 640, height_px: int = 480, feet_x_px: float = 500.0, cut_feet: bool = True
) -> PoseFrame:
    """A person lying along the image (100 px to ``feet_x_px``), 60 px tall."""
    lm = np.zeros((33, 3))
    lm[:, 0] = np.linspace(100.0, feet_x_px, 33)
    lm[:, 1] = np.linspace(300.0, 360.0, 33)
    for joint in (Landmark.LEFT_HEEL, Landmark.RIGHT_HEEL, Landmark.LEFT_FOOT_INDEX):
        if cut_feet:
            lm[joint, 0] = width_px + 5.0  # feet cut off at the right edge
    lm[Landmark.LEFT_HIP, 1], lm[Landmark.RIGHT_HIP, 1] = 330.0, 320.0
    return PoseFrame(
        t_ms=0.0,
        image_width_px=width_px,
        image_height_px=height_px,
        landmarks_px=lm,
        visibility=np.ones(33),
    )


def _lying_sample(view: CameraView = CameraView.SIDE) -> Sample:
    quality = FrameQuality(has_pose=True, in_frame=False, person_height_px=60.0, too_small=True)
    return Sample(0.0, {m.MM_PER_PX: 4.0}, Facing.RIGHT, view, quality, _lying_pose())


def test_a_long_lying_person_with_feet_cut_off_is_usable_for_the_bridge() -> None:
    sample = _lying_sample()
    assert not sample.quality.usable
    assert body_length_px(sample) > 400.0
    from formcheck.kinematics.floor import LEG_JOINTS, TRUNK_JOINTS

    assert floor_usable(sample, TRUNK_JOINTS + LEG_JOINTS).quality.usable
    hidden = dataclasses.replace(sample, pose=_lying_pose(feet_x_px=900.0))
    assert not floor_usable(hidden, TRUNK_JOINTS + LEG_JOINTS).quality.usable  # knees out too
    short = dataclasses.replace(sample, pose=_lying_pose(feet_x_px=180.0, cut_feet=False))
    assert not floor_usable(short, TRUNK_JOINTS).quality.usable


def test_pelvis_tilt_is_read_from_the_front_only() -> None:
    analyzer = get_analyzer("glute_bridge")  # the bridge's spec asks for it
    front = analyzer.measures(_lying_sample(CameraView.FRONT))
    assert front.get(PELVIS_TILT_MM) == pytest.approx(-40.0)  # left hip 10 px lower
    assert math.isnan(analyzer.measures(_lying_sample()).get(PELVIS_TILT_MM))


def test_arc_angle_from_a_sagitta() -> None:
    assert arc_deg(0.0, 100.0) == 0.0
    assert arc_deg(50.0, 100.0) == pytest.approx(180.0)  # a half circle
    assert arc_deg(-5.0, 100.0) == pytest.approx(-arc_deg(5.0, 100.0))
    assert math.isnan(arc_deg(1.0, 0.0))


@pytest.mark.parametrize("head_x", [1.0, -1.0])
@pytest.mark.parametrize(
    ("knee_above_px", "expected_deg"), [(80.0, 21.2), (0.0, 0.0), (-30.0, -10.5)]
)
def test_hip_flexion_is_negative_past_straight(
    head_x: float, knee_above_px: float, expected_deg: float
) -> None:
    # lying on the back, hips lifted: a knee above the shoulder->hip line is flexion, one
    # below it is the hips pushed past straight; the pipeline's angle is unsigned, so a
    # bridge past straight read as flexing again and its top was timed from that dip
    p = np.full((33, 3), 0.0)
    for side in ("LEFT", "RIGHT"):
        p[Landmark[f"{side}_SHOULDER"], :2] = (320.0 + head_x * 150.0, 320.0)
        p[Landmark[f"{side}_HIP"], :2] = (320.0, 260.0)  # lifted
        # the knee on the shoulder->hip line continued, moved up by knee_above_px
        p[Landmark[f"{side}_KNEE"], :2] = (320.0 - head_x * 150.0, 200.0 - knee_above_px)
    pose = PoseFrame(0.0, 640, 480, p, visibility=np.full(33, 0.9))
    quality = FrameQuality(has_pose=True, in_frame=True, too_small=False)
    sample = Sample(0.0, {m.HIP_FLEXION_DEG: 12.0}, Facing.LEFT, CameraView.SIDE, quality, pose)
    assert _signed_hip_flexion_deg(sample) == pytest.approx(expected_deg, abs=0.1)


def test_hip_flexion_takes_both_sides_so_a_near_side_switch_does_not_move_it() -> None:
    # seen from the side, the far hip is a guess that read 10-12 deg more flexed; the
    # pipeline's near side switched between the two and the lying value followed the far
    # one, so rests did not end reps. Both sides' midpoints give one steady angle.
    p = np.full((33, 3), 0.0)
    for side, knee_y in (("LEFT", 250.0), ("RIGHT", 210.0)):
        p[Landmark[f"{side}_SHOULDER"], :2] = (170.0, 320.0)
        p[Landmark[f"{side}_HIP"], :2] = (320.0, 330.0)
        p[Landmark[f"{side}_KNEE"], :2] = (420.0, knee_y)
    pose = PoseFrame(0.0, 640, 480, p, visibility=np.full(33, 0.9))
    quality = FrameQuality(has_pose=True, in_frame=True, too_small=False)
    angles = {
        _signed_hip_flexion_deg(
            Sample(0.0, {m.HIP_FLEXION_DEG: near}, Facing.LEFT, CameraView.SIDE, quality, pose)
        )
        for near in (95.0, 107.0)  # the pipeline's value with either side as the near one
    }
    assert len(angles) == 1
    assert angles.pop() == pytest.approx(
        flexion_deg(np.array([170.0, 320.0]), np.array([320.0, 330.0]), np.array([420.0, 230.0])),
        abs=1e-6,
    )
