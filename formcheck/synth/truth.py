"""True measures of a posed body, computed the way the pipeline should measure them.

Angles (degrees) use the pipeline's conventions, from the ground-truth landmarks projected
onto the body's sagittal plane (the pelvis's forward-up plane):

* hip flexion = 180 - angle(shoulder, hip, knee); 0 standing, signed (negative = extension);
* knee flexion = 180 - angle(hip, knee, ankle); signed (negative = hyperextension);
* ankle dorsiflexion = angle(knee->ankle, heel->foot_index) - 90;
* trunk inclination = angle of hip->shoulder (projected on the sagittal plane) from world
  vertical (0 upright, 90 flat).

The back bulge (mm) is measured on the dorsal outline of the trunk seen from the side
(orthographic projection along the pelvis's lateral axis): stations run from the mid-hip to
the mid-shoulder point; at each, the outline is the farthest dorsal extent of the trunk's
primitives (trunk capsules, buttocks, shoulder girdle); the chord joins the outline's hip-end
and shoulder-end points; ``back_profile_mm`` is the outline's signed distance from that chord at
every station (positive = dorsal); ``back_bulge_mm`` is the profile value with the largest
magnitude over the interior stations (positive = a rounded back, negative = hollow/arched), and
``back_bulge_mean_mm`` its mean (a smoother summary). With a neutral spine the buttocks at the
hip end make the profile hollow (about -50 mm on an average 175 cm body); the extremum can jump
sign when a rounded lumbar spine and the hollow above the buttocks are about equally deep.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from formcheck.pose.landmarks import Landmark
from formcheck.synth.geometry import Vec, angle_between_deg, signed_angle_in_plane_deg, unit
from formcheck.synth.skeleton import SIDES, Skeleton
from formcheck.synth.surface import Capsule, Ellipsoid, Primitive

L = Landmark

M_TO_MM = 1000.0
BULGE_STATIONS = 41
TRUNK_OUTLINE_PARTS = ("pelvis", "lumbar", "thorax")
F64 = npt.NDArray[np.float64]


def _mid(lm: F64, a: L, b: L) -> Vec:
    return np.asarray((lm[a] + lm[b]) / 2.0)


def joint_angles(lm: F64, skel: Skeleton) -> dict[str, float]:
    """Per-side sagittal angles from world landmarks (33, 3); keys like ``left_hip_flexion_deg``."""
    pelvis = skel.frames["pelvis"]
    lateral = pelvis[:, 2]  # sagittal plane normal (points to the person's right)
    out: dict[str, float] = {}
    for side in SIDES:
        up = side.upper()
        sh, hip, knee = (
            lm[Landmark[f"{up}_SHOULDER"]],
            lm[Landmark[f"{up}_HIP"]],
            lm[Landmark[f"{up}_KNEE"]],
        )
        ankle, heel, toe = (
            lm[Landmark[f"{up}_ANKLE"]],
            lm[Landmark[f"{up}_HEEL"]],
            lm[Landmark[f"{up}_FOOT_INDEX"]],
        )
        # Viewed from the right (normal +z), flexion turns the thigh counter-clockwise
        # relative to the trunk line extended downwards.
        out[f"{side}_hip_flexion_deg"] = signed_angle_in_plane_deg(hip - sh, knee - hip, lateral)
        out[f"{side}_knee_flexion_deg"] = -signed_angle_in_plane_deg(
            knee - hip, ankle - knee, lateral
        )
        shin = ankle - knee
        foot = toe - heel
        shin_p = shin - np.dot(shin, lateral) * lateral
        foot_p = foot - np.dot(foot, lateral) * lateral
        out[f"{side}_ankle_dorsiflexion_deg"] = angle_between_deg(shin_p, foot_p) - 90.0
        trunk = sh - hip
        trunk_p = trunk - np.dot(trunk, lateral) * lateral
        out[f"{side}_trunk_inclination_deg"] = angle_between_deg(trunk_p, np.array([0.0, 1.0, 0.0]))
    return out


def _projected_shapes(
    prims: list[Primitive], origin: Vec, axes: F64
) -> tuple[list[tuple[Vec, Vec, float]], list[tuple[Vec, F64]]]:
    """Trunk primitives projected onto the sagittal plane: stadiums (a, b, r) and ellipses
    (centre, inverse covariance), in plane coordinates (forward, up) metres."""
    stadiums: list[tuple[Vec, Vec, float]] = []
    ellipses: list[tuple[Vec, F64]] = []
    for p in prims:
        if p.part not in TRUNK_OUTLINE_PARTS:
            continue
        if isinstance(p, Capsule):
            a = axes.T @ (p.a_m - origin)
            b = axes.T @ (p.b_m - origin)
            stadiums.append((a[:2], b[:2], p.radius_m))
        elif isinstance(p, Ellipsoid):
            rot = axes.T @ p.rotation
            cov = (rot * p.radii_m**2) @ rot.T
            centre = axes.T @ (p.centre_m - origin)
            ellipses.append((centre[:2], np.asarray(np.linalg.inv(cov[:2, :2]), np.float64)))
    return stadiums, ellipses


def _farthest_along(
    c: F64, n: Vec, stadiums: list[tuple[Vec, Vec, float]], ellipses: list[tuple[Vec, F64]]
) -> F64:
    """For station points c (K, 2) and direction n (2,), the largest s with c + s n inside
    the union of the shapes (-inf where the line misses them all)."""
    best = np.full(len(c), -np.inf)
    e = np.array([n[1], -n[0]])  # along the station line's perpendicular

    def disk(centre: Vec, r: float) -> None:
        rel = centre[None, :] - c
        along = rel @ n
        across = rel @ e
        h2 = r * r - across**2
        s = np.where(h2 >= 0, along + np.sqrt(np.maximum(h2, 0.0)), -np.inf)
        np.maximum(best, s, out=best)

    for a, b, r in stadiums:
        disk(a, r)
        disk(b, r)
        seg = b - a
        length = float(np.linalg.norm(seg))
        if length < 1e-9:
            continue
        m = np.array([-seg[1], seg[0]]) / length
        for sign in (-1.0, 1.0):
            p0 = a + sign * r * m
            # Solve c + s n = p0 + lam seg.
            mat = np.array([[n[0], -seg[0]], [n[1], -seg[1]]])
            det = float(np.linalg.det(mat))
            if abs(det) < 1e-12:
                continue
            sol = np.linalg.solve(mat, (p0[None, :] - c).T)
            s, lam = sol[0], sol[1]
            np.maximum(best, np.where((lam >= 0) & (lam <= 1), s, -np.inf), out=best)
    for centre, q in ellipses:
        rel = c - centre[None, :]
        qa = float(n @ q @ n)
        qb = rel @ (q @ n)
        qc = np.einsum("ki,ij,kj->k", rel, q, rel) - 1.0
        disc = qb * qb - qa * qc
        s = np.where(disc >= 0, (-qb + np.sqrt(np.maximum(disc, 0.0))) / qa, -np.inf)
        np.maximum(best, s, out=best)
    return best


def back_outline(lm: F64, skel: Skeleton, prims: list[Primitive]) -> tuple[F64, F64]:
    """The dorsal outline (K, 2) in sagittal-plane metres (forward, up) from the hip to the
    shoulder station, and its signed distance from the chord of its ends (K,) in mm."""
    origin = skel.points["pelvis"]
    axes = skel.frames["pelvis"]
    hip = (axes.T @ (_mid(lm, L.LEFT_HIP, L.RIGHT_HIP) - origin))[:2]
    sh = (axes.T @ (_mid(lm, L.LEFT_SHOULDER, L.RIGHT_SHOULDER) - origin))[:2]
    chord = sh - hip
    e = unit(chord)
    n = np.array([e[1], -e[0]])  # dorsal: to the back of the trunk (towards -forward)
    if n[0] > 0:
        n = -n
    stations = hip[None, :] + np.linspace(0.0, 1.0, BULGE_STATIONS)[:, None] * chord[None, :]
    stadiums, ellipses = _projected_shapes(prims, origin, axes)
    reach = _farthest_along(stations, n, stadiums, ellipses)
    outline = stations + reach[:, None] * n[None, :]
    a, b = outline[0], outline[-1]
    ce = unit(b - a)
    normal = np.array([ce[1], -ce[0]])
    if normal @ n < 0:
        normal = -normal
    return outline, (outline - a[None, :]) @ normal * M_TO_MM


def bulge_from_profile(profile_mm: F64) -> float:
    """The interior profile value with the largest magnitude (signed)."""
    inner = profile_mm[1:-1]
    return float(inner[int(np.argmax(np.abs(inner)))])


def hip_line_offset_mm(lm: F64) -> float:
    """How far the mid-hip lies below the line from mid-shoulder to mid-ankle (mm), measured
    towards the floor side of that line: positive = sagging, negative = piked."""
    sh = _mid(lm, L.LEFT_SHOULDER, L.RIGHT_SHOULDER)
    hip = _mid(lm, L.LEFT_HIP, L.RIGHT_HIP)
    ank = _mid(lm, L.LEFT_ANKLE, L.RIGHT_ANKLE)
    d = unit(ank - sh)
    rel = hip - sh
    perp = rel - np.dot(rel, d) * d
    down = np.array([0.0, -1.0, 0.0])
    down_perp = unit(down - np.dot(down, d) * d)
    return float(np.dot(perp, down_perp)) * M_TO_MM


def head_forward_mm(lm: F64, skel: Skeleton) -> float:
    """Mid-ear ahead of mid-shoulder (mm), along the trunk's forward direction."""
    ear = _mid(lm, L.LEFT_EAR, L.RIGHT_EAR)
    sh = _mid(lm, L.LEFT_SHOULDER, L.RIGHT_SHOULDER)
    hip = _mid(lm, L.LEFT_HIP, L.RIGHT_HIP)
    up = unit(sh - hip)
    fwd = skel.frames["pelvis"][:, 0]
    fwd = unit(fwd - np.dot(fwd, up) * up)
    return float(np.dot(ear - sh, fwd)) * M_TO_MM


def stance_width_mm(lm: F64, skel: Skeleton) -> float:
    """Distance between the ankle centres along the pelvis's lateral axis (mm)."""
    lateral = skel.frames["pelvis"][:, 2]
    return abs(float(np.dot(lm[L.RIGHT_ANKLE] - lm[L.LEFT_ANKLE], lateral))) * M_TO_MM


def pelvis_roll_deg(skel: Skeleton) -> float:
    """Tilt of the hip-to-hip line from horizontal; positive when the right hip is higher."""
    v = skel.points["hip_right"] - skel.points["hip_left"]
    return math.degrees(math.asin(max(-1.0, min(1.0, float(unit(v)[1])))))


def all_measures(lm: F64, skel: Skeleton, prims: list[Primitive]) -> tuple[dict[str, float], F64]:
    """Every per-frame true measure keyed by name with its unit, and the back profile (mm)."""
    out = joint_angles(lm, skel)
    profile = back_outline(lm, skel, prims)[1]
    out["back_bulge_mm"] = bulge_from_profile(profile)
    out["back_bulge_mean_mm"] = float(profile[1:-1].mean())
    out["hip_line_offset_mm"] = hip_line_offset_mm(lm)
    out["head_forward_mm"] = head_forward_mm(lm, skel)
    out["stance_width_mm"] = stance_width_mm(lm, skel)
    out["pelvis_roll_deg"] = pelvis_roll_deg(skel)
    return out, profile
