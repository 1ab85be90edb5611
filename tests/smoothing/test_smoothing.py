"""One Euro smoothing: removes jitter at rest, never delays a real onset by a frame or more."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from formcheck.config import OneEuroConfig
from formcheck.smoothing.one_euro import OneEuroFilter
from formcheck.smoothing.smoother import PoseSmoother
from tests.stick_figure import StickPose, stick_frame


def _crossing_s(t_s: np.ndarray, y: np.ndarray, level: float) -> float:
    i = int(np.argmax(y > level))
    assert i > 0, "signal never crossed the level"
    return float(t_s[i - 1] + (level - y[i - 1]) / (y[i] - y[i - 1]) * (t_s[i] - t_s[i - 1]))


def _onset_signal(fps: float, amplitude: float, duration_s: float) -> tuple[np.ndarray, np.ndarray]:
    """Still, then a smooth (raised-cosine) movement of ``amplitude`` torso lengths."""
    t_s = np.arange(0.0, 4.0, 1.0 / fps)
    u = np.clip((t_s - 1.5) / duration_s, 0.0, 1.0)
    return t_s, amplitude * (1.0 - np.cos(np.pi * u)) / 2.0


@pytest.mark.parametrize("fps", [25.0, 30.0, 60.0])
@pytest.mark.parametrize(
    ("amplitude", "duration_s"),
    [(0.5, 1.0), (0.2, 1.5), (0.1, 2.0)],  # a brisk hinge down to a slow small shift
)
@pytest.mark.parametrize("level", [0.01, 0.02, 0.05])
def test_onset_is_not_delayed_by_a_frame_period(fps, amplitude, duration_s, level):
    t_s, x = _onset_signal(fps, amplitude, duration_s)
    f = OneEuroFilter(OneEuroConfig())
    y = np.array([f(t * 1000.0, v) for t, v in zip(t_s, x, strict=True)])
    lag_s = _crossing_s(t_s, y, level) - _crossing_s(t_s, x, level)
    assert lag_s <= 1.0 / fps


def test_old_mediapipe_parameters_would_fail_the_onset_test():
    """The onset test can fail: a slow filter (MediaPipe's legacy beta) lags too much."""
    fps = 60.0
    t_s, x = _onset_signal(fps, 0.1, 2.0)
    f = OneEuroFilter(OneEuroConfig(min_cutoff_hz=0.1, beta=40.0))
    y = np.array([f(t * 1000.0, v) for t, v in zip(t_s, x, strict=True)])
    assert _crossing_s(t_s, y, 0.01) - _crossing_s(t_s, x, 0.01) > 1.0 / fps


def test_jitter_at_rest_is_reduced():
    rng = np.random.default_rng(1)
    fps = 30.0
    t_s = np.arange(0, 3, 1 / fps)
    noisy = 0.5 + rng.normal(0.0, 0.005, t_s.size)
    f = OneEuroFilter(OneEuroConfig())
    y = np.array([f(t * 1000.0, v) for t, v in zip(t_s, noisy, strict=True)])
    assert np.std(y[30:]) < 0.7 * np.std(noisy[30:])


def test_nan_passes_through_and_keeps_state():
    f = OneEuroFilter(OneEuroConfig())
    f(0.0, [1.0, 2.0])
    out = f(33.0, [math.nan, 2.0])
    assert math.isnan(out[0]) and out[1] == pytest.approx(2.0)
    out = f(66.0, [1.0, 2.0])
    assert out[0] == pytest.approx(1.0)


def test_timestamps_not_frame_counts():
    """Same motion sampled at 30 and 60 fps ends up at the same filtered value."""
    results = []
    for fps in (30.0, 60.0):
        t_s, x = _onset_signal(fps, 0.5, 1.0)
        f = OneEuroFilter(OneEuroConfig())
        ys = [f(t * 1000.0, v) for t, v in zip(t_s, x, strict=True)]
        results.append(float(np.interp(2.0, t_s, np.asarray(ys, dtype=float))))
    assert results[0] == pytest.approx(results[1], abs=0.01)


def test_pose_smoother_keeps_shape_and_still_pose():
    smoother = PoseSmoother(OneEuroConfig())
    frame = stick_frame(StickPose(hip_flexion_deg=30.0))
    for i in range(5):
        out = smoother(stick_frame(StickPose(hip_flexion_deg=30.0), t_ms=i * 33.0))
    assert out.landmarks_px is not None and frame.landmarks_px is not None
    np.testing.assert_allclose(out.landmarks_px, frame.landmarks_px, atol=1e-9)


def test_a_camera_cut_restarts_the_filter():
    # Across a cut every landmark jumps at once; smoothing would blend the two shots over
    # several frames (a movement that never happened). The first frame of a shot passes raw.
    smoother = PoseSmoother(OneEuroConfig())
    for i in range(10):
        smoother(stick_frame(StickPose(hip_flexion_deg=10.0), t_ms=i * 33.0))
    other_shot = stick_frame(StickPose(hip_flexion_deg=80.0), t_ms=10 * 33.0, width_px=1280)
    blended = PoseSmoother(OneEuroConfig())
    for i in range(10):
        blended(stick_frame(StickPose(hip_flexion_deg=10.0), t_ms=i * 33.0))
    assert other_shot.landmarks_px is not None
    without_cut = blended(other_shot).landmarks_px
    assert without_cut is not None
    assert not np.allclose(without_cut, other_shot.landmarks_px, atol=1.0)
    out = smoother(dataclasses.replace(other_shot, shot_cut=True))
    assert out.landmarks_px is not None
    np.testing.assert_allclose(out.landmarks_px, other_shot.landmarks_px, atol=1e-9)
