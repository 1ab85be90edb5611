"""The one place a report is made: the analysis dataclasses into report blocks, rounded as
report.json always had them, NaN as null."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from formcheck.analyzers.baseline import Baseline, BaselineSource
from formcheck.analyzers.events import Finding, PhaseTimes, RepRecord, Severity
from formcheck.analyzers.summary import SetSummary
from formcheck.kinematics.calibration import Calibration
from formcheck.pose.model import ModelInfo
from formcheck.report.build import (
    build_report,
    file_video_block,
    model_block,
    stream_video_block,
)
from formcheck.report.model import ModelBlock, ReportSource
from formcheck.types import ScaleSource, VideoInfo
from tests.reports import assert_valid_report


def _rep(index: int, side: str | None = None, counted: bool = True) -> RepRecord:
    return RepRecord(
        index=index,
        start_s=1.23456,
        end_s=4.0,
        phases=PhaseTimes(down_s=1.0004, pause_s=math.nan, up_s=1.5),
        metrics={"depth_deg": 80.12345, "curve_change_mm": math.nan},
        faults=("spine_rounded",) if index == 2 else (),
        score=72.55555,
        counted=counted,
        side=side,
    )


def _summary(**fields: object) -> SetSummary:
    summary = SetSummary(
        exercise="bird_dog",
        reps=[_rep(1, "left"), _rep(2, "right"), _rep(3, "left")],
        attempts=[_rep(1, counted=False)],
        findings=[
            Finding("spine_rounded", Severity.SAFETY, 2, 3.33333, 9.87654, 8.0, "mm", "Round.")
        ],
        form_frays_at_rep=2,
        baseline=Baseline(
            values={"hip_flexion_deg": 3.5, "back_bulge_mm": math.nan},
            noise_floor={"hip_flexion_deg": 0.4},
            source=BaselineSource.STILL_START,
        ),
        target_reps=6,
    )
    for key, value in fields.items():
        setattr(summary, key, value)
    return summary


CALIBRATION = Calibration(
    scale_source=ScaleSource.WORLD_LANDMARKS,
    mm_per_px=4.733711,
    world_to_mm=1000.0,
    stated_height_cm=None,
    estimated_height_cm=math.nan,
    still_start_s=0.50001,
    still_end_s=1.46666,
    found_still=True,
    motion_body=0.0094321,
    baseline={"hip_flexion_deg": 3.46934, "back_bulge_mm": math.nan},
    noise_floor={"hip_flexion_deg": 0.38244959, "mm_per_px": math.nan},
)
INFO = VideoInfo(
    path="clip.mp4", width_px=640, height_px=480, fps=30.0, frame_count=90, duration_s=3.0
)
MODEL = ModelInfo(path=Path("/m/pose.task"), sha256="ab" * 32, source="built:mediapipe-0.10.21")


def test_a_files_report_from_the_analysis_dataclasses() -> None:
    video = file_video_block(
        "clip.mp4", INFO, frames=90, frames_with_pose=45, first_t_ms=0.0, last_t_ms=2966.667,
        inference_size_px=(640, 480),
    )  # fmt: skip
    report = build_report(
        source=ReportSource.FILE,
        video=video,
        model=model_block(MODEL),
        calibration=CALIBRATION,
        summary=_summary(),
    )
    data = json.loads(report.model_dump_json())
    assert_valid_report(data)
    assert data["video"]["pose_rate"] == 0.5
    assert data["video"]["last_frame_t_s"] == pytest.approx(2.966667)
    assert data["video"]["width_px"] == 640 and data["video"]["inference_size_px"] == [640, 480]
    assert data["model"] == {"source": "built:mediapipe-0.10.21", "path": "/m/pose.task",
                             "sha256": "ab" * 32}  # fmt: skip
    cal = data["calibration"]
    assert (cal["mm_per_px"], cal["estimated_height_cm"]) == (4.7337, None)
    assert cal["still_window_s"] == [0.5, 1.467] and cal["scale_source"] == "world_landmarks"
    assert cal["spread_in_still_window_torso_lengths"] == 0.0094
    assert cal["baseline"] == {"hip_flexion_deg": 3.4693, "back_bulge_mm": None}
    assert data["noise_floor"] == {"hip_flexion_deg": 0.38244959, "mm_per_px": None}
    assert data["exercise"] == "bird_dog" and data["set_started"] is None
    assert data["summary"] == {
        "reps": 3, "attempts": 1, "not_counted": 0, "form_frays_at_rep": 2,
        "reps_per_side": {"left": 2, "right": 1}, "hold_s": None, "target_reps": 6,
        "target_hold_s": None,
    }  # fmt: skip
    first = data["reps"][0]
    assert (first["index"], first["start_s"], first["score"], first["side"]) == (
        1, 1.235, 72.556, "left"
    )  # fmt: skip
    assert first["phases"] == {"down_s": 1.0, "pause_s": None, "up_s": 1.5}
    assert first["metrics"] == {"depth_deg": 80.123, "curve_change_mm": None}
    assert data["reps"][1]["faults"] == ["spine_rounded"]
    assert len(data["attempts"]) == 1
    assert data["findings"] == [{
        "code": "spine_rounded", "severity": "safety", "rep": 2, "t_s": 3.333,
        "value": 9.877, "threshold": 8.0, "unit": "mm", "message": "Round.",
    }]  # fmt: skip
    assert data["baseline"] == {"source": "still_start", "values": {"hip_flexion_deg": 3.5},
                                "noise_floor": {"hip_flexion_deg": 0.4}}  # fmt: skip


def test_a_hold_and_a_set_without_sides_or_baseline() -> None:
    summary = _summary(
        reps=[_rep(1)], attempts=[], findings=[], baseline=None, hold_s=12.34567,
        target_hold_s=20.0, form_frays_at_rep=None,
    )  # fmt: skip
    report = build_report(
        source=ReportSource.JOB,
        video=stream_video_block(frames=1, frames_with_pose=1, first_t_ms=0.0, last_t_ms=0.0),
        model=ModelBlock(source="test"),
        calibration=None,
        summary=summary,
    )
    assert report.summary is not None
    assert (report.summary.hold_s, report.summary.target_hold_s) == (12.346, 20.0)
    assert report.summary.reps_per_side is None and report.baseline is None
    assert report.calibration is None and report.noise_floor == {}


def test_measures_only_has_no_exercise_and_nothing_judged() -> None:
    report = build_report(
        source=ReportSource.FILE,
        video=stream_video_block(frames=0, frames_with_pose=0, first_t_ms=None, last_t_ms=0.0),
        model=ModelBlock(source="test"),
        calibration=None,
        summary=None,
    )
    assert report.exercise is None and report.summary is None
    assert report.reps == [] and report.findings == [] and report.baseline is None
    assert report.video.pose_rate == 0.0 and report.video.first_frame_t_s is None
    assert_valid_report(json.loads(report.model_dump_json()))


def test_a_live_sets_frames_span_its_first_to_last_frame() -> None:
    video = stream_video_block(frames=120, frames_with_pose=90, first_t_ms=1500.0, last_t_ms=5499.6)
    assert video.duration_s == pytest.approx(4.0, abs=1e-3)
    assert (video.first_frame_t_s, video.last_frame_t_s) == (1.5, 5.4996)
    assert video.pose_rate == 0.75
    assert video.path is None and video.fps is None and video.width_px is None
