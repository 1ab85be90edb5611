"""Per-rep estimates of whole clips: the bottom of a rep, the truth of a rendered rep."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from formcheck.kinematics.back_shape import load_model
from formcheck.training.back_clips import (
    ClipFrames,
    bottom_estimate,
    clip_meta,
    rendered_rep_rows,
    rep_truth_deg,
    window_bottom,
)
from tests.conftest import REPO_ROOT


def frames_with_trunk(incl: np.ndarray) -> ClipFrames:
    t = incl.size
    return ClipFrames(
        t_ms=np.arange(t) * 100.0,
        trunk_inclination_deg=incl,
        mm_per_px=np.full(t, 2.0),
        lumbar_deg=np.full(t, np.nan),
        offsets_px=np.full((t, 33), np.nan),
        chord_px=np.full(t, np.nan),
        landmarks_px=np.full((t, 33, 3), np.nan),
        yaw_deg=np.full(t, np.nan),
        mask_confidence=np.full(t, np.nan),
    )


def test_window_bottom_takes_the_deepest_frames_of_the_window() -> None:
    incl = np.array([5, 20, 50, 68, 70, 64, 40, 10, 80, 80], float)
    frames = frames_with_trunk(incl)
    sel = window_bottom(frames, 0.0, 0.75)  # 0..750 ms: the 80s lie outside
    assert np.flatnonzero(sel).tolist() == [3, 4]
    assert not window_bottom(frames_with_trunk(np.full(4, np.nan)), 0.0, 1.0).any()


def test_bottom_estimate_needs_frames_with_an_estimate(tmp_path: Path) -> None:
    est = np.array([10.0, np.nan, 14.0, 30.0])
    sel = np.array([True, True, True, False])
    b = bottom_estimate(sel, est, np.full(4, 3.0), est * 0.5)
    assert b.estimate_deg == 12.0 and b.frames == 2 and b.bottom_frames == 3
    assert b.rounding_mm == 6.0
    assert math.isnan(bottom_estimate(np.array([True, False, False, False]), est, est, est).sd_deg)
    frames = frames_with_trunk(np.arange(4.0))
    frames.save(tmp_path / "f.npz")
    back = ClipFrames.load(tmp_path / "f.npz")
    np.testing.assert_array_equal(back.trunk_inclination_deg, frames.trunk_inclination_deg)
    e, s, m = back.estimate(load_model())
    assert np.isnan(e).all() and np.isnan(s).all() and np.isnan(m).all()


def test_rep_truth_and_meta() -> None:
    meta = {
        "name": "c",
        "exercise": "hip_hinge",
        "camera": {"yaw_deg": -12.0},
        "body": {"shape": {"name": "woman_heavy"}},
        "clothing": {"top": "hoodie", "bottom": "fitted"},
        "faults": [
            {"kind": "lumbar_flexion", "size": 20.0, "rep": 1},
            {"kind": "lumbar_extension", "size": 15.0, "rep": 2},
            {"kind": "hips_rise_first", "size": 400.0, "rep": 1},
        ],
    }
    assert [rep_truth_deg(meta, r) for r in range(3)] == [0.0, 20.0, -15.0]
    m = clip_meta(meta)
    assert m["body"] == "woman_heavy" and m["clothing"] == "hoodie/fitted"
    assert m["camera_yaw_deg"] == -12.0
    assert clip_meta({**meta, "body": {}, "clothing": None})["body"] == "capsule"


@pytest.mark.slow
def test_rendered_clip_rounded_rep_reads_rounder(tmp_path: Path, model_path: Path) -> None:
    del model_path
    meta = REPO_ROOT / "sample_videos" / "hip_hinge_rounded_back.json"
    rows = rendered_rep_rows(meta, load_model(), tmp_path)
    assert [r["truth_deg"] for r in rows] == [0.0, 25.0]
    neutral, rounded = (float(r["estimate_deg"]) for r in rows)  # type: ignore[arg-type]
    assert rounded > neutral + 10.0
    # the recorded inputs re-estimate exactly what the pipeline's Samples carried
    frames = ClipFrames.load(next(tmp_path.glob("*.npz")))
    est, _, _ = frames.estimate(load_model())
    carried = frames.lumbar_deg
    assert np.isfinite(carried).sum() > 100
    np.testing.assert_allclose(est, carried, equal_nan=True, atol=1e-9)
