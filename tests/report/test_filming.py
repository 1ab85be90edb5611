"""How a set was filmed, from its own frames: each problem with its share of frames and times,
the verdict's filming help with the figures, and the checks it kept from being judged."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from formcheck.analyzers import get_spec
from formcheck.config import FilmingConfig, QualityConfig
from formcheck.report.filming import FilmingTally
from formcheck.report.model import FilmingBlock, FilmingProblem, Report
from formcheck.report.verdict import build_verdict
from formcheck.synth.spec import CameraSpec
from formcheck.types import PoseFrame
from tests.conftest import shared_clip
from tests.reports import make_report, rep
from tests.stick_figure import StickPose, stick_frame

FRAME_MS = 1000.0 / 30.0
GOOD_LUMA = 120.0
HINGE = get_spec("hip_hinge").setup
STANDING = StickPose()
FEET_CUT = StickPose(ankle_px=(320.0, 475.0))
# A hinge's bottom: the trunk folded forward; the person's height in the picture shrinks.
BENT = StickPose(hip_flexion_deg=80.0, knee_flexion_deg=20.0)
SMALL_IN_HD = StickPose(
    shank_px=45.0, thigh_px=50.0, trunk_px=58.0, neck_px=12.0, ankle_px=(640.0, 600.0)
)
NOBODY = "nobody"


def tally_of(*runs: tuple[Any, int], luma: float = GOOD_LUMA, **frame: Any) -> FilmingTally:
    """A tally fed ``count`` frames of each (figure, count) in turn; NOBODY: no person."""
    tally = FilmingTally(quality=QualityConfig(), setup=HINGE)
    t_ms = 0.0
    for figure, count in runs:
        for _ in range(count):
            if figure == NOBODY:
                pose = PoseFrame(t_ms, frame.get("width_px", 640), frame.get("height_px", 480))
            else:
                pose = stick_frame(figure, t_ms=t_ms, **frame)
            tally.add(pose, luma)
            t_ms += FRAME_MS
    return tally


def block_of(*runs: tuple[Any, int], luma: float = GOOD_LUMA, **frame: Any) -> FilmingBlock:
    block = tally_of(*runs, luma=luma, **frame).block()
    assert block is not None
    return block


def problems(block: FilmingBlock) -> list[FilmingProblem]:
    return [i.problem for i in block.issues]


def test_a_well_filmed_set_has_no_issue() -> None:
    block = block_of((STANDING, 60), (BENT, 60), (STANDING, 30))
    assert block.issues == [] and block.frames == block.frames_with_pose == 150
    assert block.fill_axis == "height" and block.target_fill_share == (0.5, 0.8)


def test_feet_cut_in_much_of_the_set_with_share_and_times() -> None:
    block = block_of((STANDING, 30), (FEET_CUT, 60), (STANDING, 30))
    assert problems(block) == [FilmingProblem.FEET_OUT]
    feet = block.issues[0]
    assert feet.frames == 60 and feet.share == pytest.approx(0.5)
    assert feet.spans_s == [(pytest.approx(1.0), pytest.approx(2.967, abs=0.001))]


def test_a_moment_is_not_how_the_set_was_filmed() -> None:
    # stepping out of the picture for under a fifth of the frames (setting a weight down)
    block = block_of((STANDING, 100), (FEET_CUT, 15))
    assert block.issues == []


def test_too_small_says_how_much_of_the_picture_at_the_tallest() -> None:
    block = block_of((SMALL_IN_HD, 90), width_px=1280, height_px=720)
    assert problems(block) == [FilmingProblem.TOO_SMALL]
    small = block.issues[0]
    assert small.value == pytest.approx(25.0, abs=0.5) and small.unit == "%"
    assert small.limit == pytest.approx(100.0 / 3.0, abs=0.01)
    assert small.share == 1.0


def test_bending_down_does_not_make_a_person_small() -> None:
    # a hinge whose bottom fills well under a third of the picture, its top well over it
    bent_low = StickPose(hip_flexion_deg=95.0, knee_flexion_deg=60.0, shin_lean_deg=20.0)
    block = block_of((STANDING, 20), (bent_low, 60), (STANDING, 20))
    assert FilmingProblem.TOO_SMALL not in problems(block)


def test_tracking_lost_is_judged_on_every_frame() -> None:
    block = block_of((STANDING, 80), (NOBODY, 20))
    assert problems(block) == [FilmingProblem.TRACKING_LOST]
    lost = block.issues[0]
    assert lost.share == pytest.approx(0.2) and lost.spans_s[0][0] == pytest.approx(2.667)
    assert block_of((STANDING, 95), (NOBODY, 5)).issues == []  # 95% found: enough


def test_the_wrong_view_for_the_exercise() -> None:
    block = block_of((STANDING, 60), yaw_from_side_deg=80.0)
    assert problems(block) == [FilmingProblem.NOT_SIDE_ON]
    view = block.issues[0]
    assert view.value == pytest.approx(80.0, abs=1.0) and view.limit == 40.0
    # a side plank is filmed from the front: the same frames are right for it
    plank = FilmingTally(quality=QualityConfig(), setup=get_spec("side_plank").setup)
    for i in range(60):
        plank.add(stick_frame(STANDING, t_ms=i * FRAME_MS, yaw_from_side_deg=80.0), GOOD_LUMA)
    plank_block = plank.block()
    assert plank_block is not None and plank_block.issues == []


def test_dark_frames_that_hide_the_person_and_unknown_brightness() -> None:
    dark = block_of((STANDING, 60), (NOBODY, 60), luma=20.0)
    assert problems(dark) == [FilmingProblem.TOO_DARK, FilmingProblem.TRACKING_LOST]
    assert dark.issues[0].value == 20.0 and dark.issues[0].limit == 40.0
    assert dark.issues[0].share == pytest.approx(0.5)
    # a well-seen person before a black wall: the picture's mean is low, nothing is hidden
    assert block_of((STANDING, 60), luma=20.0).issues == []
    assert block_of((NOBODY, 5), (STANDING, 60), luma=math.nan).issues == []


def test_only_the_longest_stretches_are_listed_in_time_order() -> None:
    runs: list[tuple[Any, int]] = []
    for length in (12, 6, 18, 9):  # cut stretches 0.4, 0.2, 0.6, 0.3 s, 1 s apart
        runs += [(FEET_CUT, length), (STANDING, 30)]
    block = block_of(*runs)
    spans = block.issues[0].spans_s
    assert len(spans) == FilmingConfig().max_spans
    lengths = [round((b - a) / (FRAME_MS / 1000.0)) + 1 for a, b in spans]
    assert lengths == [12, 18, 9]


def test_no_frame_no_block() -> None:
    assert FilmingTally(quality=QualityConfig(), setup=None).block() is None


# --- the verdict ------------------------------------------------------------------------------


def _report_with(block: FilmingBlock, **fields: Any) -> Report:
    return make_report(
        exercise="hip_hinge",
        summary={"reps": 2, "attempts": 0, "form_frays_at_rep": None},
        reps=[rep(1), rep(2)],
        filming=block.model_dump(),
        **fields,
    )


def test_the_verdict_says_what_to_change_with_the_figures() -> None:
    block = block_of((SMALL_IN_HD, 90), width_px=1280, height_px=720)
    tips = build_verdict(_report_with(block)).filming
    small = next(t for t in tips if t.problem is FilmingProblem.TOO_SMALL)
    assert small.advice.startswith("Move the camera closer: you fill 25% of the picture's height")
    assert "aim for 50-80%" in small.advice
    assert "below 33% in 100% of the frames" in small.text

    feet = block_of((STANDING, 30), (FEET_CUT, 60), (STANDING, 30))
    tips = build_verdict(_report_with(feet)).filming
    assert tips[0].problem is FilmingProblem.FEET_OUT
    assert tips[0].text == (
        "Your feet were cut off at the edge of the picture in 50% of the frames (1.0-3.0 s)."
    )
    assert "until your feet are in the picture" in tips[0].advice


def test_the_tip_names_the_checks_it_kept_from_being_judged() -> None:
    block = block_of((STANDING, 30), (FEET_CUT, 60), (STANDING, 30))
    report = _report_with(
        block,
        not_judged=[
            {"code": "heel_lift", "reason": "not_measured", "reps": [1, 2], "advice": ""},
            {"code": "spine_rounded", "reason": "view_angle", "reps": [2], "advice": ""},
        ],
    )
    verdict = build_verdict(report)
    feet = next(t for t in verdict.filming if t.problem is FilmingProblem.FEET_OUT)
    view = next(t for t in verdict.filming if t.problem is FilmingProblem.NOT_SIDE_ON)
    assert feet.checks == ["Heels lifting"] and view.checks == ["Rounded lower back"]


def test_the_verdict_points_at_the_exercise_s_drawing() -> None:
    block = block_of((STANDING, 30))
    camera = build_verdict(_report_with(block)).camera
    assert camera.diagram_url == "/api/filming-diagram.svg?exercise=hip_hinge"
    assert camera.text == get_spec("hip_hinge").camera_placement


# --- real clips and renders (the pose model) ----------------------------------------------------


def _filming_of(video: Path, exercise: str, out: Path, max_frames: int | None = None) -> Report:
    from formcheck.offline import analyze_video

    return analyze_video(
        video, out, exercise=exercise, keep_masks=False, max_frames=max_frames
    ).report


@pytest.mark.slow
@pytest.mark.parametrize(
    ("clip", "exercise", "max_frames", "expected"),
    [
        # handheld phone video, the lifter about a sixth of the picture: lost in most frames
        (
            "hinge/aideadlift_bad016.mp4",
            "hip_hinge",
            None,
            [FilmingProblem.TOO_SMALL, FilmingProblem.TRACKING_LOST],
        ),
        # a bodyweight squat filmed from the front
        ("other/pexels_bodyweight-squat.mp4", "squat", None, [FilmingProblem.NOT_SIDE_ON]),
        # close framing of a glute bridge: the feet at the picture's right edge
        ("other/lena_glute-bridge.mp4", "glute_bridge", 150, [FilmingProblem.FEET_OUT]),
        # a clean side view (portrait phone video, 40% of its height): nothing to say
        ("hinge/0016c_1.mp4", "hip_hinge", 300, []),
    ],
)
def test_real_clips_get_the_filming_problems_they_have(
    clip: str,
    exercise: str,
    max_frames: int | None,
    expected: list[FilmingProblem],
    tmp_path: Path,
    model_path: Path,
) -> None:
    report = _filming_of(shared_clip(clip), exercise, tmp_path, max_frames)
    assert report.filming is not None
    assert problems(report.filming) == expected
    tips = [t.problem for t in build_verdict(report).filming]
    assert [p for p in tips if p in expected] == expected


@pytest.mark.slow
@pytest.mark.parametrize(
    ("camera", "expected"),
    [
        # 6.8 m away: the person 29% of the picture's height, the model loses them often
        (
            CameraSpec(distance_m=6.8, fps=15.0, width_px=1280, height_px=720),
            {FilmingProblem.TOO_SMALL, FilmingProblem.TRACKING_LOST},
        ),
        # 1.6 m away: the picture cuts the person at the feet
        (CameraSpec(distance_m=1.6, fps=15.0), {FilmingProblem.FEET_OUT}),
        # the default placement (side-on, 3 m, hip height): nothing to say
        (CameraSpec(fps=15.0), set()),
    ],
)
def test_renders_with_the_camera_too_far_or_too_close(
    camera: CameraSpec, expected: set[FilmingProblem], tmp_path: Path, model_path: Path
) -> None:
    from formcheck.synth import ClipSpec, render_clip
    from formcheck.synth.motion import MotionConfig

    spec = ClipSpec(
        "squat", seed=3, motion=MotionConfig(reps=2, still_s=1.5), camera=camera, write_masks=False
    )
    truth = render_clip(spec, tmp_path / "clip", "clip")
    report = _filming_of(truth.video_path, "squat", tmp_path / "out")
    assert report.filming is not None
    found = set(problems(report.filming))
    # a person too small or cut is also lost in some frames; a well-placed one never
    allowed = {FilmingProblem.TRACKING_LOST} if expected else set()
    assert expected <= found and found - expected <= allowed
