"""Analyzer work on the labelled real clips: the pose model once, the analyzers in seconds.

    python bench/replay_real.py dump [--videos ../shared/videos]
    python bench/replay_real.py run  [--videos ../shared/videos] [--clip 0016r_1 ...]
           [--metrics curve_change_mm,rise_onset_lag_ms] [--findings]

``dump`` sends every labelled clip of ``LABELS.tsv`` whose exercise has an analyzer through
the pose model and the measure pipeline once and keeps its Sample stream (as
``bench/replay_analyzers.py`` does for renders). ``run`` feeds the streams to the analyzers
as they are now and prints one row per clip (label against what was found) and the
figures issue 14 asks for: reps exact on side views, back-fault recall, good-form clips with
any finding. Streams go to $REPLAY_CACHE/real (default /tmp/formcheck_replay/real).
"""

from __future__ import annotations

import argparse
import gzip
import pickle
import sys
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from replay_analyzers import REPLAY_CACHE, _commit, _unpack, cut_times_ms, dump_clip  # noqa: E402

from formcheck.analyzers import Baseline, Cue, exercise_names, get_analyzer  # noqa: E402
from formcheck.evaluation.real_labels import RealClipLabel, load_labels  # noqa: E402

BACK_FAULTS = frozenset({"spine_rounded", "spine_arched"})
SIDE_VIEWS = frozenset({"side"})


@dataclass
class RealReplay:
    label: RealClipLabel
    reps: int | None = None
    hold_s: float | None = None
    found: list[str] = field(default_factory=list)
    findings: list[Any] = field(default_factory=list)
    rep_metrics: list[dict[str, float]] = field(default_factory=list)
    not_judged: dict[str, str] = field(default_factory=dict)
    cues: list[Cue] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.label.path.stem


def _stream(cache: Path, label: RealClipLabel) -> Path:
    return cache / f"{label.path.parent.name}__{label.path.stem}.pkl.gz"


def _labels(videos: Path, clips: list[str]) -> list[RealClipLabel]:
    names = set(exercise_names())
    out = [lab for lab in load_labels(videos) if lab.exercise in names]
    if clips:
        out = [lab for lab in out if any(c in lab.path.stem for c in clips)]
    return out


def dump(args: argparse.Namespace) -> None:
    commit = _commit()
    jobs = [
        (lab.path, _stream(args.cache, lab), commit)
        for lab in _labels(args.videos, args.clip)
        if args.force or not _stream(args.cache, lab).exists()
    ]
    with ProcessPoolExecutor(args.workers) as pool:
        for i, name in enumerate(pool.map(dump_clip, jobs), 1):
            print(f"[{i}/{len(jobs)}] {name}", flush=True)


def replay(job: tuple[RealClipLabel, Path]) -> RealReplay:
    label, stream = job
    with gzip.open(stream, "rb") as f:
        data = pickle.load(f)
    cal = data["calibration"]
    analyzer = get_analyzer(label.exercise, None, Baseline.from_calibration(cal) if cal else None)
    out = RealReplay(label)
    cuts = frozenset() if data.get("cuts") else cut_times_ms(label.path)
    for sample in data["samples"]:
        out.cues += [e for e in analyzer.update(_unpack(sample, cuts)) if isinstance(e, Cue)]
    summary = analyzer.finish()
    out.reps = len(summary.reps)
    out.hold_s = summary.hold_s
    out.findings = list(summary.findings)
    out.found = sorted({f.code for f in summary.findings})
    out.rep_metrics = [dict(r.metrics) for r in summary.reps]
    for rep in summary.reps:
        for check in getattr(rep, "checks", ()):
            if check.status == "not_judged" and check.code not in out.not_judged:
                out.not_judged[check.code] = str(check.reason)
    return out


def run(args: argparse.Namespace) -> None:
    jobs = [
        (lab, _stream(args.cache, lab))
        for lab in _labels(args.videos, args.clip)
        if _stream(args.cache, lab).exists()
    ]
    if not jobs:
        sys.exit("no streams: run the dump command first")
    with ProcessPoolExecutor(args.workers) as pool:
        results = list(pool.map(replay, jobs))
    metrics = [k for k in args.metrics.split(",") if k]
    print(f"{'clip':34} {'view':10} {'reps':>9} {'label':28} found")
    for r in results:
        lab = r.label
        true = "?" if lab.faults is None else (",".join(sorted(lab.faults)) or "none")
        reps = f"{r.reps}/{lab.reps}" if lab.reps is not None else f"{r.hold_s or 0:.1f}s"
        print(f"{r.name:34} {lab.view:10} {reps:>9} {true:28} {','.join(r.found) or '-'}")
        if args.findings:
            for f in r.findings:
                limit = f"(limit {f.threshold:.1f})"
                print(f"      rep {f.rep} {f.code}: {f.value:.1f} {f.unit} {limit}")
        for i, m in enumerate(r.rep_metrics if metrics else [], 1):
            shown = " ".join(f"{k}={m.get(k, float('nan')):.1f}" for k in metrics)
            print(f"      rep {i}: {shown}")
        if r.not_judged and args.findings:
            print(f"      not judged: {r.not_judged}")
    print()
    for line in figures(results):
        print(line)


def figures(results: list[RealReplay]) -> list[str]:
    side_reps = [r for r in results if r.label.view in SIDE_VIEWS and r.label.reps is not None]
    exact = sum(r.reps == r.label.reps for r in side_reps)
    back = [(r, f) for r in results for f in (r.label.faults or ()) if f in BACK_FAULTS]
    back_found = sum(f in r.found for r, f in back)
    good = [r for r in results if r.label.faults is not None and not r.label.faults]
    flagged = [r for r in good if r.found]
    missed = ", ".join(f"{r.name}:{f}" for r, f in back if f not in r.found) or "none"
    flagged_text = ", ".join(f"{r.name}:{'+'.join(r.found)}" for r in flagged) or "none"
    all_faults = [(r, f) for r in results for f in (r.label.faults or ())]
    found_any = sum(f in r.found for r, f in all_faults)
    return [
        f"reps exact on side views: {exact}/{len(side_reps)}",
        f"back-fault recall: {back_found}/{len(back)} (missed: {missed})",
        f"labelled-fault recall (all codes): {found_any}/{len(all_faults)}",
        f"good-form clips with any finding: {len(flagged)}/{len(good)} ({flagged_text})",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("command", choices=("dump", "run"))
    parser.add_argument("--videos", type=Path, default=ROOT.parent / "shared" / "videos")
    parser.add_argument("--cache", type=Path, default=REPLAY_CACHE / "real")
    parser.add_argument("--clip", action="append", default=[], help="part of a clip's name")
    parser.add_argument("--metrics", default="", help="per-rep metrics to print, comma-separated")
    parser.add_argument("--findings", action="store_true", help="print each finding")
    parser.add_argument("--force", action="store_true", help="dump again even if a stream exists")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    dump(args) if args.command == "dump" else run(args)


if __name__ == "__main__":
    main()
