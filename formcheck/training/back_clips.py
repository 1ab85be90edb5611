"""Per-rep lumbar flexion of whole clips, through the pipeline as a user's file goes through it.

``observe_clip(video)`` runs the pose model and the measure pipeline over a video (as
``formcheck analyze`` does, without an analyzer) and keeps, for every frame, its time, trunk
inclination, scale, and what the back-shape model reads (the outline and landmarks, recorded
by ``RecordingMeasurer`` as the pipeline's own ``BackMeasurer`` reads them), so any model can
re-estimate the clip without the pose model (``ClipFrames.estimate``; with the committed
model it equals the Samples' ``lumbar_flexion_deg``).

A rep's estimate is the median of the frame estimates over its bottom: for rendered clips the
truth's bottom phase (``rendered_rep_rows``), for real clips the frames of a labelled rep
window whose trunk inclination is within ``BOTTOM_BAND_DEG`` of the rep's deepest
(``window_bottom``).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from formcheck.kinematics import names as n
from formcheck.kinematics.back_shape import BackShapeInput, BackShapeModel, back_rounding_px
from formcheck.kinematics.spine import BackMeasurer, BackOutline, SpineConfig
from formcheck.pose.landmarks import NUM_LANDMARKS
from formcheck.types import PoseFrame

F64 = npt.NDArray[np.float64]
BOTTOM_BAND_DEG = 5.0  # real reps: frames this close to the rep's deepest trunk inclination
MIN_BOTTOM_FRAMES = 2
MS_PER_S = 1000.0


class RecordingMeasurer(BackMeasurer):
    """The pipeline's back measurer, keeping each frame's back-shape model input by time."""

    def __init__(self) -> None:
        super().__init__()
        self.inputs: dict[float, BackShapeInput] = {}

    def lumbar(self, pose: PoseFrame, outline: BackOutline | None) -> dict[str, float]:
        out = super().lumbar(pose, outline)
        x = self.last_input
        if x is not None:
            self.inputs[pose.t_ms] = x
        return out


@dataclass(frozen=True, slots=True)
class ClipFrames:
    """Per frame of a clip (NaN where the pipeline read no usable outline)."""

    t_ms: F64
    trunk_inclination_deg: F64
    mm_per_px: F64
    lumbar_deg: F64  # as the pipeline's Samples carried it
    offsets_px: F64  # (T, stations)
    chord_px: F64
    landmarks_px: F64  # (T, 33, 3)
    yaw_deg: F64
    mask_confidence: F64

    def estimate(self, model: BackShapeModel) -> tuple[F64, F64, F64]:
        """Per-frame flexion (deg), its sd (deg) and back rounding (mm) under ``model``."""
        fractions = SpineConfig().fractions()
        t = self.t_ms.size
        est, sd, mm = np.full(t, np.nan), np.full(t, np.nan), np.full(t, np.nan)
        for k in range(t):
            if not math.isfinite(self.chord_px[k]):
                continue
            e = model.estimate(
                BackShapeInput(
                    fractions=fractions,
                    offsets_px=self.offsets_px[k],
                    chord_px=float(self.chord_px[k]),
                    landmarks_px=self.landmarks_px[k],
                    yaw_deg=float(self.yaw_deg[k]),
                    mask_confidence=float(self.mask_confidence[k]),
                )
            )
            est[k], sd[k] = e.flexion_deg, e.sd_deg
            mm[k] = back_rounding_px(e.flexion_deg, float(self.chord_px[k])) * self.mm_per_px[k]
        return est, sd, mm

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(path, **{k: getattr(self, k) for k in self.__slots__})

    @staticmethod
    def load(path: Path) -> ClipFrames:
        with np.load(path) as d:
            return ClipFrames(**{k: d[k] for k in ClipFrames.__slots__})


def observe_clip(video: Path, cache: Path | None = None) -> ClipFrames:
    """A video through the pose model and the measure pipeline; ``cache``: an NPZ kept for
    later runs (read when it exists)."""
    if cache is not None and cache.is_file():
        return ClipFrames.load(cache)
    from formcheck.config import PipelineConfig
    from formcheck.pipeline import MeasurePipeline
    from formcheck.pose.estimator import PoseEstimator
    from formcheck.pose.model import ensure_model
    from formcheck.video import open_source

    config = PipelineConfig()
    recorder = RecordingMeasurer()
    pipeline = MeasurePipeline(config, spine=recorder)
    samples = []
    with (
        open_source(video, max_side_px=config.max_inference_side_px) as source,
        PoseEstimator(
            ensure_model(None).path, segmentation=config.segmentation, max_people=config.max_people
        ) as estimator,
    ):
        for frame in source:
            samples += pipeline.push(estimator.process(frame))
        samples += pipeline.finish()
    stations = SpineConfig().station_count
    t = len(samples)
    offsets = np.full((t, stations), np.nan)
    chord, yaw, conf = np.full(t, np.nan), np.full(t, np.nan), np.full(t, np.nan)
    lms = np.full((t, NUM_LANDMARKS, 3), np.nan)
    for k, s in enumerate(samples):
        x = recorder.inputs.get(s.t_ms)
        if x is None:
            continue
        offsets[k], chord[k], yaw[k], conf[k] = (
            x.offsets_px,
            x.chord_px,
            x.yaw_deg,
            x.mask_confidence,
        )
        lms[k, :, : x.landmarks_px.shape[1]] = x.landmarks_px
    frames = ClipFrames(
        t_ms=np.array([s.t_ms for s in samples]),
        trunk_inclination_deg=np.array([s.measures[n.TRUNK_INCLINATION_DEG] for s in samples]),
        mm_per_px=np.array([s.measures[n.MM_PER_PX] for s in samples]),
        lumbar_deg=np.array([s.measures[n.LUMBAR_FLEXION_DEG] for s in samples]),
        offsets_px=offsets,
        chord_px=chord,
        landmarks_px=lms,
        yaw_deg=yaw,
        mask_confidence=conf,
    )
    if cache is not None:
        frames.save(cache)
    return frames


@dataclass(frozen=True, slots=True)
class BottomEstimate:
    estimate_deg: float
    sd_deg: float
    rounding_mm: float
    frames: int  # frames with an estimate in the bottom
    bottom_frames: int


def bottom_estimate(sel: npt.NDArray[np.bool_], est: F64, sd: F64, mm: F64) -> BottomEstimate:
    """Medians over the selected frames that have an estimate."""
    seen = sel & np.isfinite(est)
    if seen.sum() < MIN_BOTTOM_FRAMES:
        return BottomEstimate(math.nan, math.nan, math.nan, int(seen.sum()), int(sel.sum()))
    return BottomEstimate(
        float(np.median(est[seen])),
        float(np.median(sd[seen])),
        float(np.median(mm[seen])),
        int(seen.sum()),
        int(sel.sum()),
    )


def window_bottom(frames: ClipFrames, start_s: float, end_s: float) -> npt.NDArray[np.bool_]:
    """The frames of [start_s, end_s] whose trunk is within BOTTOM_BAND_DEG of its deepest."""
    inside = (frames.t_ms >= start_s * MS_PER_S) & (frames.t_ms <= end_s * MS_PER_S)
    incl = np.where(inside, frames.trunk_inclination_deg, np.nan)
    if not np.isfinite(incl).any():
        return np.zeros(frames.t_ms.shape, bool)
    deepest = float(np.nanmax(incl))
    return np.asarray(inside & (incl >= deepest - BOTTOM_BAND_DEG))


def rep_truth_deg(meta: dict[str, object], rep: int) -> float:
    """The lumbar flexion a rendered clip's rep has at its bottom (+ rounded, - arched)."""
    total = 0.0
    for f in meta.get("faults", []):  # type: ignore[attr-defined]
        if f.get("rep") != rep:
            continue
        if f["kind"] == "lumbar_flexion":
            total += float(f["size"])
        elif f["kind"] == "lumbar_extension":
            total -= float(f["size"])
    return total


def clip_meta(meta: dict[str, object]) -> dict[str, object]:
    body = meta.get("body", {})
    assert isinstance(body, dict)
    shape = body.get("shape")
    clothing = meta.get("clothing")
    camera = meta["camera"]
    assert isinstance(camera, dict)
    return {
        "clip": meta["name"],
        "exercise": meta["exercise"],
        "body": shape["name"] if isinstance(shape, dict) else "capsule",
        "clothing": f"{clothing['top']}/{clothing['bottom']}"
        if isinstance(clothing, dict)
        else "capsule",
        "camera_yaw_deg": float(camera["yaw_deg"]),
        "faults": sorted({str(f["kind"]) for f in meta.get("faults", [])}),  # type: ignore[attr-defined]
    }


def rendered_rep_rows(
    meta_path: Path, model: BackShapeModel, cache_dir: Path | None = None
) -> list[dict[str, object]]:
    """Each rep of a rendered clip: truth and the median estimate over its bottom phase."""
    meta = json.loads(meta_path.read_text())
    video = meta_path.with_name(meta["files"]["video"])
    cache = (
        None if cache_dir is None else cache_dir / f"{meta_path.parent.name}_{meta_path.stem}.npz"
    )
    frames = observe_clip(video, cache)
    est, sd, mm = frames.estimate(model)
    rows: list[dict[str, object]] = []
    for rep in meta["reps"]:
        t0, t1 = float(rep["bottom_start_s"]), float(rep["up_start_s"])
        sel = (frames.t_ms >= t0 * MS_PER_S) & (frames.t_ms <= t1 * MS_PER_S)
        b = bottom_estimate(sel, est, sd, mm)
        rows.append(
            {
                "meta": clip_meta(meta),
                "rep": int(rep["index"]),
                "truth_deg": rep_truth_deg(meta, int(rep["index"])),
                "estimate_deg": b.estimate_deg,
                "sd_deg": b.sd_deg,
                "rounding_mm": b.rounding_mm,
                "frames": b.frames,
            }
        )
    return rows
