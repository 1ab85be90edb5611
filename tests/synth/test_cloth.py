"""Loose clothes over the mesh body: off the skin, spanning hollows, hanging when bent."""

from __future__ import annotations

import numpy as np
import pytest

from formcheck.synth.cloth import HOODIE, LOOSE_TROUSERS, TSHIRT, ClothLayer
from formcheck.synth.exercises import motion_class
from formcheck.synth.gl_render import vertex_normals
from formcheck.synth.mesh_body import MeshShapeParams, mesh_body
from formcheck.synth.mesh_clip import pose_mesh
from formcheck.synth.motion import MotionConfig
from tests.synth.mesh_helpers import need_mesh


@pytest.fixture(scope="module")
def body():
    need_mesh()
    return mesh_body(MeshShapeParams("woman", gender=0.0, height_m=1.65, weight=0.6))


def _bottom_of_a_hinge(body):
    motion = motion_class("hip_hinge")(body.shape, MotionConfig(reps=1))
    rep = motion.reps[0]
    return pose_mesh(body, motion, (rep.bottom_start_s + rep.up_start_s) / 2.0)


@pytest.mark.parametrize("garment", [TSHIRT, HOODIE, LOOSE_TROUSERS], ids=lambda g: g.kind)
def test_cloth_stands_off_the_skin_and_the_smoothing_shortcut_is_exact(body, garment) -> None:
    layer = ClothLayer(body, garment, seed=1)
    posed = _bottom_of_a_hinge(body)
    normals = vertex_normals(posed.skin, body.triangles)
    surface = layer.surface(posed.skin, normals, posed.transforms)
    gap = np.einsum("ij,ij->i", surface - posed.skin[layer.vertices], normals[layer.vertices])
    assert np.median(gap) >= 0.5 * garment.ease_m
    # the precomputed smoothing equals smoothing the posed skin itself
    direct = layer._smoothed(posed.skin[layer.vertices])
    assert np.allclose(layer.smoothed_surface(posed.transforms), direct, atol=1e-9)


def test_a_loose_top_spans_hollows_not_bulges(body) -> None:
    """Standing, the skin above the buttocks is hollow: a hoodie spans it (lies further off
    the skin than without spanning), while over the convex chest it keeps its ease."""
    from dataclasses import replace

    from formcheck.synth.skeleton import BodyPose, forward_kinematics

    skel = forward_kinematics(body.shape, BodyPose(), body.joints["pelvis"])
    skin = body.skin(skel)
    normals = vertex_normals(skin, body.triangles)
    gaps = []
    for garment in (HOODIE, replace(HOODIE, bridge=0.0)):
        layer = ClothLayer(body, garment, seed=1)
        surface = layer.surface(skin, normals, body.segment_transforms(skel))
        gaps.append(np.linalg.norm(surface - skin[layer.vertices], axis=1))
    spanned = gaps[0] - gaps[1]
    base, j = skin[layer.vertices], body.joints
    lower_back = (
        (base[:, 1] > j["pelvis"][1] - 0.05) & (base[:, 1] < j["spine_3"][1])
        & (base[:, 0] < j["spine_1"][0])
    )  # fmt: skip
    chest = (
        (base[:, 1] > j["spine_4"][1]) & (base[:, 1] < j["spine_5"][1])
        & (base[:, 0] > j["spine_4"][0] + 0.05) & (np.abs(base[:, 2]) < 0.04)
    )  # fmt: skip
    assert spanned.min() >= 0.0
    assert spanned[lower_back].max() > 0.005
    assert spanned[chest].max() < 0.001
