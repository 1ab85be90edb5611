"""The end of a set: putting the weight down and stepping away after the last rep is no rep."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from formcheck.analyzers import NotARepSign, SetSummary, get_analyzer, get_spec
from formcheck.analyzers.engine.end_of_set import EndOfSetWatch
from formcheck.analyzers.testing import (
    MM_PER_PX_TEST,
    STANDING,
    HingeRep,
    HingeSet,
    frame_times,
    run,
    samples_at,
)
from formcheck.kinematics import names as m
from formcheck.offline import analyze_video
from formcheck.report.verdict import build_verdict
from formcheck.synth.clip import render_clip
from formcheck.synth.motion import MotionConfig
from formcheck.synth.spec import ClipSpec
from formcheck.synth.timeline import Tempo
from tests.reports import assert_valid_report, report_of

NOISE = {m.HIP_FLEXION_DEG: 0.5, m.TRUNK_LEAN_DEG: 0.5, m.KNEE_FLEXION_DEG: 0.5}
REP = HingeRep(down_s=1.5, pause_s=0.4, up_s=1.4)
# bending to put the bell on the floor: slower, deeper, down while letting go
PUT_DOWN = HingeRep(down_s=2.0, pause_s=1.5, up_s=1.4, hip_deg=95.0, knee_deg=35.0)
STANCE_PX = 300.0
WALK_PX_S = 1200.0 / MM_PER_PX_TEST  # 1.2 m/s
WALK_AFTER_S = 0.8  # standing this long after the last cycle before the first step
FEET_NOISE_PX = 2.0


def feet_walking_off(hinge: HingeSet) -> Callable[[float], float]:
    walk_s = hinge.truth()[-1].end_s + WALK_AFTER_S

    def x(t: float) -> float:
        return STANCE_PX + max(0.0, t - walk_s) * WALK_PX_S

    return x


def analyse(
    reps: list[HingeRep],
    exercise: str = "hip_hinge",
    walk: bool = True,
    gone_after_s: float | None = None,
    feet: Callable[[float], float] | None = None,
    tail_s: float = 3.0,
) -> SetSummary:
    hinge = HingeSet(reps, lead_in_s=1.0, tail_s=tail_s, standing=dict(STANDING))
    feet_x = feet or (feet_walking_off(hinge) if walk else (lambda t: STANCE_PX))
    unusable = None
    if gone_after_s is not None:
        gone_s = hinge.truth()[-1].end_s + gone_after_s
        unusable = lambda t: t >= gone_s  # noqa: E731
    samples = samples_at(
        hinge.measures,
        frame_times(hinge.duration_s, 30.0),
        noise={**NOISE},
        feet_x_px=feet_x,
        unusable=unusable,
    )
    return run(get_analyzer(exercise), samples)[1]


def test_putting_the_weight_down_and_walking_off_is_not_a_rep() -> None:
    summary = analyse([REP, REP, REP, PUT_DOWN])
    assert len(summary.reps) == 3
    assert len(summary.not_counted) == 1
    moved = summary.not_counted[0]
    assert moved.sign is NotARepSign.FEET_LEFT_STANCE
    assert moved.pause_s > moved.reps_pause_max_s + 1.0
    spec = get_spec("hip_hinge").end_of_set
    assert moved.feet_moved_mm > spec.feet_moved_min_mm


def test_the_same_cycle_without_an_end_of_set_sign_counts() -> None:
    summary = analyse([REP, REP, REP, PUT_DOWN], walk=False)
    assert len(summary.reps) == 4 and not summary.not_counted


def test_a_last_rep_like_the_others_counts_even_when_the_person_walks_off() -> None:
    summary = analyse([REP, REP, REP, REP])
    assert len(summary.reps) == 4 and not summary.not_counted


def test_walking_out_of_view_is_an_end_of_set_sign() -> None:
    summary = analyse([REP, REP, REP, PUT_DOWN], walk=False, gone_after_s=0.5, tail_s=3.0)
    assert len(summary.reps) == 3
    assert [n.sign for n in summary.not_counted] == [NotARepSign.LEFT_VIEW]


def test_a_foot_landmark_jump_is_not_a_step() -> None:
    """Landmarks jump for a few frames when a plate hides the legs (real deadlifts)."""
    hinge = HingeSet([REP, REP, REP, PUT_DOWN], lead_in_s=1.0, tail_s=3.0)
    jump_s = hinge.truth()[-1].end_s + 1.0

    def jumping(t: float) -> float:
        return STANCE_PX + (150.0 if jump_s <= t < jump_s + 0.2 else 0.0)

    summary = analyse([REP, REP, REP, PUT_DOWN], feet=jumping)
    assert len(summary.reps) == 4 and not summary.not_counted


def test_only_with_enough_reps_to_compare() -> None:
    summary = analyse([REP, PUT_DOWN])
    assert len(summary.reps) == 2 and not summary.not_counted


def test_squat_sets_too() -> None:
    squat = HingeRep(down_s=1.5, pause_s=0.3, up_s=1.4, hip_deg=100.0, knee_deg=100.0)
    put_down = HingeRep(down_s=2.0, pause_s=1.4, up_s=1.4, hip_deg=100.0, knee_deg=110.0)
    with_end = analyse([squat, squat, squat, put_down], exercise="squat")
    assert len(with_end.reps) == 3 and len(with_end.not_counted) == 1
    without = analyse([squat, squat, squat, put_down], exercise="squat", walk=False)
    assert len(without.reps) == 4


def test_off_for_exercises_without_a_weight_to_put_down() -> None:
    spec = get_spec("bird_dog").end_of_set
    assert not spec.enabled
    watch = EndOfSetWatch(spec)
    assert watch.judge([]) is None


@pytest.mark.parametrize("exercise", ["hip_hinge", "squat"])
def test_thresholds_come_from_the_spec(exercise: str) -> None:
    spec = get_spec(exercise).end_of_set
    assert spec.enabled and spec.pause_min_s > 0 and spec.feet_moved_min_mm > 0


def test_the_report_says_what_was_not_counted_and_why() -> None:
    summary = analyse([REP, REP, REP, PUT_DOWN])
    data = report_of(summary).model_dump(mode="json")
    report = assert_valid_report(data)
    assert report.summary is not None and report.summary.reps == 3
    assert report.summary.not_counted == 1
    (moved,) = report.not_counted
    assert moved.sign is NotARepSign.FEET_LEFT_STANCE
    assert "putting the weight down and stepping away" in moved.message
    assert not [f for f in report.findings if f.rep == 4]  # nothing about a rep that was none
    counted = build_verdict(report).counted
    assert counted == (
        "3 reps counted; 1 movement after the last rep was not counted: it looked like "
        "putting the weight down and stepping away."
    )


# ----- renders through the real pose model and pipeline ------------------------------------------
RENDER_TEMPO = Tempo(down_s=1.3, pause_s=0.3, up_s=1.2, rest_s=0.6)


def _render(tmp_path: Path, exercise: str, variant: str, seed: int, ending: str) -> Path:
    config = MotionConfig(
        reps=3, tempo=RENDER_TEMPO, variant=variant, ending=ending, ending_pause_s=1.3
    )
    spec = ClipSpec(exercise, seed=seed, motion=config, write_masks=False)
    name = f"{exercise}_{seed}_{ending or 'none'}"
    return render_clip(spec, tmp_path, name).video_path


@pytest.mark.slow
@pytest.mark.parametrize(
    ("exercise", "variant", "seed"), [("hip_hinge", "kettlebell", 2), ("squat", "", 5)]
)
def test_a_rendered_set_that_ends_by_putting_the_weight_down_counts_its_reps(
    tmp_path: Path, model_path: Path, exercise: str, variant: str, seed: int
) -> None:
    video = _render(tmp_path, exercise, variant, seed, "set_down_step_away")
    truth = json.loads(video.with_suffix(".json").read_text())
    assert len(truth["reps"]) == 3 and truth["ending"]["is_rep"] is False
    run = analyze_video(video, tmp_path / "out", exercise=exercise, model=model_path)
    report = run.report
    assert report.summary is not None and report.summary.reps == 3
    (moved,) = report.not_counted
    assert moved.start_s >= truth["ending"]["start_s"] - 0.5
    assert "not counted" in build_verdict(report).counted
    # The same set without its ending (the recording stopped before it): unchanged.
    set_frames = int(truth["ending"]["start_s"] * truth["camera"]["fps"])
    alone = analyze_video(
        video, tmp_path / "set", exercise=exercise, model=model_path, max_frames=set_frames
    )
    assert alone.report.summary is not None and alone.report.summary.reps == 3
    assert not alone.report.not_counted


def test_feet_seen_from_another_camera_shot_are_no_step() -> None:
    """An edited clip that cuts to another shot after the last rep: the feet's image
    position jumps, but nobody stepped."""
    hinge = HingeSet([REP, REP, REP, PUT_DOWN], lead_in_s=1.0, tail_s=3.0)
    cut_s = hinge.truth()[-1].end_s + 0.8
    jump_px = 200.0  # 1000 mm

    def jumped(t: float) -> float:
        return STANCE_PX + (jump_px if t >= cut_s else 0.0)

    samples = samples_at(
        hinge.measures, frame_times(hinge.duration_s, 30.0), noise={**NOISE}, feet_x_px=jumped
    )
    cut = next(s for s in samples if s.t_ms / 1000.0 >= cut_s)
    samples[samples.index(cut)] = replace(cut, pose=replace(cut.pose, shot_cut=True))
    summary = run(get_analyzer("hip_hinge"), samples)[1]
    assert len(summary.reps) == 4 and not summary.not_counted
    uncut = analyse([REP, REP, REP, PUT_DOWN], feet=jumped)
    assert len(uncut.reps) == 3  # the same jump without the cut reads as a step
