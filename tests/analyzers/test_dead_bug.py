"""Dead bug analyzer: floor geometry on the back, reps and sides, the lower back lifting off
the floor, tempo, and a rendered clip."""

from __future__ import annotations

from pathlib import Path

import pytest

from formcheck.analyzers import Prescription, SetSummary, get_analyzer
from formcheck.analyzers.codes import SPINE_ARCHED
from formcheck.analyzers.dead_bug import DeadBugAnalyzer
from formcheck.analyzers.testing import run
from formcheck.kinematics.providers.floor_reach import (
    ARM_REACH_DEG,
    LEG_REACH_DEG,
    LIMB_REACH_DEG,
    FloorFrameReader,
    FloorPosture,
    limb_reaches_deg,
    outline_facing,
)
from formcheck.report.build import summary_block
from formcheck.types import Facing
from tests.floor_streams import (
    Reach,
    ReachSet,
    alternating,
    floor_landmarks,
    landmark_sample,
    reach_samples,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("head_x", [1.0, -1.0])
def test_reaches_on_the_back_read_arm_overhead_and_knee_straightening(head_x: float) -> None:
    points = floor_landmarks(
        FloorPosture.SUPINE, {"left": 75.0, "right": 0.0}, {"left": 0.0, "right": 80.0}, head_x
    )
    reach = limb_reaches_deg(points, FloorPosture.SUPINE, head_x)
    assert reach[ARM_REACH_DEG["left"]] == pytest.approx(75.0, abs=0.5)
    assert reach[ARM_REACH_DEG["right"]] == pytest.approx(0.0, abs=0.5)
    assert reach[LEG_REACH_DEG["right"]] == pytest.approx(80.0, abs=0.5)
    assert reach[LEG_REACH_DEG["left"]] == pytest.approx(0.0, abs=0.5)
    assert reach[LIMB_REACH_DEG] == pytest.approx(80.0, abs=0.5)


def test_the_back_faces_the_floor_lying_down() -> None:
    """The outline searched is the lower one: the belly side points up."""
    assert outline_facing(1.0, FloorPosture.SUPINE) is Facing.LEFT
    assert outline_facing(-1.0, FloorPosture.SUPINE) is Facing.RIGHT


def test_reader_on_a_lying_figure() -> None:
    rest = {"left": 0.0, "right": 0.0}
    read = FloorFrameReader(FloorPosture.SUPINE).read(
        landmark_sample(0.0, floor_landmarks(FloorPosture.SUPINE, rest, rest))
    )
    assert read.quality.usable
    assert read.get(LIMB_REACH_DEG) == pytest.approx(0.0, abs=0.5)


def test_alternating_reps_and_sides() -> None:
    analyzer = get_analyzer("dead_bug")
    assert isinstance(analyzer, DeadBugAnalyzer)
    _, summary = run(analyzer, reach_samples(ReachSet(alternating(5, arm_deg=75.0))))
    assert len(summary.reps) == 5
    assert [r.side for r in summary.reps] == ["left", "right", "left", "right", "left"]
    assert _per_side(summary) == {"left": 3, "right": 2}
    assert all(r.faults == () for r in summary.reps)


def test_heel_slides_with_the_legs_only_are_counted() -> None:
    """The regression: no arm movement, the knee straightens about 60 deg."""
    reps = alternating(4, arm_deg=0.0, leg_deg=60.0)
    _, summary = run(get_analyzer("dead_bug"), reach_samples(ReachSet(reps)))
    assert [r.side for r in summary.reps] == ["left", "right", "left", "right"]


def test_the_lower_back_lifting_off_the_floor_is_found() -> None:
    reps = [Reach(), Reach(leg="right", sag_mm=20.0), Reach(sag_mm=20.0), Reach(leg="right")]
    _, summary = run(get_analyzer("dead_bug"), reach_samples(ReachSet(reps)))
    assert [list(r.faults) for r in summary.reps] == [[], [SPINE_ARCHED], [SPINE_ARCHED], []]
    finding = next(f for f in summary.findings if f.code == SPINE_ARCHED)
    assert finding.unit == "mm" and "floor" in finding.message


def test_a_rushed_rep_is_found() -> None:
    reps = [Reach(), Reach(leg="right"), Reach(out_s=0.7, hold_s=0.3, back_s=0.7)]
    prescription = Prescription(exercise="dead_bug", tempo="1.5-0.6-1.4")
    _, summary = run(get_analyzer("dead_bug", prescription), reach_samples(ReachSet(reps)))
    assert [bool(r.faults) for r in summary.reps] == [False, False, True]


def test_without_a_prescription_a_rep_is_judged_against_the_first_reps() -> None:
    rushed = Reach(out_s=0.8, hold_s=0.2, back_s=0.8)
    reps = [Reach(), Reach(leg="right"), rushed, Reach(leg="right")]
    _, summary = run(get_analyzer("dead_bug"), reach_samples(ReachSet(reps)))
    assert [bool(r.faults) for r in summary.reps] == [False, False, True, False]
    # first reps that disagree with each other are no reference
    reps = [Reach(), rushed, rushed, Reach(leg="right")]
    _, summary = run(get_analyzer("dead_bug"), reach_samples(ReachSet(reps)))
    assert all(not r.faults for r in summary.reps)


@pytest.mark.slow
def test_rendered_clip_with_arched_back(tmp_path: Path) -> None:
    """Real MediaPipe on the committed sample: two reps, the second arches off the floor."""
    from formcheck.offline import analyze_video

    clip = ROOT / "sample_videos" / "dead_bug_arched.mp4"
    prescription = Prescription(exercise="dead_bug", reps=2, tempo="1.6-0.6-1.4")
    run_ = analyze_video(clip, tmp_path, exercise="dead_bug", prescription=prescription)
    summary = run_.report.summary
    assert summary is not None and summary.reps == 2
    assert summary.reps_per_side == {"left": 1, "right": 1}
    faults = [r.faults for r in run_.report.reps]
    assert SPINE_ARCHED not in faults[0]
    assert SPINE_ARCHED in faults[1]


def _per_side(summary: SetSummary) -> object:
    return summary_block(summary).reps_per_side
