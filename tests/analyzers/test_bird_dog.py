"""Bird-dog analyzer: floor geometry, reps and sides, back sag, tempo, and a rendered clip."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from formcheck.analyzers import Cue, Prescription, SetSummary, get_analyzer
from formcheck.analyzers.bird_dog import PELVIS_ROTATION, BirdDogAnalyzer
from formcheck.analyzers.codes import SPINE_ARCHED
from formcheck.analyzers.testing import run
from formcheck.kinematics.providers.floor_reach import (
    ARM_REACH_DEG,
    LEG_REACH_DEG,
    LIMB_REACH_DEG,
    FloorFrameReader,
    FloorPosture,
    head_direction_x,
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
REST = {"left": 0.0, "right": 0.0}


def _codes(summary: object) -> list[list[str]]:
    return [list(r.faults) for r in summary.reps]  # type: ignore[attr-defined]


@pytest.mark.parametrize("head_x", [1.0, -1.0])
def test_reaches_on_all_fours_read_the_working_limbs(head_x: float) -> None:
    points = floor_landmarks(
        FloorPosture.QUADRUPED, {"left": 0.0, "right": 80.0}, {"left": 85.0, "right": 0.0}, head_x
    )
    assert head_direction_x(landmark_sample(0.0, points)) == head_x
    reach = limb_reaches_deg(points, FloorPosture.QUADRUPED, head_x)
    assert reach[ARM_REACH_DEG["right"]] == pytest.approx(80.0, abs=0.5)
    assert reach[ARM_REACH_DEG["left"]] == pytest.approx(0.0, abs=0.5)
    assert reach[LEG_REACH_DEG["left"]] == pytest.approx(85.0, abs=0.5)
    assert reach[LIMB_REACH_DEG] == pytest.approx(85.0, abs=0.5)


def test_a_tuck_reads_as_negative_reach() -> None:
    """Knee to elbow under the body (between bird-dog reps) must not look like a reach."""
    points = floor_landmarks(
        FloorPosture.QUADRUPED, {"left": 0, "right": -30}, {"left": -40, "right": 0}
    )
    assert limb_reaches_deg(points, FloorPosture.QUADRUPED, 1.0)[LIMB_REACH_DEG] < 1.0


def test_outline_facing_points_the_belly_down_on_all_fours() -> None:
    assert outline_facing(1.0, FloorPosture.QUADRUPED) is Facing.RIGHT
    assert outline_facing(-1.0, FloorPosture.QUADRUPED) is Facing.LEFT
    assert outline_facing(math.nan, FloorPosture.QUADRUPED) is Facing.UNKNOWN


def test_reader_rejudges_a_floor_frame_as_usable() -> None:
    sample = landmark_sample(0.0, floor_landmarks(FloorPosture.QUADRUPED, REST, REST))
    assert not sample.quality.usable  # a standing person's check: too small
    read = FloorFrameReader(FloorPosture.QUADRUPED).read(sample)
    assert read.quality.usable
    assert read.get(LIMB_REACH_DEG) == pytest.approx(0.0, abs=0.5)


def test_alternating_reps_are_counted_per_side() -> None:
    analyzer = get_analyzer("bird_dog")
    assert isinstance(analyzer, BirdDogAnalyzer)
    _, summary = run(analyzer, reach_samples(ReachSet(alternating(4))))
    assert len(summary.reps) == 4
    assert [r.side for r in summary.reps] == ["left", "right", "left", "right"]
    assert _per_side(summary) == {"left": 2, "right": 2}
    assert _codes(summary) == [[], [], [], []]
    rep = summary.reps[0]
    assert rep.metrics["arm_reach_deg"] == pytest.approx(85.0, abs=2.0)
    assert rep.metrics["leg_reach_deg"] == pytest.approx(88.0, abs=2.0)
    assert rep.metrics["reach_hold_s"] == pytest.approx(0.6 + 0.5, abs=0.4)


def test_sides_follow_the_arm_when_the_legs_are_swapped() -> None:
    """MediaPipe often reads the lifted leg on the wrong side; the arms decide then."""
    analyzer = get_analyzer("bird_dog")
    reps = ReachSet([Reach(leg="left"), Reach(leg="right", leg_deg=5.0)])
    samples = reach_samples(reps)
    for s in samples:  # the right rep's leg shows up on the left leg
        if s.t_ms > reps.starts_s[1] * 1000 - 100:
            s.measures[LEG_REACH_DEG["left"]] = s.measures[ARM_REACH_DEG["left"]]
    _, summary = run(analyzer, samples)
    assert [r.side for r in summary.reps] == ["left", "right"]


def test_a_sagging_back_at_full_reach_is_found_against_the_first_reps() -> None:
    reps = [Reach(leg="left"), Reach(leg="right"), Reach(leg="left", sag_mm=18.0), Reach()]
    _, summary = run(get_analyzer("bird_dog"), reach_samples(ReachSet(reps)))
    assert _codes(summary) == [[], [], [SPINE_ARCHED], []]
    assert summary.reps[2].metrics["spine_change_mm"] == pytest.approx(-18.0, abs=1.5)


def test_a_sagging_back_is_cued_while_the_reach_is_held() -> None:
    # the cue comes while arm and leg are still out, not when the rep has ended; the rep's
    # own verdict agrees with it
    sagging = Reach(leg="left", sag_mm=18.0, hold_s=1.5)
    reach_set = ReachSet([Reach(leg="left"), Reach(leg="right"), sagging])
    events, summary = run(get_analyzer("bird_dog"), reach_samples(reach_set))
    said = [e for e in events if isinstance(e, Cue)]
    assert [c.code for c in said] == [SPINE_ARCHED]
    reach_in = reach_set.starts_s[2] + sagging.out_s
    assert reach_in < said[0].t_s < reach_in + sagging.hold_s
    assert _codes(summary) == [[], [], [SPINE_ARCHED]]


def test_a_small_sag_stays_below_the_limit() -> None:
    reps = [Reach(), Reach(leg="right", sag_mm=3.0), Reach(sag_mm=4.0)]
    _, summary = run(get_analyzer("bird_dog"), reach_samples(ReachSet(reps)))
    assert all(SPINE_ARCHED not in codes for codes in _codes(summary))


def test_a_rushed_rep_is_found_against_the_prescription_and_the_first_reps() -> None:
    reps = [Reach(), Reach(leg="right"), Reach(out_s=0.8, hold_s=0.3, back_s=0.7)]
    prescription = Prescription(exercise="bird_dog", tempo="1.5-0.6-1.4")
    _, summary = run(get_analyzer("bird_dog", prescription), reach_samples(ReachSet(reps)))
    codes = _codes(summary)
    assert codes[:2] == [[], []]
    assert {"tempo_down_fast", "tempo_up_fast"} & set(codes[2])


def test_small_shifts_are_not_reps() -> None:
    reps = [Reach(arm_deg=12.0, leg_deg=10.0), Reach(leg="right", arm_deg=30.0, leg_deg=20.0)]
    _, summary = run(get_analyzer("bird_dog"), reach_samples(ReachSet(reps)))
    assert summary.reps == []
    assert len(summary.attempts) == 1  # 30 deg: a partial reach


def test_a_hip_hike_is_measured_against_the_first_rep_on_the_same_side() -> None:
    reps = [Reach(hike_mm=30.0), Reach(leg="right", hike_mm=10.0), Reach(hike_mm=70.0)]
    samples = reach_samples(ReachSet(reps))
    _, summary = run(get_analyzer("bird_dog"), samples)
    metrics = [r.metrics for r in summary.reps]
    assert metrics[0]["hike_world_mm"] == pytest.approx(30.0, abs=1.0)
    assert math.isnan(metrics[1]["hike_change_mm"])  # no earlier rep on the right
    assert metrics[2]["hike_change_mm"] == pytest.approx(40.0, abs=1.5)
    assert metrics[2]["pelvis_roll_change_deg"] == pytest.approx(11.5, abs=0.5)
    assert all(PELVIS_ROTATION not in r.faults for r in summary.reps)  # the check is off
    checked = Prescription(exercise="bird_dog", overrides={"checks.pelvis_check": True})
    _, summary = run(get_analyzer("bird_dog", checked), samples)
    assert [PELVIS_ROTATION in r.faults for r in summary.reps] == [False, False, True]


@pytest.mark.slow
def test_rendered_clip_with_pelvis_rotation(tmp_path: Path) -> None:
    """Real MediaPipe on the committed sample: two reps, one per side, and no back fault
    (the pelvis check is off: see the spec)."""
    from formcheck.offline import analyze_video

    clip = ROOT / "sample_videos" / "bird_dog_pelvis_rotation.mp4"
    prescription = Prescription(exercise="bird_dog", reps=2, tempo="1.6-0.6-1.4")
    run_ = analyze_video(clip, tmp_path, exercise="bird_dog", prescription=prescription)
    summary = run_.report.summary
    assert summary is not None and summary.reps == 2
    assert summary.reps_per_side == {"left": 1, "right": 1}
    codes = {f.code for f in run_.report.findings}
    assert SPINE_ARCHED not in codes
    hike_mm = run_.report.reps[1].metrics["hike_world_mm"]
    assert hike_mm is not None and math.isfinite(hike_mm)
    assert "hike_change_mm" in run_.report.reps[1].metrics


def _per_side(summary: SetSummary) -> object:
    return summary_block(summary).reps_per_side
