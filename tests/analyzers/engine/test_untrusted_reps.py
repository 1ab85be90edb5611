"""A rep that spans a cut to another camera shot, or was mostly not seen, counts but is not
judged."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest

from formcheck.analyzers import get_analyzer
from formcheck.analyzers.checks.condition import NotJudged
from formcheck.analyzers.summary import SetSummary
from formcheck.analyzers.testing import HingeRep, HingeSet, frame_times, run, samples_at
from formcheck.types import Sample

FPS = 30.0


def _samples(reps: list[HingeRep]) -> tuple[list[Sample], HingeSet]:
    hinge = HingeSet(reps, lead_in_s=1.0)
    return samples_at(hinge.measures, frame_times(hinge.duration_s, FPS)), hinge


def _cut_at(samples: list[Sample], t_s: float) -> list[Sample]:
    """The stream with the frame nearest ``t_s`` marked as the first of a new shot."""
    i = min(range(len(samples)), key=lambda k: abs(samples[k].t_ms / 1000.0 - t_s))
    cut = dataclasses.replace(samples[i], pose=dataclasses.replace(samples[i].pose, shot_cut=True))
    return [*samples[:i], cut, *samples[i + 1 :]]


def _analyse(samples: list[Sample]) -> SetSummary:
    return run(get_analyzer("hip_hinge"), samples)[1]


def _verdicts(summary: SetSummary) -> list[list[tuple[str, bool, bool, str]]]:
    """Every rep's checks as (code, judged, found, reason) (values may be NaN)."""
    return [[(c.code, c.judged, c.found, str(c.reason)) for c in r.checks] for r in summary.reps]


HIPS_FIRST = HingeRep(hips_first_fraction=0.4, chest_drop_deg=20.0)


def test_a_rep_spanning_a_cut_is_counted_and_not_judged() -> None:
    samples, hinge = _samples([HingeRep(), HIPS_FIRST, HingeRep()])
    clean = _analyse(samples)
    assert [r.faults for r in clean.reps] == [(), ("hips_rise_first",), ()]

    rep2 = hinge.truth()[1]
    cut = _analyse(_cut_at(samples, rep2.bottom_out_s + 0.3))
    assert len(cut.reps) == 3
    assert [r.faults for r in cut.reps] == [(), (), ()]
    assert not cut.findings
    checks = cut.reps[1].checks
    assert checks and all(not c.judged for c in checks)
    timing = {c.code: c.reason for c in checks if c.code == "hips_rise_first"}
    assert timing == {"hips_rise_first": NotJudged.CAMERA_CUT}
    # the reps either side are judged as before
    assert [c.judged for c in cut.reps[0].checks] == [c.judged for c in clean.reps[0].checks]


def test_a_cut_between_reps_changes_nothing() -> None:
    samples, hinge = _samples([HingeRep(), HIPS_FIRST])
    between = (hinge.truth()[0].end_s + hinge.truth()[1].start_s) / 2
    clean, cut = _analyse(samples), _analyse(_cut_at(samples, between))
    assert [r.faults for r in cut.reps] == [r.faults for r in clean.reps]
    assert _verdicts(cut) == _verdicts(clean)


def test_a_clip_opening_on_another_shot_drops_that_shot() -> None:
    # The clip opens on the last frames of another (the person at the bottom of a lift,
    # 0.13 s); the cut to this set's shot comes at the fifth frame, and the lift starts
    # 0.4 s in, as in the edited clips people post.
    hinge = HingeSet([HingeRep(top_s=0.4), HingeRep()], lead_in_s=0.0)
    samples = samples_at(hinge.measures, frame_times(hinge.duration_s, FPS))
    bottom = hinge.measures(hinge.truth()[0].bottom_in_s)
    other = [dataclasses.replace(s, measures=dict(bottom)) for s in samples[:4]]
    opened = other + _cut_at(samples[4:], samples[4].t_ms / 1000.0)
    clean = _analyse(samples[4:])  # the clip as if it began with this set's shot
    cut = _analyse(opened)
    assert len(cut.reps) == len(clean.reps) == 2
    assert not cut.attempts
    assert _verdicts(cut) == _verdicts(clean)
    assert [r.start_s for r in cut.reps] == pytest.approx([r.start_s for r in clean.reps])


def _unusable_in(hinge: HingeSet, rep: int, share: float) -> Callable[[float], bool]:
    """Frames of rep ``rep`` (0-based) without a usable pose: every k-th, ``share`` of them."""
    truth = hinge.truth()[rep]
    every = round(1.0 / share)

    def unusable(t_s: float) -> bool:
        inside = truth.start_s <= t_s <= truth.end_s
        return inside and round(t_s * FPS) % every == 0

    return unusable


def test_a_rep_mostly_not_seen_is_counted_and_not_judged() -> None:
    hinge = HingeSet([HingeRep(), HIPS_FIRST, HingeRep()], lead_in_s=1.0)
    times = frame_times(hinge.duration_s, FPS)
    # one frame in three lost in the faulty rep: beyond the spec's 20%
    lost = samples_at(hinge.measures, times, unusable=_unusable_in(hinge, 1, 1 / 3))
    summary = _analyse(lost)
    assert len(summary.reps) == 3
    assert [r.faults for r in summary.reps] == [(), (), ()]
    reasons = {c.code: c.reason for c in summary.reps[1].checks}
    assert reasons["hips_rise_first"] == NotJudged.TRACKING_LOST
    assert not any(c.judged for c in summary.reps[1].checks)
    # one frame in ten lost: still judged, and the fault found
    few = samples_at(hinge.measures, times, unusable=_unusable_in(hinge, 1, 1 / 10))
    assert [r.faults for r in _analyse(few).reps] == [(), ("hips_rise_first",), ()]
