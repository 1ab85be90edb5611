"""Analyzer work on the synthetic eval sets: the pose model once, the analyzers in seconds.

    python bench/replay_analyzers.py dump --tier lib --seed 7 [--exercise squat ...]
    python bench/replay_analyzers.py run  --tier lib --seed 7 --seed 8 [--exercise squat ...]
           [--metrics onset_lag_change_ms,rise_mid_lag_change_ms] [--cues]

``dump`` sends each rendered clip of a tier and seed (render them first: ``formcheck eval
--tier lib --seed 7``) through the pose model and the measure pipeline once, and keeps its
Sample stream: masks as uint8, and the samples from before calibration locked without
their masks, as ``ExerciseSession`` hands them to an analyzer. ``run`` feeds those streams
to the analyzers as they are now and prints the tables of ``formcheck eval``, pooled over
every seed given; ``--metrics`` adds per-rep metrics next to the true and found codes,
``--cues`` the live cues with the time they came and whether the rep truly had that fault.

A full lib-tier evaluation takes about 40 minutes on 2 cores; ``run`` takes seconds, so a
threshold or a check can be tried on several seeds at once. The figures equal those of
``formcheck eval`` (checked on seeds 2026, 7 and 8: identical confusion tables). A change
to the pose model or the measure pipeline needs a new ``dump`` (each stream records the
commit it was made at, and ``run`` says when that differs from the working tree's).
Streams go to $REPLAY_CACHE or /tmp/formcheck_replay (about 7 MB a clip).
"""

from __future__ import annotations

import argparse
import dataclasses
import gzip
import json
import os
import pickle
import subprocess
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from formcheck.analyzers import Baseline, Cue, exercise_names, get_analyzer  # noqa: E402
from formcheck.evaluation import synthetic as syn  # noqa: E402
from formcheck.evaluation.real_use import (  # noqa: E402
    RealUseResult,
    format_real_use_tables,
    real_use_set,
)
from formcheck.evaluation.real_use import score as score_real_use  # noqa: E402
from formcheck.evaluation.runner import DEFAULT_CACHE, format_analyzer_tables  # noqa: E402
from formcheck.evaluation.summary import summarize_analyzers, summarize_synthetic  # noqa: E402
from formcheck.report.build import build_report, stream_video_block  # noqa: E402
from formcheck.report.model import ModelBlock, ReportSource  # noqa: E402
from formcheck.types import PoseFrame, Sample  # noqa: E402

REPLAY_CACHE = Path(os.environ.get("REPLAY_CACHE", "/tmp/formcheck_replay"))
REAL_USE = "real-use"
MASK_LEVELS = 255.0


def _commit() -> str:
    out = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    )
    return out.stdout.strip() or "unknown"


def _pack(sample: Sample, keep_mask: bool) -> Sample:
    mask = sample.pose.mask if keep_mask else None
    if mask is not None:
        mask = np.clip(np.rint(mask * MASK_LEVELS), 0, MASK_LEVELS).astype(np.uint8)
    return dataclasses.replace(sample, pose=dataclasses.replace(sample.pose, mask=mask))


def _unpack(sample: Sample, cuts_ms: frozenset[float] = frozenset()) -> Sample:
    """The sample as the analyzer gets it: its mask back to 0..1 floats; a stream dumped
    before a PoseFrame field existed gets that field's default (``shot_cut`` from
    ``cuts_ms`` when given: see ``cut_times_ms``)."""
    old = sample.pose
    fields = {
        f.name: getattr(old, f.name, f.default) for f in dataclasses.fields(PoseFrame)
    }
    if cuts_ms:
        fields["shot_cut"] = old.t_ms in cuts_ms
    mask = fields["mask"]
    if mask is not None and mask.dtype == np.uint8:
        fields["mask"] = mask.astype(np.float32) / MASK_LEVELS
    return dataclasses.replace(sample, pose=PoseFrame(**fields))


def cut_times_ms(video: Path) -> frozenset[float]:
    """The times of the frames where ``video`` cuts to another shot, as ``analyze`` finds
    them (for streams dumped before cuts were looked for; decoding only, no pose model)."""
    from formcheck.config import PipelineConfig
    from formcheck.video import open_source
    from formcheck.video.shots import mark_cuts

    config = PipelineConfig()
    with open_source(video, max_side_px=config.max_inference_side_px) as source:
        marked = mark_cuts(source, lambda frame: frame.rgb, config.shots)
        return frozenset(frame.t_ms for frame, cut in marked if cut)


def dump_clip(job: tuple[Path, Path, str]) -> str:
    """One clip's Sample stream, as an ExerciseSession would hand it to an analyzer."""
    from formcheck.config import PipelineConfig
    from formcheck.pose.estimator import PoseEstimator
    from formcheck.pose.model import ensure_model
    from formcheck.session import ExerciseSession
    from formcheck.video import open_source
    from formcheck.video.shots import mark_cuts

    video, out, commit = job
    config = PipelineConfig()
    samples: list[Sample] = []
    with (
        open_source(video, max_side_px=config.max_inference_side_px) as source,
        PoseEstimator(
            ensure_model(None).path,
            segmentation=config.segmentation,
            max_people=config.max_people,
        ) as estimator,
    ):
        session = ExerciseSession(estimator, config=config)
        for frame, cut in mark_cuts(source, lambda f: f.rgb, config.shots):
            pose = estimator.process(frame)
            step = session.push_pose(dataclasses.replace(pose, shot_cut=cut))
            calibrated = session.pipeline.calibration is not None
            samples += [_pack(s, keep_mask=calibrated) for s in step.samples]
        tail, _, _ = session.finish()
        samples += [_pack(s, keep_mask=True) for s in tail]
        calibration = session.pipeline.calibration
    out.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(out, "wb", compresslevel=3) as f:
        pickle.dump(
            {"commit": commit, "samples": samples, "calibration": calibration, "cuts": True}, f
        )
    return video.stem


def replay_clip(job: tuple[Path, Path]) -> tuple[syn.SynthClipResult, list[Cue], str]:
    """The current analyzer over a stored stream, scored like ``formcheck eval``."""
    meta_path, stream = job
    meta = json.loads(meta_path.read_text())
    with gzip.open(stream, "rb") as f:
        data = pickle.load(f)
    exercise = syn.analyzer_name(str(meta["exercise"]))
    calibration = data["calibration"]
    analyzer = get_analyzer(
        exercise,
        syn.clip_prescription(meta, exercise),
        Baseline.from_calibration(calibration) if calibration else None,
    )
    cues: list[Cue] = []
    for sample in data["samples"]:
        cues += [e for e in analyzer.update(_unpack(sample)) if isinstance(e, Cue)]
    samples = data["samples"]
    report = build_report(
        source=ReportSource.FILE,
        video=stream_video_block(
            frames=len(samples),
            frames_with_pose=sum(s.pose.has_pose for s in samples),
            first_t_ms=samples[0].t_ms if samples else None,
            last_t_ms=samples[-1].t_ms if samples else 0.0,
        ),
        model=ModelBlock(source=f"replayed stream of {data.get('commit', 'unknown')}"),
        calibration=calibration,
        summary=analyzer.finish(),
    )
    yaw = float(meta["camera"]["yaw_deg"])
    result = syn.SynthClipResult(
        name=meta_path.stem,
        exercise=str(meta["exercise"]),
        variant=str(meta.get("variant", "")),
        label=str(meta.get("label", "")),
        yaw_deg=yaw,
        view="side" if abs(yaw) <= syn.SIDE_VIEW_MAX_YAW_DEG else "oblique",
        frames=len(data["samples"]),
        frames_with_pose=sum(s.pose.has_pose for s in data["samples"]),
        true_reps=len(meta.get("reps", [])),
        faults_true=sorted({f["kind"] for f in meta.get("faults", [])}),
        report=report,
    )
    syn.score_analysis(result, meta, report)
    return result, cues, str(data.get("commit", "unknown"))


def _clips(cache: Path, tier: str, seed: int, exercises: list[str]) -> list[Path]:
    """The rendered clips of a tier and seed (their truth .json files)."""
    folder = cache / f"{tier}_{seed}"
    wanted = frozenset(exercises) if exercises else None
    if tier == REAL_USE:
        names = {c.name for c in real_use_set(seed, wanted)}
    else:
        names = {c.name for c in syn.eval_set(tier, seed, wanted)}
    return sorted(p.with_suffix(".json") for p in folder.glob("*.mp4") if p.stem in names)


def _stream(meta: Path, tier: str, seed: int) -> Path:
    return REPLAY_CACHE / f"{tier}_{seed}" / f"{meta.stem}.pkl.gz"


def dump(args: argparse.Namespace) -> None:
    commit = _commit()
    jobs = [
        (meta.with_suffix(".mp4"), _stream(meta, args.tier, seed), commit)
        for seed in args.seed
        for meta in _clips(args.cache, args.tier, seed, args.exercise)
        if args.force or not _stream(meta, args.tier, seed).exists()
    ]
    if not jobs:
        print("nothing to dump: every rendered clip has a stream (render more: formcheck eval)")
    with ProcessPoolExecutor(args.workers) as pool:
        for i, name in enumerate(pool.map(dump_clip, jobs), 1):
            print(f"[{i}/{len(jobs)}] {name}", flush=True)


def _value(metrics: dict[str, Any], key: str) -> str:
    value = metrics.get(key)
    return f"{key}={value:.1f}" if isinstance(value, (int, float)) else f"{key}=-"


def run(args: argparse.Namespace) -> None:
    jobs = [
        (meta, _stream(meta, args.tier, seed))
        for seed in args.seed
        for meta in _clips(args.cache, args.tier, seed, args.exercise)
        if _stream(meta, args.tier, seed).exists()
    ]
    if not jobs:
        sys.exit("no streams: run the dump command first")
    with ProcessPoolExecutor(args.workers) as pool:
        outcomes = list(pool.map(replay_clip, jobs))
    head, stale = _commit(), set()
    metrics = [k for k in args.metrics.split(",") if k]
    for result, cues, commit in outcomes:
        if commit != head:
            stale.add(commit)
        if not (metrics or args.cues):
            continue
        print(f"{result.name} {result.label} yaw {result.yaw_deg:.0f}: reps "
              f"{result.counted_reps}/{result.true_reps}, found {result.faults_found}")
        truth = {i: row.true_codes for i, row in enumerate(result.rep_rows, 1)}
        for cue in cues if args.cues else []:
            ok = cue.code in truth.get(cue.rep, []) or (
                cue.code.startswith("tempo") and "tempo_fast" in truth.get(cue.rep, [])
            )
            print(f"   cue {cue.code} rep {cue.rep} at {cue.t_s:.2f} s: {cue.value:.1f} "
                  f"(limit {cue.threshold:.1f} {cue.unit}) {'true' if ok else 'FALSE'}")
        reps = result.report.reps if result.report is not None else []
        for row, rep in zip(result.rep_rows, reps, strict=False):
            shown = " ".join(_value(dict(rep.metrics), k) for k in metrics)
            codes = f"true {row.true_codes} found {row.found_codes}"
            print(f"   rep {rep.index}: {codes} {shown}")
    seeds = ", ".join(str(s) for s in args.seed)
    print(f"\n{len(outcomes)} clips ({args.tier}, seeds {seeds}), analyzers as in the working tree")
    if stale:
        print(f"streams made at commit(s) {', '.join(sorted(stale))}, the tree is at {head}: "
              "dump again if the pose or measure pipeline changed since")
    for line in format_analyzer_tables(summarize_analyzers([r for r, _, _ in outcomes])):
        print(line)
    if args.tier == REAL_USE:
        clips = {c.name: c for seed in args.seed for c in real_use_set(seed)}
        results = [RealUseResult(clips[r.name], r) for r, _, _ in outcomes]
        print()
        summary = {
            "seed": ", ".join(str(x) for x in args.seed),
            "frames": sum(r.frames for r, _, _ in outcomes),
            "wall_s": 0.0,
            "real_use": score_real_use(results),
            "synthetic": summarize_synthetic([r for r, _, _ in outcomes]),
        }
        lines = list(format_real_use_tables(summary))
        for line in lines[lines.index(next(x for x in lines if "Real-use" in x)) :]:
            print(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=("dump", "run"))
    parser.add_argument("--tier", default="lib")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="rendered clips")
    parser.add_argument("--seed", type=int, action="append", required=True)
    parser.add_argument("--exercise", action="append", default=[],
                        help=f"synthetic or analyzer name: {', '.join(exercise_names())}")
    parser.add_argument("--metrics", default="", help="per-rep metrics to print, comma-separated")
    parser.add_argument("--cues", action="store_true", help="print the live cues against truth")
    parser.add_argument("--force", action="store_true", help="dump again even if a stream exists")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    dump(args) if args.command == "dump" else run(args)


if __name__ == "__main__":
    main()
