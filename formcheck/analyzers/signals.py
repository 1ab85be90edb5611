"""Time-series helpers for rep analysis: smoothing, level crossings and onsets.

All functions take sample times in seconds (any, even variable, frame rate) and treat NaN as
missing. Onsets are located between samples (sub-frame) by linear interpolation of level
crossings and a power-law fit of the first part of the movement.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float64]


def moving_average(t_s: Array, x: Array, window_s: float) -> Array:
    """Centred moving average over +-window_s/2 in time, ignoring NaN (NaN where empty)."""
    if x.size == 0 or window_s <= 0:
        return x.astype(float)
    valid = np.isfinite(x)
    sums = np.concatenate(([0.0], np.cumsum(np.where(valid, x, 0.0))))
    counts = np.concatenate(([0], np.cumsum(valid)))
    lo = np.searchsorted(t_s, t_s - window_s / 2, side="left")
    hi = np.searchsorted(t_s, t_s + window_s / 2, side="right")
    n = counts[hi] - counts[lo]
    with np.errstate(invalid="ignore", divide="ignore"):
        out = (sums[hi] - sums[lo]) / n
    return np.where(n > 0, out, math.nan)


def fill_gaps(t_s: Array, x: Array, max_gap_s: float) -> Array:
    """Linear interpolation across NaN runs no longer than ``max_gap_s``; longer runs stay NaN."""
    out = x.astype(float).copy()
    valid = np.isfinite(out)
    if valid.sum() < 2:
        return out
    idx = np.nonzero(valid)[0]
    filled = np.interp(t_s, t_s[idx], out[idx])
    # gap length = time between the valid samples around each missing one
    nxt = np.searchsorted(idx, np.arange(out.size))
    prev = np.clip(nxt - 1, 0, idx.size - 1)
    nxt = np.clip(nxt, 0, idx.size - 1)
    gap = t_s[idx[nxt]] - t_s[idx[prev]]
    inside = (~valid) & (np.arange(out.size) > idx[0]) & (np.arange(out.size) < idx[-1])
    use = inside & (gap <= max_gap_s)
    out[use] = filled[use]
    return out


def slope_per_s(t_s: Array, x: Array) -> float:
    """Least-squares slope of x against t (units per second); NaN with fewer than 2 samples."""
    ok = np.isfinite(x)
    if ok.sum() < 2:
        return math.nan
    t = t_s[ok] - t_s[ok].mean()
    denom = float(np.sum(t * t))
    if denom <= 0:
        return math.nan
    return float(np.sum(t * (x[ok] - x[ok].mean())) / denom)


def last_rise_through(t_s: Array, x: Array, level: float) -> float:
    """Time x last rises through ``level`` before its maximum, interpolated between samples.

    NaN when x never reaches the level, or is already above it at the first sample.
    """
    ok = np.isfinite(x)
    if not ok.any():
        return math.nan
    t, v = t_s[ok], x[ok]
    peak = int(np.argmax(v))
    if v[peak] < level:
        return math.nan
    below = np.nonzero(v[: peak + 1] < level)[0]
    if below.size == 0:
        return math.nan
    i = int(below[-1])
    return float(t[i] + (level - v[i]) / (v[i + 1] - v[i]) * (t[i + 1] - t[i]))


@dataclass(frozen=True, slots=True)
class Onset:
    """When a movement started and the fitted exponent of its first part."""

    t_s: float
    exponent: float  # 1 = started at full speed, 2 = constant acceleration, 3 = minimum jerk


def onset_time(
    t_s: Array,
    x: Array,
    rest: float,
    far: float,
    fractions: tuple[float, ...],
    exponent_range: tuple[float, float],
) -> Onset:
    """Onset of a movement of x from ``rest`` towards ``far`` (either sign).

    The crossing times of ``fractions`` of the way from rest to far are fitted with
    ``t_f = t0 + c * f**(1/p)`` (the start of a smooth movement is ``x ~ (t - t0)**p``); the
    exponent p is searched within ``exponent_range``. The onset is clamped between the first
    sample and the earliest crossing. NaN when fewer than two levels are crossed.
    """
    span = far - rest
    if not math.isfinite(span) or span == 0:
        return Onset(math.nan, math.nan)
    y = (x - rest) / span
    crossings = [(f, last_rise_through(t_s, y, f)) for f in fractions]
    pts = [(f, t) for f, t in crossings if math.isfinite(t)]
    if len(pts) < 2:
        return Onset(pts[0][1] if pts else math.nan, math.nan)
    fs = np.array([p[0] for p in pts])
    ts = np.array([p[1] for p in pts])
    best = (math.inf, math.nan, math.nan)
    for p in np.linspace(exponent_range[0], exponent_range[1], _EXPONENT_STEPS):
        basis = fs ** (1.0 / p)
        design = np.vstack([np.ones_like(basis), basis]).T
        coef, *_ = np.linalg.lstsq(design, ts, rcond=None)
        if coef[1] <= 0:
            continue
        resid = float(np.sum((design @ coef - ts) ** 2))
        if resid < best[0] - _RESIDUAL_TIE:
            best = (resid, float(coef[0]), float(p))
    if not math.isfinite(best[1]):
        return Onset(float(ts.min()), math.nan)
    first_t = float(t_s[np.isfinite(x)][0])
    return Onset(min(max(best[1], first_t), float(ts.min())), best[2])


def onset_backward(
    t_s: Array,
    x: Array,
    rest: float,
    far: float,
    fractions: tuple[float, ...],
    exponent_range: tuple[float, float],
) -> Onset:
    """Like :func:`onset_time` with time reversed: when a movement *ended* at ``rest``."""
    rev = onset_time(-t_s[::-1], x[::-1], rest, far, fractions, exponent_range)
    return Onset(-rev.t_s, rev.exponent)


def robust_median(x: Array) -> float:
    ok = x[np.isfinite(x)]
    return float(np.median(ok)) if ok.size else math.nan


_EXPONENT_STEPS = 61
_RESIDUAL_TIE = 1e-12
