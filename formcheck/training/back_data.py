"""Rendered stills seen through the real pose model: the back-shape model's data (issue 14).

``draw_stills(seed, ...)`` draws still specifications: groups of stills that share a body
(capsule bodies with random proportions, or the MakeHuman mesh's ``BODY_SHAPES`` jittered, in
one of ``CLOTHING``), each still with its own exercise posture, lumbar flexion (-25..+40 deg),
camera (0-30 deg off the side, some 30-45), distance, height, image size, scene and JPEG
quality. ``observe(still)`` runs the pipeline's own stages on it (a fresh ``PoseEstimator``
in VIDEO mode with its mask, fed the still a few times as a video would; the smoother; the
kinematics stage's orientation and the back outline) and keeps what the back-shape features
are computed from. ``build_dataset`` does both for every still, in worker processes, and
``save_dataset``/``load_dataset`` keep the result in one NPZ file.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import numpy.typing as npt

from formcheck.config import PipelineConfig
from formcheck.kinematics.spine import BackMeasurer, SpineConfig
from formcheck.kinematics.stage import FrameOrientation, KinematicsStage
from formcheck.pose.estimator import PoseEstimator
from formcheck.pose.landmarks import NUM_LANDMARKS
from formcheck.smoothing.smoother import PoseSmoother
from formcheck.synth.mesh_body import MeshShapeParams
from formcheck.synth.real_use import BODY_SHAPES, CLOTHING, jittered_body
from formcheck.synth.scene import random_style
from formcheck.synth.spec import CameraSpec
from formcheck.training.stills import Still, StillSpec, render_still
from formcheck.types import Facing, PoseFrame, VideoFrame

F64 = npt.NDArray[np.float64]
U8 = npt.NDArray[np.uint8]

# --- what is drawn ------------------------------------------------------------------------
LUMBAR_RANGE_DEG = (-25.0, 40.0)  # arched .. rounded, around the body's neutral
THORACIC_RANGE_DEG = (-3.0, 10.0)
PELVIS_SHARE_RANGE = (0.3, 0.7)  # share of the lumbar flexion the pelvis gives back
YAW_BAND_DEG = (0.0, 30.0)
WIDE_YAW_BAND_DEG = (30.0, 45.0)
WIDE_YAW_SHARE = 0.2  # stills filmed 30-45 deg off the side (reported separately)
DISTANCE_RANGE_M = (2.4, 4.0)
CAMERA_HEIGHT_RANGE_M = (0.6, 1.5)
JPEG_QUALITY_RANGE = (60, 95)
# (width, height, share): landscape VGA, a wider frame, a portrait phone frame.
IMAGE_SIZES = ((640, 480, 0.6), (960, 540, 0.2), (480, 640, 0.2))
MESH_SHARE = 0.5
EXERCISE_SHARES = (("hip_hinge", 0.6), ("squat", 0.2), ("sit_to_stand", 0.2))
KETTLEBELL_SHARE = 0.3
# Posture parameters drawn wider than the clips' (hip flexion 40-100 deg, trunk 30-80 deg).
POSTURE_RANGES: dict[str, dict[str, tuple[float, float]]] = {
    "hip_hinge": {
        "bottom_pelvis_tilt_deg": (30.0, 80.0),
        "bottom_knee_deg": (5.0, 35.0),
        "bottom_thoracic_deg": (0.0, 8.0),
        "stance_abduction_deg": (1.0, 6.0),
    },
    "squat": {
        "bottom_knee_deg": (70.0, 115.0),
        "bottom_shank_deg": (20.0, 38.0),
        "bottom_pelvis_tilt_deg": (25.0, 55.0),
        "stance_abduction_deg": (6.0, 14.0),
    },
    "sit_to_stand": {
        "seated_knee_deg": (80.0, 100.0),
        "lean_deg": (25.0, 50.0),
        "arm_deg": (0.0, 60.0),
    },
}
# Hinges from the floor (a deadlift's start and bottom): knees bent 40-85 deg, hips flexed
# about 95-135 deg. The first model, trained on the ranges above only (hip flexion up to about
# 100 deg), read every real deadlift from the floor 20-30 deg rounder than renders: their bottom
# posture lay outside what it had seen.
DEEP_HINGE_RANGES: dict[str, tuple[float, float]] = {
    "bottom_pelvis_tilt_deg": (45.0, 80.0),
    "bottom_knee_deg": (40.0, 85.0),
    "bottom_thoracic_deg": (0.0, 8.0),
    "stance_abduction_deg": (2.0, 10.0),
}
BASE, DEEP = "base", "deep"
KINDS = (BASE, DEEP)
DEEP_SEED_OFFSET = 1_000_003  # the deep draws of seed N use their own random stream
DOWN_FRACTION_RANGE = {
    "hip_hinge": (0.8, 1.0),  # at or near the bottom
    "squat": (0.8, 1.0),
    "sit_to_stand": (0.25, 0.55),  # the forward lean of the rise
}
# The mesh shapes never trained on: held-out evaluation draws them (and the others).
HELD_OUT_SHAPES = ("woman_older", "man_muscular")

# --- how a still is observed ----------------------------------------------------------------
OBSERVE_FRAMES = 3  # the still is fed this often (the first detects, the rest track)
FRAME_STEP_MS = 1000.0 / 30.0
STILL_GAP_MS = 2000.0  # time skipped before and after the empty frame between stills
LOST_AFTER_MS = 1000.0  # the estimator's person lock is released after this long unseen


@dataclass(frozen=True, slots=True)
class Observation:
    """What the pipeline saw in one still (NaN / empty where it saw nothing)."""

    found: bool
    facing: int  # +1 facing image right, -1 left, 0 neither
    yaw_deg: float  # the pipeline's camera angle off the side
    chord_px: float
    offsets_px: F64  # (stations,) NaN where not valid
    usable: bool
    mask_confidence: float
    landmarks_px: F64  # (33, 3)
    visibility: F64  # (33,)


def _uniform(rng: np.random.Generator, bounds: tuple[float, float]) -> float:
    return float(rng.uniform(*bounds))


def _choice(rng: np.random.Generator, shares: Sequence[tuple[str, float]]) -> str:
    p = np.array([s for _, s in shares])
    return shares[int(rng.choice(len(shares), p=p / p.sum()))][0]


def _draw_still(
    rng: np.random.Generator,
    body: str,
    mesh_params: object,
    top: str,
    bottom: str,
    seed: int,
    kind: str = BASE,
) -> StillSpec:
    exercise = _choice(rng, EXERCISE_SHARES) if kind == BASE else "hip_hinge"
    variant = ""
    if exercise == "hip_hinge":
        variant = "kettlebell" if rng.random() < KETTLEBELL_SHARE else "bodyweight"
    ranges = POSTURE_RANGES[exercise] if kind == BASE else DEEP_HINGE_RANGES
    params = {k: round(_uniform(rng, b), 2) for k, b in ranges.items()}
    band = WIDE_YAW_BAND_DEG if rng.random() < WIDE_YAW_SHARE else YAW_BAND_DEG
    yaw = _uniform(rng, band) * (1.0 if rng.random() < 0.5 else -1.0)
    k = int(rng.choice(len(IMAGE_SIZES), p=np.array([s[2] for s in IMAGE_SIZES])))
    width, height = IMAGE_SIZES[k][0], IMAGE_SIZES[k][1]
    camera = CameraSpec(
        distance_m=round(_uniform(rng, DISTANCE_RANGE_M), 2),
        height_m=round(_uniform(rng, CAMERA_HEIGHT_RANGE_M), 2),
        yaw_deg=round(yaw, 1),
        side="left" if rng.random() < 0.5 else "right",
        width_px=width,
        height_px=height,
    )
    return StillSpec(
        exercise=exercise,
        variant=variant,
        params=params,
        down_fraction=round(_uniform(rng, DOWN_FRACTION_RANGE[exercise]), 3),
        lumbar_deg=round(_uniform(rng, LUMBAR_RANGE_DEG), 2),
        pelvis_share=round(_uniform(rng, PELVIS_SHARE_RANGE), 3),
        thoracic_deg=round(_uniform(rng, THORACIC_RANGE_DEG), 2),
        body=body,
        camera=camera,
        style=random_style(rng),
        height_m=round(_uniform(rng, (1.5, 1.95)), 3),
        capsule_seed=seed,
        mesh=mesh_params if isinstance(mesh_params, MeshShapeParams) else None,
        top=top,
        bottom=bottom,
        jpeg_quality=int(rng.integers(JPEG_QUALITY_RANGE[0], JPEG_QUALITY_RANGE[1] + 1)),
    )


def draw_stills(
    seed: int,
    groups: int,
    per_group: int,
    *,
    shapes: Sequence[str] | None = None,
    kind: str = BASE,
) -> list[tuple[int, StillSpec]]:
    """``groups`` bodies with ``per_group`` stills each, as (group, spec); ``shapes`` limits the
    mesh bodies to these ``BODY_SHAPES`` names (None: all); ``kind``: ``BASE`` (hinges, squats,
    sit-to-stand leans) or ``DEEP`` (hinges from the floor, ``DEEP_HINGE_RANGES``)."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
    rng = np.random.default_rng(seed if kind == BASE else seed + DEEP_SEED_OFFSET)
    allowed = [b for b in BODY_SHAPES if shapes is None or b.name in shapes]
    if not allowed:
        raise ValueError("no mesh body shape allowed")
    out: list[tuple[int, StillSpec]] = []
    for g in range(groups):
        body_seed = int(rng.integers(2**31 - 1))
        if rng.random() < MESH_SHARE:
            base = allowed[int(rng.integers(len(allowed)))]
            mesh = jittered_body(base, rng)
            top, bottom = CLOTHING[int(rng.integers(len(CLOTHING)))]
            height = mesh.height_m
            specs = [
                _draw_still(rng, "mesh", mesh, top, bottom, body_seed, kind)
                for _ in range(per_group)
            ]
        else:
            height = round(_uniform(rng, (1.5, 1.95)), 3)
            specs = [
                replace(_draw_still(rng, "capsule", None, "fitted", "fitted", body_seed, kind),
                        height_m=height)
                for _ in range(per_group)
            ]  # fmt: skip
        out.extend((g, s) for s in specs)
    return out


# --- observing a still ------------------------------------------------------------------


def _facing_sign(facing: Facing) -> int:
    return {Facing.RIGHT: 1, Facing.LEFT: -1}.get(facing, 0)


class Observer:
    """The pipeline's stages on stills: pose with mask, smoother, orientation, outline.

    One ``PoseEstimator`` (VIDEO mode, one person, with its mask) serves every still: each
    still is preceded by an empty frame and a jump in time, so the model detects the person
    afresh (its tracker has nobody to follow) and the person lock is released, and then it is
    fed ``OBSERVE_FRAMES`` times, as a video would show it; the last frame is kept. The
    smoother and the kinematics stage are new for each still.
    """

    def __init__(self, model_path: Path, spine: SpineConfig | None = None) -> None:
        self._estimator = PoseEstimator(model_path, max_people=1, lost_after_ms=LOST_AFTER_MS)
        self._spine = spine
        self._t_ms = 0.0
        self._blank: U8 | None = None

    def close(self) -> None:
        self._estimator.close()

    def __enter__(self) -> Observer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _frame(self, rgb: U8) -> VideoFrame:
        self._t_ms += FRAME_STEP_MS
        return VideoFrame(0, self._t_ms, rgb)

    def observe(self, still: Still) -> Observation:
        cfg = PipelineConfig()
        measurer = BackMeasurer(self._spine)
        stage = KinematicsStage(cfg.quality, None, measurer)
        smoother = PoseSmoother(cfg.smoothing)
        if self._blank is None or self._blank.shape != still.rgb.shape:
            self._blank = np.zeros_like(still.rgb)
        self._t_ms += STILL_GAP_MS
        self._estimator.process(self._frame(self._blank))
        self._t_ms += STILL_GAP_MS
        orientation = smoothed = None
        for _ in range(OBSERVE_FRAMES):
            smoothed = smoother(self._estimator.process(self._frame(still.rgb)))
            orientation = stage.orient(smoothed)
        assert smoothed is not None and orientation is not None
        return _observation(smoothed, orientation, measurer, self._spine)


def _observation(
    smoothed: PoseFrame,
    orientation: FrameOrientation,
    measurer: BackMeasurer,
    spine: SpineConfig | None,
) -> Observation:
    n = (spine or SpineConfig()).station_count
    outline = measurer.last_outline
    lm = (
        np.full((NUM_LANDMARKS, 3), np.nan)
        if smoothed.landmarks_px is None
        else np.asarray(smoothed.landmarks_px, np.float64)
    )
    vis = (
        np.full(NUM_LANDMARKS, np.nan)
        if smoothed.visibility is None
        else np.asarray(smoothed.visibility, np.float64)
    )
    if outline is None:
        return Observation(
            found=smoothed.has_pose,
            facing=_facing_sign(orientation.facing),
            yaw_deg=orientation.yaw_from_side_deg,
            chord_px=math.nan,
            offsets_px=np.full(n, np.nan),
            usable=False,
            mask_confidence=math.nan,
            landmarks_px=lm,
            visibility=vis,
        )
    return Observation(
        found=True,
        facing=_facing_sign(orientation.facing),
        yaw_deg=orientation.yaw_from_side_deg,
        chord_px=outline.chord_px,
        offsets_px=np.asarray(outline.offsets_px, np.float64),
        usable=outline.usable,
        mask_confidence=outline.mask_confidence,
        landmarks_px=lm,
        visibility=vis,
    )


# --- the dataset ----------------------------------------------------------------------------

TRUTH_STATIONS = 41


def _row(group: int, spec: StillSpec, observer: Observer) -> dict[str, object]:
    still = render_still(spec)
    obs = observer.observe(still)
    t = still.truth
    return {
        "group": group,
        "meta": {
            "exercise": spec.exercise,
            "variant": spec.variant,
            "body": spec.body_name,
            "clothing": spec.clothing,
            "camera_yaw_deg": spec.camera.yaw_deg,
            "image": f"{spec.camera.width_px}x{spec.camera.height_px}",
            "height_m": spec.mesh.height_m if spec.mesh is not None else spec.height_m,
        },
        "lumbar_deg": t.lumbar_deg,
        "true_trunk_deg": t.trunk_inclination_deg,
        "true_hip_flexion_deg": t.hip_flexion_deg,
        "true_profile_mm": t.back_profile_mm,
        "obs": obs,
    }


def _work(args: tuple[list[tuple[int, StillSpec]], str]) -> list[dict[str, object]]:
    items, model = args
    with Observer(Path(model)) as observer:
        return [_row(g, s, observer) for g, s in items]


def build_dataset(
    items: list[tuple[int, StillSpec]],
    model_path: Path,
    workers: int = 1,
    progress: Callable[[int, int, float], None] | None = None,
) -> list[dict[str, object]]:
    """Render and observe every still, in ``workers`` processes; rows in ``items`` order."""
    chunk = 8
    batches = [items[i : i + chunk] for i in range(0, len(items), chunk)]
    rows: list[dict[str, object]] = []
    start = time.monotonic()
    if workers <= 1:
        for b in batches:
            rows.extend(_work((b, str(model_path))))
            if progress:
                progress(len(rows), len(items), time.monotonic() - start)
        return rows
    env_threads = os.environ.get("OMP_NUM_THREADS")
    os.environ["OMP_NUM_THREADS"] = "1"
    try:
        with ProcessPoolExecutor(workers) as pool:
            for out in pool.map(_work, [(b, str(model_path)) for b in batches]):
                rows.extend(out)
                if progress:
                    progress(len(rows), len(items), time.monotonic() - start)
    finally:
        if env_threads is None:
            os.environ.pop("OMP_NUM_THREADS", None)
        else:
            os.environ["OMP_NUM_THREADS"] = env_threads
    return rows


def save_dataset(path: Path, rows: list[dict[str, object]]) -> None:
    """One NPZ: per-still arrays, and the metadata as JSON text."""
    obs = [r["obs"] for r in rows]
    assert all(isinstance(o, Observation) for o in obs)
    o: list[Observation] = obs  # type: ignore[assignment]
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        path,
        group=np.array([r["group"] for r in rows], np.int64),
        lumbar_deg=np.array([r["lumbar_deg"] for r in rows], np.float64),
        true_trunk_deg=np.array([r["true_trunk_deg"] for r in rows], np.float64),
        true_hip_flexion_deg=np.array([r["true_hip_flexion_deg"] for r in rows], np.float64),
        true_profile_mm=np.stack([np.asarray(r["true_profile_mm"]) for r in rows]),
        found=np.array([x.found for x in o]),
        facing=np.array([x.facing for x in o], np.int64),
        yaw_deg=np.array([x.yaw_deg for x in o], np.float64),
        chord_px=np.array([x.chord_px for x in o], np.float64),
        offsets_px=np.stack([x.offsets_px for x in o]),
        usable=np.array([x.usable for x in o]),
        mask_confidence=np.array([x.mask_confidence for x in o], np.float64),
        landmarks_px=np.stack([x.landmarks_px for x in o]),
        visibility=np.stack([x.visibility for x in o]),
        meta=np.array(json.dumps([r["meta"] for r in rows], sort_keys=True)),
    )


def load_dataset(path: Path) -> dict[str, object]:
    with np.load(path) as data:
        out: dict[str, object] = {k: data[k] for k in data.files if k != "meta"}
        out["meta"] = json.loads(str(data["meta"]))
    return out


DEEP_LABEL = "hip_hinge from floor"


def merge_datasets(base: dict[str, object], deep: dict[str, object]) -> dict[str, object]:
    """The base and deep stills as one dataset: the deep groups numbered after the base ones,
    their exercise labelled ``DEEP_LABEL``."""
    offset = int(np.asarray(base["group"]).max()) + 1
    out: dict[str, object] = {}
    for key, value in base.items():
        if key == "meta":
            continue
        other = np.asarray(deep[key])
        if key == "group":
            other = other + offset
        out[key] = np.concatenate([np.asarray(value), other])
    deep_meta = [{**m, "exercise": DEEP_LABEL} for m in deep["meta"]]  # type: ignore[attr-defined]
    out["meta"] = [*base["meta"], *deep_meta]  # type: ignore[misc]
    return out


def cached_dataset(
    seed: int,
    groups: int,
    per_group: int,
    *,
    shapes: Sequence[str] | None,
    cache_dir: Path,
    model_path: Path,
    workers: int = 1,
    progress: Callable[[int, int, float], None] | None = None,
    kind: str = BASE,
) -> dict[str, object]:
    """The observed stills of ``draw_stills(seed, groups, per_group, shapes=shapes, kind=kind)``,
    from ``cache_dir`` when they were built before (the file name says what was drawn)."""
    tag = "all" if shapes is None else "-".join(sorted(shapes))
    prefix = "stills" if kind == BASE else f"stills_{kind}"
    path = cache_dir / f"{prefix}_seed{seed}_{groups}x{per_group}_{tag}.npz"
    if not path.is_file():
        items = draw_stills(seed, groups, per_group, shapes=shapes, kind=kind)
        rows = build_dataset(items, model_path, workers, progress)
        save_dataset(path, rows)
    return load_dataset(path)
