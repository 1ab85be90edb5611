"""Synthetic motions: rep timing, tempo, and faults changing what they should."""

from __future__ import annotations

import numpy as np
import pytest

from formcheck.errors import UnknownExerciseError
from formcheck.synth.body import make_body
from formcheck.synth.clip import measured_fault_size
from formcheck.synth.exercises import EXERCISES, motion_class
from formcheck.synth.faults import Fault
from formcheck.synth.landmarks import landmarks_world
from formcheck.synth.motion import Motion, MotionConfig
from formcheck.synth.placement import place
from formcheck.synth.spec import random_clip_spec
from formcheck.synth.timeline import Tempo, schedule
from formcheck.synth.truth import all_measures

SHAPE = make_body(1.75)
TEMPO = Tempo(down_s=2.0, pause_s=0.5, up_s=1.5, rest_s=1.0)


def measures_at(motion: Motion, t_s: float, with_faults: bool = True) -> dict[str, float]:
    placed = place(SHAPE, motion.pose_at(t_s, with_faults), motion.support_at(t_s))
    return all_measures(landmarks_world(SHAPE, placed.skeleton), placed.skeleton, placed.prims)[0]


def test_rep_boundaries_follow_the_tempo() -> None:
    reps = schedule([TEMPO, TEMPO, TEMPO], still_s=1.5)
    assert [r.start_s for r in reps] == pytest.approx([1.5, 6.5, 11.5])
    r = reps[1]
    assert (r.bottom_start_s, r.up_start_s, r.end_s, r.rest_end_s) == pytest.approx(
        (8.5, 9.0, 10.5, 11.5)
    )
    assert r.progress(r.start_s) == 0.0
    assert r.progress(r.bottom_start_s + 0.1) == 1.0
    assert r.progress(r.end_s) == 0.0
    assert 0.4 < r.progress((r.start_s + r.bottom_start_s) / 2) < 0.6


def test_hinge_is_still_during_calibration_and_moves_in_each_rep() -> None:
    motion = motion_class("hip_hinge")(SHAPE, MotionConfig(reps=2, tempo=TEMPO))
    still = [measures_at(motion, t)["left_hip_flexion_deg"] for t in (0.0, 0.7, 1.49)]
    assert np.ptp(still) == pytest.approx(0.0, abs=1e-9)
    bottom = measures_at(motion, motion.reps[0].bottom_start_s + 0.2)
    assert bottom["left_trunk_inclination_deg"] > 55.0
    assert bottom["left_knee_flexion_deg"] == pytest.approx(20.0, abs=1.0)
    assert motion.duration_s == pytest.approx(1.5 + 2 * TEMPO.cycle_s + 0.5)
    names = [p[0] for p in motion.phases()]
    assert names[:5] == ["still", "descent", "bottom", "ascent", "top"]


def test_tempo_fault_shortens_only_the_faulty_rep() -> None:
    motion = motion_class("squat")(
        SHAPE, MotionConfig(reps=3, tempo=TEMPO), [Fault("tempo", 1.5, (1,))]
    )
    lengths = [r.end_s - r.start_s for r in motion.reps]
    assert lengths == pytest.approx([4.0, 2.5, 4.0])


def test_lumbar_flexion_increases_the_true_bulge_at_the_bottom_only() -> None:
    motion = motion_class("hip_hinge")(
        SHAPE, MotionConfig(reps=2, tempo=TEMPO), [Fault("lumbar_flexion", 25.0, (1,))]
    )
    (event,) = motion.fault_events()
    fault, rep, onset, full_start, full_end, end = event
    assert rep == 1
    assert motion.reps[1].start_s < onset < full_start <= full_end < end <= motion.reps[1].end_s
    bottom0 = measures_at(motion, motion.reps[0].bottom_start_s + 0.2)["back_bulge_mean_mm"]
    bottom1 = measures_at(motion, motion.reps[1].bottom_start_s + 0.2)["back_bulge_mean_mm"]
    assert bottom1 > bottom0 + 10.0
    assert measures_at(motion, 0.5)["back_bulge_mean_mm"] == pytest.approx(
        measures_at(motion, 0.5, with_faults=False)["back_bulge_mean_mm"]
    )
    assert measured_fault_size(motion, SHAPE, (onset, full_start, full_end, end), fault.kind) > 10.0


@pytest.mark.parametrize("lead_ms", [150.0, 400.0])
def test_knee_first_lead_matches_the_parameter(lead_ms: float) -> None:
    motion = motion_class("hip_hinge")(
        SHAPE, MotionConfig(reps=1, tempo=TEMPO), [Fault("knee_first", lead_ms)]
    )
    start = motion.reps[0].start_s
    step_s = 0.005
    times = np.arange(start - 0.1, start + 1.0, step_s)
    series = [measures_at(motion, float(t)) for t in times]
    knee = np.array([m["left_knee_flexion_deg"] for m in series])
    trunk = np.array([m["left_trunk_inclination_deg"] for m in series])
    knee_onset = times[np.argmax(np.abs(knee - knee[0]) > 1e-6)]
    trunk_onset = times[np.argmax(np.abs(trunk - trunk[0]) > 1e-6)]
    assert (trunk_onset - knee_onset) * 1000.0 == pytest.approx(lead_ms, abs=step_s * 1000.0 + 1.0)


def test_hips_rising_first_keeps_the_trunk_down_while_the_knees_extend() -> None:
    motion = motion_class("hip_hinge")(
        SHAPE, MotionConfig(reps=1, tempo=TEMPO), [Fault("hips_rise_first", 500.0)]
    )
    up = motion.reps[0].up_start_s
    early, late = measures_at(motion, up), measures_at(motion, up + 0.4)
    assert late["left_knee_flexion_deg"] < early["left_knee_flexion_deg"] - 1.5
    assert late["left_trunk_inclination_deg"] == pytest.approx(
        early["left_trunk_inclination_deg"], abs=1e-6
    )


@pytest.mark.parametrize(
    ("exercise", "kind", "size", "tolerance"),
    [
        ("forearm_plank", "plank_sag", 60.0, 3.0),
        ("side_plank", "side_plank_hip_drop", 80.0, 4.0),
        ("hip_hinge", "stance_width", 150.0, 3.0),
        ("standing_posture", "forward_head", 40.0, 10.0),
        ("bird_dog", "pelvis_rotation", 12.0, 3.0),
        ("hip_hinge", "knee_dominant", 30.0, 2.0),
    ],
)
def test_sized_faults_change_their_measure_by_their_size(
    exercise: str, kind: str, size: float, tolerance: float
) -> None:
    cls = motion_class(exercise)
    motion = cls(
        SHAPE,
        MotionConfig(reps=2, tempo=TEMPO, hold_s=4.0),
        [Fault(kind, size, None if cls.is_hold else (1,))],
    )
    (event,) = motion.fault_events()
    measured = measured_fault_size(motion, SHAPE, tuple(event[2:]), kind)  # type: ignore[arg-type]
    assert measured == pytest.approx(size, abs=tolerance)


def test_every_exercise_runs_and_unknown_names_fail_clearly() -> None:
    rng = np.random.default_rng(3)
    for exercise in EXERCISES:
        spec = random_clip_spec(exercise, rng)
        motion = motion_class(exercise)(SHAPE, spec.motion, spec.faults)
        for t in np.linspace(0.0, motion.duration_s, 7):
            placed = place(SHAPE, motion.pose_at(float(t)), motion.support_at(float(t)))
            assert min(p.lowest_y_m() for p in placed.prims) == pytest.approx(0.0, abs=1e-9)
    with pytest.raises(UnknownExerciseError, match="hip_hinge"):
        motion_class("deadlift")
    with pytest.raises(ValueError, match="does not support"):
        motion_class("squat")(SHAPE, MotionConfig(), [Fault("plank_sag", 10.0)])


# ----- the end of a set: put the weight down, stand up, walk away (issue 19) ------------------
ENDING = "set_down_step_away"


def _ending_motion(exercise: str, variant: str = "", pause_s: float = 1.2) -> Motion:
    config = MotionConfig(
        reps=3, tempo=TEMPO, variant=variant, ending=ENDING, ending_pause_s=pause_s
    )
    return motion_class(exercise)(SHAPE, config)


@pytest.mark.parametrize(("exercise", "variant"), [("hip_hinge", "kettlebell"), ("squat", "")])
def test_the_set_ending_is_no_rep_and_leaves_the_set_as_it_was(exercise: str, variant: str) -> None:
    plain = motion_class(exercise)(SHAPE, MotionConfig(reps=3, tempo=TEMPO, variant=variant))
    ended = _ending_motion(exercise, variant)
    ending = ended.ending
    assert ending is not None and plain.ending is None
    assert len(ended.reps) == 3 and ended.rep_at(ending.bottom_start_s) is None
    assert ending.start_s == pytest.approx(plain.reps[-1].rest_end_s)
    assert ended.set_end_s == ending.start_s and ended.duration_s == ending.end_s
    assert ending.up_start_s - ending.bottom_start_s == pytest.approx(1.2)
    for t in (0.5, plain.reps[1].bottom_start_s + 0.1, plain.reps[-1].end_s):  # same set
        assert measures_at(ended, t) == measures_at(plain, t)
    names = [p[0] for p in ended.phases()]
    assert names[-6:] == ["set_down", "let_go", "stand_up", "stand", "step_away", "gone"]


def test_putting_the_weight_down_bends_deeper_than_the_reps_and_stays_down() -> None:
    motion = _ending_motion("hip_hinge", "kettlebell")
    ending = motion.ending
    assert ending is not None
    rep = measures_at(motion, motion.reps[0].bottom_start_s + 0.1)
    down = [measures_at(motion, ending.bottom_start_s + dt) for dt in (0.1, 0.6, 1.1)]
    assert all(d["left_knee_flexion_deg"] > rep["left_knee_flexion_deg"] + 10 for d in down)
    assert np.ptp([d["left_hip_flexion_deg"] for d in down]) == pytest.approx(0.0, abs=1e-6)
    standing = measures_at(motion, ending.walk_start_s - 0.1)
    assert abs(standing["left_hip_flexion_deg"]) < 10.0


def test_the_bell_stays_on_the_floor_once_let_go_and_the_person_walks_out_of_view() -> None:
    motion = _ending_motion("hip_hinge", "kettlebell")
    ending = motion.ending
    assert ending is not None

    def bell_and_feet(t: float) -> tuple[np.ndarray, float]:
        placed = place(SHAPE, motion.pose_at(t), motion.support_at(t))
        bell = motion.props_at(placed.skeleton, t)[0]
        feet = (placed.skeleton.points["ankle_left"] + placed.skeleton.points["ankle_right"]) / 2
        return bell.centre_m, float(feet[0])  # type: ignore[attr-defined]

    held, feet_held = bell_and_feet(ending.start_s)
    on_floor, _ = bell_and_feet(ending.release_s + 0.5)
    after, feet_gone = bell_and_feet(ending.walk_end_s)
    assert held[1] > 0.3  # in the hands, standing
    assert on_floor[1] == pytest.approx(0.095) and np.allclose(after, on_floor)
    assert feet_gone - feet_held > 2.5  # walked forward out of a 3 m side view's frame


def test_a_set_ending_needs_a_standing_set_with_reps() -> None:
    with pytest.raises(ValueError, match="no set ending"):
        motion_class("glute_bridge")(SHAPE, MotionConfig(reps=2, ending=ENDING))
    with pytest.raises(ValueError, match="dowel"):
        _ending_motion("hip_hinge", "dowel")
    with pytest.raises(ValueError, match="endings are"):
        motion_class("squat")(SHAPE, MotionConfig(reps=2, ending="jump"))
