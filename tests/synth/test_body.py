"""Synthetic body: forward kinematics, proportions, surface and true measures."""

from __future__ import annotations

import numpy as np
import pytest

from formcheck.synth.body import BodyShape, make_body
from formcheck.synth.landmarks import landmarks_world
from formcheck.synth.placement import Support, place
from formcheck.synth.posture import SagittalPosture
from formcheck.synth.skeleton import ALL_JOINTS, BodyPose, forward_kinematics
from formcheck.synth.surface import Capsule, Ellipsoid
from formcheck.synth.truth import all_measures, joint_angles

FEET = Support(anchor=("ankle_left", "ankle_right"))
SEGMENTS = (
    ("hip_left", "knee_left", "thigh_m"),
    ("knee_right", "ankle_right", "shank_m"),
    ("shoulder_left", "elbow_left", "upper_arm_m"),
    ("elbow_right", "wrist_right", "forearm_m"),
    ("spine_6", "head_joint", "neck_m"),
)


def stature_m(shape: BodyShape) -> float:
    """Top of the head (the head ellipsoid) when standing in neutral."""
    placed = place(shape, BodyPose(), FEET)
    head = next(p for p in placed.prims if isinstance(p, Ellipsoid) and p.part == "head")
    return float(head.centre_m[1] + head.radii_m[1])


def random_pose(rng: np.random.Generator) -> BodyPose:
    joints = {j: tuple(float(x) for x in rng.uniform(-60, 60, 3)) for j in ALL_JOINTS}
    return BodyPose(root_deg=tuple(float(x) for x in rng.uniform(-90, 90, 3)), joints=joints)  # type: ignore[arg-type]


def test_segment_lengths_are_preserved_in_any_pose() -> None:
    rng = np.random.default_rng(1)
    shape = make_body(1.80, rng)
    for _ in range(20):
        skel = forward_kinematics(shape, random_pose(rng))
        for a, b, field in SEGMENTS:
            length = np.linalg.norm(skel.points[a] - skel.points[b])
            assert length == pytest.approx(getattr(shape, field), abs=1e-9)
        spine = [
            np.linalg.norm(skel.points[f"spine_{i + 1}"] - skel.points[f"spine_{i}"])
            for i in range(6)
        ]
        assert spine == pytest.approx(list(shape.spine_lengths_m), abs=1e-9)


@pytest.mark.parametrize("height_m", [1.50, 1.75, 1.95])
def test_standing_body_is_as_tall_as_asked_with_feet_on_the_floor(height_m: float) -> None:
    shape = make_body(height_m)
    placed = place(shape, SagittalPosture().to_pose(), FEET)
    assert stature_m(shape) == pytest.approx(height_m, rel=0.02)
    feet = [p for p in placed.prims if p.part.startswith("foot")]
    assert min(p.lowest_y_m() for p in feet) == pytest.approx(0.0, abs=1e-9)
    assert min(p.lowest_y_m() for p in placed.prims) == pytest.approx(0.0, abs=1e-9)
    # Both feet flat: heel and toe ends of each foot at the same height.
    for p in feet:
        assert isinstance(p, Capsule)
        assert p.a_m[1] == pytest.approx(p.b_m[1], abs=0.01)


def test_random_bodies_vary_but_keep_their_height() -> None:
    rng = np.random.default_rng(7)
    shapes = [make_body(1.70, rng) for _ in range(10)]
    assert np.std([s.thigh_m for s in shapes]) > 0.003
    assert np.std([s.build for s in shapes]) > 0.03
    for s in shapes:
        assert stature_m(s) == pytest.approx(1.70, rel=0.02)
    with pytest.raises(ValueError):
        make_body(2.3)


def test_sagittal_posture_gives_the_true_angles() -> None:
    shape = make_body(1.75)
    posture = SagittalPosture(knee_deg=30.0, shank_deg=10.0, pelvis_tilt_deg=50.0)
    placed = place(shape, posture.to_pose(), FEET)
    lm = landmarks_world(shape, placed.skeleton)
    angles = joint_angles(lm, placed.skeleton)
    assert angles["left_knee_flexion_deg"] == pytest.approx(30.0, abs=0.5)
    assert angles["right_ankle_dorsiflexion_deg"] == pytest.approx(10.0, abs=0.5)
    # Trunk inclination follows the pelvis (plus the neutral spine's own lean).
    assert 45.0 < angles["left_trunk_inclination_deg"] < 60.0
    standing = joint_angles(
        landmarks_world(shape, place(shape, BodyPose(), FEET).skeleton),
        place(shape, BodyPose(), FEET).skeleton,
    )
    assert abs(standing["left_hip_flexion_deg"]) < 3.0
    assert abs(standing["left_knee_flexion_deg"]) < 0.5


def test_lumbar_flexion_rounds_the_back_and_extension_arches_it() -> None:
    shape = make_body(1.75)

    def bulge(lumbar_deg: float) -> float:
        posture = SagittalPosture(
            knee_deg=20.0, shank_deg=7.0, pelvis_tilt_deg=70.0, lumbar_deg=lumbar_deg
        )
        placed = place(shape, posture.to_pose(), FEET)
        lm = landmarks_world(shape, placed.skeleton)
        return all_measures(lm, placed.skeleton, placed.prims)[0]["back_bulge_mean_mm"]

    neutral = bulge(0.0)
    assert bulge(15.0) > neutral + 5.0
    assert bulge(30.0) > bulge(15.0) + 5.0
    assert bulge(-20.0) < neutral - 5.0
