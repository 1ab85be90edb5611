"""Loose clothes over the mesh body: a second surface offset from the skin that bridges hollows
and hangs, so the silhouette's back outline is no longer the back's.

A garment covers a region of the skin (a T-shirt: the trunk above the hips and half the upper
arms; a hoodie: down over the top of the buttocks, to the wrists, with a hood folded on the
upper back; loose trousers: pelvis to ankles). Each frame its surface is the posed skin moved
along the skin's normals by

* the garment's ease (how far loose cloth stands off the skin), with a fixed pattern of
  folds (a few random low-frequency waves over the rest shape);
* the depth of the hollow under it: the skin region smoothed (uniform Laplacian, enough
  iterations to span a lumbar hollow) lies outside the skin where the skin is concave, and
  the cloth is laid over that smoothed surface there (cloth spans hollows, it does not follow
  them);

and then moved down by the hang (the most where the skin faces the floor: a shirt hangs from
the chest of a person bent forward). This is geometry, not a cloth simulation: it keeps
renders deterministic and cheap while blurring the outline the way loose clothes do.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from formcheck.synth.gl_render import vertex_normals
from formcheck.synth.mesh_body import SEGMENTS, TRUNK_SEGMENTS, MeshBody
from formcheck.synth.skeleton import SIDES
from formcheck.synth.surface import PANTS, SHIRT

F64 = npt.NDArray[np.float64]
FOLD_WAVES = 4  # random waves summed for the fold pattern
FOLD_WAVELENGTH_M = (0.12, 0.35)
TROUSER_WAIST_RAMP_M = 0.12  # trousers tighten to the waistband over this height
TROUSER_WAIST_EASE_SHARE = 0.15
CUFF_ABOVE_ANKLE_M = 0.03
SLEEVE_END_BEFORE_WRIST_M = 0.03
HOOD_SPREAD_M = 0.09  # the folded hood: a bump this wide on the upper back
HOOD_BELOW_C7_M = 0.06
MIN_EASE_SHARE = 0.3  # folds never bring the cloth closer to the skin than this share of ease


@dataclass(frozen=True, slots=True)
class Garment:
    """One loose garment's fit (metres).

    kind: "tshirt", "hoodie" (tops) or "trousers"; ease_m: stand-off from the skin; hang_m:
    how far it drops where the skin faces the floor; fold_m: amplitude of the fold pattern;
    hem_m: a top's hem below (+) or above (-) the hip joints; bridge: share of a hollow's
    depth that the cloth spans (1 = straight over it); smoothing: Laplacian iterations that
    find the hollows; hood_m: height of a folded hood on the upper back (0: none).
    """

    kind: str
    ease_m: float
    hang_m: float
    fold_m: float
    hem_m: float = 0.0
    bridge: float = 1.0
    smoothing: int = 40
    hood_m: float = 0.0
    long_sleeves: bool = False


TSHIRT = Garment("tshirt", ease_m=0.015, hang_m=0.04, fold_m=0.005, hem_m=-0.03, bridge=0.8)
HOODIE = Garment(
    "hoodie", ease_m=0.03, hang_m=0.07, fold_m=0.008, hem_m=0.07, bridge=1.0, hood_m=0.05,
    long_sleeves=True,
)  # fmt: skip
LOOSE_TROUSERS = Garment("trousers", ease_m=0.025, hang_m=0.03, fold_m=0.006, bridge=0.8)
GARMENTS = {g.kind: g for g in (TSHIRT, HOODIE, LOOSE_TROUSERS)}


def _region(body: MeshBody, garment: Garment) -> npt.NDArray[np.bool_]:
    rest, j = body.rest, body.joints
    seg = np.array(SEGMENTS)[body.dominant]
    if garment.kind == "trousers":
        keep = np.isin(seg, ["pelvis"]) & (rest[:, 1] < j["spine_0"][1])
        for side in SIDES:
            keep |= seg == f"thigh_{side}"
            keep |= (seg == f"shank_{side}") & (
                rest[:, 1] > j[f"ankle_{side}"][1] + CUFF_ABOVE_ANKLE_M
            )
        return np.asarray(keep)
    hem_y = float(j["pelvis"][1]) - garment.hem_m
    keep = np.isin(seg, TRUNK_SEGMENTS) & (rest[:, 1] > hem_y)
    for side in SIDES:
        keep |= (seg == f"thigh_{side}") & (rest[:, 1] > hem_y)
        shoulder, elbow = j[f"shoulder_{side}"], j[f"elbow_{side}"]
        upper = seg == f"upper_arm_{side}"
        if garment.long_sleeves:
            wrist = j[f"wrist_{side}"]
            fore = wrist - elbow
            along = (rest - elbow) @ fore / float(fore @ fore)
            end = 1.0 - SLEEVE_END_BEFORE_WRIST_M / float(np.linalg.norm(fore))
            keep |= upper | ((seg == f"forearm_{side}") & (along < end))
        else:
            arm = elbow - shoulder
            along = (rest - shoulder) @ arm / float(arm @ arm)
            keep |= upper & (along < 0.5)
    return np.asarray(keep)


class ClothLayer:
    """A garment on one body: its triangles and its posed surface per frame."""

    def __init__(self, body: MeshBody, garment: Garment, seed: int) -> None:
        self.garment = garment
        region = _region(body, garment)
        tris = body.triangles[region[body.triangles].all(axis=1)]
        used = np.unique(tris)
        remap = np.full(len(body.rest), -1, np.int64)
        remap[used] = np.arange(len(used))
        self.vertices = used
        self.triangles = remap[tris]
        edges = np.concatenate([self.triangles[:, [0, 1]], self.triangles[:, [1, 2]],
                                self.triangles[:, [2, 0]]])  # fmt: skip
        edges = np.unique(np.sort(edges, axis=1), axis=0)
        self.edge_from = np.concatenate([edges[:, 0], edges[:, 1]])
        self.edge_to = np.concatenate([edges[:, 1], edges[:, 0]])
        self.degree = np.bincount(self.edge_from, minlength=len(used)).astype(np.float64)
        rest = body.rest[used]
        rng = np.random.default_rng(seed)
        folds = np.zeros(len(used))
        for _ in range(FOLD_WAVES):
            direction = rng.normal(size=3)
            direction /= np.linalg.norm(direction)
            k = 2 * np.pi / rng.uniform(*FOLD_WAVELENGTH_M)
            folds += np.sin(k * rest @ direction + rng.uniform(0, 2 * np.pi))
        offset = garment.ease_m + garment.fold_m * folds / np.sqrt(FOLD_WAVES)
        if garment.kind == "trousers":
            below_waist = (body.joints["spine_0"][1] - rest[:, 1]) / TROUSER_WAIST_RAMP_M
            offset *= np.clip(below_waist, TROUSER_WAIST_EASE_SHARE, 1.0)
        if garment.hood_m > 0:
            c7 = body.joints["spine_6"]
            hood_centre = c7 + np.array([-0.5 * body.shape.thoracic_pieces[-1].back_depth_m,
                                         -HOOD_BELOW_C7_M, 0.0])  # fmt: skip
            d2 = np.sum((rest - hood_centre) ** 2, axis=1)
            offset += garment.hood_m * np.exp(-d2 / (2 * HOOD_SPREAD_M**2))
        self.offset_m = np.maximum(offset, MIN_EASE_SHARE * garment.ease_m)
        self.material = PANTS if garment.kind == "trousers" else SHIRT
        # Smoothing is linear and so is skinning: the smoothed posed surface is the segments'
        # transforms applied to the smoothed, weighted rest shape. Precompute, per segment s,
        # A^k (w_s * rest) and A^k w_s (A: neighbour averaging, k: the garment's iterations).
        weights = body.weights[used]
        self.segments = np.flatnonzero(weights.max(axis=0) > 0)
        cols = []
        for s_i in self.segments:
            w = weights[:, s_i : s_i + 1]
            cols.append(np.concatenate([w * rest, w], axis=1))
        self.smoothed_basis = self._smoothed(np.concatenate(cols, axis=1))
        self.body = body

    def _smoothed(self, values: F64) -> F64:
        """``garment.smoothing`` rounds of neighbour averaging of per-vertex values (n, c)."""
        n, c = values.shape
        slots = (self.edge_from[:, None] * c + np.arange(c)).reshape(-1)
        out = values
        for _ in range(self.garment.smoothing):
            summed = np.bincount(slots, out[self.edge_to].reshape(-1), minlength=n * c)
            out = summed.reshape(n, c) / np.maximum(self.degree, 1.0)[:, None]
        return out

    def smoothed_surface(self, mats: F64) -> F64:
        """The skin region smoothed, for the segment transforms ``mats`` (S, 3, 4)."""
        stacked = np.transpose(mats[self.segments], (0, 2, 1)).reshape(-1, 3)
        return np.asarray(self.smoothed_basis @ stacked)

    def surface(self, skin: F64, skin_normals: F64, mats: F64) -> F64:
        """The garment's vertices for a posed skin, its unit normals and the segment
        transforms that posed it (``MeshBody.segment_transforms``)."""
        base = skin[self.vertices]
        normals = skin_normals[self.vertices]
        smooth = self.smoothed_surface(mats)
        hollow = np.maximum(np.einsum("ij,ij->i", smooth - base, normals), 0.0)
        out = base + normals * (self.offset_m + self.garment.bridge * hollow)[:, None]
        facing_down = np.clip(-normals[:, 1], 0.0, 1.0)
        out[:, 1] -= self.garment.hang_m * facing_down
        return out

    def normals(self, surface: F64) -> F64:
        return vertex_normals(surface, self.triangles)
