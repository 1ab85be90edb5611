"""The OpenGL renderer: same pixel convention, silhouette and distances as the ray-caster."""

from __future__ import annotations

import numpy as np
import pytest

from formcheck.synth.camera import Camera
from formcheck.synth.gl_render import GLRenderer, MeshDraw, vertex_normals
from formcheck.synth.primitive_mesh import primitive_mesh
from formcheck.synth.raycast import HitBuffer, RayCaster
from formcheck.synth.surface import Ellipsoid
from tests.synth.mesh_helpers import need_gl


@pytest.fixture
def camera() -> Camera:
    need_gl()
    return Camera.look_at(np.array([0.3, 1.0, -3.0]), np.array([0.0, 1.0, 0.0]), 45.0, 320, 240)


def _renderer(camera: Camera) -> GLRenderer:
    colours = np.array([[200.0, 100.0, 50.0], [20.0, 200.0, 20.0]], np.float32)
    light = np.array([0.0, 1.0, 0.0], np.float32)
    return GLRenderer(camera, colours, light, ambient=0.5, diffuse=0.5)


def test_a_sphere_matches_the_ray_casters_silhouette_and_depth(camera) -> None:
    ball = Ellipsoid(np.array([0.1, 1.1, 0.2]), np.eye(3), np.array([0.3, 0.3, 0.3]), "x", "x")
    verts, normals, tris = primitive_mesh(ball)
    renderer = _renderer(camera)
    try:
        frame = renderer.draw([MeshDraw(verts, normals, np.ones(len(verts), int), tris)])
        buf = HitBuffer.empty(camera.height_px, camera.width_px)
        RayCaster(camera).draw(buf, ball, 1)
        ours, exact = frame.material == 1, buf.material == 1
        overlap = (ours & exact).sum() / (ours | exact).sum()
        assert overlap > 0.97  # a 20-segment sphere against the exact one
        assert frame.material[~(ours | exact)].max() == -1
        centre = camera.project(ball.centre_m[None])
        distance = renderer.distance_at(centre)[0]
        exact_distance = buf.depth[int(centre[0, 1]), int(centre[0, 0])]
        assert distance == pytest.approx(float(exact_distance), abs=0.01)
        assert np.isinf(renderer.distance_at(np.array([[1.0, 1.0], [-5.0, 3.0]]))).all()
    finally:
        renderer.release()


def test_vertex_normals_point_out_of_a_closed_mesh() -> None:
    ball = Ellipsoid(np.zeros(3), np.eye(3), np.array([1.0, 2.0, 1.0]), "x", "x")
    verts, _, tris = primitive_mesh(ball)
    normals = vertex_normals(verts, tris)
    assert np.allclose(np.linalg.norm(normals, axis=1), 1.0)
    assert np.mean(np.einsum("ij,ij->i", normals, verts) > 0) > 0.99
