"""Put a posed body on the floor: solve the root angle that lets two supports both touch
the floor (e.g. forearms and toes in a plank), drop the lowest point onto y = 0, and keep an
anchor (e.g. the feet) at a fixed place on the floor."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from formcheck.synth.body import BodyShape
from formcheck.synth.skeleton import SIDES, SPINE_JOINTS, BodyPose, Skeleton, forward_kinematics
from formcheck.synth.surface import Clothing, Primitive, body_surface

BALANCE_BRACKETS_DEG = (10.0, 25.0, 60.0)
BALANCE_TOL_M = 1e-5
BALANCE_MAX_ITER = 40


@dataclass(frozen=True, slots=True)
class Support:
    """How the body rests on the floor.

    anchor: skeleton points whose mean floor position is held at ``anchor_xz_m``.
    balance: two groups of body parts that must both touch the floor; the root angle
        ``balance_angle`` (1 = pitch, 2 = roll) is adjusted until they do.
    """

    anchor: tuple[str, ...]
    balance: tuple[tuple[str, ...], tuple[str, ...]] | None = None
    balance_angle: int = 1
    anchor_xz_m: tuple[float, float] = (0.0, 0.0)
    vertical_limbs: bool = False  # hip and shoulder flexion are given from world vertical


def limbs_from_vertical(pose: BodyPose) -> BodyPose:
    """Turn hip and shoulder flexion given as angles from world vertical (all fours: thighs and
    arms hanging straight down at 0) into joint angles, for the pose's pitch and spine flexion."""
    pitch = pose.root_deg[1]
    girdle = pitch + sum(pose.angle(j)[0] for j in SPINE_JOINTS)
    joints = dict(pose.joints)
    for side in SIDES:
        f, a, r = pose.angle(f"hip_{side}")
        joints[f"hip_{side}"] = (f + pitch, a, r)
        f, a, r = pose.angle(f"shoulder_{side}")
        joints[f"shoulder_{side}"] = (f + girdle, a, r)
    return replace(pose, joints=joints)


@dataclass(slots=True)
class PlacedBody:
    pose: BodyPose
    skeleton: Skeleton
    prims: list[Primitive]


def _lowest(prims: list[Primitive], parts: tuple[str, ...]) -> float:
    return min(p.lowest_y_m() for p in prims if p.part in parts)


def _with_root(pose: BodyPose, index: int, delta_deg: float) -> BodyPose:
    root = list(pose.root_deg)
    root[index] += delta_deg
    return replace(pose, root_deg=(root[0], root[1], root[2]))


def _solve_balance(
    shape: BodyShape, pose: BodyPose, support: Support, clothing: Clothing
) -> BodyPose:
    assert support.balance is not None
    group_a, group_b = support.balance

    def gap(delta: float) -> float:
        p = _with_root(pose, support.balance_angle, delta)
        if support.vertical_limbs:
            p = limbs_from_vertical(p)
        prims = body_surface(shape, forward_kinematics(shape, p), clothing)
        return _lowest(prims, group_a) - _lowest(prims, group_b)

    for half in BALANCE_BRACKETS_DEG:
        lo, hi = -half, half
        g_lo, g_hi = gap(lo), gap(hi)
        if g_lo * g_hi <= 0:
            break
    else:
        return pose
    side = 0
    mid = 0.0
    for _ in range(BALANCE_MAX_ITER):  # Illinois regula falsi
        mid = (lo * g_hi - hi * g_lo) / (g_hi - g_lo) if g_hi != g_lo else (lo + hi) / 2
        g_mid = gap(mid)
        if abs(g_mid) < BALANCE_TOL_M:
            break
        if g_mid * g_hi > 0:
            hi, g_hi = mid, g_mid
            if side == 1:
                g_lo /= 2
            side = 1
        else:
            lo, g_lo = mid, g_mid
            if side == -1:
                g_hi /= 2
            side = -1
    return _with_root(pose, support.balance_angle, mid)


def place(
    shape: BodyShape, pose: BodyPose, support: Support, clothing: Clothing | None = None
) -> PlacedBody:
    """The body in world coordinates, resting on the floor as ``support`` says."""
    clothes = clothing or Clothing()
    if support.balance is not None:
        pose = _solve_balance(shape, pose, support, clothes)
    if support.vertical_limbs:
        pose = limbs_from_vertical(pose)
    skel = forward_kinematics(shape, pose)
    prims = body_surface(shape, skel, clothes)
    low = min(p.lowest_y_m() for p in prims)
    anchor = np.mean([skel.points[name] for name in support.anchor], axis=0)
    offset = np.array(
        [support.anchor_xz_m[0] - anchor[0], -low, support.anchor_xz_m[1] - anchor[2]]
    )
    skel.translate(offset)
    return PlacedBody(pose, skel, [p.translated(offset) for p in prims])
