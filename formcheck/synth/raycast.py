"""A pure-numpy ray-caster for shaded capsules, ellipsoids and axis-aligned boxes.

Each primitive is intersected only with the rays inside its projected bounding box, with
a depth buffer shared by all primitives; shading is Lambertian with a hemispheric ambient
term. Rays come from a fixed camera, so they are computed once per clip.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from formcheck.synth.camera import Camera
from formcheck.synth.geometry import Vec
from formcheck.synth.surface import Capsule, Ellipsoid, Primitive

F32 = npt.NDArray[np.float32]
BBOX_MARGIN_PX = 2
MIN_DEPTH_M = 1e-4


@dataclass(frozen=True, slots=True)
class Box:
    """An axis-aligned box (scenery such as a chair seat), world metres."""

    low_m: Vec
    high_m: Vec
    material: str


@dataclass(slots=True)
class HitBuffer:
    """Per-pixel nearest hit: depth along the ray, normal and material index (-1 = none)."""

    depth: F32
    normal: F32
    material: npt.NDArray[np.int16]

    @staticmethod
    def empty(height_px: int, width_px: int) -> HitBuffer:
        return HitBuffer(
            np.full((height_px, width_px), np.inf, np.float32),
            np.zeros((height_px, width_px, 3), np.float32),
            np.full((height_px, width_px), -1, np.int16),
        )


class RayCaster:
    """Draws primitives for one fixed camera."""

    def __init__(self, camera: Camera) -> None:
        self.camera = camera
        self.rays = camera.ray_directions()
        self.origin = camera.position_m.astype(np.float64)

    def _bbox(
        self, points_m: npt.NDArray[np.float64], radius_m: float
    ) -> tuple[int, int, int, int] | None:
        cam = self.camera
        local = cam.to_camera(points_m)
        if np.any(local[:, 2] <= radius_m + MIN_DEPTH_M):
            return 0, cam.height_px, 0, cam.width_px
        px = local[:, :2] / local[:, 2:3] * cam.focal_px + np.array(
            [cam.width_px / 2.0, cam.height_px / 2.0]
        )
        pad = radius_m * cam.focal_px / float(local[:, 2].min()) + BBOX_MARGIN_PX
        x0 = max(int(np.floor(px[:, 0].min() - pad)), 0)
        x1 = min(int(np.ceil(px[:, 0].max() + pad)), cam.width_px)
        y0 = max(int(np.floor(px[:, 1].min() - pad)), 0)
        y1 = min(int(np.ceil(px[:, 1].max() + pad)), cam.height_px)
        if x0 >= x1 or y0 >= y1:
            return None
        return y0, y1, x0, x1

    def _write(
        self,
        buf: HitBuffer,
        window: tuple[int, int, int, int],
        t: F32,
        normal_fn: object,
        material: int,
    ) -> None:
        y0, y1, x0, x1 = window
        depth = buf.depth[y0:y1, x0:x1]
        closer = t < depth
        if not closer.any():
            return
        depth[closer] = t[closer]
        assert callable(normal_fn)
        buf.normal[y0:y1, x0:x1][closer] = normal_fn(closer)
        buf.material[y0:y1, x0:x1][closer] = material

    def draw_capsule(self, buf: HitBuffer, cap: Capsule, material: int) -> None:
        a, b, r = cap.a_m, cap.b_m, cap.radius_m
        window = self._bbox(np.stack([a, b]), r)
        if window is None:
            return
        y0, y1, x0, x1 = window
        d = self.rays[y0:y1, x0:x1]
        ro = self.origin
        ba = (b - a).astype(np.float32)
        oa = (ro - a).astype(np.float32)
        baba = float(ba @ ba)
        rdoa = d @ oa
        c_a = float(oa @ oa) - r * r
        h_a = rdoa * rdoa - c_a
        with np.errstate(invalid="ignore"):
            t = np.where(h_a >= 0, -rdoa - np.sqrt(h_a), np.inf).astype(np.float32)
            if baba > 1e-12:
                ob = (ro - b).astype(np.float32)
                rdob = d @ ob
                h_b = rdob * rdob - (float(ob @ ob) - r * r)
                t_b = np.where(h_b >= 0, -rdob - np.sqrt(h_b), np.inf)
                bard = d @ ba
                baoa = float(ba @ oa)
                qa = baba - bard * bard
                qb = baba * rdoa - baoa * bard
                qc = baba * float(oa @ oa) - baoa * baoa - r * r * baba
                h = qb * qb - qa * qc
                t_body = (-qb - np.sqrt(np.maximum(h, 0.0))) / np.maximum(qa, 1e-12)
                y = baoa + t_body * bard
                ok = (h >= 0) & (y > 0) & (y < baba) & (qa > 1e-12)
                t = np.minimum(t, np.where(ok, t_body, np.inf))
                t = np.minimum(t, t_b).astype(np.float32)
        t[t <= MIN_DEPTH_M] = np.inf

        def normal(sel: npt.NDArray[np.bool_]) -> F32:
            p = ro.astype(np.float32) + t[sel][:, None] * d[sel] - a.astype(np.float32)
            s = (
                np.clip((p @ ba) / max(baba, 1e-12), 0.0, 1.0)
                if baba > 1e-12
                else np.zeros(len(p), np.float32)
            )
            n = p - s[:, None] * ba
            return (n / r).astype(np.float32)

        self._write(buf, window, t, normal, material)

    def draw_ellipsoid(self, buf: HitBuffer, ell: Ellipsoid, material: int) -> None:
        window = self._bbox(ell.centre_m[None, :], float(ell.radii_m.max()))
        if window is None:
            return
        y0, y1, x0, x1 = window
        d = self.rays[y0:y1, x0:x1]
        m = (np.diag(1.0 / ell.radii_m) @ ell.rotation.T).astype(np.float32)
        o = m @ (self.origin - ell.centre_m).astype(np.float32)
        dl = d @ m.T
        qa = np.einsum("ijk,ijk->ij", dl, dl)
        qb = dl @ o
        h = qb * qb - qa * (float(o @ o) - 1.0)
        with np.errstate(invalid="ignore"):
            t = np.where(h >= 0, (-qb - np.sqrt(h)) / qa, np.inf).astype(np.float32)
        t[t <= MIN_DEPTH_M] = np.inf
        scale = (ell.rotation / ell.radii_m[None, :]).astype(np.float32)

        def normal(sel: npt.NDArray[np.bool_]) -> F32:
            p = o + t[sel][:, None] * dl[sel]
            n = p @ scale.T
            return (n / np.linalg.norm(n, axis=1, keepdims=True)).astype(np.float32)

        self._write(buf, window, t, normal, material)

    def draw_box(self, buf: HitBuffer, box: Box, material: int) -> None:
        corners = np.array(
            [
                [x, y, z]
                for x in (box.low_m[0], box.high_m[0])
                for y in (box.low_m[1], box.high_m[1])
                for z in (box.low_m[2], box.high_m[2])
            ]
        )
        window = self._bbox(corners, 0.0)
        if window is None:
            return
        y0, y1, x0, x1 = window
        d = self.rays[y0:y1, x0:x1]
        with np.errstate(divide="ignore", invalid="ignore"):
            inv = 1.0 / d
            t1 = (box.low_m.astype(np.float32) - self.origin.astype(np.float32)) * inv
            t2 = (box.high_m.astype(np.float32) - self.origin.astype(np.float32)) * inv
        tmin_axes = np.minimum(t1, t2)
        tmin = tmin_axes.max(axis=-1)
        tmax = np.maximum(t1, t2).min(axis=-1)
        axis = tmin_axes.argmax(axis=-1)
        t = np.where((tmax >= tmin) & (tmin > MIN_DEPTH_M), tmin, np.inf).astype(np.float32)

        def normal(sel: npt.NDArray[np.bool_]) -> F32:
            ax = axis[sel]
            n = np.zeros((len(ax), 3), np.float32)
            n[np.arange(len(ax)), ax] = -np.sign(d[sel][np.arange(len(ax)), ax])
            return n

        self._write(buf, window, t, normal, material)

    def draw(self, buf: HitBuffer, prim: Primitive | Box, material: int) -> None:
        if isinstance(prim, Capsule):
            self.draw_capsule(buf, prim, material)
        elif isinstance(prim, Ellipsoid):
            self.draw_ellipsoid(buf, prim, material)
        else:
            self.draw_box(buf, prim, material)
