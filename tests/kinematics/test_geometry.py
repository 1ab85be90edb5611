"""Property tests for the angle and geometry maths."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import assume, given
from hypothesis import strategies as st

from formcheck.kinematics.geometry import (
    angle_at_deg,
    flexion_deg,
    inclination_from_vertical_deg,
    signed_angle_between_deg,
    signed_distance_to_line,
    signed_lean_deg,
)

coord = st.floats(-1e4, 1e4, allow_nan=False)
point = st.tuples(coord, coord)
angle = st.floats(-179.0, 179.0)
length = st.floats(1.0, 1e3)


def _far(a: tuple[float, float], b: tuple[float, float]) -> bool:
    return math.dist(a, b) > 1e-3


@given(point, point, point)
def test_angle_is_between_0_and_180_and_symmetric(a, b, c):
    assume(_far(a, b) and _far(c, b))
    value = angle_at_deg(a, b, c)
    assert 0.0 <= value <= 180.0
    assert math.isclose(value, angle_at_deg(c, b, a), abs_tol=1e-9)


@given(point, point, point, st.floats(-1e3, 1e3), st.floats(-1e3, 1e3), angle, st.floats(0.1, 10))
def test_angle_invariant_under_rigid_motion_and_scale(a, b, c, dx, dy, rot_deg, scale):
    assume(_far(a, b) and _far(c, b))
    r = math.radians(rot_deg)
    m = np.array([[math.cos(r), -math.sin(r)], [math.sin(r), math.cos(r)]]) * scale

    def move(p):
        return m @ np.asarray(p) + np.array([dx, dy])

    assume(np.linalg.norm(move(a) - move(b)) > 1e-3 and np.linalg.norm(move(c) - move(b)) > 1e-3)
    assert math.isclose(
        angle_at_deg(a, b, c), angle_at_deg(move(a), move(b), move(c)), abs_tol=1e-6
    )


@given(point, angle, angle, length, length)
def test_flexion_of_known_construction(b, dir_deg, bend_deg, la, lc):
    # a lies along dir from b; c lies along dir + 180 - bend: flexion equals |bend|
    d = math.radians(dir_deg)
    e = math.radians(dir_deg + 180.0 - bend_deg)
    a = (b[0] + la * math.cos(d), b[1] + la * math.sin(d))
    c = (b[0] + lc * math.cos(e), b[1] + lc * math.sin(e))
    assert math.isclose(flexion_deg(a, b, c), abs(bend_deg), abs_tol=1e-6)


def test_degenerate_angle_is_nan():
    assert math.isnan(angle_at_deg((1, 1), (1, 1), (2, 2)))


@given(point, st.floats(-179.0, 179.0), length)
def test_signed_lean_matches_construction_and_mirror(start, lean_deg, ln):
    a = math.radians(lean_deg)
    end_right = (start[0] + ln * math.sin(a), start[1] - ln * math.cos(a))
    end_left = (start[0] - ln * math.sin(a), start[1] - ln * math.cos(a))
    assert math.isclose(signed_lean_deg(start, end_right, 1.0), lean_deg, abs_tol=1e-6)
    # The same lean seen mirrored (person facing image left) gives the same signed value.
    assert math.isclose(signed_lean_deg(start, end_left, -1.0), lean_deg, abs_tol=1e-6)
    assert math.isclose(
        inclination_from_vertical_deg(start, end_right), abs(lean_deg), abs_tol=1e-6
    )


@given(point, point, point)
def test_signed_distance_flips_with_direction_and_matches_abs(p, a, b):
    assume(_far(a, b))
    d1 = signed_distance_to_line(p, a, b)
    d2 = signed_distance_to_line(p, b, a)
    assert math.isclose(d1, -d2, rel_tol=1e-9, abs_tol=1e-6)
    # Magnitude equals the classical point-line distance.
    ab = np.subtract(b, a)
    ap = np.subtract(p, a)
    expected = abs(ab[0] * ap[1] - ab[1] * ap[0]) / np.linalg.norm(ab)
    assert math.isclose(abs(d1), expected, rel_tol=1e-9, abs_tol=1e-6)


def test_signed_distance_right_hand_side_is_positive():
    # Travelling right on screen, a point below (y down) is on the right-hand side.
    assert signed_distance_to_line((5, 3), (0, 0), (10, 0)) == 3.0


@given(angle, angle, length)
def test_signed_angle_between_recovers_rotation(base_deg, turn_deg, ln):
    b = math.radians(base_deg)
    t = math.radians(base_deg + turn_deg)
    v1 = (ln * math.cos(b), ln * math.sin(b))
    v2 = (math.cos(t), math.sin(t))
    assert math.isclose(signed_angle_between_deg(v1, v2), turn_deg, abs_tol=1e-6)
