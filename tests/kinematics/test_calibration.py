"""Calibration: still window, millimetre scale, baseline and noise floor; the streaming pipeline."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from formcheck.config import PipelineConfig
from formcheck.kinematics import names as n
from formcheck.kinematics.calibration import (
    ASSUMED_ADULT_HEIGHT_CM,
    SAGITTAL_CHAIN_PER_HEIGHT,
    WORLD_LANDMARK_HEIGHT_BIAS,
    baseline_and_noise,
    find_still_window,
    scale_from_poses,
)
from formcheck.pipeline import MeasurePipeline
from formcheck.types import PoseFrame, ScaleSource
from tests.stick_figure import M_PER_PX, StickPose, stick_frame

FPS = 30.0


def _hip_at(t_s: float, move_until_s: float, still_until_s: float) -> float:
    """Hip flexion: swaying before move_until_s, still, then hinging after still_until_s."""
    if t_s < move_until_s:
        return 20.0 + 15.0 * math.sin(2 * math.pi * 1.5 * t_s)
    if t_s < still_until_s:
        return 0.0
    return 90.0 * (1 - math.cos(2 * math.pi * 0.4 * (t_s - still_until_s))) / 2


def _clip(
    move_until_s: float, still_until_s: float, end_s: float, noise_px: float = 0.0, seed: int = 0
) -> list[PoseFrame]:
    rng = np.random.default_rng(seed)
    frames = []
    for i in range(int(end_s * FPS)):
        t_s = i / FPS
        f = stick_frame(
            StickPose(hip_flexion_deg=_hip_at(t_s, move_until_s, still_until_s)), t_ms=t_s * 1000.0
        )
        if noise_px:
            assert f.landmarks_px is not None
            f = dataclasses.replace(
                f, landmarks_px=f.landmarks_px + rng.normal(0, noise_px, f.landmarks_px.shape)
            )
        frames.append(f)
    return frames


def test_still_window_found_after_movement():
    frames = _clip(move_until_s=1.5, still_until_s=3.5, end_s=6.0)
    start, end, spread = find_still_window(frames, PipelineConfig().calibration)
    assert frames[start].t_ms / 1000 >= 1.5 - 1 / FPS
    assert frames[end - 1].t_ms / 1000 <= 3.5
    assert spread < PipelineConfig().calibration.still_max_spread_body


def test_still_window_falls_back_to_stillest():
    frames = _clip(move_until_s=10.0, still_until_s=10.0, end_s=3.0)
    cfg = PipelineConfig().calibration
    _, _, spread = find_still_window(frames, cfg)
    assert spread > cfg.still_max_spread_body


def test_scale_from_stated_height_and_world():
    frames = _clip(0.0, 3.0, 2.0)
    p = StickPose()
    chain_px = p.shank_px + p.thigh_px + p.trunk_px
    source, mm_per_px, _, height_cm = scale_from_poses(frames, "left", 170.0)
    assert source is ScaleSource.STATED_HEIGHT
    assert mm_per_px == pytest.approx(1700.0 * SAGITTAL_CHAIN_PER_HEIGHT / chain_px)
    assert height_cm == 170.0
    # the stick figure's world landmarks read a 94 cm person (bias-corrected): no adult
    read_cm = chain_px * M_PER_PX * 100 / SAGITTAL_CHAIN_PER_HEIGHT * WORLD_LANDMARK_HEIGHT_BIAS
    source, mm_per_px, world_to_mm, height_cm = scale_from_poses(frames, "left", None)
    assert source is ScaleSource.ASSUMED_HEIGHT
    assert height_cm == pytest.approx(read_cm)
    assert mm_per_px == pytest.approx(
        ASSUMED_ADULT_HEIGHT_CM * 10.0 * SAGITTAL_CHAIN_PER_HEIGHT / chain_px
    )
    # world landmarks twice as large read an adult: their metres, corrected for the bias
    adult = [dataclasses.replace(f, world_m=f.world_m * 2.0) for f in frames]
    source, mm_per_px, world_to_mm, height_cm = scale_from_poses(adult, "left", None)
    assert source is ScaleSource.WORLD_LANDMARKS
    assert height_cm == pytest.approx(2.0 * read_cm)
    assert mm_per_px == pytest.approx(2.0 * M_PER_PX * 1000.0 * WORLD_LANDMARK_HEIGHT_BIAS)
    assert world_to_mm == pytest.approx(1000.0 * WORLD_LANDMARK_HEIGHT_BIAS)


def test_baseline_and_noise_floor_detrended():
    rng = np.random.default_rng(3)
    values = 10.0 + 0.5 * np.arange(60) / 60 + rng.normal(0, 0.2, 60)  # slow drift + jitter
    baseline, noise = baseline_and_noise([{"x_deg": float(v), "y_mm": math.nan} for v in values])
    assert baseline["x_deg"] == pytest.approx(10.25, abs=0.1)
    assert noise["x_deg"] == pytest.approx(0.2, rel=0.3)
    assert math.isnan(noise["y_mm"])


def test_pipeline_holds_frames_until_calibrated_then_uses_one_scale():
    frames = [PoseFrame(t_ms=i * 33.3, image_width_px=640, image_height_px=480) for i in range(5)]
    frames += _clip(move_until_s=1.0, still_until_s=3.0, end_s=7.0)
    frames = [dataclasses.replace(f, t_ms=i * 1000 / FPS) for i, f in enumerate(frames)]
    pipe = MeasurePipeline(stated_height_cm=175.0)
    out = []
    released_at = None
    for i, f in enumerate(frames):
        got = pipe.push(f)
        if got and released_at is None and i >= 5:
            released_at = i
        out += got
    out += pipe.finish()
    assert [s.t_ms for s in out] == [f.t_ms for f in frames]  # nothing lost, order kept
    assert pipe.calibration is not None and pipe.calibration.found_still
    assert pipe.calibration.scale_source is ScaleSource.STATED_HEIGHT
    scales = {round(s.get(n.MM_PER_PX), 9) for s in out if s.quality.has_pose}
    assert len(scales) == 1
    assert released_at is not None and frames[released_at].t_ms / 1000 < 3.0
    # The baseline comes from the still, upright period.
    assert pipe.calibration.baseline[n.HIP_FLEXION_DEG] == pytest.approx(0.0, abs=0.5)


def test_pipeline_noise_floor_reflects_landmark_jitter():
    quiet = MeasurePipeline()
    noisy = MeasurePipeline()
    for f in _clip(0.0, 3.0, 3.0):
        quiet.push(f)
    for f in _clip(0.0, 3.0, 3.0, noise_px=1.5):
        noisy.push(f)
    quiet.finish()
    noisy.finish()
    assert quiet.calibration is not None and noisy.calibration is not None
    assert quiet.calibration.noise_floor[n.HIP_FLEXION_DEG] < 0.01
    assert noisy.calibration.noise_floor[n.HIP_FLEXION_DEG] > 0.1


def test_short_moving_clip_still_calibrates_at_finish():
    pipe = MeasurePipeline()
    out = []
    for f in _clip(move_until_s=5.0, still_until_s=5.0, end_s=1.5):
        out += pipe.push(f)
    out += pipe.finish()
    assert len(out) == int(1.5 * FPS)
    assert pipe.calibration is not None and not pipe.calibration.found_still


def test_calibration_waits_for_steady_tracking():
    """Frames from the estimator's multi-person start-up never enter the still window."""
    frames = _clip(move_until_s=0.0, still_until_s=4.0, end_s=5.0)
    settle_s = 0.8
    frames = [
        dataclasses.replace(f, steady_tracking=f.t_ms / 1000.0 >= settle_s) for f in frames
    ]
    pipe = MeasurePipeline()
    for f in frames:
        pipe.push(f)
    pipe.finish()
    assert pipe.calibration is not None and pipe.calibration.found_still
    assert pipe.calibration.still_start_s >= settle_s
