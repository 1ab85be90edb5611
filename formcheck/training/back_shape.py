"""Train the back-shape model (``formcheck/kinematics/back_shape_model.json``) from renders.

    python -m formcheck.training.back_shape --seed 1 \
        --out formcheck/kinematics/back_shape_model.json

draws ``--groups`` bodies with ``--per-group`` stills each (``formcheck.training.back_data``:
hinges, squats, sit-to-stand leans) and ``--deep-groups`` more hinging from the floor (the
mesh shapes in ``HELD_OUT_SHAPES`` are never drawn for training), renders them, runs the
real pose model and the pipeline's outline code on each (cached in ``--cache``: a second run
with the same seed and sizes only refits), and fits:

- a ridge regression of the true lumbar flexion (deg) on ``BASE_FEATURES`` (standardised),
  its penalty chosen by cross-validation over body groups (a body's stills stay together, so
  the figures are for bodies not trained on): the strongest penalty within one standard error
  of the lowest error;
- a ridge regression of the log squared out-of-fold error on ``QUALITY_FEATURES``: the
  per-frame uncertainty, scaled so that the squared errors average to the predicted variance.

Every number in the JSON is rounded to ``JSON_DIGITS`` significant digits, so the same seed
gives the same bytes. Never fitted to a real clip.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np
import numpy.typing as npt

from formcheck.kinematics.back_shape import (
    BASE_FEATURES,
    MODEL_FORMAT,
    MODEL_PATH,
    QUALITY_FEATURES,
    BackShapeInput,
    base_features,
)
from formcheck.kinematics.spine import SpineConfig
from formcheck.training.back_data import (
    BASE,
    BODY_SHAPES,
    DEEP,
    HELD_OUT_SHAPES,
    LUMBAR_RANGE_DEG,
    cached_dataset,
    merge_datasets,
)

F64 = npt.NDArray[np.float64]

JSON_DIGITS = 6
CV_FOLDS = 5
RIDGE_PENALTIES = (0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0, 300.0, 1000.0)
ERROR_PENALTY = 10.0
LOG_SQ_FLOOR = 1e-2  # deg^2 added before the log (an exact hit is not infinitely sure)
MIN_SD_DEG = 2.0
FLEXION_MARGIN_DEG = 10.0  # estimates are clipped this far outside the trained range
DEFAULT_GROUPS = 200
DEFAULT_DEEP_GROUPS = 60
DEFAULT_PER_GROUP = 8
DEFAULT_CACHE = Path("out/back_shape")


def _sig(x: float) -> float:
    return float(f"{x:.{JSON_DIGITS}g}")


def feature_rows(data: dict[str, object]) -> tuple[list[dict[str, float] | None], F64]:
    """Each still's features (None where the outline gave none) and its true flexion."""
    fractions = SpineConfig().fractions()
    offsets = np.asarray(data["offsets_px"])
    rows: list[dict[str, float] | None] = []
    for k in range(offsets.shape[0]):
        if not bool(np.asarray(data["usable"])[k]):
            rows.append(None)
            continue
        rows.append(
            base_features(
                BackShapeInput(
                    fractions=fractions,
                    offsets_px=offsets[k],
                    chord_px=float(np.asarray(data["chord_px"])[k]),
                    landmarks_px=np.asarray(data["landmarks_px"])[k],
                    yaw_deg=float(np.asarray(data["yaw_deg"])[k]),
                    mask_confidence=float(np.asarray(data["mask_confidence"])[k]),
                )
            )
        )
    return rows, np.asarray(data["lumbar_deg"], np.float64)


def _matrix(rows: list[dict[str, float]], names: tuple[str, ...]) -> F64:
    return np.array([[r[n] for n in names] for r in rows], np.float64)


def _standardise(x: F64) -> tuple[F64, F64]:
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-12] = 1.0
    return mean, scale


def ridge(x: F64, y: F64, penalty: float) -> tuple[F64, F64, F64, float]:
    """(mean, scale, coef, intercept) of a ridge fit on standardised columns."""
    mean, scale = _standardise(x)
    z = (x - mean) / scale
    intercept = float(y.mean())
    a = z.T @ z + penalty * np.eye(z.shape[1])
    coef = np.asarray(np.linalg.solve(a, z.T @ (y - intercept)), np.float64)
    return mean, scale, coef, intercept


def _predict(x: F64, fit: tuple[F64, F64, F64, float]) -> F64:
    mean, scale, coef, intercept = fit
    return np.asarray(intercept + ((x - mean) / scale) @ coef)


def group_folds(groups: npt.NDArray[np.int64], folds: int, seed: int) -> npt.NDArray[np.int64]:
    """A fold number per row; every row of a body group in the same fold."""
    ids = np.unique(groups)
    order = np.random.default_rng(seed).permutation(ids)
    fold_of = {int(g): i % folds for i, g in enumerate(order)}
    return np.array([fold_of[int(g)] for g in groups], np.int64)


def out_of_fold(x: F64, y: F64, fold: npt.NDArray[np.int64], penalty: float) -> F64:
    pred = np.empty_like(y)
    for f in np.unique(fold):
        test = fold == f
        pred[test] = _predict(x[test], ridge(x[~test], y[~test], penalty))
    return pred


def _part(names: tuple[str, ...], fit: tuple[F64, F64, F64, float]) -> dict[str, object]:
    mean, scale, coef, intercept = fit
    return {
        "features": list(names),
        "mean": [_sig(v) for v in mean],
        "scale": [_sig(v) for v in scale],
        "coef": [_sig(v) for v in coef],
        "intercept": _sig(intercept),
    }


def fit_model(data: dict[str, object], seed: int) -> tuple[dict[str, object], dict[str, float]]:
    """The model document and the cross-validated figures it was chosen by."""
    rows, truth = feature_rows(data)
    keep = np.array([r is not None for r in rows])
    used = [r for r in rows if r is not None]
    if len(used) < 2 * CV_FOLDS:
        raise ValueError(f"only {len(used)} stills gave features: too few to fit")
    x = _matrix(used, BASE_FEATURES)
    y = truth[keep]
    groups = np.asarray(data["group"], np.int64)[keep]
    fold = group_folds(groups, CV_FOLDS, seed)
    scores, fold_scores = {}, {}
    for penalty in RIDGE_PENALTIES:
        err = out_of_fold(x, y, fold, penalty) - y
        scores[penalty] = float(np.sqrt(np.mean(err**2)))
        fold_scores[penalty] = [float(np.sqrt(np.mean(err[fold == f] ** 2))) for f in set(fold)]
    lowest = min(RIDGE_PENALTIES, key=lambda p: (scores[p], p))
    # The one-standard-error rule: the strongest penalty within one standard error (over the
    # folds) of the lowest error: smoother coefficients, less sensitive to a real mask's noise.
    se = float(np.std(fold_scores[lowest], ddof=1) / math.sqrt(len(fold_scores[lowest])))
    best = max(p for p in RIDGE_PENALTIES if scores[p] <= scores[lowest] + se)
    oof = out_of_fold(x, y, fold, best)
    q = _matrix(used, QUALITY_FEATURES)
    log_sq = np.log((oof - y) ** 2 + LOG_SQ_FLOOR)
    err_fit = ridge(q, log_sq, ERROR_PENALTY)
    raw_sd = np.exp(0.5 * _predict(q, err_fit))
    calibration = float(np.sqrt(np.mean((oof - y) ** 2 / raw_sd**2)))
    lo, hi = LUMBAR_RANGE_DEG
    doc: dict[str, object] = {
        "format": MODEL_FORMAT,
        "about": (
            "Lumbar flexion (deg, + rounded) from one frame's back outline and posture; "
            "ridge regression on rendered stills (formcheck.training.back_shape). "
            "Never fitted to a real clip."
        ),
        "trained_on": {
            "seed": seed,
            "stills": len(truth),
            "stills_with_features": int(keep.sum()),
            "bodies": len(np.unique(groups)),
            "mesh_shapes": sorted(b.name for b in BODY_SHAPES if b.name not in HELD_OUT_SHAPES),
            "lumbar_range_deg": [lo, hi],
            "cv_rmse_deg": _sig(scores[best]),
            "penalty": best,
        },
        "flexion": _part(BASE_FEATURES, ridge(x, y, best)),
        "log_sq_error": _part(QUALITY_FEATURES, err_fit),
        "sd_calibration": _sig(calibration),
        "min_sd_deg": MIN_SD_DEG,
        "flexion_range_deg": [lo - FLEXION_MARGIN_DEG, hi + FLEXION_MARGIN_DEG],
    }
    figures = {f"cv_rmse_deg_penalty_{p:g}": v for p, v in scores.items()}
    figures["penalty_chosen"] = best
    figures["stills_with_features"] = float(keep.sum())
    return doc, figures


def write_model(doc: dict[str, object], path: Path) -> None:
    path.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m formcheck.training.back_shape", description=__doc__.split("\n")[0]
    )
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", type=Path, default=MODEL_PATH)
    ap.add_argument("--groups", type=int, default=DEFAULT_GROUPS, help="bodies drawn")
    ap.add_argument(
        "--deep-groups", type=int, default=DEFAULT_DEEP_GROUPS, help="bodies hinging from the floor"
    )
    ap.add_argument("--per-group", type=int, default=DEFAULT_PER_GROUP, help="stills per body")
    ap.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="observed stills kept here")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--model", type=Path, default=None, help="pose model bundle")
    args = ap.parse_args(argv)
    from formcheck.pose.model import ensure_model

    model = ensure_model(args.model).path
    start = time.monotonic()

    def progress(done: int, total: int, elapsed_s: float) -> None:
        print(f"\r{done}/{total} stills, {elapsed_s:.0f} s", end="", file=sys.stderr, flush=True)

    shapes = [b.name for b in BODY_SHAPES if b.name not in HELD_OUT_SHAPES]
    parts = [
        cached_dataset(
            args.seed,
            groups,
            args.per_group,
            shapes=shapes,
            cache_dir=args.cache,
            model_path=model,
            workers=args.workers,
            progress=progress,
            kind=kind,
        )
        for kind, groups in ((BASE, args.groups), (DEEP, args.deep_groups))
        if groups > 0
    ]
    data = parts[0] if len(parts) == 1 else merge_datasets(parts[0], parts[1])
    print(file=sys.stderr)
    doc, figures = fit_model(data, args.seed)
    write_model(doc, args.out)
    for name, value in figures.items():
        print(f"{name}: {value:.3f}" if math.isfinite(value) else f"{name}: nan")
    print(f"wrote {args.out} in {time.monotonic() - start:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
