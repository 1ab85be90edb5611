"""True measures of the posed mesh body, with the conventions of ``formcheck.synth.truth``.

Angles, the hip line, the head and the stance come from the landmarks and the skeleton exactly
as for the capsule body. The back outline is read off the skin itself: the trunk's triangles
(skin following the pelvis and the spine pieces, so neither the arms nor the thighs) are
projected onto the sagittal plane; at each station between the mid-hip and the mid-shoulder
point the outline is the farthest dorsal crossing of a projected triangle edge with the
station's line. Clothes are not part of it: the truth is the back, not the shirt.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from formcheck.pose.landmarks import Landmark
from formcheck.synth.geometry import unit
from formcheck.synth.skeleton import Skeleton
from formcheck.synth.truth import (
    BULGE_STATIONS,
    M_TO_MM,
    bulge_from_profile,
    head_forward_mm,
    hip_line_offset_mm,
    joint_angles,
    pelvis_roll_deg,
    stance_width_mm,
)

F64 = npt.NDArray[np.float64]
L = Landmark


def triangle_edges(triangles: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """The unique undirected edges (E, 2) of a triangle list."""
    edges = np.concatenate([triangles[:, [0, 1]], triangles[:, [1, 2]], triangles[:, [2, 0]]])
    return np.asarray(np.unique(np.sort(edges, axis=1), axis=0))


def mesh_back_outline(
    lm: F64, skel: Skeleton, skin: F64, trunk_edges: npt.NDArray[np.int64]
) -> tuple[F64, F64]:
    """The dorsal outline (K, 2) in sagittal-plane metres (forward, up) from the hip to the
    shoulder station, and its signed distance from the chord of its ends (K,) in mm."""
    origin = skel.points["pelvis"]
    axes = skel.frames["pelvis"]
    hip = (axes.T @ ((lm[L.LEFT_HIP] + lm[L.RIGHT_HIP]) / 2.0 - origin))[:2]
    sh = (axes.T @ ((lm[L.LEFT_SHOULDER] + lm[L.RIGHT_SHOULDER]) / 2.0 - origin))[:2]
    chord = sh - hip
    length = float(np.linalg.norm(chord))
    e = chord / length
    n = np.array([e[1], -e[0]])
    if n[0] > 0:
        n = -n  # dorsal: towards the back of the trunk
    used = np.unique(trunk_edges)
    plane = np.zeros((len(skin), 2))
    plane[used] = ((skin[used] - origin) @ axes)[:, :2] - hip
    across = plane @ e  # along the chord, from the hip station
    dorsal = plane @ n
    a0, a1 = across[trunk_edges[:, 0]], across[trunk_edges[:, 1]]
    d0, d1 = dorsal[trunk_edges[:, 0]], dorsal[trunk_edges[:, 1]]
    lo, hi = np.minimum(a0, a1), np.maximum(a0, a1)
    span = np.where(np.abs(a1 - a0) > 1e-12, a1 - a0, 1e-12)
    stations = np.linspace(0.0, 1.0, BULGE_STATIONS) * length
    reach = np.full(BULGE_STATIONS, -np.inf)
    for k, s in enumerate(stations):
        crossing = (lo <= s) & (hi >= s)
        if crossing.any():
            lam = (s - a0[crossing]) / span[crossing]
            reach[k] = float(np.max(d0[crossing] + lam * (d1[crossing] - d0[crossing])))
    outline = hip[None, :] + stations[:, None] * e[None, :] + reach[:, None] * n[None, :]
    a, b = outline[0], outline[-1]
    ce = unit(b - a)
    normal = np.array([ce[1], -ce[0]])
    if normal @ n < 0:
        normal = -normal
    return outline, (outline - a[None, :]) @ normal * M_TO_MM


def mesh_measures(
    lm: F64, skel: Skeleton, skin: F64, trunk_edges: npt.NDArray[np.int64]
) -> tuple[dict[str, float], F64]:
    """Every per-frame true measure keyed by name with its unit, and the back profile (mm)."""
    out = joint_angles(lm, skel)
    profile = mesh_back_outline(lm, skel, skin, trunk_edges)[1]
    out["back_bulge_mm"] = bulge_from_profile(profile)
    out["back_bulge_mean_mm"] = float(profile[1:-1].mean())
    out["hip_line_offset_mm"] = hip_line_offset_mm(lm)
    out["head_forward_mm"] = head_forward_mm(lm, skel)
    out["stance_width_mm"] = stance_width_mm(lm, skel)
    out["pelvis_roll_deg"] = pelvis_roll_deg(skel)
    return out, profile
