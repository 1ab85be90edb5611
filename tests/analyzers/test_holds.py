"""The hold analyzers (plank, side_plank, standing_posture) on hand-made landmark streams,
and one real-MediaPipe run per analyzer on the committed sample clips."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pytest

from formcheck.analyzers import (
    Baseline,
    HoldProgress,
    PhaseChanged,
    Prescription,
    SetSummary,
    get_analyzer,
)
from formcheck.analyzers.events import Event, Phase
from formcheck.analyzers.testing import ease, frame_times
from formcheck.kinematics import names as m
from formcheck.kinematics.body_lines import (
    elevation_deg,
    offset_below_line_px,
    support_arm_from_vertical_deg,
)
from formcheck.pose.landmarks import NUM_LANDMARKS, Landmark
from formcheck.types import CameraView, Facing, FrameQuality, PoseFrame, Sample

REPO_ROOT = Path(__file__).resolve().parents[2]
SAMPLES = REPO_ROOT / "sample_videos"
L = Landmark
_W_PX, _H_PX = 640, 480
_MM_PER_PX = 4.0
_FPS = 30.0


# ----- stream builder -------------------------------------------------------------------------
@dataclass(frozen=True)
class Pose2D:
    """Midline points of one frame (px); left and right landmarks are placed either side."""

    shoulder: tuple[float, float]
    hip: tuple[float, float]
    knee: tuple[float, float]
    ankle: tuple[float, float]
    elbow: tuple[float, float]
    wrist: tuple[float, float]
    ear: tuple[float, float]
    nose: tuple[float, float]
    spread_px: tuple[float, float] = (0.0, 0.0)  # left minus right, per landmark pair
    heel_gap_px: float = 0.0  # the heels further apart along image x
    measures: dict[str, float] = field(default_factory=dict)
    world_roll_deg: float = 0.0  # shoulder axis out of the image plane


def _landmarks(p: Pose2D) -> tuple[np.ndarray, np.ndarray]:
    px = np.zeros((NUM_LANDMARKS, 3))
    half = np.array(p.spread_px) / 2.0
    for left, right, at in (
        (L.LEFT_SHOULDER, L.RIGHT_SHOULDER, p.shoulder),
        (L.LEFT_HIP, L.RIGHT_HIP, p.hip),
        (L.LEFT_KNEE, L.RIGHT_KNEE, p.knee),
        (L.LEFT_ANKLE, L.RIGHT_ANKLE, p.ankle),
        (L.LEFT_FOOT_INDEX, L.RIGHT_FOOT_INDEX, p.ankle),
        (L.LEFT_ELBOW, L.RIGHT_ELBOW, p.elbow),
        (L.LEFT_WRIST, L.RIGHT_WRIST, p.wrist),
        (L.LEFT_EAR, L.RIGHT_EAR, p.ear),
    ):
        px[left, :2] = np.array(at) + half
        px[right, :2] = np.array(at) - half
    px[L.LEFT_HEEL, :2] = np.array(p.ankle) + half + (p.heel_gap_px / 2.0, 0.0)
    px[L.RIGHT_HEEL, :2] = np.array(p.ankle) - half - (p.heel_gap_px / 2.0, 0.0)
    for i in range(11):  # face points at the nose
        if px[i, 0] == 0.0:
            px[i, :2] = p.nose
    for i in (17, 18, 19, 20, 21, 22):  # hands at the wrists
        px[i, :2] = p.wrist
    roll = math.radians(p.world_roll_deg)
    world = np.zeros((NUM_LANDMARKS, 3))
    world[L.LEFT_SHOULDER] = (0.0, -0.2 * math.cos(roll), 0.2 * math.sin(roll))
    world[L.RIGHT_SHOULDER] = (0.0, 0.2 * math.cos(roll), -0.2 * math.sin(roll))
    return px, world


def make_frame(t_s: float, pose: Pose2D, facing: Facing = Facing.RIGHT) -> Sample:
    px, world = _landmarks(pose)
    frame = PoseFrame(
        t_ms=t_s * 1000.0,
        image_width_px=_W_PX,
        image_height_px=_H_PX,
        landmarks_px=px,
        world_m=world,
        visibility=np.ones(NUM_LANDMARKS),
    )
    height_px = float(np.ptp(px[:, 1]))
    quality = FrameQuality(
        has_pose=True,
        in_frame=True,
        mean_visibility=1.0,
        person_height_px=height_px,
        too_small=height_px < 125.0,  # the pipeline's rule: a plank is always "too small"
    )
    measures = {m.MM_PER_PX: _MM_PER_PX, **pose.measures}
    return Sample(frame.t_ms, measures, facing, CameraView.SIDE, quality, frame)


def plank_pose(sag_mm: float = 0.0, lying: float = 0.0) -> Pose2D:
    """A forearm plank seen from the side (head at image left), hips ``sag_mm`` below the
    shoulder-ankle line; ``lying`` 0..1 blends it into lying flat on the floor."""
    floor_y = 400.0
    shoulder_y = floor_y - 75.0 * (1.0 - lying) - 20.0 * lying
    shoulder, ankle = (150.0, shoulder_y), (510.0, floor_y - 20.0)
    along = 0.4  # the hips at 40% of the line
    hip_on_line = np.array(shoulder) + along * (np.array(ankle) - np.array(shoulder))
    hip_sag_px = sag_mm / _MM_PER_PX + lying * (floor_y - 20.0 - hip_on_line[1])
    hip = (float(hip_on_line[0]), float(hip_on_line[1] + hip_sag_px))
    knee = tuple((np.array(hip) + np.array(ankle)) / 2.0)
    elbow = (150.0 - 90.0 * lying, floor_y - 5.0)  # under the shoulder, or laid forward
    return Pose2D(
        shoulder=shoulder,
        hip=hip,
        knee=(float(knee[0]), float(knee[1])),
        ankle=ankle,
        elbow=elbow,
        wrist=(90.0, floor_y - 5.0),
        ear=(120.0, shoulder_y - 10.0),
        nose=(105.0, shoulder_y),
        spread_px=(2.0, 0.0),
        measures={m.KNEE_FLEXION_DEG: 3.0, m.TRUNK_INCLINATION_DEG: 80.0},
    )


def side_plank_pose(drop_mm: float = 0.0, roll_deg: float = 0.0) -> Pose2D:
    """A side plank seen from the front: the body rising from the feet (image right) to the
    supporting shoulder (left), the lower elbow under it."""
    pose = plank_pose(sag_mm=drop_mm)
    shoulder = (150.0, 290.0)
    ankle = (510.0, 390.0)
    hip_line = np.array(shoulder) + 0.4 * (np.array(ankle) - np.array(shoulder))
    normal = np.array([100.0, -360.0]) / math.hypot(100.0, 360.0)
    if normal[1] < 0:
        normal = -normal
    hip = hip_line + normal * drop_mm / _MM_PER_PX
    knee = (hip + np.array(ankle)) / 2.0
    return replace(
        pose,
        shoulder=shoulder,
        hip=(float(hip[0]), float(hip[1])),
        knee=(float(knee[0]), float(knee[1])),
        ankle=ankle,
        elbow=(150.0, 375.0),
        wrist=(90.0, 380.0),
        ear=(110.0, 270.0),
        nose=(100.0, 280.0),
        spread_px=(0.0, 40.0),  # the shoulders and hips stacked one above the other
        world_roll_deg=roll_deg,
    )


def standing_pose(
    head_mm: float = 0.0, stance_mm: float = 0.0, bend: float = 0.0, chin_mm: float = 0.0
) -> Pose2D:
    """Quiet standing from the side, facing image right, the ear ``head_mm`` further
    forward and the heels ``stance_mm`` further apart (in the image) than at the start;
    ``bend`` 0..1 blends in a forward bend (trunk tipped 80 deg, hips flexed 90 deg)."""
    return Pose2D(
        shoulder=(320.0, 130.0),
        hip=(320.0, 250.0),
        knee=(320.0, 340.0),
        ankle=(320.0, 430.0),
        elbow=(320.0, 190.0),
        wrist=(320.0, 245.0),
        ear=(322.0 + head_mm / _MM_PER_PX, 100.0),
        nose=(335.0 + head_mm / _MM_PER_PX, 100.0),
        heel_gap_px=(40.0 + stance_mm) / _MM_PER_PX,
        measures={
            m.TRUNK_INCLINATION_DEG: 3.0 + 77.0 * bend,
            m.HIP_FLEXION_DEG: 4.0 + 86.0 * bend,
            m.KNEE_FLEXION_DEG: 3.0,
            m.CHIN_DROP_MM: 5.0 + chin_mm,
        },
    )


def ramp(t_s: float, start_s: float, size: float, over_s: float = 0.8) -> float:
    """0 before ``start_s``, then up to ``size`` over ``over_s`` (minimum-jerk)."""
    return size * ease((t_s - start_s) / over_s) if t_s > start_s else 0.0


def run_hold(
    exercise: str,
    pose_at: Callable[[float], Pose2D],
    duration_s: float = 8.0,
    hold_s: float | None = 20.0,
    baseline: Baseline | None = None,
    drop: Callable[[float], bool] | None = None,
) -> tuple[list[Event], SetSummary]:
    prescription = Prescription(exercise=exercise, hold_s=hold_s) if hold_s else None
    analyzer = get_analyzer(exercise, prescription, baseline)
    events: list[Event] = []
    for t in frame_times(duration_s, _FPS):
        if drop is not None and drop(t):
            continue
        events += analyzer.update(make_frame(t, pose_at(t)))
    return events, analyzer.finish()


def codes(summary: SetSummary) -> set[str]:
    return {f.code for f in summary.findings}


_LAST_FRAME_S = frame_times(8.0, _FPS)[-1]


# ----- geometry -----------------------------------------------------------------------------------
def test_offset_below_line_is_positive_towards_the_floor() -> None:
    a, b = np.array([0.0, 100.0]), np.array([400.0, 100.0])
    assert offset_below_line_px(np.array([200.0, 130.0]), a, b) == pytest.approx(30.0)
    assert offset_below_line_px(np.array([200.0, 70.0]), b, a) == pytest.approx(-30.0)
    assert math.isnan(offset_below_line_px(np.array([0.0, 0.0]), a, np.array([0.0, 50.0])))


def test_elevation_and_support_arm() -> None:
    assert elevation_deg(np.array([0.0, 0.0]), np.array([100.0, -100.0])) == pytest.approx(45.0)
    upright = make_frame(0.0, plank_pose())
    flat = make_frame(0.0, plank_pose(lying=1.0))
    assert support_arm_from_vertical_deg(upright) < 5.0
    assert support_arm_from_vertical_deg(flat) > 60.0


# ----- plank ------------------------------------------------------------------------------------
def test_plank_held_from_the_first_frame_counts_whole_clip() -> None:
    events, summary = run_hold("plank", lambda t: plank_pose())
    assert summary.hold_s == pytest.approx(_LAST_FRAME_S, abs=0.05)
    assert codes(summary) == set()
    assert summary.target_hold_s == 20.0
    progress = [e for e in events if isinstance(e, HoldProgress)]
    assert len(progress) >= 6 and all(p.target_s == 20.0 and p.in_position for p in progress)
    assert progress[-1].held_s == pytest.approx(progress[-1].t_s, abs=0.1)
    moves = [e for e in events if isinstance(e, PhaseChanged)]
    assert moves[0].phase is Phase.HOLD and moves[0].t_s == 0.0


def test_plank_ignores_a_calibrated_start_value() -> None:
    """The session passes the pipeline's still-window baseline: it must not shift the
    position's absolute margin."""
    baseline = Baseline({"hold_position_margin_deg": 30.0, m.KNEE_FLEXION_DEG: 3.0}, {})
    _, summary = run_hold("plank", lambda t: plank_pose(), baseline=baseline)
    assert summary.hold_s == pytest.approx(_LAST_FRAME_S, abs=0.05)


@pytest.mark.parametrize(("sag_mm", "code"), [(50.0, "hip_sag"), (-50.0, "hip_pike")])
def test_plank_sag_and_pike_from_own_line(sag_mm: float, code: str) -> None:
    _, summary = run_hold("plank", lambda t: plank_pose(sag_mm=ramp(t, 3.0, sag_mm)))
    assert codes(summary) == {code}
    finding = summary.findings[0]
    assert finding.unit == "mm" and finding.value == pytest.approx(abs(sag_mm), rel=0.1)
    assert summary.hold_s == pytest.approx(_LAST_FRAME_S, abs=0.05)  # a sag is still a hold


def test_plank_small_sway_raises_nothing() -> None:
    _, summary = run_hold("plank", lambda t: plank_pose(sag_mm=8.0 * math.sin(t)))
    assert codes(summary) == set()


def test_a_plank_that_starts_sagging_is_judged_against_its_own_line() -> None:
    """A constant offset is the person's line (landmarks sit off the joints): no fault."""
    _, summary = run_hold("plank", lambda t: plank_pose(sag_mm=30.0))
    assert codes(summary) == set()


def test_lying_down_before_and_after_does_not_count() -> None:
    def pose(t: float) -> Pose2D:
        if t < 1.5:
            return plank_pose(lying=1.0)
        if t < 2.0:
            return plank_pose(lying=1.0 - ease((t - 1.5) / 0.5))
        if t < 6.5:
            return plank_pose()
        return plank_pose(lying=ease((t - 6.5) / 0.5))

    _, summary = run_hold("plank", pose)
    assert summary.hold_s == pytest.approx(6.6 - 1.9, abs=0.35)


def test_a_long_break_stops_the_clock() -> None:
    _, summary = run_hold("plank", lambda t: plank_pose(), drop=lambda t: 3.0 <= t < 5.0)
    assert summary.hold_s == pytest.approx(_LAST_FRAME_S - 2.0, abs=0.1)


def test_unknown_prescription_means_no_target() -> None:
    events, summary = run_hold("plank", lambda t: plank_pose(), hold_s=None)
    assert summary.target_hold_s is None
    assert all(e.target_s is None for e in events if isinstance(e, HoldProgress))


# ----- side plank -------------------------------------------------------------------------------
def test_side_plank_hip_drop() -> None:
    _, summary = run_hold("side_plank", lambda t: side_plank_pose(drop_mm=ramp(t, 3.0, 60.0)))
    assert codes(summary) == {"hip_drop"}
    assert summary.findings[0].value == pytest.approx(60.0, rel=0.1)
    assert summary.hold_s == pytest.approx(_LAST_FRAME_S, abs=0.05)


def test_side_plank_correct_and_rotated() -> None:
    _, correct = run_hold("side_plank", lambda t: side_plank_pose())
    assert codes(correct) == set()
    _, rotated = run_hold("side_plank", lambda t: side_plank_pose(roll_deg=ramp(t, 3.0, 40.0)))
    assert codes(rotated) == {"trunk_rotation"}


# ----- standing posture -----------------------------------------------------------------------
def test_standing_posture_correct_is_quiet() -> None:
    _, summary = run_hold("standing_posture", lambda t: standing_pose())
    assert codes(summary) == set()
    assert summary.hold_s == pytest.approx(_LAST_FRAME_S, abs=0.05)


def test_standing_posture_forward_head_and_stance() -> None:
    _, head = run_hold("standing_posture", lambda t: standing_pose(head_mm=ramp(t, 3.0, 40.0)))
    assert codes(head) == {"head_forward"}
    assert head.findings[0].value == pytest.approx(40.0, rel=0.1)
    _, feet = run_hold("standing_posture", lambda t: standing_pose(stance_mm=ramp(t, 3.0, 80.0)))
    assert codes(feet) == {"stance_width_change"}


def test_chin_alone_is_a_cue_but_not_with_a_forward_head() -> None:
    _, chin = run_hold("standing_posture", lambda t: standing_pose(chin_mm=ramp(t, 3.0, 45.0)))
    assert codes(chin) == {"chin_down"}

    def both(t: float) -> Pose2D:
        return standing_pose(head_mm=ramp(t, 3.0, 40.0), chin_mm=ramp(t, 3.0, 45.0))

    _, head = run_hold("standing_posture", both)
    assert codes(head) == {"head_forward"}


def test_bending_over_is_not_standing() -> None:
    def pose(t: float) -> Pose2D:
        return standing_pose(bend=1.0 if 3.0 <= t < 5.0 else 0.0)

    _, summary = run_hold("standing_posture", pose)
    assert summary.hold_s == pytest.approx(_LAST_FRAME_S - 2.0, abs=0.15)


# ----- real MediaPipe on the committed sample clips --------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize(
    ("clip", "exercise", "code"),
    [
        ("forearm_plank_sag", "plank", "hip_sag"),
        ("side_plank_hip_drop", "side_plank", "hip_drop"),
        ("standing_posture_forward_head", "standing_posture", "head_forward"),
    ],
)
def test_sample_clip_hold_and_fault(
    tmp_path: Path, model_path: Path, clip: str, exercise: str, code: str
) -> None:
    from formcheck.evaluation.synthetic import true_hold_s
    from formcheck.offline import analyze_video

    meta = json.loads((SAMPLES / f"{clip}.json").read_text())
    truth_s = true_hold_s(meta)
    run = analyze_video(
        SAMPLES / f"{clip}.mp4",
        tmp_path,
        model=model_path,
        exercise=exercise,
        prescription=Prescription(exercise=exercise, hold_s=truth_s),
    )
    summary = run.report.summary
    assert summary is not None and summary.hold_s == pytest.approx(truth_s, abs=0.5)
    assert {f.code for f in run.report.findings} == {code}
