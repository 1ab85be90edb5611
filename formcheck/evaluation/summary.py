"""Pooling clip results into the accuracy tables, and the committed-baseline check."""

from __future__ import annotations

import json
import math
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from formcheck.evaluation.real import RealClipResult
from formcheck.evaluation.synthetic import (
    ANGLES,
    HOLD_TIME_TOLERANCE_S,
    ErrorSum,
    SynthClipResult,
)

BASELINE_PATH = Path(__file__).with_name("baseline.json")

# How far a metric may move the wrong way from the committed baseline before it counts as
# a drop in accuracy (run-to-run noise of the model and the renderer is below these).
TOLERANCES = {
    "detection_rate": 0.01,  # fraction of frames
    "angle_mae_deg": 1.0,
    "reps_exact_rate": 0.05,
    "recall": 0.1,
    "false_alarm_rate": 0.05,
    "phase_mae_s": 0.05,
    "onset_lag_mae_ms": 20.0,
}


def _safe(value: float) -> float | None:
    return None if not math.isfinite(value) else round(float(value), 4)


def summarize_synthetic(results: list[SynthClipResult]) -> dict[str, Any]:
    views: dict[str, dict[str, Any]] = {}
    for view in ("side", "oblique"):
        group = [r for r in results if r.view == view]
        if not group:
            continue
        frames = sum(r.frames for r in group)
        posed = sum(r.frames_with_pose for r in group)
        maes = {}
        for name in ANGLES:
            pooled = ErrorSum()
            for r in group:
                pooled.merge(r.angle_errors.get(name, ErrorSum()))
            maes[name] = _safe(pooled.mae)
        views[view] = {
            "clips": len(group),
            "frames": frames,
            "detection_rate": _safe(posed / frames if frames else math.nan),
            "angle_mae_deg": maes,
        }
    scale = [abs(r.scale_error_pct) for r in results if math.isfinite(r.scale_error_pct)]
    bulge = ErrorSum()
    for r in results:
        bulge.merge(r.bulge_change_error)
    return {
        "clips": len(results),
        "by_view": views,
        "scale_abs_error_pct_median": _safe(float(np.median(scale)) if scale else math.nan),
        "back_bulge_change_mae_mm": _safe(bulge.mae),
        "analyzers": summarize_analyzers(results),
    }


def summarize_analyzers(results: list[SynthClipResult]) -> dict[str, Any]:
    """Per exercise with an analyzer: rep counts, per-fault rep-level confusion, timing."""
    out: dict[str, Any] = {}
    by_exercise: dict[str, list[SynthClipResult]] = defaultdict(list)
    for r in results:
        if r.counted_reps is not None:
            by_exercise[r.exercise].append(r)
    for exercise, group in sorted(by_exercise.items()):
        exact = sum(r.counted_reps == r.true_reps for r in group)
        codes = sorted({c for r in group for row in r.rep_rows for c in row.true_codes}
                       | {c for r in group for row in r.rep_rows for c in row.found_codes})
        faults = {}
        for code in codes:
            tp = fp = fn = tn = 0
            for r in group:
                for row in r.rep_rows:
                    if code in row.ignored_codes:
                        continue
                    truth, found = code in row.true_codes, code in row.found_codes
                    tp += truth and found
                    fn += truth and not found
                    fp += found and not truth
                    tn += not truth and not found
            faults[code] = {
                "tp": tp, "fn": fn, "fp": fp, "tn": tn,
                "recall": _safe(tp / (tp + fn) if tp + fn else math.nan),
                "precision": _safe(tp / (tp + fp) if tp + fp else math.nan),
                "false_alarm_rate": _safe(fp / (fp + tn) if fp + tn else math.nan),
            }
        phase_err: dict[str, list[float]] = defaultdict(list)
        lag_err = []
        for r in group:
            for row in r.rep_rows:
                for k, v in row.phase_error_s.items():
                    phase_err[k].append(abs(v))
                if math.isfinite(row.true_lag_ms) and math.isfinite(row.found_lag_ms):
                    lag_err.append(abs(row.found_lag_ms - row.true_lag_ms))
        matched = [row for r in group for row in r.rep_rows if row.matched]
        holds = [
            abs(r.found_hold_s - r.true_hold_s)
            for r in group
            if r.found_hold_s is not None and r.true_hold_s is not None
        ]
        out[exercise] = {
            "clips": len(group),
            "reps_exact_rate": _safe(exact / len(group)),
            "true_reps_matched": len(matched),
            "phase_mae_s": {k: _safe(float(np.mean(v))) for k, v in sorted(phase_err.items())},
            "phase_within_0_15_s": {
                k: _safe(float(np.mean(np.array(v) <= 0.15))) for k, v in sorted(phase_err.items())
            },
            "onset_lag_mae_ms": _safe(float(np.mean(lag_err)) if lag_err else math.nan),
            "hold_mae_s": _safe(float(np.mean(holds)) if holds else math.nan),
            "hold_within_tolerance_rate": _safe(
                float(np.mean(np.array(holds) <= HOLD_TIME_TOLERANCE_S)) if holds else math.nan
            ),
            "faults": faults,
        }
    return out


def summarize_real(results: list[RealClipResult]) -> dict[str, Any]:
    frames = sum(r.frames for r in results)
    posed = sum(r.frames_with_pose for r in results)
    counted = [r for r in results if r.counted_reps is not None and r.true_reps is not None]
    return {
        "clips": len(results),
        "errors": [r.file for r in results if r.error],
        "detection_rate": _safe(posed / frames if frames else math.nan),
        "reps_exact": f"{sum(r.counted_reps == r.true_reps for r in counted)}/{len(counted)}",
        "clips_table": [r.to_dict() for r in results],
    }


def baseline_entry(summary: dict[str, Any]) -> dict[str, Any]:
    """The figures of a run that the baseline check compares, in the baseline's layout."""
    synth = summary.get("synthetic", {})
    return {
        "synthetic": {
            "by_view": {
                view: {"detection_rate": v.get("detection_rate"),
                       "angle_mae_deg": v.get("angle_mae_deg", {})}
                for view, v in synth.get("by_view", {}).items()
            },
            "analyzers": {
                exercise: {
                    "reps_exact_rate": a.get("reps_exact_rate"),
                    "hold_within_tolerance_rate": a.get("hold_within_tolerance_rate"),
                    "faults": {
                        code: {"recall": f.get("recall"),
                               "false_alarm_rate": f.get("false_alarm_rate")}
                        for code, f in a.get("faults", {}).items()
                    },
                }
                for exercise, a in synth.get("analyzers", {}).items()
            },
        }
    }


def write_baseline(summary: dict[str, Any], tier: str,
                   baseline_path: Path = BASELINE_PATH) -> None:
    """Record this run's figures as the tier's baseline (other tiers are kept)."""
    data = json.loads(baseline_path.read_text()) if baseline_path.is_file() else {}
    data[tier] = {"seed": summary.get("seed"), **baseline_entry(summary)}
    baseline_path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")


def baseline_seed(tier: str, baseline_path: Path = BASELINE_PATH) -> int | None:
    """The seed the tier's committed baseline was recorded with (None without one)."""
    if not baseline_path.is_file():
        return None
    seed = json.loads(baseline_path.read_text()).get(tier, {}).get("seed")
    return int(seed) if seed is not None else None


def check_against_baseline(
    summary: dict[str, Any],
    tier: str,
    baseline_path: Path = BASELINE_PATH,
    *,
    include_faults: bool = True,
) -> list[str]:
    """Every metric that fell below the committed baseline by more than its tolerance.

    ``include_faults=False`` leaves out per-fault recall and false alarms: on a set of a few
    reps a single rep moves them by more than any tolerance that would still mean something.
    """
    if not baseline_path.is_file():
        return [f"no baseline file at {baseline_path}"]
    base = json.loads(baseline_path.read_text()).get(tier)
    if base is None:
        return [f"the baseline has no tier {tier!r}"]
    failures: list[str] = []
    synth, base_synth = summary.get("synthetic", {}), base.get("synthetic", {})
    for view, b in base_synth.get("by_view", {}).items():
        got = synth.get("by_view", {}).get(view, {})
        _at_least(failures, f"{view} detection_rate", got.get("detection_rate"),
                  b.get("detection_rate"), TOLERANCES["detection_rate"])
        for name, value in b.get("angle_mae_deg", {}).items():
            _at_most(failures, f"{view} {name} MAE", got.get("angle_mae_deg", {}).get(name),
                     value, TOLERANCES["angle_mae_deg"])
    for exercise, b in base_synth.get("analyzers", {}).items():
        got = synth.get("analyzers", {}).get(exercise, {})
        _at_least(failures, f"{exercise} reps_exact_rate", got.get("reps_exact_rate"),
                  b.get("reps_exact_rate"), TOLERANCES["reps_exact_rate"])
        _at_least(failures, f"{exercise} hold_within_tolerance_rate",
                  got.get("hold_within_tolerance_rate"), b.get("hold_within_tolerance_rate"),
                  TOLERANCES["reps_exact_rate"])
        for code, fb in (b.get("faults", {}) if include_faults else {}).items():
            fg = got.get("faults", {}).get(code, {})
            _at_least(failures, f"{exercise} {code} recall", fg.get("recall"), fb.get("recall"),
                      TOLERANCES["recall"])
            _at_most(failures, f"{exercise} {code} false alarms", fg.get("false_alarm_rate"),
                     fb.get("false_alarm_rate"), TOLERANCES["false_alarm_rate"])
    return failures


def _at_least(failures: list[str], what: str, got: Any, base: Any, tol: float) -> None:
    if base is None:
        return
    if got is None or got < base - tol:
        failures.append(f"{what}: {got} is below the baseline {base} (tolerance {tol})")


def _at_most(failures: list[str], what: str, got: Any, base: Any, tol: float) -> None:
    if base is None:
        return
    if got is None or got > base + tol:
        failures.append(f"{what}: {got} is above the baseline {base} (tolerance {tol})")
