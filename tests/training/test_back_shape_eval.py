"""The evaluation figures: separation of neutral from faulty backs, and the split tables."""

from __future__ import annotations

import math

import numpy as np
import pytest

from formcheck.training.back_shape_eval import separation, split_tables, summary_row, yaw_band


def test_separation_of_clean_and_overlapping_classes() -> None:
    rng = np.random.default_rng(0)
    neutral = rng.normal(0.0, 5.0, 400)
    clean = separation(neutral, rng.normal(40.0, 5.0, 400), 1.0)
    assert clean.auc > 0.99 and clean.recall_at_false_alarms > 0.95
    assert clean.false_alarms_at_recall < 0.01
    # faults 1.645 + 0.84 sd above neutral: 80% of them lie above the neutral's 95th centile
    mid = separation(neutral, rng.normal(5.0 * (1.645 + 0.84), 5.0, 4000), 1.0)
    assert mid.d_prime == pytest.approx(2.49, abs=0.2)
    assert mid.false_alarms_at_recall == pytest.approx(0.05, abs=0.025)
    assert mid.recall_at_false_alarms == pytest.approx(0.8, abs=0.06)
    # arched backs read lower: sign -1
    arched = separation(neutral, rng.normal(-40.0, 5.0, 100), -1.0)
    assert arched.auc > 0.99
    few = separation(neutral, np.array([30.0, math.nan]), 1.0)
    assert math.isnan(few.auc) and few.n_fault == 1


def test_summary_and_tables() -> None:
    rng = np.random.default_rng(1)
    truth = rng.uniform(-25.0, 40.0, 300)
    est = truth + rng.normal(0.0, 4.0, 300)
    est[0] = np.nan
    sd = np.full(300, 4.0)
    row = summary_row(est, sd, truth)
    assert row["rmse_deg"] == pytest.approx(4.0, abs=0.8)
    assert 0.55 < row["within_1sd"] < 0.8
    assert row["estimated"] == pytest.approx(299 / 300)
    assert row["rounded_auc"] > 0.95
    meta = [
        {"camera_yaw_deg": float(y), "body": b, "clothing": "capsule", "exercise": "hip_hinge"}
        for y, b in zip(
            rng.uniform(-45.0, 45.0, 300), ["capsule", "woman_older"] * 150, strict=True
        )
    ]
    table = split_tables(est, sd, truth, meta, side_band_only=True)
    assert "all, 0-30 deg" in table and "mesh, never trained" in table and "yaw 30-45" in table
    assert yaw_band(-20.0) == "yaw 15-30" and yaw_band(45.0) == "yaw 30-45"
