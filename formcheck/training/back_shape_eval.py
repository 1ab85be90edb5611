"""How well the back-shape model judges a back without a reference, on renders it never saw.

    python -m formcheck.training.back_shape_eval stills --seed 2 [--groups 60 --deep-groups 20]
    python -m formcheck.training.back_shape_eval clips DIR [DIR ...]

``stills``: held-out stills (another seed than training; every mesh shape, including the
``HELD_OUT_SHAPES`` never trained on), each a rep-bottom frame, estimated with the committed
model exactly as the pipeline estimates a frame. ``clips``: rendered clips with their truth
(``formcheck.synth`` clip files, e.g. a ``formcheck eval --tier real-use`` cache), run through
the whole pipeline; each rep's estimate is the median over its bottom phase.

Both print, overall and split by body (capsule, mesh shapes trained on, mesh shapes never
trained on), clothing, camera angle band and exercise: the error, how often the truth lies
within one predicted standard deviation, and how well neutral backs (|flexion| <= 5 deg)
separate from rounded (>= 15 deg) and arched (<= -15 deg) ones: AUC, d', the false-alarm
rate at the threshold that finds 80% of them, and the share found at <= 5% false alarms.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from formcheck.kinematics.back_shape import BackShapeInput, BackShapeModel, load_model
from formcheck.kinematics.spine import SpineConfig
from formcheck.training.back_data import BASE, DEEP, HELD_OUT_SHAPES, cached_dataset, merge_datasets

F64 = npt.NDArray[np.float64]

NEUTRAL_MAX_DEG = 5.0
FAULT_MIN_DEG = 15.0
TARGET_RECALL = 0.8
MAX_FALSE_ALARMS = 0.05
YAW_BANDS_DEG = ((0.0, 15.0), (15.0, 30.0), (30.0, 45.0))
MIN_CLASS = 5  # fewer neutral or faulty cases than this: no separation figures


@dataclass(frozen=True, slots=True)
class Separation:
    n_neutral: int
    n_fault: int
    auc: float
    d_prime: float
    false_alarms_at_recall: float  # at the threshold that finds TARGET_RECALL of the faults
    recall_at_false_alarms: float  # at the threshold with <= MAX_FALSE_ALARMS false alarms


def separation(neutral: F64, fault: F64, sign: float) -> Separation:
    """How well ``fault`` estimates exceed (sign +1) or undercut (sign -1) ``neutral`` ones."""
    n = sign * neutral[np.isfinite(neutral)]
    f = sign * fault[np.isfinite(fault)]
    if n.size < MIN_CLASS or f.size < MIN_CLASS:
        return Separation(int(n.size), int(f.size), *(math.nan,) * 4)
    auc = float((f[:, None] > n[None, :]).mean() + 0.5 * (f[:, None] == n[None, :]).mean())
    pooled = math.sqrt(0.5 * (float(n.var(ddof=1)) + float(f.var(ddof=1))))
    d_prime = (float(f.mean()) - float(n.mean())) / pooled if pooled > 0 else math.inf
    threshold = float(np.quantile(f, 1.0 - TARGET_RECALL, method="lower"))
    fa_at_recall = float((n >= threshold).mean())
    # the lowest threshold with at most MAX_FALSE_ALARMS of the neutral at or above it
    candidates = np.sort(np.concatenate([n, f]))
    recall = 0.0
    for t in candidates:
        if (n >= t).mean() <= MAX_FALSE_ALARMS:
            recall = float((f >= t).mean())
            break
    return Separation(int(n.size), int(f.size), auc, d_prime, fa_at_recall, recall)


def summary_row(est: F64, sd: F64, truth: F64) -> dict[str, float]:
    ok = np.isfinite(est)
    err = est[ok] - truth[ok]
    neutral = np.abs(truth) <= NEUTRAL_MAX_DEG
    rounded = separation(est[neutral], est[truth >= FAULT_MIN_DEG], 1.0)
    arched = separation(est[neutral], est[truth <= -FAULT_MIN_DEG], -1.0)
    return {
        "n": float(truth.size),
        "estimated": float(ok.mean()) if truth.size else math.nan,
        "rmse_deg": float(np.sqrt(np.mean(err**2))) if err.size else math.nan,
        "bias_deg": float(err.mean()) if err.size else math.nan,
        "within_1sd": float((np.abs(err) <= sd[ok]).mean()) if err.size else math.nan,
        "neutral_mean_deg": float(np.nanmean(est[neutral])) if neutral.any() else math.nan,
        "rounded_auc": rounded.auc,
        "rounded_d": rounded.d_prime,
        "rounded_fa_at_r80": rounded.false_alarms_at_recall,
        "rounded_recall_at_fa5": rounded.recall_at_false_alarms,
        "arched_auc": arched.auc,
        "arched_d": arched.d_prime,
        "arched_fa_at_r80": arched.false_alarms_at_recall,
        "arched_recall_at_fa5": arched.recall_at_false_alarms,
        "n_neutral": float(rounded.n_neutral),
        "n_rounded": float(rounded.n_fault),
        "n_arched": float(arched.n_fault),
    }


COLUMNS = (
    ("n", "n", "{:.0f}"),
    ("estimated", "est%", "{:.0%}"),
    ("rmse_deg", "rmse", "{:.1f}"),
    ("bias_deg", "bias", "{:+.1f}"),
    ("within_1sd", "in1sd", "{:.0%}"),
    ("neutral_mean_deg", "neut", "{:+.1f}"),
    ("n_neutral", "nN", "{:.0f}"),
    ("n_rounded", "nR", "{:.0f}"),
    ("rounded_auc", "R.auc", "{:.2f}"),
    ("rounded_d", "R.d'", "{:.1f}"),
    ("rounded_fa_at_r80", "R.fa@r.8", "{:.0%}"),
    ("rounded_recall_at_fa5", "R.r@fa5", "{:.0%}"),
    ("n_arched", "nA", "{:.0f}"),
    ("arched_auc", "A.auc", "{:.2f}"),
    ("arched_d", "A.d'", "{:.1f}"),
    ("arched_fa_at_r80", "A.fa@r.8", "{:.0%}"),
    ("arched_recall_at_fa5", "A.r@fa5", "{:.0%}"),
)


def format_table(rows: Sequence[tuple[str, dict[str, float]]]) -> str:
    width = max([len(name) for name, _ in rows] + [8])
    head = " ".join([f"{'':<{width}}"] + [f"{label:>8}" for _, label, _ in COLUMNS])
    lines = [head]
    for name, row in rows:
        cells = []
        for key, _, fmt in COLUMNS:
            v = row.get(key, math.nan)
            cells.append(f"{fmt.format(v) if math.isfinite(v) else '-':>8}")
        lines.append(" ".join([f"{name:<{width}}", *cells]))
    return "\n".join(lines)


def yaw_band(yaw_deg: float) -> str:
    a = abs(yaw_deg)
    for lo, hi in YAW_BANDS_DEG:
        if lo <= a < hi or (hi == YAW_BANDS_DEG[-1][1] and a == hi):
            return f"yaw {lo:.0f}-{hi:.0f}"
    return "yaw >45"


def body_kind(body: str) -> str:
    if body == "capsule":
        return "capsule"
    return "mesh, never trained" if body in HELD_OUT_SHAPES else "mesh, trained shapes"


def split_tables(
    est: F64, sd: F64, truth: F64, meta: Sequence[dict[str, object]], *, side_band_only: bool
) -> str:
    """The summary overall and per split; ``side_band_only``: the splits other than the camera
    band keep to 0-30 deg off the side (what the product promises)."""
    yaw = np.array([float(m["camera_yaw_deg"]) for m in meta])  # type: ignore[arg-type]
    in_band = np.abs(yaw) <= 30.0 if side_band_only else np.ones(len(meta), bool)
    out: list[tuple[str, dict[str, float]]] = [
        (
            "all, 0-30 deg" if side_band_only else "all",
            summary_row(est[in_band], sd[in_band], truth[in_band]),
        )
    ]
    splits: list[tuple[str, Iterable[str], bool]] = [
        ("camera", [yaw_band(float(m["camera_yaw_deg"])) for m in meta], False),  # type: ignore[arg-type]
        ("body", [body_kind(str(m["body"])) for m in meta], True),
        ("shape", [str(m["body"]) for m in meta], True),
        ("clothing", [str(m["clothing"]) for m in meta], True),
        ("exercise", [str(m["exercise"]) for m in meta], True),
    ]
    shown = {"all"}
    for _, labels, banded in splits:
        labels = np.array(list(labels))
        for value in sorted(set(labels.tolist())):
            if value in shown:  # "capsule" is a body, a shape and a clothing: once is enough
                continue
            shown.add(value)
            sel = (labels == value) & (in_band if banded else True)
            if sel.any():
                out.append((f"  {value}", summary_row(est[sel], sd[sel], truth[sel])))
    return format_table(out)


def estimate_stills(data: dict[str, object], model: BackShapeModel) -> tuple[F64, F64]:
    fractions = SpineConfig().fractions()
    offsets = np.asarray(data["offsets_px"])
    n = offsets.shape[0]
    est, sd = np.full(n, np.nan), np.full(n, np.nan)
    for k in range(n):
        if not bool(np.asarray(data["usable"])[k]):
            continue
        e = model.estimate(
            BackShapeInput(
                fractions=fractions,
                offsets_px=offsets[k],
                chord_px=float(np.asarray(data["chord_px"])[k]),
                landmarks_px=np.asarray(data["landmarks_px"])[k],
                yaw_deg=float(np.asarray(data["yaw_deg"])[k]),
                mask_confidence=float(np.asarray(data["mask_confidence"])[k]),
            )
        )
        est[k], sd[k] = e.flexion_deg, e.sd_deg
    return est, sd


def _stills(args: argparse.Namespace) -> int:
    from formcheck.pose.model import ensure_model

    model = load_model(args.model_file) if args.model_file else load_model()
    parts = [
        cached_dataset(
            args.seed,
            groups,
            args.per_group,
            shapes=None,
            cache_dir=args.cache,
            model_path=ensure_model(None).path,
            workers=args.workers,
            progress=lambda d, t, s: print(f"\r{d}/{t} stills, {s:.0f} s", end="", file=sys.stderr),
            kind=kind,
        )
        for kind, groups in ((BASE, args.groups), (DEEP, args.deep_groups))
        if groups > 0
    ]
    data = parts[0] if len(parts) == 1 else merge_datasets(parts[0], parts[1])
    est, sd = estimate_stills(data, model)
    truth = np.asarray(data["lumbar_deg"], np.float64)
    meta: list[dict[str, object]] = data["meta"]  # type: ignore[assignment]
    print(f"held-out stills, seed {args.seed}: one rep-bottom frame each")
    print(split_tables(est, sd, truth, meta, side_band_only=True))
    return 0


def _clips(args: argparse.Namespace) -> int:
    from formcheck.training.back_clips import rendered_rep_rows

    model = load_model(args.model_file) if args.model_file else load_model()
    rows: list[dict[str, object]] = []
    paths = [p for d in args.dirs for p in sorted(Path(d).glob("*.json"))]
    if args.only_cached:
        paths = [p for p in paths if (args.cache / f"{p.parent.name}_{p.stem}.npz").is_file()]
    for i, meta_path in enumerate(paths):
        print(f"\r{i}/{len(paths)} clips", end="", file=sys.stderr, flush=True)
        rows.extend(rendered_rep_rows(meta_path, model, args.cache))
    print(file=sys.stderr)
    if not rows:
        print("no clips found", file=sys.stderr)
        return 1
    est = np.array([float(r["estimate_deg"]) for r in rows])  # type: ignore[arg-type]
    sd = np.array([float(r["sd_deg"]) for r in rows])  # type: ignore[arg-type]
    truth = np.array([float(r["truth_deg"]) for r in rows])  # type: ignore[arg-type]
    meta: list[dict[str, object]] = [r["meta"] for r in rows]  # type: ignore[misc]
    print(f"rendered clips: {len(rows)} reps, median over each rep's bottom phase")
    print(split_tables(est, sd, truth, meta, side_band_only=True))
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1, default=float) + "\n")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m formcheck.training.back_shape_eval")
    sub = ap.add_subparsers(dest="what", required=True)
    st = sub.add_parser("stills", help="held-out rendered stills")
    st.add_argument("--seed", type=int, default=2)
    st.add_argument("--groups", type=int, default=60)
    st.add_argument("--deep-groups", type=int, default=20)
    st.add_argument("--per-group", type=int, default=8)
    st.add_argument("--cache", type=Path, default=Path("out/back_shape"))
    st.add_argument("--workers", type=int, default=2)
    st.add_argument("--model-file", type=Path, default=None)
    cl = sub.add_parser("clips", help="rendered clips with truth, through the whole pipeline")
    cl.add_argument("dirs", nargs="+", type=Path)
    cl.add_argument("--json", type=Path, default=None, help="write the per-rep rows here")
    cl.add_argument("--cache", type=Path, default=Path("out/back_shape/clips"))
    cl.add_argument("--model-file", type=Path, default=None)
    cl.add_argument(
        "--only-cached", action="store_true", help="only clips already run through the pipeline"
    )
    args = ap.parse_args(argv)
    return _stills(args) if args.what == "stills" else _clips(args)


if __name__ == "__main__":
    raise SystemExit(main())
