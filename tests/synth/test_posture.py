"""Sagittal postures: per-leg angles for split stances leave the shared-leg postures alone."""

from __future__ import annotations

import numpy as np
import pytest

from formcheck.synth.body import make_body
from formcheck.synth.posture import LegPosture, SagittalPosture
from formcheck.synth.skeleton import forward_kinematics

SHAPE = make_body(1.75)


def test_legs_given_as_the_shared_angles_change_nothing() -> None:
    posture = SagittalPosture(knee_deg=40.0, shank_deg=12.0, pelvis_tilt_deg=20.0, lumbar_deg=5.0)
    same = {side: LegPosture(40.0, 12.0) for side in ("left", "right")}
    assert posture.to_pose(same) == posture.to_pose() == posture.to_pose({})


def test_each_leg_takes_its_own_angles_and_the_rear_foot_its_pitch() -> None:
    posture = SagittalPosture(pelvis_tilt_deg=10.0)
    legs = {"left": LegPosture(95.0, 12.0), "right": LegPosture(90.0, 100.0, heel_lift_deg=55.0)}
    skel = forward_kinematics(SHAPE, posture.to_pose(legs))
    p = skel.points

    def tilt_from_vertical_deg(top: np.ndarray, bottom: np.ndarray) -> float:
        v = top - bottom
        return float(np.degrees(np.arctan2(v[0], v[1])))

    # The front shin leans 12 deg forward; its thigh 95 - 12 = 83 deg from vertical.
    assert tilt_from_vertical_deg(p["knee_left"], p["ankle_left"]) == pytest.approx(12.0)
    assert tilt_from_vertical_deg(p["hip_left"], p["knee_left"]) == pytest.approx(-83.0)
    # The rear shin points back and up to the ankle (100 deg from vertical) ...
    assert tilt_from_vertical_deg(p["knee_right"], p["ankle_right"]) == pytest.approx(100.0)
    # ... and the feet: the front one flat, the rear one toes down by the heel lift.
    front_foot, rear_foot = skel.frames["foot_left"][:, 0], skel.frames["foot_right"][:, 0]
    assert np.degrees(np.arcsin(front_foot[1])) == pytest.approx(0.0, abs=1e-9)
    assert np.degrees(np.arcsin(rear_foot[1])) == pytest.approx(-55.0)
