"""Per-rep lumbar flexion at the bottom of the labelled real hinge clips (evaluation only).

    .venv/bin/python scripts/back_shape_real.py [--videos ../shared/videos] [--exercise hip_hinge]
           [--cache out/back_shape/real] [--model-file FILE]

Runs every labelled clip of the exercise that has rep times (``LABELS.tsv``) through the pose
model and the measure pipeline once (kept in ``--cache``, so another model re-estimates in
seconds), and prints each rep's median ``lumbar_flexion_deg`` over its bottom (the frames of
the labelled rep window within 5 deg of its deepest trunk inclination), its uncertainty and
``back_rounding_mm``; then the rounded-back clips against the clips labelled good form. The
clips are never used for fitting: this only reports.
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from formcheck.kinematics.back_shape import load_model  # noqa: E402
from formcheck.training.back_clips import bottom_estimate, observe_clip, window_bottom  # noqa: E402
from formcheck.training.back_shape_eval import separation  # noqa: E402

ROUNDED = "spine_rounded"
ARCHED = "spine_arched"
GOOD = "none"


def parse_windows(text: str) -> list[tuple[float, float]]:
    out = []
    for part in text.split(";"):
        if "-" in part:
            a, b = part.split("-")
            out.append((float(a), float(b)))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--videos", type=Path, default=ROOT.parent / "shared" / "videos")
    ap.add_argument("--exercise", default="hip_hinge")
    ap.add_argument("--cache", type=Path, default=ROOT / "out" / "back_shape" / "real")
    ap.add_argument("--model-file", type=Path, default=None)
    ap.add_argument("--only-cached", action="store_true", help="only clips run before")
    args = ap.parse_args(argv)
    labels = args.videos / "LABELS.tsv"
    if not labels.is_file():
        print(f"no labelled clips at {labels}", file=sys.stderr)
        return 1
    model = load_model(args.model_file) if args.model_file else load_model()
    with labels.open() as f:
        clips = [r for r in csv.DictReader(f, delimiter="\t") if r["exercise"] == args.exercise]
    clips = [r for r in clips if parse_windows(r["rep_times"])]
    groups: dict[str, list[float]] = {ROUNDED: [], ARCHED: [], GOOD: [], "other": []}
    print(f"{'clip':<28} {'view':<10} {'label':<32} rep  est_deg  sd_deg  round_mm  frames")
    for row in clips:
        video = args.videos / row["file"]
        cache = args.cache / (row["file"].replace("/", "_") + ".npz")
        if args.only_cached and not cache.is_file():
            continue
        frames = observe_clip(video, cache)
        est, sd, mm = frames.estimate(model)
        faults = row["faults"] or "(unlabelled)"
        group = (
            ROUNDED if ROUNDED in faults else ARCHED if ARCHED in faults else
            GOOD if faults == GOOD else "other"
        )  # fmt: skip
        for i, (a, b) in enumerate(parse_windows(row["rep_times"])):
            e = bottom_estimate(window_bottom(frames, a, b), est, sd, mm)
            groups[group].append(e.estimate_deg)
            print(
                f"{Path(row['file']).stem:<28} {row['view']:<10} {faults[:32]:<32} {i + 1:>3} "
                f"{e.estimate_deg:>8.1f} {e.sd_deg:>7.1f} {e.rounding_mm:>9.1f} "
                f"{e.frames:>3}/{e.bottom_frames:<3}"
            )
    print()
    for name, vals in groups.items():
        v = np.array([x for x in vals if math.isfinite(x)])
        if v.size:
            print(
                f"{name:<14} reps {len(vals):>3} (estimated {v.size}): median {np.median(v):+.1f} "
                f"deg, range {v.min():+.1f}..{v.max():+.1f}"
            )
    sep = separation(np.array(groups[GOOD]), np.array(groups[ROUNDED]), 1.0)
    print(
        f"rounded vs good form (per rep): AUC {sep.auc:.2f}, d' {sep.d_prime:.2f}, "
        f"false alarms at 80% recall {sep.false_alarms_at_recall:.0%}, "
        f"recall at <=5% false alarms {sep.recall_at_false_alarms:.0%} "
        f"({sep.n_fault} rounded, {sep.n_neutral} good-form reps)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
