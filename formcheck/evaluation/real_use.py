"""`formcheck eval --tier real-use`: mesh-body renders as people really film them (issue 14).

The set: per exercise, each target fault in clips where it is there from the first rep (at
least half of its clips, single-rep clips among them) and clips where it starts at a later
rep, plus clips with correct form (some single-rep); bodies from ``BODY_SHAPES``, clothes
from ``CLOTHING``, cameras 0-30 degrees off the side. Every clip goes through the same
``evaluate_clip`` as the other tiers (render once into the cache, analyze like a user's file).

The scoring splits each fault's recall by how the fault appeared: present from rep 1 (clips
of 2-5 reps), starting at a later rep, and single-rep clips; false alarms are counted on
neutral reps (no fault injected in that rep); and every figure is also given per body shape,
clothing and camera-angle band.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from formcheck.evaluation.synthetic import EvalClip, SynthClipResult, evaluate_clip

TIER = "real-use"
SINGLE = "single"
FIRST = "first"
LATER = "later"
# Per exercise: the fault kinds judged, the onsets of each fault's clips (a single-rep clip,
# then clips of 2-5 reps with the fault from rep 1 or from a later rep: from rep 1 in at
# least half of them), and how many correct clips (the first SINGLE_REP_CORRECT of them a
# single rep). Sized for 2 shared cores: about 40 clips, 20 000 frames.
PLAN: dict[str, tuple[tuple[str, ...], tuple[str, ...], int]] = {
    "hip_hinge": (
        ("lumbar_flexion", "lumbar_extension", "hips_rise_first", "knee_dominant", "knee_first"),
        (SINGLE, FIRST, FIRST, LATER),
        6,
    ),
    "squat": (("lumbar_flexion", "hips_rise_first", "knee_first"), (SINGLE, FIRST, LATER), 3),
}
SINGLE_REP_CORRECT = 2
TARGET_CODES: dict[str, tuple[str, ...]] = {
    "hip_hinge": ("spine_rounded", "spine_arched", "hips_rise_first", "knee_dominant",
                  "knee_first"),
    "squat": ("spine_rounded", "hips_rise_first", "knee_first"),
}  # fmt: skip
YAW_BANDS_DEG = ((0.0, 10.0), (10.0, 20.0), (20.0, 30.0), (30.0, 90.0))
Log = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class RealUseClip:
    """One clip of the set: how it is drawn (the spec follows from it and the seed)."""

    name: str
    exercise: str
    index: int
    seed: int
    fault_kind: str  # "" for correct form
    onset: str  # "single", "first", "later" ("" for correct multi-rep clips)
    reps: int
    body: str
    top: str
    bottom: str

    @property
    def clothing(self) -> str:
        return f"{self.top}/{self.bottom}"


def real_use_set(seed: int, exercises: frozenset[str] | None = None) -> list[RealUseClip]:
    """The tier's clips for ``seed`` (only those of ``exercises`` when given)."""
    from formcheck.synth.real_use import BODY_SHAPES, CLOTHING, REPS_RANGE

    rng = np.random.default_rng(seed)
    clips = []
    for exercise, (kinds, onsets, correct) in PLAN.items():
        rows: list[tuple[str, str]] = [(k, o) for k in kinds for o in onsets]
        rows += [("", SINGLE if i < SINGLE_REP_CORRECT else "") for i in range(correct)]
        bodies = rng.permutation(len(rows)) % len(BODY_SHAPES)
        clothes = rng.permutation(len(rows)) % len(CLOTHING)
        for i, (kind, onset) in enumerate(rows):
            low = REPS_RANGE[0] + (1 if onset == LATER else 0)  # a later rep must exist
            reps = 1 if onset == SINGLE else int(rng.integers(low, REPS_RANGE[1] + 1))
            top, bottom = CLOTHING[int(clothes[i])]
            clip = RealUseClip(
                name=f"{exercise}_{seed}_{i:02d}",
                exercise=exercise,
                index=i,
                seed=int(rng.integers(2**31 - 1)),
                fault_kind=kind,
                onset=onset,
                reps=reps,
                body=BODY_SHAPES[int(bodies[i])].name,
                top=top,
                bottom=bottom,
            )
            if exercises is None or exercise in exercises:
                clips.append(clip)
    return clips


def clip_spec(clip: RealUseClip) -> Any:
    """The clip's ``MeshClipSpec``."""
    from formcheck.synth.real_use import (
        BODY_SHAPES,
        ONSET_FIRST,
        ONSET_LATER,
        jittered_body,
        real_use_spec,
    )

    rng = np.random.default_rng(clip.seed)
    base = next(b for b in BODY_SHAPES if b.name == clip.body)
    onset = ONSET_LATER if clip.onset == LATER else ONSET_FIRST
    return real_use_spec(
        clip.exercise,
        rng,
        fault_kind=clip.fault_kind,
        onset=onset,
        reps=clip.reps,
        body=jittered_body(base, rng),
        top=clip.top,
        bottom=clip.bottom,
    )


def render_real_use_clip(clip: RealUseClip, cache_dir: Path) -> Path:
    """Render the clip into the cache unless it is already there; returns the video path."""
    from formcheck.synth.mesh_clip import render_mesh_clip

    video = cache_dir / f"{clip.name}.mp4"
    if not (video.is_file() and (cache_dir / f"{clip.name}.json").is_file()):
        render_mesh_clip(clip_spec(clip), cache_dir, clip.name)
    return video


@dataclass
class RealUseResult:
    clip: RealUseClip
    result: SynthClipResult


def evaluate_real_use_clip(
    clip: RealUseClip, cache_dir: Path, *, model: Path | None = None
) -> RealUseResult:
    """Render (once) and analyze one clip; ``evaluate_clip`` finds it in the cache."""
    render_real_use_clip(clip, cache_dir)
    eval_clip = EvalClip(clip.name, clip.exercise, clip.index, clip.seed, clip.fault_kind)
    return RealUseResult(clip, evaluate_clip(eval_clip, cache_dir, model=model))


# --- scoring ------------------------------------------------------------------------------------


def yaw_band(yaw_deg: float) -> str:
    a = abs(yaw_deg)
    for low, high in YAW_BANDS_DEG:
        if low <= a < high:
            return f"{low:g}-{high:g} deg"
    return f">{YAW_BANDS_DEG[-1][0]:g} deg"


def _rate(num: int, den: int) -> float | None:
    return round(num / den, 4) if den else None


@dataclass
class Tally:
    hits: int = 0
    faulty: int = 0
    false_alarms: int = 0
    neutral: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "recall": _rate(self.hits, self.faulty),
            "false_alarm_rate": _rate(self.false_alarms, self.neutral),
        }


def _rep_kind(clip: RealUseClip, faulty: bool) -> str | None:
    """Which recall split a faulty rep belongs to."""
    if not faulty:
        return None
    if clip.onset == SINGLE or clip.reps == 1:
        return SINGLE
    return LATER if clip.onset == LATER else FIRST


def score(results: list[RealUseResult]) -> dict[str, Any]:
    """Per exercise: per target code, recall split by onset and false alarms on neutral reps;
    pooled over the target codes, the same per body shape, clothing and camera band."""
    out: dict[str, Any] = {}
    by_exercise: dict[str, list[RealUseResult]] = defaultdict(list)
    for r in results:
        by_exercise[r.clip.exercise].append(r)
    for exercise, group in sorted(by_exercise.items()):
        codes = TARGET_CODES.get(exercise, ())
        per_code: dict[str, dict[str, Tally]] = {c: defaultdict(Tally) for c in codes}
        groups: dict[str, dict[str, Tally]] = {
            "body": defaultdict(Tally), "clothing": defaultdict(Tally),
            "camera": defaultdict(Tally),
        }  # fmt: skip
        neutral_any = Tally()
        reps_exact = single_counted = singles = 0
        for r in group:
            res, clip = r.result, r.clip
            reps_exact += res.counted_reps == res.true_reps
            if clip.reps == 1:
                singles += 1
                single_counted += res.counted_reps == 1
            keys = {"body": clip.body, "clothing": clip.clothing, "camera": yaw_band(res.yaw_deg)}
            for row in res.rep_rows:
                injected = bool(row.true_codes or row.ignored_codes)
                found_targets = [c for c in row.found_codes if c in codes]
                if not injected:
                    neutral_any.neutral += 1
                    neutral_any.false_alarms += bool(found_targets)
                for code in codes:
                    if code in row.ignored_codes:
                        continue
                    truth, found = code in row.true_codes, code in row.found_codes
                    split = _rep_kind(clip, truth)
                    tallies = [per_code[code]["all"]]
                    if split is not None:
                        tallies.append(per_code[code][split])
                    for t in tallies:
                        if truth:
                            t.faulty += 1
                            t.hits += found
                        elif not injected:
                            t.neutral += 1
                            t.false_alarms += found
                    if truth or not injected:
                        for name, key in keys.items():
                            t = groups[name][key]
                            t.faulty += truth
                            t.hits += truth and found
                            t.neutral += not truth
                            t.false_alarms += (not truth) and found
        out[exercise] = {
            "clips": len(group),
            "reps_exact_rate": _rate(reps_exact, len(group)),
            "single_rep_clips": singles,
            "single_rep_counted_one": single_counted,
            "neutral_reps_any_false_alarm": neutral_any.as_dict(),
            "faults": {
                code: {split: t.as_dict() for split, t in sorted(tallies.items())}
                for code, tallies in per_code.items()
            },
            "by": {
                name: {key: t.as_dict() for key, t in sorted(tallies.items())}
                for name, tallies in groups.items()
            },
        }
    return out


# --- running and printing -------------------------------------------------------------------------


def run_real_use_eval(
    *,
    seed: int,
    cache_dir: Path,
    model: Path | None,
    workers: int,
    exercises: frozenset[str] | None,
    log: Log,
) -> dict[str, Any]:
    from formcheck.evaluation.runner import _run_parallel as run_parallel
    from formcheck.evaluation.summary import summarize_synthetic
    from formcheck.synth.mesh_source import ensure_mesh_data

    # Fetch once, before the workers start (an OpenGL context is made in each worker only:
    # one made here would be inherited, broken, by forked workers).
    ensure_mesh_data(log=log)
    clips = real_use_set(seed, exercises)
    cache = cache_dir / f"{TIER}_{seed}"
    cache.mkdir(parents=True, exist_ok=True)
    log(f"real-use set: {len(clips)} mesh-body clips (seed {seed}) in {cache}, {workers} workers")
    start = time.perf_counter()
    results = run_parallel(
        _job, [(c, cache, model) for c in clips], workers, log, lambda a: a[0].name
    )
    results.sort(key=lambda r: r.clip.name)
    synth = [r.result for r in results]
    return {
        "tier": TIER,
        "seed": seed,
        "wall_s": round(time.perf_counter() - start, 1),
        "frames": sum(r.frames for r in synth),
        "real_use": score(results),
        "synthetic": summarize_synthetic(synth),
        "clips": [
            {**asdict(r.clip), "yaw_deg": r.result.yaw_deg, "counted_reps": r.result.counted_reps,
             "rows": [asdict(row) for row in r.result.rep_rows]}
            for r in results
        ],
    }


def _job(args: tuple[RealUseClip, Path, Path | None]) -> RealUseResult:
    clip, cache, model = args
    return evaluate_real_use_clip(clip, cache, model=model)


def _fmt(value: Any) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    return f"{value:.2f}" if isinstance(value, float) else str(value)


def _cell(t: dict[str, Any], what: str) -> str:
    if what == "recall":
        return f"{t['hits']}/{t['faulty']}" if t["faulty"] else "-"
    return f"{t['false_alarms']}/{t['neutral']}" if t["neutral"] else "-"


def format_real_use_tables(summary: dict[str, Any]) -> Iterable[str]:
    from formcheck.evaluation.runner import format_tables

    yield from format_tables({"synthetic": summary["synthetic"]})
    yield (f"\nReal-use renders (mesh bodies, loose clothes; seed {summary['seed']}; "
           f"{summary['frames']} frames in {summary['wall_s']:.0f} s)")  # fmt: skip
    for exercise, e in summary["real_use"].items():
        n = e["neutral_reps_any_false_alarm"]
        yield (f"\n{exercise}: {e['clips']} clips, reps exact {_fmt(e['reps_exact_rate'])}; "
               f"single-rep clips counted as one rep {e['single_rep_counted_one']}/"
               f"{e['single_rep_clips']}; neutral reps with any target finding "
               f"{n['false_alarms']}/{n['neutral']}")  # fmt: skip
        yield (f"  {'fault':16} {'from rep 1':>11} {'later':>8} {'single rep':>11} "
               f"{'all':>8} {'recall':>7} {'false alarms (neutral reps)':>28}")
        for code, splits in e["faults"].items():
            empty = {"hits": 0, "faulty": 0, "false_alarms": 0, "neutral": 0}
            row = [_cell(splits.get(s, empty), "recall") for s in (FIRST, LATER, SINGLE, "all")]
            a = splits.get("all", empty)
            yield (f"  {code:16} {row[0]:>11} {row[1]:>8} {row[2]:>11} {row[3]:>8} "
                   f"{_fmt(a.get('recall')):>7} {_cell(a, 'fa'):>16} "
                   f"{_fmt(a.get('false_alarm_rate')):>11}")
        for name, table in e["by"].items():
            yield f"  by {name} (target faults pooled): faulty reps found; neutral false alarms"
            for key, t in table.items():
                yield (f"    {key:22} {_cell(t, 'recall'):>8} {_fmt(t['recall']):>6}   "
                       f"{_cell(t, 'fa'):>8} {_fmt(t['false_alarm_rate']):>6}")
