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
BoolArray = npt.NDArray[np.bool_]


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
    fractions: tuple[float, float],
    exponent_range: tuple[float, float],
) -> Onset:
    """Onset of a movement of x from ``rest`` towards ``far`` (either sign).

    The samples before x last rises through ``fractions[1]`` of the way are fitted by least
    squares with ``rest`` before t0 and ``rest + c * (t - t0)**p`` after it (a smooth start),
    searching t0 on a fine grid (sub-frame) and p within ``exponent_range``. Using every
    sample, not a single threshold crossing, keeps the estimate steady on slow, noisy
    movements. NaN when x never gets that far.
    """
    span = far - rest
    if not math.isfinite(span) or span == 0:
        return Onset(math.nan, math.nan)
    y = (x - rest) / span
    smooth = moving_average(t_s, y, _CROSSING_SMOOTHING_S)
    t_lo = last_rise_through(t_s, smooth, fractions[0])
    t_hi = last_rise_through(t_s, smooth, fractions[1])
    if not (math.isfinite(t_lo) and math.isfinite(t_hi)):
        return Onset(t_lo if math.isfinite(t_lo) else math.nan, math.nan)
    lookback = max(_LOOKBACK_RISES * (t_hi - t_lo), _LOOKBACK_MIN_S)
    use = (t_s >= t_hi - lookback) & (t_s <= t_hi) & np.isfinite(y)
    tt, yy = t_s[use], y[use]
    t0s = np.arange(max(t_hi - lookback, float(t_s[0])), t_lo, _ONSET_GRID_S)
    if t0s.size == 0 or tt.size < _FIT_MIN_SAMPLES:
        return Onset(t_lo, math.nan)
    lag = np.clip(tt[None, :] - t0s[:, None], 0.0, None)
    best = (math.inf, t_lo, math.nan)
    steps = max(1, round((exponent_range[1] - exponent_range[0]) / _EXPONENT_STEP))
    for p in np.linspace(exponent_range[0], exponent_range[1], steps + 1):
        basis = lag**p
        energy = np.sum(basis * basis, axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            gain = (basis @ yy) / energy
        resid = np.sum((yy[None, :] - gain[:, None] * basis) ** 2, axis=1)
        resid[~(energy > 0) | ~(gain > 0)] = math.inf
        i = int(np.argmin(resid))
        if resid[i] < best[0]:
            best = (float(resid[i]), float(t0s[i]), float(p))
    return Onset(best[1], best[2])


def onset_backward(
    t_s: Array,
    x: Array,
    rest: float,
    far: float,
    fractions: tuple[float, float],
    exponent_range: tuple[float, float],
) -> Onset:
    """Like :func:`onset_time` with time reversed: when a movement *ended* at ``rest``."""
    rev = onset_time(-t_s[::-1], x[::-1], rest, far, fractions, exponent_range)
    return Onset(-rev.t_s, rev.exponent)


def robust_median(x: Array) -> float:
    ok = x[np.isfinite(x)]
    return float(np.median(ok)) if ok.size else math.nan


_CROSSING_SMOOTHING_S = 0.12  # smoothing used only to find the fit window
_LOOKBACK_RISES = 3.0  # fit window: three times the 10%-to-30% rise time before the 30% level
_LOOKBACK_MIN_S = 0.3
_ONSET_GRID_S = 0.004  # onset search step (sub-frame at any video rate)
_EXPONENT_STEP = 0.25
_FIT_MIN_SAMPLES = 4
