"""Fitting the back-shape model: reproducible bytes, a known relation recovered, the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from formcheck.kinematics.back_shape import BackShapeModel
from formcheck.training import back_shape
from formcheck.training.back_data import save_dataset
from formcheck.training.back_shape import fit_model, group_folds, ridge, write_model
from formcheck.training.back_shape_eval import estimate_stills
from tests.training.back_fixtures import synthetic_dataset


def test_ridge_recovers_a_linear_relation() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(200, 3)) * np.array([1.0, 10.0, 0.1])
    y = 2.0 + x @ np.array([1.5, -0.2, 30.0])
    mean, scale, coef, intercept = ridge(x, y, 1e-9)
    np.testing.assert_allclose(coef / scale, [1.5, -0.2, 30.0], rtol=1e-6)
    assert intercept - float((coef / scale) @ mean) == pytest.approx(2.0, abs=1e-6)


def test_group_folds_keep_a_body_together() -> None:
    groups = np.repeat(np.arange(12), 5)
    fold = group_folds(groups, 5, seed=3)
    for g in range(12):
        assert len(set(fold[groups == g].tolist())) == 1
    assert set(fold.tolist()) == set(range(5))


def test_fit_is_reproducible_and_learns_the_flexion(tmp_path: Path) -> None:
    data = synthetic_dataset()
    doc, figures = fit_model(data, seed=4)
    again, _ = fit_model(synthetic_dataset(), seed=4)
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    write_model(doc, a)
    write_model(again, b)
    assert a.read_bytes() == b.read_bytes()
    assert figures["stills_with_features"] == 119  # the still without an outline is left out
    model = BackShapeModel.from_json(json.loads(a.read_text()))
    est, sd = estimate_stills(data, model)
    truth = np.asarray(data["lumbar_deg"])
    ok = np.isfinite(est)
    assert ok.sum() == 119
    assert np.sqrt(np.mean((est[ok] - truth[ok]) ** 2)) < 5.0
    assert (sd[ok] >= model.min_sd_deg).all()
    assert doc["trained_on"]["cv_rmse_deg"] < 6.0  # type: ignore[index]


def test_fit_refuses_too_few_stills() -> None:
    data = synthetic_dataset(n=12)
    data["usable"] = np.zeros(12, bool)
    with pytest.raises(ValueError, match="too few"):
        fit_model(data, seed=0)


def test_cli_refits_from_the_cache(
    tmp_path: Path, model_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    del model_path  # the CLI asks for the pose model even when the stills are cached
    shapes = [b.name for b in back_shape.BODY_SHAPES if b.name not in back_shape.HELD_OUT_SHAPES]
    tag = "-".join(sorted(shapes))
    cache = tmp_path / "cache"
    rows = synthetic_dataset()
    np_path = cache / f"stills_seed5_3x4_{tag}.npz"
    cache.mkdir()
    # the dataset file as build_dataset would have written it
    from formcheck.training.back_data import Observation

    obs_rows = []
    for k in range(len(rows["lumbar_deg"])):  # type: ignore[arg-type]
        obs = Observation(
            found=True,
            facing=-1,
            yaw_deg=float(rows["yaw_deg"][k]),  # type: ignore[index]
            chord_px=float(rows["chord_px"][k]),  # type: ignore[index]
            offsets_px=rows["offsets_px"][k],  # type: ignore[index]
            usable=bool(rows["usable"][k]),  # type: ignore[index]
            mask_confidence=float(rows["mask_confidence"][k]),  # type: ignore[index]
            landmarks_px=rows["landmarks_px"][k],  # type: ignore[index]
            visibility=np.ones(33),
        )
        obs_rows.append(
            {
                "group": int(rows["group"][k]),  # type: ignore[index]
                "meta": rows["meta"][k],  # type: ignore[index]
                "lumbar_deg": float(rows["lumbar_deg"][k]),  # type: ignore[index]
                "true_trunk_deg": 60.0,
                "true_hip_flexion_deg": 80.0,
                "true_profile_mm": np.zeros(41),
                "obs": obs,
            }
        )
    save_dataset(np_path, obs_rows)
    out = tmp_path / "model.json"
    args = ["--seed", "5", "--groups", "3", "--per-group", "4", "--deep-groups", "0"]
    args += ["--cache", str(cache)]
    assert back_shape.main([*args, "--out", str(out)]) == 0
    first = out.read_bytes()
    assert back_shape.main([*args, "--out", str(out)]) == 0
    assert out.read_bytes() == first
    BackShapeModel.from_json(json.loads(first))
