"""Scale to millimetres, the person's own baseline, and the noise floor of every measure.

The first still second of a set (found within the first few seconds) gives:
- the scale: from the stated body height when given, else from MediaPipe's metric world
  landmarks (the report says which);
- the baseline: each measure's mean over that second;
- the noise floor: each measure's standard deviation over that second (its jitter).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from formcheck.config import CalibrationConfig
from formcheck.kinematics.measures import sagittal_chain_px
from formcheck.pose.landmarks import SIDE_JOINTS
from formcheck.smoothing.smoother import torso_length
from formcheck.types import PoseFrame, ScaleSource

# Shoulder-to-hip + hip-to-knee + knee-to-ankle as a fraction of stature (Drillis and
# Contini's segment proportions: 0.818-0.530, 0.530-0.285, 0.285-0.039 of body height).
# MediaPipe's world landmarks read people short and nearly all alike: rendered bodies of
# 154-195 cm read 142-172 cm (median true/read 1.074 over 42 clips of seed 2026, mesh and
# capsule bodies); real adults read 146-158 cm (FACTS.md). Heights read from them are scaled by
# this, and a height still outside the adult range is no measurement: an average adult's is
# assumed instead, and the report asks for the height.
WORLD_LANDMARK_HEIGHT_BIAS = 1.074
ADULT_HEIGHT_RANGE_CM = (145.0, 205.0)
ASSUMED_ADULT_HEIGHT_CM = 170.0
SAGITTAL_CHAIN_PER_HEIGHT = (0.818 - 0.530) + (0.530 - 0.285) + (0.285 - 0.039)
MM_PER_M = 1000.0
MM_PER_CM = 10.0
# A window at the end of the data may be this much shorter than still_window_s.
_MIN_WINDOW_FILL = 0.9
# Share of those joints that must be still (percent).
_SPREAD_QUANTILE_PCT = 80.0
# Joints whose stillness defines "standing still" (hands may move).
_STILL_JOINTS = [
    SIDE_JOINTS[s][j]
    for s in ("left", "right")
    for j in ("shoulder", "hip", "knee", "ankle", "ear")
]


@dataclass(frozen=True, slots=True)
class Calibration:
    scale_source: ScaleSource
    mm_per_px: float
    world_to_mm: float  # world-landmark metres to millimetres on the chosen scale
    stated_height_cm: float | None
    estimated_height_cm: float
    still_start_s: float
    still_end_s: float
    found_still: bool  # False when the stillest window was still moving more than allowed
    motion_body: float  # joint spread (80th percentile) in that window, in torso lengths
    baseline: dict[str, float] = field(default_factory=dict)
    noise_floor: dict[str, float] = field(default_factory=dict)


def window_spread_body(poses: list[PoseFrame]) -> float:
    """How much the body moved within a window, in torso lengths.

    A high quantile over the trunk and leg joints (hands may move) of each joint's positional
    standard deviation, so a trunk sway about still hips counts as movement; unlike
    frame-to-frame speed it is not inflated by jitter at high frame rates.
    """
    points = np.stack(
        [p.landmarks_px[_STILL_JOINTS, :2] for p in poses if p.landmarks_px is not None]
    )
    if points.shape[0] < 2:
        return math.inf
    torso_px = float(
        np.median([torso_length(p.landmarks_px) for p in poses if p.landmarks_px is not None])
    )
    spread_px = np.linalg.norm(points.std(axis=0), axis=1)
    return float(np.percentile(spread_px, _SPREAD_QUANTILE_PCT)) / max(torso_px, 1.0)


def find_still_window(poses: list[PoseFrame], config: CalibrationConfig) -> tuple[int, int, float]:
    """Indices [start, end) of the first ``still_window_s`` in which the body is still.

    Returns the earliest window whose spread is under the limit, else the stillest one, with
    its spread in torso lengths.
    """
    n = len(poses)
    if n < 2:
        return 0, n, math.inf
    times_s = np.array([p.t_ms for p in poses]) / 1000.0
    best: tuple[int, int, float] | None = None
    for start in range(n):
        end = int(np.searchsorted(times_s, times_s[start] + config.still_window_s, side="left"))
        if end >= n and times_s[-1] - times_s[start] < config.still_window_s * _MIN_WINDOW_FILL:
            break
        spread = window_spread_body(poses[start:end])
        if spread <= config.still_max_spread_body:
            return start, end, spread
        if best is None or spread < best[2]:
            best = (start, end, spread)
    if best is None:
        return 0, n, math.inf
    return best


def scale_from_poses(
    poses: list[PoseFrame], side: str, stated_height_cm: float | None
) -> tuple[ScaleSource, float, float, float]:
    """(source, mm_per_px, world_to_mm, estimated_height_cm) from the still frames."""
    chain_px = float(
        np.median(
            [sagittal_chain_px(p.landmarks_px, side) for p in poses if p.landmarks_px is not None]
        )
    )
    chain_world_m = float(
        np.median(
            [sagittal_chain_px(p.world_m, side) for p in poses if p.world_m is not None]
            or [math.nan]
        )
    )
    if chain_px <= 0:
        return ScaleSource.NONE, math.nan, MM_PER_M, math.nan
    if stated_height_cm is not None:
        chain_mm = stated_height_cm * MM_PER_CM * SAGITTAL_CHAIN_PER_HEIGHT
        mm_per_px = chain_mm / chain_px
        world_to_mm = chain_mm / chain_world_m if chain_world_m > 0 else MM_PER_M
        return ScaleSource.STATED_HEIGHT, mm_per_px, world_to_mm, stated_height_cm
    if not math.isfinite(chain_world_m) or chain_world_m <= 0:
        return ScaleSource.NONE, math.nan, MM_PER_M, math.nan
    chain_mm = chain_world_m * MM_PER_M * WORLD_LANDMARK_HEIGHT_BIAS
    height_cm = chain_mm / SAGITTAL_CHAIN_PER_HEIGHT / MM_PER_CM
    low, high = ADULT_HEIGHT_RANGE_CM
    if not low <= height_cm <= high:
        assumed_mm = ASSUMED_ADULT_HEIGHT_CM * MM_PER_CM * SAGITTAL_CHAIN_PER_HEIGHT
        world_to_mm = assumed_mm / chain_world_m
        return ScaleSource.ASSUMED_HEIGHT, assumed_mm / chain_px, world_to_mm, height_cm
    world_to_mm = MM_PER_M * WORLD_LANDMARK_HEIGHT_BIAS
    return ScaleSource.WORLD_LANDMARKS, chain_mm / chain_px, world_to_mm, height_cm


def baseline_and_noise(
    measures: list[dict[str, float]],
) -> tuple[dict[str, float], dict[str, float]]:
    """Mean and jitter of every measure over the still window.

    The jitter is the standard deviation after removing a straight-line trend, so a slow
    drift during the still second is not mistaken for noise.
    """
    baseline: dict[str, float] = {}
    noise: dict[str, float] = {}
    if not measures:
        return baseline, noise
    for name in measures[0]:
        values = np.array([m[name] for m in measures], dtype=np.float64)
        finite = values[np.isfinite(values)]
        if finite.size < 3:
            baseline[name], noise[name] = math.nan, math.nan
            continue
        baseline[name] = float(np.mean(finite))
        x = np.arange(finite.size, dtype=np.float64)
        trend = np.polyval(np.polyfit(x, finite, 1), x)
        noise[name] = float(np.std(finite - trend, ddof=1))
    return baseline, noise
