"""The MakeHuman mesh body: retargeted skeleton, skinning, landmarks, shapes, back truth."""

from __future__ import annotations

import numpy as np
import pytest

from formcheck.pose.landmarks import Landmark
from formcheck.synth.exercises import motion_class
from formcheck.synth.faults import Fault
from formcheck.synth.mesh_body import (
    SEGMENTS,
    MeshShapeParams,
    macro_target_weights,
    mesh_body,
)
from formcheck.synth.motion import MotionConfig
from formcheck.synth.real_use import BODY_SHAPES
from formcheck.synth.skeleton import BodyPose, forward_kinematics
from tests.synth.mesh_helpers import need_mesh

AVERAGE_MAN = MeshShapeParams("man", gender=1.0, height_m=1.75)


@pytest.fixture(scope="module")
def body():
    need_mesh()
    return mesh_body(AVERAGE_MAN)


def test_macro_weights_follow_makehuman() -> None:
    w = macro_target_weights(MeshShapeParams("x", gender=0.25, height_m=1.7, weight=1.0))
    assert w["universal-female-young-averagemuscle-maxweight"] == pytest.approx(0.75)
    assert w["universal-male-young-averagemuscle-maxweight"] == pytest.approx(0.25)
    assert "universal-male-young-averagemuscle-averageweight" not in w  # weight is at its max
    races = [w[f"{r}-female-young"] for r in ("african", "asian", "caucasian")]
    assert sum(races) == pytest.approx(0.75)


def test_the_skeleton_stands_on_the_mesh_joints(body) -> None:
    rest = forward_kinematics(body.shape, BodyPose(), body.joints["pelvis"])
    for name in ("spine_0", "spine_3", "spine_6", "head_joint", "shoulder_left", "hip_right"):
        assert np.allclose(rest.points[name], body.joints[name], atol=1e-9), name
    assert body.params.height_m == pytest.approx(float(np.ptp(body.rest[:, 1])))


def test_neutral_standing_leaves_the_trunk_and_head_where_the_mesh_has_them(body) -> None:
    skin = body.skin(forward_kinematics(body.shape, BodyPose(), body.joints["pelvis"]))
    moved = np.linalg.norm(skin - body.rest, axis=1)
    for seg in ("pelvis", "lumbar_0", "lumbar_1", "lumbar_2", "head"):
        assert moved[body.dominant == SEGMENTS.index(seg)].max() < 0.01, seg


def test_landmarks_sit_on_the_body(body) -> None:
    skel = forward_kinematics(body.shape, BodyPose(), body.joints["pelvis"])
    lm = body.landmarks(skel)
    assert np.allclose(lm[Landmark.LEFT_KNEE], skel.points["knee_left"])
    assert lm[Landmark.NOSE][0] > lm[Landmark.LEFT_EAR][0] + 0.05  # the face looks forward (+x)
    assert lm[Landmark.LEFT_EAR][2] < 0 < lm[Landmark.RIGHT_EAR][2]  # +z is the right
    assert lm[Landmark.MOUTH_LEFT][1] < lm[Landmark.NOSE][1] < lm[Landmark.LEFT_EYE][1]
    assert lm[Landmark.LEFT_FOOT_INDEX][0] > lm[Landmark.LEFT_HEEL][0] + 0.15
    assert lm[Landmark.LEFT_HEEL][1] < 0.05  # near the sole
    skin = body.skin(skel)
    for i in range(33):  # every landmark lies within 4 cm of the skin
        assert np.min(np.linalg.norm(skin - lm[i], axis=1)) < 0.2, i


def test_the_body_shapes_differ_clearly() -> None:
    need_mesh()
    bodies = {p.name: mesh_body(p) for p in BODY_SHAPES}
    assert len(bodies) >= 5

    def waist_area(b) -> float:  # half depth x half width of the lumbar cross-section
        return b.shape.lumbar_piece.half_depth_m * b.shape.lumbar_piece.half_width_m

    assert waist_area(bodies["woman_heavy"]) > 1.5 * waist_area(bodies["woman_slim_short"])
    assert waist_area(bodies["man_heavy_tall"]) > 1.2 * waist_area(bodies["man_slim_tall"])
    heights = [b.shape.height_m for b in bodies.values()]
    assert max(heights) - min(heights) > 0.3


@pytest.mark.parametrize("preset", BODY_SHAPES[::3], ids=lambda p: p.name)
def test_lumbar_flexion_moves_the_true_back_profile_by_the_expected_mm(preset) -> None:
    """FACTS.md: at the bottom of a hinge on a 175 cm body, 15 / 25 / 35 degrees of lumbar
    flexion move the back outline about 10 / 16 / 23 mm; 25 degrees of extension about 19 mm
    the other way. The average man matches that within 3 mm; smaller and softer backs move
    less (the skin over the lumbar spine is what moves), every body in the same direction."""
    need_mesh()
    from formcheck.synth.mesh_clip import pose_mesh
    from formcheck.synth.mesh_truth import mesh_measures, triangle_edges

    body = mesh_body(preset)
    edges = triangle_edges(body.trunk_triangles)

    def bulge(fault: Fault | None) -> float:
        faults = (fault,) if fault else ()
        motion = motion_class("hip_hinge")(body.shape, MotionConfig(reps=1), faults)
        t = (motion.reps[0].bottom_start_s + motion.reps[0].up_start_s) / 2.0
        posed = pose_mesh(body, motion, t)
        return mesh_measures(posed.landmarks, posed.skeleton, posed.skin, edges)[0][
            "back_bulge_mean_mm"
        ]

    neutral = bulge(None)
    changes = [bulge(Fault("lumbar_flexion", d)) - neutral for d in (15.0, 25.0, 35.0)]
    arched = bulge(Fault("lumbar_extension", 25.0)) - neutral
    assert 5.0 < changes[0] < changes[1] < changes[2] < 30.0
    assert -25.0 < arched < -10.0
    if preset.name == "man_average":
        assert changes == pytest.approx([10.0, 16.0, 23.0], abs=3.0)
