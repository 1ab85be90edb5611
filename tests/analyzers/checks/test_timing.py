"""Timing between two joints' movements."""

from __future__ import annotations

import math

import numpy as np

from formcheck.analyzers.checks.timing import (
    chest_drop_deg,
    first_crossing_s,
    lead_and_change_exceed,
    progress_lead,
)


def test_first_crossing_is_interpolated_between_samples() -> None:
    t = np.array([0.0, 0.1, 0.2, 0.3])
    x = np.array([0.0, 1.0, 3.0, 4.0])
    assert math.isclose(first_crossing_s(t, x, 2.0), 0.15)
    assert math.isnan(first_crossing_s(t, x, 5.0))  # never reached
    assert math.isnan(first_crossing_s(t, x, -1.0))  # already above at the start


def test_a_lead_needs_both_the_value_and_its_change_over_the_limit() -> None:
    assert lead_and_change_exceed(400.0, 350.0, 300.0) is True
    assert lead_and_change_exceed(400.0, 100.0, 300.0) is False  # steady per person
    assert lead_and_change_exceed(math.nan, 350.0, 300.0) is None


def test_the_chest_dropping_as_the_legs_straighten() -> None:
    knee = np.array([10.0, 60.0, 90.0, 80.0, 60.0, 40.0, 20.0])
    trunk = np.array([20.0, 50.0, 60.0, 68.0, 66.0, 50.0, 30.0])
    assert math.isclose(chest_drop_deg(knee, trunk), 8.0)
    assert math.isnan(chest_drop_deg(knee, trunk, knee_range_min_deg=100.0))


def test_legs_straightening_ahead_of_the_chest() -> None:
    t = np.linspace(0.0, 1.0, 11)
    legs = np.linspace(90.0, 0.0, 11)
    chest = np.concatenate([np.full(5, 60.0), np.linspace(60.0, 0.0, 6)])
    lead_pct, lag_ms = progress_lead(t, legs, chest, range_min=10.0)
    assert lead_pct > 40.0 and lag_ms > 200.0
