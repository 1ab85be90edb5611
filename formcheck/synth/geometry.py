"""Small rotation and vector helpers for the synthetic body (degrees in, matrices out)."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

Vec = npt.NDArray[np.float64]
Mat = npt.NDArray[np.float64]


def rot_x(angle_deg: float) -> Mat:
    """Rotation about +x (the body's forward axis in its own frame)."""
    a = math.radians(angle_deg)
    c, s = math.cos(a), math.sin(a)
    return np.array([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])


def rot_y(angle_deg: float) -> Mat:
    """Rotation about +y (up)."""
    a = math.radians(angle_deg)
    c, s = math.cos(a), math.sin(a)
    return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])


def rot_z(angle_deg: float) -> Mat:
    """Rotation about +z (the body's right-pointing axis): positive turns +x towards +y."""
    a = math.radians(angle_deg)
    c, s = math.cos(a), math.sin(a)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def rot_axis(axis: Vec, angle_deg: float) -> Mat:
    """Rotation about a unit ``axis`` (Rodrigues)."""
    a = math.radians(angle_deg)
    x, y, z = axis
    k = np.array([[0.0, -z, y], [z, 0.0, -x], [-y, x, 0.0]])
    return np.eye(3) + math.sin(a) * k + (1.0 - math.cos(a)) * (k @ k)


def unit(v: Vec) -> Vec:
    n = float(np.linalg.norm(v))
    if n == 0.0:
        return v.copy()
    return v / n


def angle_between_deg(u: Vec, v: Vec) -> float:
    """Unsigned angle between two vectors, 0..180 degrees."""
    cos_a = float(np.dot(unit(u), unit(v)))
    return math.degrees(math.acos(max(-1.0, min(1.0, cos_a))))


def signed_angle_in_plane_deg(u: Vec, v: Vec, normal: Vec) -> float:
    """Angle from u to v (degrees, -180..180) after projecting both onto the plane of ``normal``;
    positive when the turn from u to v is counter-clockwise about ``normal``."""
    n = unit(normal)
    up = u - np.dot(u, n) * n
    vp = v - np.dot(v, n) * n
    return math.degrees(math.atan2(float(np.dot(np.cross(up, vp), n)), float(np.dot(up, vp))))


def smoothstep(x: float) -> float:
    """Minimum-jerk easing 0..1 -> 0..1 (zero velocity and acceleration at both ends)."""
    x = min(1.0, max(0.0, x))
    return x * x * x * (10.0 - 15.0 * x + 6.0 * x * x)
