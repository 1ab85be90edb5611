"""`formcheck eval`: render a seeded synthetic set, run everything, print the tables."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any, TypeVar

from formcheck.evaluation.real import RealClipResult, evaluate_real_clip
from formcheck.evaluation.real_labels import RealClipLabel, load_labels
from formcheck.evaluation.summary import summarize_real, summarize_synthetic
from formcheck.evaluation.synthetic import EvalClip, SynthClipResult, eval_set, evaluate_clip

DEFAULT_SEED = 2026
DEFAULT_CACHE = Path("out") / "eval_cache"
Log = Callable[[str], None]
T = TypeVar("T")
R = TypeVar("R")


def default_workers() -> int:
    return max(1, min(2, os.cpu_count() or 1))


def _synth_job(args: tuple[EvalClip, Path, Path | None]) -> SynthClipResult:
    clip, cache, model = args
    return evaluate_clip(clip, cache, model=model)


def _real_job(args: tuple[RealClipLabel, Path | None]) -> RealClipResult:
    label, model = args
    return evaluate_real_clip(label, model=model)


def _run_parallel(
    job: Callable[[T], R], items: list[T], workers: int, log: Log, what: Callable[[T], str]
) -> list[R]:
    results: list[R] = []
    start = time.perf_counter()
    if workers <= 1:
        for i, item in enumerate(items, 1):
            results.append(job(item))
            log(f"  [{i}/{len(items)}] {what(item)} ({time.perf_counter() - start:.0f} s)")
        return results
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = {pool.submit(job, item): item for item in items}
        for i, future in enumerate(as_completed(futures), 1):
            results.append(future.result())
            log(f"  [{i}/{len(items)}] {what(futures[future])} "
                f"({time.perf_counter() - start:.0f} s)")
    return results


def run_eval(
    *,
    tier: str = "quick",
    seed: int = DEFAULT_SEED,
    cache_dir: Path = DEFAULT_CACHE,
    videos_dir: Path | None = None,
    model: Path | None = None,
    workers: int | None = None,
    exercises: frozenset[str] | None = None,
    log: Log = print,
) -> dict[str, Any]:
    """``exercises`` limits the synthetic set and the real clips to these exercises."""
    from formcheck.pose.model import ensure_model

    model = ensure_model(model).path  # build once, before the workers start
    workers = workers or default_workers()
    clips = eval_set(tier, seed, exercises)
    cache = cache_dir / f"{tier}_{seed}"
    cache.mkdir(parents=True, exist_ok=True)
    log(f"synthetic set: {len(clips)} clips ({tier}, seed {seed}) in {cache}, {workers} workers")
    synth = _run_parallel(_synth_job, [(c, cache, model) for c in clips], workers, log,
                          lambda a: a[0].name)
    synth.sort(key=lambda r: r.name)
    summary: dict[str, Any] = {
        "tier": tier,
        "seed": seed,
        "synthetic": summarize_synthetic(synth),
        "synthetic_clips": [r.to_dict() for r in synth],
    }
    labels = load_labels(videos_dir) if videos_dir is not None else []
    if exercises is not None:
        labels = [lb for lb in labels if lb.exercise in exercises]
    if labels:
        log(f"real clips: {len(labels)} from {videos_dir}")
        real = _run_parallel(_real_job, [(lb, model) for lb in labels], workers, log,
                             lambda a: a[0].path.name)
        real.sort(key=lambda r: r.file)
        summary["real"] = summarize_real(real)
    elif videos_dir is not None:
        log(f"real clips: none found in {videos_dir} (skipped)")
    return summary


def _fmt(value: Any, spec: str = ".2f") -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return format(value, spec)
    return str(value)


def format_analyzer_tables(analyzers: dict[str, Any]) -> Iterable[str]:
    """Per analyzer: rep counts or hold times, phase timing and the fault confusion table
    (``summarize_analyzers``)."""
    for exercise, a in analyzers.items():
        yield (f"\n{exercise}: reps exact in {_fmt(a['reps_exact_rate'], '.0%')} of "
               f"{a['clips']} clips; phase MAE s {a['phase_mae_s']}; "
               f"within 0.15 s {a['phase_within_0_15_s']}; onset lag MAE ms "
               f"{_fmt(a['onset_lag_mae_ms'], '.0f')}")
        if a.get("hold_mae_s") is not None:
            yield (f"  hold time: MAE {_fmt(a['hold_mae_s'])} s, within 0.5 s in "
                   f"{_fmt(a['hold_within_tolerance_rate'], '.0%')} of clips")
        yield f"  {'fault':18} {'TP':>4} {'FN':>4} {'FP':>4} {'TN':>5} {'recall':>7} " \
              f"{'false alarms':>13}"
        for code, f in a["faults"].items():
            yield (f"  {code:18} {f['tp']:4d} {f['fn']:4d} {f['fp']:4d} {f['tn']:5d} "
                   f"{_fmt(f['recall']):>7} {_fmt(f['false_alarm_rate']):>13}")


def format_tables(summary: dict[str, Any]) -> Iterable[str]:
    synth = summary["synthetic"]
    yield f"\nSynthetic renders ({synth['clips']} clips)"
    yield f"{'view':8} {'clips':>5} {'frames':>7} {'detected':>9} {'hip MAE':>8} " \
          f"{'knee MAE':>9} {'trunk MAE':>10}   (degrees)"
    for view, v in synth["by_view"].items():
        m = v["angle_mae_deg"]
        yield (f"{view:8} {v['clips']:5d} {v['frames']:7d} {_fmt(v['detection_rate'], '.2%'):>9} "
               f"{_fmt(m['hip_flexion_deg']):>8} {_fmt(m['knee_flexion_deg']):>9} "
               f"{_fmt(m['trunk_inclination_deg']):>10}")
    yield f"scale (mm per px) error, median |%|: {_fmt(synth['scale_abs_error_pct_median'])}"
    yield f"back bulge change from rep 1, MAE mm: {_fmt(synth['back_bulge_change_mae_mm'])}"
    yield from format_analyzer_tables(synth["analyzers"])
    real = summary.get("real")
    if real:
        yield f"\nReal clips ({real['clips']}): detection {_fmt(real['detection_rate'], '.2%')}, " \
              f"reps exact {real['reps_exact']}"
        yield f"  {'clip':34} {'exercise':14} {'view':8} {'pose':>6} {'reps':>9} " \
              f"{'labelled faults':22} found"
        for r in real["clips_table"]:
            pose = r["frames_with_pose"] / r["frames"] if r["frames"] else 0.0
            reps = f"{_fmt(r['counted_reps'])}/{_fmt(r['true_reps'])}"
            if r.get("counted_hold_s") is not None:
                reps = f"{_fmt(r['counted_hold_s'], '.1f')}/{_fmt(r['true_hold_s'], '.1f')}s"
            true = "?" if r["true_faults"] is None else (",".join(r["true_faults"]) or "none")
            found = "-" if r["found_faults"] is None else (",".join(r["found_faults"]) or "none")
            note = f"  ERROR: {r['error']}" if r["error"] else ""
            yield (f"  {r['file']:34} {r['exercise']:14} {r['view']:8} {pose:6.1%} {reps:>9} "
                   f"{true:22} {found}{note}")


def print_tables(summary: dict[str, Any], file: Any = sys.stdout) -> None:
    for line in format_tables(summary):
        file.write(line + "\n")
