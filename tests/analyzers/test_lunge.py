"""Lunge analyzer: reps per side from the front leg, and its back, trunk and knee checks
against the person's first reps (hand-made sample streams)."""

from __future__ import annotations

import math

from formcheck.analyzers import get_analyzer
from formcheck.analyzers.testing import ease, frame_times, make_sample, run
from formcheck.kinematics import names as m
from formcheck.report.build import summary_block
from formcheck.types import Sample

FPS = 30.0
REP_S = 4.0  # 1 s standing, 1.2 s down, 0.5 s at the bottom, 1.2 s up
STANDING = {
    m.TRUNK_INCLINATION_DEG: 4.0,
    m.BACK_CURVE_MM: -6.0,
    m.FRONT_KNEE_PAST_TOES_MM: -40.0,
    m.REAR_KNEE_FLEXION_DEG: 5.0,
}


def _depth(t: float) -> float:
    """0 standing, 1 at the bottom, within one rep of REP_S."""
    local = t % REP_S
    if local < 1.0:
        return 0.0
    if local < 2.2:
        return ease((local - 1.0) / 1.2)
    if local < 2.7:
        return 1.0
    return 1.0 - ease((local - 2.7) / 1.2)


def _stream(
    sides: list[str],
    rounded_mm: dict[int, float] | None = None,
    lean_deg: dict[int, float] | None = None,
    travel_mm: dict[int, float] | None = None,
) -> list[Sample]:
    samples = []
    for t in frame_times(REP_S * len(sides) + 1.5, FPS):
        rep = min(int(t // REP_S), len(sides) - 1)
        d = _depth(t) if t < REP_S * len(sides) else 0.0
        measures = dict(STANDING)
        measures[m.FRONT_KNEE_FLEXION_DEG] = 5.0 + 85.0 * d
        measures[m.TRUNK_INCLINATION_DEG] += (12.0 + (lean_deg or {}).get(rep, 0.0)) * d
        measures[m.BACK_CURVE_MM] += (rounded_mm or {}).get(rep, 0.0) * d
        measures[m.FRONT_KNEE_PAST_TOES_MM] += (60.0 + (travel_mm or {}).get(rep, 0.0)) * d
        measures[m.FRONT_LEG_RIGHT_FLAG] = float(sides[rep] == "right")
        samples.append(make_sample(t * 1000.0, measures))
    return samples


def test_reps_are_counted_per_front_leg() -> None:
    _, summary = run(get_analyzer("lunge"), _stream(["left", "left", "right", "right"]))
    assert [r.side for r in summary.reps] == ["left", "left", "right", "right"]
    assert summary_block(summary).reps_per_side == {"left": 2, "right": 2}
    assert all(not r.faults for r in summary.reps)
    assert all(r.metrics["front_knee_bottom_deg"] > 80.0 for r in summary.reps)


def test_rounded_back_leaning_trunk_and_knee_travel_are_found_against_the_first_reps() -> None:
    stream = _stream(
        ["left"] * 5, rounded_mm={2: 12.0}, lean_deg={3: 15.0}, travel_mm={4: 70.0}
    )
    _, summary = run(get_analyzer("lunge"), stream)
    faults = [set(r.faults) for r in summary.reps]
    assert faults[:2] == [set(), set()]
    assert faults[2] == {"spine_rounded"}
    assert faults[3] == {"trunk_lean"}
    assert faults[4] == {"knee_travel"}
    assert math.isclose(summary.reps[4].metrics["knee_travel_change_mm"], 70.0, abs_tol=5.0)
