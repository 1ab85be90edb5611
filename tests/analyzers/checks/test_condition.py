"""A check's result: breaking a limit, and not judged when it cannot be evaluated."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from formcheck.analyzers.checks.condition import exceeds, falls_short, not_judged
from formcheck.analyzers.checks.gate import gated_limit
from formcheck.analyzers.checks.hold import beyond_own_line

finite = st.floats(-1e6, 1e6, allow_nan=False)


@given(finite, finite)
def test_exceeds_and_falls_short_are_each_others_mirror(value: float, limit: float) -> None:
    assert exceeds("x", value, limit, "mm").active is (value > limit)
    assert falls_short("x", value, limit, "mm").active is (value < limit)


def test_unknown_values_and_unjudged_checks_are_not_judged() -> None:
    assert exceeds("x", math.nan, 4.0, "mm").active is None
    assert exceeds("x", 10.0, math.nan, "mm").active is None
    assert exceeds("x", 10.0, 4.0, "mm", judged=False).active is None
    cond = not_judged(exceeds("x", 10.0, 4.0, "mm"))
    assert cond.active is None and cond.value == 10.0


def test_the_noise_gate_never_sets_a_limit_below_the_noise_of_the_value() -> None:
    assert gated_limit(4.0, math.nan, 3.0) == 4.0  # unknown noise: the threshold
    assert gated_limit(4.0, 2.0, 3.0) == 6.0  # 3 x 2 mm of per-frame jitter
    assert gated_limit(4.0, 2.0, 3.0, frames=4.0) == 4.0  # a median of 4 frames: jitter / 2
    assert gated_limit(4.0, 2.0, 3.0, frames=0.0) == 6.0  # no frames counts as one


def test_a_hold_change_is_judged_only_when_known() -> None:
    assert beyond_own_line("hip_sag", math.nan, 30.0, 1.0, 3.0, "mm") is None
    cond = beyond_own_line("hip_sag", 35.0, 30.0, 15.0, 3.0, "mm")
    assert cond is not None and cond.threshold == 45.0 and cond.active is False
