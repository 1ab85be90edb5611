"""Triangle meshes of the ray-caster's primitives (props and scenery), for the mesh renderer."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from formcheck.synth.geometry import unit
from formcheck.synth.raycast import Box
from formcheck.synth.surface import Capsule, Ellipsoid, Primitive

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
SPHERE_RINGS = 12
SPHERE_SEGMENTS = 20


def _sphere() -> tuple[F64, I64]:
    """A unit UV sphere around +y: vertices (rings + 1) x segments, and its triangles."""
    theta = np.linspace(0.0, np.pi, SPHERE_RINGS + 1)
    phi = np.linspace(0.0, 2 * np.pi, SPHERE_SEGMENTS, endpoint=False)
    tt, pp = np.meshgrid(theta, phi, indexing="ij")
    verts = np.stack([np.sin(tt) * np.cos(pp), np.cos(tt), np.sin(tt) * np.sin(pp)], axis=-1)
    tris = []
    for r in range(SPHERE_RINGS):
        for s in range(SPHERE_SEGMENTS):
            a = r * SPHERE_SEGMENTS + s
            b = r * SPHERE_SEGMENTS + (s + 1) % SPHERE_SEGMENTS
            c, d = a + SPHERE_SEGMENTS, b + SPHERE_SEGMENTS
            tris += [(a, b, c), (b, d, c)]
    return verts.reshape(-1, 3), np.array(tris, dtype=np.int64)


UNIT_SPHERE, SPHERE_TRIANGLES = _sphere()


def primitive_mesh(prim: Primitive | Box) -> tuple[F64, F64, I64]:
    """Vertices, unit normals and triangles of a capsule, ellipsoid or box."""
    if isinstance(prim, Ellipsoid):
        local = UNIT_SPHERE * prim.radii_m
        normals = UNIT_SPHERE / prim.radii_m
        normals /= np.linalg.norm(normals, axis=1, keepdims=True)
        return local @ prim.rotation.T + prim.centre_m, normals @ prim.rotation.T, SPHERE_TRIANGLES
    if isinstance(prim, Capsule):
        axis = prim.b_m - prim.a_m
        length = float(np.linalg.norm(axis))
        up = unit(axis) if length > 1e-9 else np.array([0.0, 1.0, 0.0])
        helper = np.array([1.0, 0.0, 0.0]) if abs(up[0]) < 0.9 else np.array([0.0, 0.0, 1.0])
        x = unit(np.cross(helper, up))
        z = np.cross(x, up)
        rot = np.stack([x, up, z], axis=1)
        normals = UNIT_SPHERE @ rot.T
        top = UNIT_SPHERE[:, 1] >= 0
        verts = normals * prim.radius_m + np.where(top[:, None], prim.b_m, prim.a_m)
        return verts, normals, SPHERE_TRIANGLES
    lo, hi = prim.low_m, prim.high_m
    corners = np.array([[x, y, z] for x in (lo[0], hi[0]) for y in (lo[1], hi[1])
                        for z in (lo[2], hi[2])])  # fmt: skip
    sides = [
        ((0, 1, 3, 2), (-1, 0, 0)), ((4, 6, 7, 5), (1, 0, 0)), ((0, 4, 5, 1), (0, -1, 0)),
        ((2, 3, 7, 6), (0, 1, 0)), ((0, 2, 6, 4), (0, 0, -1)), ((1, 5, 7, 3), (0, 0, 1)),
    ]  # fmt: skip
    box_verts: list[F64] = []
    box_normals: list[tuple[int, int, int]] = []
    box_tris: list[tuple[int, int, int]] = []
    for quad, normal in sides:
        base = len(box_verts)
        box_verts += [corners[i] for i in quad]
        box_normals += [normal] * 4
        box_tris += [(base, base + 1, base + 2), (base, base + 2, base + 3)]
    return (
        np.array(box_verts),
        np.array(box_normals, dtype=np.float64),
        np.array(box_tris, dtype=np.int64),
    )
