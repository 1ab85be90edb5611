"""Angle and distance maths on points given as arrays (image: x right, y down)."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

Vec = npt.ArrayLike


def angle_at_deg(a: Vec, b: Vec, c: Vec) -> float:
    """The angle a-b-c at vertex b, in degrees within [0, 180]. NaN for a zero-length arm."""
    vertex = np.asarray(b, dtype=np.float64)
    ba = np.asarray(a, dtype=np.float64) - vertex
    bc = np.asarray(c, dtype=np.float64) - vertex
    norm = float(np.linalg.norm(ba) * np.linalg.norm(bc))
    if norm == 0.0 or not math.isfinite(norm):
        return math.nan
    # atan2 of |cross| and dot is accurate near 0 and 180 degrees, unlike acos.
    cross = np.cross(ba, bc) if ba.size == 3 else np.array(ba[0] * bc[1] - ba[1] * bc[0])
    return math.degrees(math.atan2(float(np.linalg.norm(cross)), float(np.dot(ba, bc))))


def flexion_deg(proximal: Vec, joint: Vec, distal: Vec) -> float:
    """Flexion of a hinge joint: 0 when the three points are in a straight line."""
    return 180.0 - angle_at_deg(proximal, joint, distal)


def inclination_from_vertical_deg(start: Vec, end: Vec) -> float:
    """Unsigned angle of the vector start->end from the image vertical, in [0, 180].

    0 when ``end`` is straight above ``start`` (image y points down), 90 when level.
    """
    d = np.asarray(end, dtype=np.float64)[:2] - np.asarray(start, dtype=np.float64)[:2]
    if not np.any(d):
        return math.nan
    return math.degrees(math.atan2(abs(float(d[0])), -float(d[1])))


def signed_lean_deg(start: Vec, end: Vec, forward_x: float) -> float:
    """Angle of start->end from the upward vertical, positive when it leans forward.

    ``forward_x`` is +1 when the person faces image right, -1 when they face image left, so
    the sign does not change when the person turns around.
    """
    d = np.asarray(end, dtype=np.float64)[:2] - np.asarray(start, dtype=np.float64)[:2]
    if not np.any(d):
        return math.nan
    return math.degrees(math.atan2(float(d[0]) * forward_x, -float(d[1])))


def signed_distance_to_line(point: Vec, line_start: Vec, line_end: Vec) -> float:
    """Perpendicular distance from ``point`` to the line through start and end (2D).

    The sign is that of the cross product ``(end - start) x (point - start)``: in an image
    (y down) a point on the right-hand side of the direction start->end, as seen on
    screen, is positive.
    """
    p = np.asarray(point, dtype=np.float64)[:2]
    a = np.asarray(line_start, dtype=np.float64)[:2]
    b = np.asarray(line_end, dtype=np.float64)[:2]
    d = b - a
    length = float(np.hypot(d[0], d[1]))
    if length == 0.0:
        return math.nan
    return float((d[0] * (p[1] - a[1]) - d[1] * (p[0] - a[0])) / length)


def distance(a: Vec, b: Vec) -> float:
    return float(np.linalg.norm(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)))


def signed_angle_between_deg(v_from: Vec, v_to: Vec) -> float:
    """Signed 2D angle turning ``v_from`` onto ``v_to``, in (-180, 180].

    Positive is clockwise as seen on screen (image y points down).
    """
    a = np.asarray(v_from, dtype=np.float64)[:2]
    b = np.asarray(v_to, dtype=np.float64)[:2]
    if not np.any(a) or not np.any(b):
        return math.nan
    cross = float(a[0] * b[1] - a[1] * b[0])
    return math.degrees(math.atan2(cross, float(np.dot(a, b))))
