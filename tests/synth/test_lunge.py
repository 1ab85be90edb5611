"""The split squat ("lunge"): depth of both knees, feet that stay put, faults of known size,
the front leg in the truth, and a pose model that finds the rendered person."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from formcheck.pose.landmarks import Landmark
from formcheck.synth import ClipSpec, render_clip
from formcheck.synth.body import make_body
from formcheck.synth.clip import frame_measures, measured_fault_size
from formcheck.synth.exercises import motion_class
from formcheck.synth.faults import Fault
from formcheck.synth.landmarks import landmarks_world
from formcheck.synth.lunge import Lunge, solve_leg
from formcheck.synth.motion import MotionConfig
from formcheck.synth.placement import PlacedBody, place
from formcheck.synth.samples import DEFAULT_OUT
from formcheck.synth.skeleton import LUMBAR_JOINTS
from formcheck.synth.spec import FAULT_SIZE_RANGES, CameraSpec, random_clip_spec
from formcheck.synth.timeline import RepWindow, Tempo

SHAPE = make_body(1.75)
TEMPO = Tempo(down_s=2.0, pause_s=0.5, up_s=1.5, rest_s=1.0)
DEPTH_MIN_DEG = 80.0  # both knees bend at least this much at the bottom of a correct rep
STRAIGHT_MAX_DEG = 10.0  # ... and at most this much at the top
FLOOR_TOL_M = 1e-9
FEET_STILL_TOL_M = 1e-6


def lunge(faults: tuple[Fault, ...] = (), variant: str = "left_front", reps: int = 2) -> Lunge:
    motion = motion_class("lunge")(
        SHAPE, MotionConfig(reps=reps, tempo=TEMPO, variant=variant), faults
    )
    assert isinstance(motion, Lunge)
    return motion


def bottom_s(rep: RepWindow) -> float:
    return (rep.bottom_start_s + rep.up_start_s) / 2.0


def placed_at(motion: Lunge, t_s: float, with_faults: bool = True) -> PlacedBody:
    return place(motion.shape, motion.pose_at(t_s, with_faults), motion.support_at(t_s))


def measures_at(motion: Lunge, t_s: float, with_faults: bool = True) -> dict[str, float]:
    placed = placed_at(motion, t_s, with_faults)
    return frame_measures(motion, landmarks_world(motion.shape, placed.skeleton), placed)[0]


def test_both_knees_bend_deep_at_the_bottom_and_the_legs_differ() -> None:
    motion = lunge()
    top, bottom = measures_at(motion, 0.5), measures_at(motion, bottom_s(motion.reps[0]))
    assert top["front_knee_flexion_deg"] < STRAIGHT_MAX_DEG
    assert top["rear_knee_flexion_deg"] < STRAIGHT_MAX_DEG
    assert bottom["front_knee_flexion_deg"] > DEPTH_MIN_DEG
    assert bottom["rear_knee_flexion_deg"] > DEPTH_MIN_DEG
    # Left leg in front: its thigh flexes towards horizontal, the rear one stays near upright.
    assert bottom["front_knee_flexion_deg"] == bottom["left_knee_flexion_deg"]
    assert bottom["left_hip_flexion_deg"] - bottom["right_hip_flexion_deg"] > 60.0
    assert bottom["front_knee_past_toes_mm"] < 0.0  # a correct rep keeps the knee behind


def test_random_lunges_reach_depth_without_the_rear_knee_touching_down() -> None:
    rng = np.random.default_rng(4)
    fronts, arms = set(), set()
    for _ in range(12):
        spec = random_clip_spec("lunge", rng, faults=())
        shape = make_body(spec.height_m, np.random.default_rng(spec.seed))
        motion = motion_class("lunge")(shape, spec.motion, spec.faults)
        assert isinstance(motion, Lunge)
        fronts.add(motion.front)
        arms.add(motion.hands_on_hips)
        rep = motion.reps[-1]
        placed = placed_at(motion, bottom_s(rep))
        m = frame_measures(motion, landmarks_world(shape, placed.skeleton), placed)[0]
        assert m["front_knee_flexion_deg"] > DEPTH_MIN_DEG, spec.motion.params
        assert m["rear_knee_flexion_deg"] > DEPTH_MIN_DEG, spec.motion.params
        rear_leg = [
            p for p in placed.prims if p.part in (f"thigh_{motion.rear}", f"shank_{motion.rear}")
        ]
        assert min(p.lowest_y_m() for p in rear_leg) > 0.01
    assert fronts == {"left", "right"} and arms == {True, False}  # drawn at random


def rear_toe_m(motion: Lunge, placed: PlacedBody) -> np.ndarray:
    """Centre of the rear foot's toe sphere (the foot capsule's front end)."""
    (foot,) = [p for p in placed.prims if p.part == f"foot_{motion.rear}"]
    return np.asarray(foot.b_m)  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "fault",
    [None, Fault("knee_travel", 100.0), Fault("trunk_lean", 25.0), Fault("lumbar_flexion", 35.0)],
)
def test_feet_stay_put_on_the_floor(fault: Fault | None) -> None:
    motion = lunge((fault,) if fault else (), variant="right_front_hands_on_hips")
    ankles, toes = [], []
    for t in np.linspace(0.0, motion.duration_s, 41):
        placed = placed_at(motion, float(t))
        front_foot = [p for p in placed.prims if p.part == f"foot_{motion.front}"]
        rear_foot = [p for p in placed.prims if p.part == f"foot_{motion.rear}"]
        assert min(p.lowest_y_m() for p in placed.prims) == pytest.approx(0.0, abs=FLOOR_TOL_M)
        assert front_foot[0].lowest_y_m() == pytest.approx(0.0, abs=FLOOR_TOL_M)
        assert rear_foot[0].lowest_y_m() == pytest.approx(0.0, abs=FLOOR_TOL_M)
        ankles.append(placed.skeleton.points[f"ankle_{motion.front}"])
        toes.append(rear_toe_m(motion, placed))
    assert np.ptp(np.array(ankles), axis=0) == pytest.approx(np.zeros(3), abs=FEET_STILL_TOL_M)
    assert np.ptp(np.array(toes), axis=0) == pytest.approx(np.zeros(3), abs=FEET_STILL_TOL_M)


def test_the_rear_heel_rises_as_the_hips_go_down() -> None:
    motion = lunge()
    heels = []
    for t in (0.5, bottom_s(motion.reps[0])):
        lm = landmarks_world(SHAPE, placed_at(motion, t).skeleton)
        heels.append(lm[Landmark.RIGHT_HEEL][1] - lm[Landmark.RIGHT_FOOT_INDEX][1])
    assert 0.03 < heels[0] < heels[1]


def lumbar_bend_deg(placed: PlacedBody) -> float:
    """Forward bend of the top lumbar piece against the pelvis (sagittal plane, degrees)."""
    frames = placed.skeleton.frames
    pelvis_up, lumbar_up = frames["pelvis"][:, 1], frames[LUMBAR_JOINTS[-1]][:, 1]
    lateral = frames["pelvis"][:, 2]
    return -math.degrees(
        math.atan2(
            float(np.dot(np.cross(pelvis_up, lumbar_up), lateral)),
            float(np.dot(pelvis_up, lumbar_up)),
        )
    )


@pytest.mark.parametrize(
    ("kind", "size", "measure", "tolerance"),
    [
        ("trunk_lean", 20.0, "trunk_inclination_deg", 0.01),
        ("knee_travel", 80.0, "front_knee_past_toes_mm", 0.01),
        ("lumbar_flexion", 25.0, "back_bulge_mean_mm", 10.0),
    ],
)
def test_faults_change_their_true_measure_by_their_size(
    kind: str, size: float, measure: str, tolerance: float
) -> None:
    motion = lunge((Fault(kind, size, (1,)),))
    (event,) = motion.fault_events()
    _, rep, onset, full_start, full_end, end = event
    assert rep == 1 and motion.reps[1].start_s < onset < full_start < full_end < end
    assert measured_fault_size(motion, SHAPE, (onset, full_start, full_end, end), kind) == (
        pytest.approx(size, abs=tolerance)
    )
    # Against the first (clean) rep, from the landmarks directly, not the recorded measure.
    clean, faulty = (placed_at(motion, bottom_s(r)) for r in motion.reps)
    first, second = (landmarks_world(SHAPE, p.skeleton) for p in (clean, faulty))
    if kind == "knee_travel":  # the person faces +x: knee ahead of the big toe's tip
        past = [
            lm[Landmark.LEFT_KNEE][0] - lm[Landmark.LEFT_FOOT_INDEX][0] for lm in (first, second)
        ]
        assert (past[1] - past[0]) * 1000.0 == pytest.approx(size, abs=tolerance)
    if kind == "trunk_lean":
        lean = [measures_at(motion, bottom_s(r))["left_trunk_inclination_deg"] for r in motion.reps]
        assert lean[1] - lean[0] == pytest.approx(size, abs=0.5)
    if kind == "lumbar_flexion":  # the lumbar spine bends by the size; the legs do not move
        assert np.allclose(first[Landmark.LEFT_KNEE], second[Landmark.LEFT_KNEE])
        bend = [lumbar_bend_deg(p) for p in (clean, faulty)]
        assert bend[1] - bend[0] == pytest.approx(size, abs=1e-6)
        bulge = [measures_at(motion, bottom_s(r))["back_bulge_mean_mm"] for r in motion.reps]
        assert bulge[1] > bulge[0] + 10.0
    # Nothing shows in the clean rep.
    assert measures_at(motion, bottom_s(motion.reps[0]))[measure] == pytest.approx(
        measures_at(motion, bottom_s(motion.reps[0]), with_faults=False)[measure]
    )


def test_knee_travel_keeps_the_hips_height_and_the_fault_ranges_keep_the_knee_up() -> None:
    big = FAULT_SIZE_RANGES["knee_travel"][1]
    motion = lunge((Fault("knee_travel", big, (1,)),))
    clean, faulty = (placed_at(motion, bottom_s(r)) for r in motion.reps)
    assert faulty.skeleton.points["pelvis"][1] == pytest.approx(clean.skeleton.points["pelvis"][1])
    rear = [p for p in faulty.prims if p.part in ("thigh_right", "shank_right")]
    assert min(p.lowest_y_m() for p in rear) > 0.01


def test_tempo_fault_shortens_only_its_rep() -> None:
    motion = lunge((Fault("tempo", 1.5, (1,)),))
    assert [r.end_s - r.start_s for r in motion.reps] == pytest.approx([4.0, 2.5])


def test_solve_leg_joins_the_hip_to_the_ankle() -> None:
    thigh, shank = 0.43, 0.42
    for hip, ankle in (
        ((-0.3, 0.5), (0.0, 0.0)),
        ((-0.3, 0.5), (-0.8, 0.2)),
        ((0.0, 0.84), (0.05, 0.0)),
    ):
        knee_deg, shank_deg = solve_leg(np.array(hip), np.array(ankle), thigh, shank)
        knee = np.array(ankle) + shank * np.array(
            [math.sin(math.radians(shank_deg)), math.cos(math.radians(shank_deg))]
        )
        thigh_deg = knee_deg - shank_deg  # the thigh's forward tilt from vertical
        reached = knee - thigh * np.array(
            [math.sin(math.radians(thigh_deg)), -math.cos(math.radians(thigh_deg))]
        )
        assert reached == pytest.approx(np.array(hip), abs=1e-9)
        assert knee[0] > min(hip[0], ankle[0])  # the knee in front


def test_hands_on_hips_rest_on_the_pelvis() -> None:
    motion = lunge((Fault("trunk_lean", 20.0, (1,)),), variant="left_front_hands_on_hips")
    for t in (0.5, bottom_s(motion.reps[0]), bottom_s(motion.reps[1])):
        p = placed_at(motion, t).skeleton.points
        for side in ("left", "right"):
            hip_to_wrist = p[f"wrist_{side}"] - p[f"hip_{side}"]
            assert np.linalg.norm(hip_to_wrist) < 0.12 * SHAPE.height_m
            assert p[f"elbow_{side}"][1] > p[f"wrist_{side}"][1]


def test_clip_truth_records_the_front_leg_and_the_lunge_measures(tmp_path: Path) -> None:
    spec = ClipSpec(
        "lunge",
        seed=3,
        motion=MotionConfig(
            reps=2, tempo=Tempo(0.6, 0.2, 0.6, 0.2), still_s=0.3, variant="right_front"
        ),
        faults=(Fault("knee_travel", 60.0, (1,)),),
        camera=CameraSpec(width_px=64, height_px=48, fps=10.0),
    )
    truth = render_clip(spec, tmp_path, "lunge")
    meta = json.loads(truth.json_path.read_text())
    assert [r["side"] for r in meta["reps"]] == ["right", "right"]
    (fault,) = meta["faults"]
    assert fault["measure"] == "front_knee_past_toes_mm" and fault["unit"] == "mm"
    assert fault["measured_size"] == pytest.approx(60.0, abs=0.01)
    data = np.load(truth.truth_path)
    assert np.array_equal(data["front_knee_flexion_deg"], data["right_knee_flexion_deg"])
    assert np.array_equal(data["rear_knee_flexion_deg"], data["left_knee_flexion_deg"])
    for key in ("trunk_inclination_deg", "front_knee_past_toes_mm"):
        assert data[key].shape == (truth.frames,)
    assert data["front_knee_flexion_deg"].max() > DEPTH_MIN_DEG


@pytest.mark.slow
def test_the_pose_model_finds_the_rendered_person(tmp_path: Path, model_path: Path) -> None:
    """The committed correct sample through the real pipeline: a pose in most frames, and
    the detected knees on the true front knee."""
    from formcheck.offline import analyze_video
    from formcheck.types import Sample

    video = DEFAULT_OUT / "lunge_correct.mp4"
    if not video.is_file():
        pytest.skip("sample_videos/ has not been rendered (python -m formcheck.synth.samples)")
    samples: list[Sample] = []
    run = analyze_video(
        video, tmp_path, model=model_path, sinks=(samples.append,), keep_masks=False
    )
    assert run.frames_with_pose >= 0.95 * run.frames
    truth = np.load(DEFAULT_OUT / "lunge_correct.npz")
    true_px = truth["landmarks_px"]
    height_px = np.ptp(true_px[0, :, 1])
    errors = []
    for k, s in enumerate(samples):
        if s.pose.landmarks_px is None:
            continue
        found = s.pose.landmarks_px[[Landmark.LEFT_KNEE, Landmark.RIGHT_KNEE], :2]
        errors.append(np.min(np.linalg.norm(found - true_px[k, Landmark.LEFT_KNEE], axis=1)))
    assert np.median(errors) < 0.05 * height_px
