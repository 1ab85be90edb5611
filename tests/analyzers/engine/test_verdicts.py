"""Verdicts: every check of a rep judged or not, and the plausibility gate."""

from __future__ import annotations

import math

from formcheck.analyzers import get_spec
from formcheck.analyzers.checks.condition import Condition, NotJudged, exceeds, unjudged
from formcheck.analyzers.engine.verdicts import (
    check_results,
    hold_check_results,
    others_not_judged,
    plausible,
)
from formcheck.analyzers.events import Finding, Severity


def test_an_impossible_value_is_not_judged_and_never_becomes_a_finding() -> None:
    ranges = get_spec("hip_hinge").plausible  # degrees: -20..120 for a hinge
    chest = exceeds("knee_dominant", -335.0, 30.0, "deg")  # an angle wrapped through 180
    gated = plausible(exceeds("knee_dominant", 10.0, 30.0, "deg"), ranges)
    assert gated.active is False  # in range: judged as it was
    gated = plausible(Condition("knee_dominant", True, -335.0, 30.0, "deg"), ranges)
    assert gated.active is None and gated.reason is NotJudged.IMPLAUSIBLE
    assert plausible(chest, ranges).reason is NotJudged.IMPLAUSIBLE  # even when not crossed
    negative_ratio = Condition("knee_dominant", True, -0.7, 1.0, "x")
    assert plausible(negative_ratio, ranges).reason is NotJudged.IMPLAUSIBLE


def test_every_check_of_the_exercise_is_reported_once() -> None:
    faults = get_spec("hip_hinge").faults
    conditions = [
        exceeds("spine_rounded", 8.0, 4.0, "mm"),
        unjudged("spine_arched", NotJudged.BACK_HIDDEN, "mm"),
        exceeds("tempo_up_fast", 1.0, 2.0, "s"),
    ]
    finding = Finding("spine_rounded", Severity.SAFETY, 1, 2.0, 8.0, 4.0, "mm", "rounded")
    results = {r.code: r for r in check_results(faults, conditions, [finding])}
    assert set(results) == set(faults)
    assert results["spine_rounded"].judged and results["spine_rounded"].found
    assert results["spine_arched"].reason is NotJudged.BACK_HIDDEN
    assert results["tempo_down_fast"].judged  # one tempo judgement for both ways
    assert results["knee_first"].reason is NotJudged.CHECK_OFF
    assert results["depth_short"].reason is NotJudged.NOT_PRESCRIBED


def test_checks_skipped_for_the_view_say_so() -> None:
    faults = get_spec("squat").faults
    out = others_not_judged([exceeds("tempo_up_fast", 1.0, 2.0, "s")], faults, NotJudged.VIEW_ANGLE)
    reasons = {c.code: c.reason for c in out}
    assert reasons["spine_rounded"] is NotJudged.VIEW_ANGLE
    assert "depth_short" not in reasons and reasons["tempo_up_fast"] is None


def test_a_hold_too_short_to_settle_judges_nothing() -> None:
    faults = get_spec("plank").faults
    unsettled = hold_check_results(faults, [], settled=False)
    assert all(r.reason is NotJudged.TOO_SHORT for r in unsettled)
    judged = hold_check_results(faults, [], settled=True)
    assert all(r.judged and not r.found and math.isnan(r.value) for r in judged)
