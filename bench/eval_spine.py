"""Back-outline measures on real clips: per-rep bottom values, standing reference, noise floor.

    python bench/eval_spine.py extract [CLIP ...]   # runs the pose model once, caches poses+masks
    python bench/eval_spine.py report  [CLIP ...]   # prints the tables (fast, from the cache)

Clips are names in ../shared/videos/LABELS.tsv (e.g. hinge/0016r_1.mp4). The cache (poses and
uint8 masks, several hundred MB a clip) goes to $SPINE_EVAL_CACHE or /tmp/formcheck_spine_eval.

Scale: the real clips have no calibration, so millimetres assume a 1.70 m person whose
standing height is the mask's height in the first second. Percentages of the
shoulder-hip chord do not depend on that guess.
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from formcheck.kinematics.spine import (
    BackOutline,
    SideChoice,
    SpineConfig,
    SpineDeviation,
    SpineReference,
    extract_back_outline,
    measure_back,
    mid_vs_ends_px,
    quadratic_sagitta_px,
)
from formcheck.pose.landmarks import NUM_LANDMARKS, Landmark
from formcheck.types import Facing, PoseFrame, VideoFrame

VIDEOS = Path(__file__).resolve().parents[2] / "shared" / "videos"
CACHE = Path(os.environ.get("SPINE_EVAL_CACHE", "/tmp/formcheck_spine_eval"))
DEFAULT_CLIPS = (
    "hinge/0016c_1.mp4",
    "hinge/0016r_1.mp4",
    "hinge/0016k_1.mp4",
    "hinge/0016h_1.mp4",
)
ASSUMED_STATURE_MM = 1700.0
STANDING_WINDOW_S = (0.0, 1.0)  # the first second (scale; these clips open with a hand wave)
LOCKOUT_WITHIN_DEG = 3.0  # lockout: trunk inclination within this of the rep's lowest
LOCKOUT_REPS = 2  # the standing reference: lockout frames of the first reps
BOTTOM_WITHIN_DEG = 5.0  # bottom phase: trunk inclination within this of the rep's peak
MASK_LEVELS = 255.0
DENSE = SpineConfig(station_start_frac=0.0, station_stop_frac=1.0, station_count=41)


@dataclass(frozen=True)
class Label:
    clip: str
    facing: Facing
    reps_s: list[tuple[float, float]]
    faults: str


def read_labels() -> dict[str, Label]:
    labels: dict[str, Label] = {}
    with open(VIDEOS / "LABELS.tsv", newline="") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            reps = [
                (float(a), float(b))
                for a, b in (span.split("-") for span in row["rep_times"].split(";") if span)
            ]
            labels[row["file"]] = Label(row["file"], Facing(row["facing"]), reps, row["faults"])
    return labels


# --- extract ---------------------------------------------------------------------------------


def _frames(path: Path) -> Iterator[VideoFrame]:
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        base = float(stream.time_base) if stream.time_base is not None else 0.0
        for index, frame in enumerate(container.decode(stream)):
            t_ms = float(frame.pts) * base * 1000.0 if frame.pts is not None else math.nan
            rgb: np.ndarray = np.ascontiguousarray(frame.to_ndarray(format="rgb24"))  # padded rows
            yield VideoFrame(index, t_ms, rgb)


def clip_path(clip: str) -> Path:
    """A LABELS.tsv name, or a path to any video (e.g. a rendered synthetic clip)."""
    path = Path(clip)
    return path if path.is_absolute() else VIDEOS / clip


def extract(clip: str) -> None:
    from formcheck.pose.estimator import PoseEstimator
    from formcheck.pose.model import ensure_model

    model = ensure_model()
    out_dir = CACHE / Path(clip).stem
    out_dir.mkdir(parents=True, exist_ok=True)
    t_ms: list[float] = []
    lms: list[np.ndarray] = []
    vis: list[np.ndarray] = []
    masks: list[np.ndarray] = []
    shape = (0, 0)
    start = time.perf_counter()
    with PoseEstimator(model.path, segmentation=True, max_people=1) as estimator:
        for frame in _frames(clip_path(clip)):
            pose = estimator.process(frame)
            shape = (pose.image_height_px, pose.image_width_px)
            t_ms.append(frame.t_ms)
            lms.append(
                pose.landmarks_px
                if pose.landmarks_px is not None
                else np.full((NUM_LANDMARKS, 3), np.nan)
            )
            vis.append(pose.visibility if pose.visibility is not None else np.zeros(NUM_LANDMARKS))
            mask = pose.mask if pose.mask is not None else np.zeros(shape, np.float32)
            masks.append(np.round(mask * MASK_LEVELS).astype(np.uint8))
    elapsed = time.perf_counter() - start
    np.savez(
        out_dir / "poses.npz",
        t_ms=np.array(t_ms),
        landmarks_px=np.array(lms),
        visibility=np.array(vis),
        shape=np.array(shape),
    )
    np.save(out_dir / "masks_u8.npy", np.array(masks))
    print(f"{clip}: {len(t_ms)} frames in {elapsed:.1f} s -> {out_dir}")


class Cached:
    """Poses and masks of one clip as PoseFrames."""

    def __init__(self, clip: str) -> None:
        d = CACHE / Path(clip).stem
        poses = np.load(d / "poses.npz")
        self.t_ms = poses["t_ms"]
        self.landmarks_px = poses["landmarks_px"]
        self.visibility = poses["visibility"]
        self.masks = np.load(d / "masks_u8.npy", mmap_mode="r")
        self.height_px, self.width_px = (int(v) for v in poses["shape"])

    def __len__(self) -> int:
        return len(self.t_ms)

    def pose(self, i: int) -> PoseFrame:
        has = bool(np.isfinite(self.landmarks_px[i]).all())
        return PoseFrame(
            t_ms=float(self.t_ms[i]),
            image_width_px=self.width_px,
            image_height_px=self.height_px,
            landmarks_px=self.landmarks_px[i] if has else None,
            visibility=self.visibility[i] if has else None,
            mask=(self.masks[i].astype(np.float32) / MASK_LEVELS) if has else None,
        )


# --- per-frame measures ----------------------------------------------------------------------

ProfileMeasure = Callable[[np.ndarray, np.ndarray], float]


def _mve(start: float, stop: float, end_band: float = 0.1) -> ProfileMeasure:
    return lambda t, d: mid_vs_ends_px(t, d, start, stop, end_band, 0.1, 1)


def _quad(start: float, stop: float) -> ProfileMeasure:
    return lambda t, d: quadratic_sagitta_px(t, d, start, stop, 5)


# Candidate shape measures, all in px (+ convex/rounded), on the dense outline.
VARIANTS: dict[str, ProfileMeasure] = {
    "bulge_mve_.10-.90": _mve(0.10, 0.90),
    "bulge_mve_.30-.85": _mve(0.30, 0.85),
    "curve_q_.15-.85": _quad(0.15, 0.85),
    "curve_q_.35-.85": _quad(0.35, 0.85),
    "curve_q_.45-.90": _quad(0.45, 0.90),
    "curve_q_.20-.60": _quad(0.20, 0.60),
    "bulge_mve_0-1_e.05": _mve(0.0, 1.0, 0.05),
}
MAIN_KEYS = ("back_bulge", "back_curve", "back_offset")  # what measure_back returns


@dataclass
class FrameTable:
    t_s: np.ndarray
    inclination_deg: np.ndarray
    chord_px: np.ndarray
    values_px: dict[str, np.ndarray]  # measure -> per frame px
    profiles_px: np.ndarray  # (frames, 41) dense offsets, NaN where invalid
    valid_frac: np.ndarray
    confidence: np.ndarray
    arm_frac: np.ndarray
    head_forward_px: np.ndarray
    chin_drop_deg: np.ndarray
    ms_per_frame: float


def _inclination_deg(lm: np.ndarray) -> float:
    sh = 0.5 * (lm[Landmark.LEFT_SHOULDER, :2] + lm[Landmark.RIGHT_SHOULDER, :2])
    hip = 0.5 * (lm[Landmark.LEFT_HIP, :2] + lm[Landmark.RIGHT_HIP, :2])
    v = sh - hip
    return math.degrees(math.atan2(abs(v[0]), -v[1]))


def frame_table(data: Cached, facing: Facing, side: SideChoice) -> FrameTable:
    dense = replace(DENSE, side=side)
    default = replace(SpineConfig(), side=side)
    n = len(data)
    nan = np.full(n, np.nan)
    values = {k: nan.copy() for k in [*VARIANTS, *MAIN_KEYS]}
    profiles = np.full((n, DENSE.station_count), np.nan)
    inc, chord, vf, conf, arm, head, chin = (nan.copy() for _ in range(7))
    spent = 0.0
    for i in range(n):
        pose = data.pose(i)
        if not pose.has_pose:
            continue
        inc[i] = _inclination_deg(np.asarray(pose.landmarks_px))
        t0 = time.perf_counter()
        m = measure_back(pose, facing, 1.0, default)
        spent += time.perf_counter() - t0
        values["back_bulge"][i] = m.back_bulge_mm
        values["back_curve"][i] = m.back_curve_mm
        values["back_offset"][i] = m.back_offset_mm
        head[i] = m.head_forward_mm
        chin[i] = m.chin_drop_deg
        chord[i] = m.spine_chord_mm
        o = extract_back_outline(pose, facing, dense)
        if o is None:
            continue
        vf[i] = o.valid.mean()
        conf[i] = o.mask_confidence
        arm[i] = o.arm_overlap.mean()
        if not o.usable:
            continue
        profiles[i] = o.offsets_px
        for key, fn in VARIANTS.items():
            values[key][i] = fn(o.fractions, o.offsets_px)
    return FrameTable(
        data.t_ms / 1000.0,
        inc,
        chord,
        values,
        profiles,
        vf,
        conf,
        arm,
        head,
        chin,
        1000.0 * spent / max(1, int(np.isfinite(inc).sum())),
    )


def stature_scale_mm_per_px(data: Cached) -> float:
    """mm per px assuming ASSUMED_STATURE_MM for the mask height in the standing window."""
    heights = []
    for i in np.flatnonzero(
        (data.t_ms / 1000.0 >= STANDING_WINDOW_S[0]) & (data.t_ms / 1000.0 < STANDING_WINDOW_S[1])
    ):
        rows = np.flatnonzero((data.masks[i] >= 128).any(axis=1))
        if rows.size:
            heights.append(rows[-1] - rows[0] + 1)
    return ASSUMED_STATURE_MM / float(np.median(heights)) if heights else math.nan


def bottom_frames(table: FrameTable, rep: tuple[float, float]) -> np.ndarray:
    in_rep = (table.t_s >= rep[0]) & (table.t_s < rep[1]) & np.isfinite(table.inclination_deg)
    if not in_rep.any():
        return np.zeros(0, dtype=np.intp)
    peak = float(np.nanmax(table.inclination_deg[in_rep]))
    return np.flatnonzero(in_rep & (table.inclination_deg >= peak - BOTTOM_WITHIN_DEG))


def first_second_frames(table: FrameTable) -> np.ndarray:
    return np.flatnonzero((table.t_s >= STANDING_WINDOW_S[0]) & (table.t_s < STANDING_WINDOW_S[1]))


def standing_frames(table: FrameTable, label: Label) -> np.ndarray:
    """Lockout frames (upright, holding the weight) of the first reps: the standing reference."""
    out = []
    for rep in label.reps_s[:LOCKOUT_REPS]:
        in_rep = (table.t_s >= rep[0]) & (table.t_s < rep[1]) & np.isfinite(table.inclination_deg)
        if in_rep.any():
            low = float(np.nanmin(table.inclination_deg[in_rep]))
            out.append(np.flatnonzero(in_rep & (table.inclination_deg <= low + LOCKOUT_WITHIN_DEG)))
    return np.concatenate(out) if out else np.zeros(0, dtype=np.intp)


# --- report ----------------------------------------------------------------------------------


def _ms(values: list[float]) -> str:
    v = np.array([x for x in values if math.isfinite(x)])
    if v.size == 0:
        return "      n/a      "
    sd = float(np.std(v, ddof=1)) if v.size > 1 else math.nan
    return f"{float(v.mean()):+6.1f} +- {sd:4.1f}"


def report(clips: list[str], side: SideChoice) -> None:
    labels = read_labels()
    tables: dict[str, FrameTable] = {}
    scales: dict[str, float] = {}
    for clip in clips:
        data = Cached(clip)
        tables[clip] = frame_table(data, labels[clip].facing, side)
        scales[clip] = stature_scale_mm_per_px(data)
    print(
        f"side={side.value}; mm assume a {ASSUMED_STATURE_MM:.0f} mm person; "
        f"bottom = inclination within {BOTTOM_WITHIN_DEG} deg of the rep's peak"
    )
    print(
        "\nclip             fault           frames  pose%  usable%  conf  arm%  mm/px  "
        "chord_px(stand)  ms/frame"
    )
    for clip, tb in tables.items():
        usable = np.isfinite(tb.values_px["back_curve"])
        st = standing_frames(tb, labels[clip])
        print(
            f"{Path(clip).stem:16s} {labels[clip].faults or '-':15s} {len(tb.t_s):6d} "
            f"{100 * np.isfinite(tb.inclination_deg).mean():5.0f} {100 * usable.mean():7.0f} "
            f"{np.nanmedian(tb.confidence):5.2f} {100 * np.nanmean(tb.arm_frac):4.1f} "
            f"{scales[clip]:6.2f} {np.nanmedian(tb.chord_px[st]):10.1f} "
            f"{tb.ms_per_frame:12.2f}"
        )
    keys = [*MAIN_KEYS, *VARIANTS]
    for unit in ("mm", "%chord"):
        print(
            f"\nPer-rep bottom value ({unit}), mean +- sd over reps; then its change from the "
            "standing reference (lockout frames of reps 1-2)"
        )
        print(f"{'measure':20s} " + " ".join(f"{Path(c).stem:>17s}" for c in clips))
        for key in keys:
            cells, deltas = [], []
            for clip in clips:
                tb = tables[clip]
                scale = scales[clip] if unit == "mm" else None
                reps, stand = _rep_values(tb, labels[clip], key, scale)
                cells.append(_ms(reps))
                deltas.append(_ms([r - stand for r in reps]))
            print(f"{key:20s} " + " ".join(f"{c:>17s}" for c in cells))
            print(f"{'  - standing':20s} " + " ".join(f"{c:>17s}" for c in deltas))
    print(
        "\nNoise floor per frame (mm): sd over the first second (hand wave) | over the lockout "
        "frames of reps 1-2 | median within-rep sd over bottom frames"
    )
    for key in keys:
        cells = []
        for clip in clips:
            tb = tables[clip]
            v = tb.values_px[key] * scales[clip]
            first = v[first_second_frames(tb)]
            st = v[standing_frames(tb, labels[clip])]
            within = [
                np.nanstd(v[b], ddof=1)
                for b in (bottom_frames(tb, r) for r in labels[clip].reps_s)
                if np.isfinite(v[b]).sum() > 2
            ]
            cells.append(
                f"{np.nanstd(first, ddof=1):4.1f}|{np.nanstd(st, ddof=1):4.1f}|"
                f"{np.median(within):4.1f}"
            )
        print(f"{key:20s} " + " ".join(f"{c:>17s}" for c in cells))
    _separation_table(clips, tables, scales, labels, keys)
    _reference_table(clips, tables, scales, labels, side)
    _head_table(clips, tables, scales, labels)


def _auc(pos: np.ndarray, neg: np.ndarray) -> float:
    """P(a rounded rep scores above a neutral one)."""
    if pos.size == 0 or neg.size == 0:
        return math.nan
    greater = (pos[:, None] > neg[None, :]).mean()
    ties = (pos[:, None] == neg[None, :]).mean()
    return float(greater + 0.5 * ties)


def _separation_table(
    clips: list[str],
    tables: dict[str, FrameTable],
    scales: dict[str, float],
    labels: dict[str, Label],
    keys: list[str],
) -> None:
    """How well each measure splits reps of clips labelled spine_rounded from the others."""
    print(
        "\nSeparation, rounded reps vs the other clips' reps: d' (mean gap / pooled sd) and "
        "AUC; raw bottom value | change from the standing reference; mm"
    )
    for key in keys:
        cells = []
        for use_delta in (False, True):
            pos: list[float] = []
            neg: list[float] = []
            for clip in clips:
                reps, stand = _rep_values(tables[clip], labels[clip], key, scales[clip])
                vals = [r - stand for r in reps] if use_delta else reps
                (pos if "spine_rounded" in labels[clip].faults else neg).extend(
                    v for v in vals if math.isfinite(v)
                )
            p, n = np.array(pos), np.array(neg)
            if p.size < 2 or n.size < 2:
                cells.append("   n/a")
                continue
            pooled = math.sqrt(0.5 * (p.var(ddof=1) + n.var(ddof=1)))
            cells.append(f"d'={(p.mean() - n.mean()) / pooled:+5.2f} AUC={_auc(p, n):4.2f}")
        print(f"{key:20s} " + " | ".join(cells))


def _rep_values(
    tb: FrameTable, label: Label, key: str, scale: float | None
) -> tuple[list[float], float]:
    v = tb.values_px[key]
    v = v * scale if scale is not None else 100.0 * v / tb.chord_px
    reps = [
        float(np.nanmean(v[b])) if np.isfinite(v[b]).any() else math.nan
        for b in (bottom_frames(tb, r) for r in label.reps_s)
    ]
    stand = float(np.nanmean(v[standing_frames(tb, label)]))
    return reps, stand


def _reference_table(
    clips: list[str],
    tables: dict[str, FrameTable],
    scales: dict[str, float],
    labels: dict[str, Label],
    side: SideChoice,
) -> None:
    """SpineReference built from the bottoms of the first reps of a reference clip."""
    print(
        "\nSpineReference deviation (mm; curve and offset of bottom outline minus reference): "
        "reference = bottom frames of reps 1-2 of the same clip | of 0016c_1 reps 1-3"
    )
    cfg = replace(SpineConfig(), side=side)
    ref_clip = "hinge/0016c_1.mp4"
    cross = (
        _build_reference(ref_clip, tables, scales, labels, cfg, range(3))
        if ref_clip in tables
        else None
    )
    for clip in clips:
        own = _build_reference(clip, tables, scales, labels, cfg, range(2))
        own_dev = _deviations(clip, tables, scales, labels, cfg, own, skip=2)
        cross_dev = (
            _deviations(clip, tables, scales, labels, cfg, cross, skip=3 if clip == ref_clip else 0)
            if cross is not None
            else []
        )
        own_curve = [d.curve_mm for d in own_dev]
        own_offset = [d.offset_mm for d in own_dev]
        noise = own.noise()
        print(
            f"{Path(clip).stem:16s} own: curve {_ms(own_curve)} offset {_ms(own_offset)} "
            f"(noise {noise.curve_mm:3.1f}, {noise.offset_mm:3.1f}) | vs 0016c_1: curve "
            f"{_ms([d.curve_mm for d in cross_dev])} offset {_ms([d.offset_mm for d in cross_dev])}"
        )


def _outlines_at(
    clip: str, labels: dict[str, Label], frames: np.ndarray, cfg: SpineConfig
) -> list[BackOutline]:
    data = Cached(clip)
    out = []
    for i in frames:
        o = extract_back_outline(data.pose(int(i)), labels[clip].facing, cfg)
        if o is not None and o.usable:
            out.append(o)
    return out


def _build_reference(
    clip: str,
    tables: dict[str, FrameTable],
    scales: dict[str, float],
    labels: dict[str, Label],
    cfg: SpineConfig,
    reps: range,
) -> SpineReference:
    ref = SpineReference(cfg)
    for r in reps:
        for o in _outlines_at(
            clip, labels, bottom_frames(tables[clip], labels[clip].reps_s[r]), cfg
        ):
            ref.add(o, scales[clip])
    return ref


def _deviations(
    clip: str,
    tables: dict[str, FrameTable],
    scales: dict[str, float],
    labels: dict[str, Label],
    cfg: SpineConfig,
    ref: SpineReference,
    skip: int,
) -> list[SpineDeviation]:
    """Per-rep mean deviation of the bottom frames from the reference."""
    out = []
    for rep in labels[clip].reps_s[skip:]:
        devs = [
            ref.deviation(o, scales[clip])
            for o in _outlines_at(clip, labels, bottom_frames(tables[clip], rep), cfg)
        ]
        if not devs:
            out.append(SpineDeviation())
            continue
        out.append(
            SpineDeviation(
                bulge_mm=float(np.nanmean([d.bulge_mm for d in devs])),
                curve_mm=float(np.nanmean([d.curve_mm for d in devs])),
                offset_mm=float(np.nanmean([d.offset_mm for d in devs])),
            )
        )
    return out


def _head_table(
    clips: list[str],
    tables: dict[str, FrameTable],
    scales: dict[str, float],
    labels: dict[str, Label],
) -> None:
    print("\nHead at the rep bottoms: head_forward_mm | chin_drop_deg (mean +- sd over reps)")
    for clip in clips:
        tb = tables[clip]
        hf, cd = [], []
        for rep in labels[clip].reps_s:
            b = bottom_frames(tb, rep)
            hf.append(float(np.nanmean(tb.head_forward_px[b])) * scales[clip])
            cd.append(float(np.nanmean(tb.chin_drop_deg[b])))
        print(f"{Path(clip).stem:16s} {_ms(hf)} | {_ms(cd)}")


# --- synthetic clips (formcheck.synth) -------------------------------------------------------

SYNTH_KEYS = (*MAIN_KEYS, "curve_q_.35-.85", "bulge_mve_0-1_e.05")


def _facing_from_landmarks(lm: np.ndarray) -> Facing:
    ears_x = 0.5 * (lm[:, Landmark.LEFT_EAR, 0] + lm[:, Landmark.RIGHT_EAR, 0])
    return Facing.LEFT if np.nanmedian(lm[:, Landmark.NOSE, 0] - ears_x) < 0 else Facing.RIGHT


def _true_masks(video: Path) -> np.ndarray:
    packed = np.load(video.with_suffix(".mask.npz"))
    width = int(packed["shape_px"][2])
    return np.unpackbits(packed["mask_bits"], axis=-1)[:, :, :width].astype(np.float32)


def synth_report(videos: list[str], side: SideChoice) -> None:
    """Per-rep bottom values on rendered hinges, with the model's mask and with the true mask."""
    import json

    print(
        "Synthetic hinges: per-rep mean over the bottom phase (truth's bottom_start..up_start);"
        " mm from the true depth; 'true mask' = model landmarks on the renderer's mask"
    )
    for video_name in videos:
        video = Path(video_name)
        doc = json.loads(video.with_suffix(".json").read_text())
        truth = np.load(video.with_suffix(".npz"))
        data = Cached(video_name)
        true_masks = _true_masks(video)
        facing = _facing_from_landmarks(data.landmarks_px)
        focal_px = float(doc["camera"]["focal_px"])
        cam = truth["landmarks_camera_m"]
        depth_m = 0.25 * (
            cam[:, Landmark.LEFT_SHOULDER, 2]
            + cam[:, Landmark.RIGHT_SHOULDER, 2]
            + cam[:, Landmark.LEFT_HIP, 2]
            + cam[:, Landmark.RIGHT_HIP, 2]
        )
        mm_per_px = 1000.0 * depth_m / focal_px
        table = frame_table(data, facing, side)
        cfg = replace(SpineConfig(), side=side)
        usable = float(np.isfinite(table.values_px["back_curve"]).mean())
        faults = {
            f["rep"]: f"{f['kind'].removeprefix('lumbar_')[:6]} {f['size']:.0f}"
            for f in doc["faults"]
        }
        print(
            f"\n{video.stem}: yaw {doc['camera']['yaw_deg']} deg, facing {facing.value}, "
            f"{doc['body']['height_m']} m, usable {100 * usable:.0f}% of frames"
        )
        header = " ".join(f"{k:>16s}" for k in SYNTH_KEYS)
        print(f"rep fault        truth_bulge {header} | true mask: bulge  curve")
        rows = []
        for rep in doc["reps"]:
            b = np.flatnonzero(
                (table.t_s >= rep["bottom_start_s"]) & (table.t_s < rep["up_start_s"])
            )
            true_bulge = float(np.mean(truth["back_bulge_mean_mm"][b]))
            vals = [float(np.nanmean(table.values_px[k][b] * mm_per_px[b])) for k in SYNTH_KEYS]
            tm = []
            for i in b:
                pose = replace(data.pose(int(i)), mask=true_masks[i])
                m = measure_back(pose, facing, float(mm_per_px[i]), cfg)
                tm.append((m.back_bulge_mm, m.back_curve_mm))
            tmv = np.nanmean(np.array(tm), axis=0)
            rows.append((rep["index"], true_bulge, vals, tmv))
            cells = " ".join(f"{v:16.1f}" for v in vals)
            print(
                f"{rep['index']:3d} {faults.get(rep['index'], 'neutral'):12s} {true_bulge:11.1f} "
                f"{cells} | {tmv[0]:13.1f} {tmv[1]:6.1f}"
            )
        neutral = [r for r in rows if r[0] not in faults]
        if neutral:
            base_t = np.mean([r[1] for r in neutral])
            base_v = np.mean([r[2] for r in neutral], axis=0)
            base_m = np.mean([r[3] for r in neutral], axis=0)
            print("change from the neutral reps' mean:")
            for r in rows:
                if r[0] in faults:
                    cells = " ".join(f"{v:+16.1f}" for v in np.array(r[2]) - base_v)
                    dm = r[3] - base_m
                    print(
                        f"{r[0]:3d} {faults[r[0]]:12s} {r[1] - base_t:+11.1f} {cells} | "
                        f"{dm[0]:+13.1f} {dm[1]:+6.1f}"
                    )
        within = {
            k: np.median(
                [
                    np.nanstd(table.values_px[k][b] * mm_per_px[b], ddof=1)
                    for b in (
                        np.flatnonzero(
                            (table.t_s >= r["bottom_start_s"]) & (table.t_s < r["up_start_s"])
                        )
                        for r in doc["reps"]
                    )
                ]
            )
            for k in SYNTH_KEYS
        }
        print(
            "per-frame sd within the bottom (mm): "
            + ", ".join(f"{k} {v:.1f}" for k, v in within.items())
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["extract", "report", "synth"])
    parser.add_argument("clips", nargs="*", default=list(DEFAULT_CLIPS))
    parser.add_argument("--side", choices=[s.value for s in SideChoice], default="mean")
    args = parser.parse_args(argv)
    if not VIDEOS.is_dir():
        print(f"no clips at {VIDEOS}", file=sys.stderr)
        return 1
    if args.command == "extract":
        for clip in args.clips:
            extract(clip)
    elif args.command == "synth":
        synth_report(args.clips, SideChoice(args.side))
    else:
        report(args.clips, SideChoice(args.side))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
