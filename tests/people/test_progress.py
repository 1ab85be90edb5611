"""Progress and the minimal detectable change on synthetic histories with known trends: a
person who improves, one who stalls, one whose form frays earlier each week."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest

from formcheck.people.progress import (
    SessionPoint,
    mdc95_between,
    pooled_within_sd,
    progress,
)

WEEK = dt.timedelta(days=7)
START = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)
REP_NOISE_MM = 2.0  # the synthetic person's rep-to-rep scatter of the back change
REPS = 10


def history(
    back_means_mm: list[float],
    fray: list[int | None],
    pain: list[int],
    seed: int,
    reps: int = REPS,
) -> list[SessionPoint]:
    rng = np.random.default_rng(seed)
    points = []
    for week, (mean, frays, rating) in enumerate(zip(back_means_mm, fray, pain, strict=True)):
        back = (mean + REP_NOISE_MM * rng.standard_normal(reps)).tolist()
        points.append(
            SessionPoint(
                session_id=week + 1,
                recorded_at=START + week * WEEK,
                measures={"reps": reps, "rep_back_change_mm": back, "form_frays_at_rep": frays,
                          "rep_down_s": [2.0] * reps, "rep_on_tempo": [True] * reps},
                pain=rating,
            )
        )  # fmt: skip
    return points


def test_the_person_who_improves_is_better_beyond_the_mdc() -> None:
    points = history([20, 17, 14, 11, 8, 6], [None] * 6, [3, 3, 2, 2, 2, 1], seed=1)
    series = progress(points)
    back = series["back_change_mm"]
    assert back.verdict == "better"
    assert back.change is not None and back.change < -back.mdc  # type: ignore[operator]
    assert [p["value"] for p in back.points] == pytest.approx(
        [float(np.mean(p.measures["rep_back_change_mm"])) for p in points]
    )
    assert back.band == pytest.approx((back.baseline - back.mdc, back.baseline + back.mdc))


def test_the_person_who_stalls_claims_no_change() -> None:
    points = history([15.0] * 6, [None] * 6, [3] * 6, seed=2)
    series = progress(points)
    assert series["back_change_mm"].verdict == "no change beyond noise"
    assert series["pain"].verdict == "no change beyond noise"
    assert series["form_frays_at_rep"].verdict == "no change beyond noise"


def test_form_that_frays_earlier_each_week_is_worse() -> None:
    points = history([12.0] * 6, [9, 9, 8, 7, 6, 5], [2] * 6, seed=3)
    fray = progress(points)["form_frays_at_rep"]
    assert fray.verdict == "worse"
    assert [p["value"] for p in fray.points] == [9, 9, 8, 7, 6, 5]


def test_the_mdc_follows_the_persons_own_rep_to_rep_noise() -> None:
    """With a known rep noise SD the MDC95 between two sessions of n reps is close to
    1.96 * sqrt(2) * SD / sqrt(n); a noisier person gets a wider band."""
    calm = progress(history([15.0] * 8, [None] * 8, [2] * 8, seed=4, reps=12))
    expected = 1.96 * math.sqrt(2) * REP_NOISE_MM / math.sqrt(12)
    assert calm["back_change_mm"].mdc == pytest.approx(expected, rel=0.2)
    assert calm["back_change_mm"].noise_sd == pytest.approx(REP_NOISE_MM, rel=0.2)
    noisy_points = [
        SessionPoint(p.session_id, p.recorded_at,
                     {**p.measures, "rep_back_change_mm":
                      [15 + 3 * (v - 15) for v in p.measures["rep_back_change_mm"]]})
        for p in history([15.0] * 8, [None] * 8, [2] * 8, seed=4, reps=12)
    ]  # fmt: skip
    noisy = progress(noisy_points)["back_change_mm"]
    assert noisy.mdc == pytest.approx(3 * calm["back_change_mm"].mdc)  # type: ignore[operator]


def test_a_change_smaller_than_the_noise_is_not_claimed() -> None:
    """A 1 mm improvement with 2 mm rep noise and 10 reps (MDC ~1.75 mm) is not better."""
    rng = np.random.default_rng(5)
    base = rng.standard_normal(REPS)
    base = (base - base.mean()) / base.std(ddof=1) * REP_NOISE_MM
    points = [
        SessionPoint(1, START, {"reps": REPS, "rep_back_change_mm": (15 + base).tolist()}),
        SessionPoint(2, START + WEEK, {"reps": REPS, "rep_back_change_mm": (14 + base).tolist()}),
    ]
    back = progress(points)["back_change_mm"]
    assert back.change == pytest.approx(-1.0)
    assert back.mdc == pytest.approx(1.96 * math.sqrt(2) * REP_NOISE_MM / math.sqrt(REPS))
    assert back.verdict == "no change beyond noise"


def test_pain_needs_two_points_whatever_the_baseline_spread() -> None:
    points = history([15.0] * 4, [None] * 4, [3, 3, 3, 2], seed=6)
    pain = progress(points)["pain"]
    assert pain.mdc == 2.0 and pain.verdict == "no change beyond noise"
    points = history([15.0] * 4, [None] * 4, [3, 3, 3, 1], seed=6)
    assert progress(points)["pain"].verdict == "better"


def test_one_session_is_not_enough_for_a_verdict() -> None:
    series = progress(history([15.0], [None], [2], seed=7))
    assert all(s.verdict == "not enough data" for s in series.values())


def test_pooled_sd_and_mdc_formulas() -> None:
    assert pooled_within_sd([[1.0, 3.0], [2.0, 2.0, 2.0], [5.0]]) == pytest.approx(
        math.sqrt((1 * 2.0 + 2 * 0.0) / 3)
    )
    assert pooled_within_sd([[1.0], [2.0]]) is None
    assert mdc95_between(2.0, 4, 4) == pytest.approx(1.96 * math.sqrt(2) * 2.0 / 2.0)


def test_a_phase_time_needs_more_than_its_reading_accuracy_however_steady_the_reps() -> None:
    """Steady rendered reps (rep-to-rep SD of 8 ms) read 1.59 s, then 1.57 s: within the
    0.15 s a phase's time is read to, so no "worse"; a 0.4 s slower descent is "better"."""

    def session(n: int, down_s: list[float]) -> SessionPoint:
        return SessionPoint(session_id=n, recorded_at=START + n * WEEK,
                            measures={"reps": len(down_s), "rep_down_s": down_s})  # fmt: skip

    steady = progress([session(1, [1.58, 1.60]), session(2, [1.56, 1.58])])["down_s"]
    assert steady.noise_sd == pytest.approx(0.01414, abs=1e-4)
    assert steady.mdc == pytest.approx(0.15) and steady.verdict == "no change beyond noise"
    assert "never below 0.15" in steady.basis
    slower = progress([session(1, [1.58, 1.60]), session(2, [1.98, 2.0])])["down_s"]
    assert slower.verdict == "better"


def test_a_measure_that_never_varies_is_no_change_not_worse() -> None:
    """Every rep of every session on tempo: no rep-to-rep noise (MDC 0) and no change. That
    read "worse" (a change of 0 is not beyond an MDC of 0, and not above 0 either)."""
    points = history([5, 5, 5], [None] * 3, [2, 2, 2], seed=3)
    tempo = progress(points)["tempo_kept"]
    assert (tempo.noise_sd, tempo.mdc, tempo.change) == (0.0, 0.0, 0.0)
    assert tempo.verdict == "no change beyond noise"
