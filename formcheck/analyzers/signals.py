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


# median |x[i+1] - x[i]| of white noise with standard deviation s is 0.6745 * sqrt(2) * s
_MEDIAN_STEP_TO_SD = 0.6745 * math.sqrt(2.0)


def median_filtered(x: Array, frames: int) -> Array:
    """Centred running median over an odd number of ``frames`` (edges repeated)."""
    if frames <= 1 or x.size == 0:
        return x
    half = frames // 2
    padded = np.pad(x, half, mode="edge")
    return np.median(np.lib.stride_tricks.sliding_window_view(padded, frames), axis=1)


def frame_jitter(x: Array) -> float:
    """Frame-to-frame jitter of a signal, as the standard deviation of white noise that
    would give the same median step between successive finite samples. A step change or a
    slow drift hardly moves it, nor do isolated wild samples (each costs two steps); a
    signal jumping about every frame does."""
    ok = x[np.isfinite(x)]
    if ok.size < 2:
        return math.nan
    return float(np.median(np.abs(np.diff(ok))) / _MEDIAN_STEP_TO_SD)


_CROSSING_SMOOTHING_S = 0.12  # smoothing used only to find the fit window
_LOOKBACK_RISES = 3.0  # fit window: three times the 10%-to-30% rise time before the 30% level
_LOOKBACK_MIN_S = 0.3
_ONSET_GRID_S = 0.004  # onset search step (sub-frame at any video rate)
_EXPONENT_STEP = 0.25
_FIT_MIN_SAMPLES = 4


_FIT_COARSE_STEP_S = 0.04  # transition fit: coarse grid of start and duration
_FIT_FINE_STEP_S = 0.004  # ... then refined on this grid (sub-frame)
_MID_SEARCH_S = 0.4  # the fitted middle is searched this far around the half-way crossing


def min_jerk(x: Array) -> Array:
    """Minimum-jerk position profile 0..1 over x in 0..1 (clipped outside): zero speed and
    acceleration at both ends (Flash & Hogan 1985, the shape of human point-to-point moves)."""
    u = np.clip(x, 0.0, 1.0)
    return np.asarray(u * u * u * (10.0 - 15.0 * u + 6.0 * u * u), dtype=np.float64)


@dataclass(frozen=True, slots=True)
class TransitionFit:
    """A movement from one level to another fitted with a minimum-jerk profile.

    ``start_s``/``end_s``: when it left the first level and reached the second;
    ``from_value``/``to_value``: the two levels; ``rms``: residual of the fit.
    """

    start_s: float
    end_s: float
    from_value: float
    to_value: float
    rms: float

    @property
    def ok(self) -> bool:
        return math.isfinite(self.start_s) and math.isfinite(self.end_s)

    @property
    def span(self) -> float:
        return self.to_value - self.from_value


NO_TRANSITION = TransitionFit(math.nan, math.nan, math.nan, math.nan, math.nan)


def fit_transition(
    t_s: Array,
    x: Array,
    duration_range_s: tuple[float, float],
    levels: tuple[float, float],
    core: tuple[float, float],
    coarse_step_s: float = _FIT_COARSE_STEP_S,
    fine_step_s: float = _FIT_FINE_STEP_S,
) -> TransitionFit:
    """When x left ``levels[0]`` and reached ``levels[1]``: least-squares fit of
    ``levels[0] + span * min_jerk((t - t0) / T)`` to the samples between the ``core``
    fractions of the way.

    Only the core of the movement is fitted: the first and last few per cent of a smooth
    movement are the same size as the measurement's own errors there (a pose model's
    landmarks lag and dip as a joint starts to move), while the shape of the middle fixes
    where a smooth movement must have started and ended. t0 and T are searched on a coarse
    grid, then refined; T within ``duration_range_s``. NO_TRANSITION when x never gets
    through the core or too few samples are in it.
    """
    lo_level, hi_level = levels
    span = hi_level - lo_level
    if not (math.isfinite(span) and span != 0.0):
        return NO_TRANSITION
    y = (x - lo_level) / span
    ok = np.isfinite(y) & (y >= core[0]) & (y <= core[1])
    if ok.sum() < _FIT_MIN_SAMPLES:
        return NO_TRANSITION
    t, y = t_s[ok], y[ok]
    # a min-jerk move is symmetric: its middle is near where x crosses half-way
    order = np.argsort(y, kind="stable")
    t_mid = float(np.interp(0.5, y[order], t[order]))
    mids = np.arange(t_mid - _MID_SEARCH_S, t_mid + _MID_SEARCH_S + 1e-9, coarse_step_s / 2)
    durs = np.arange(duration_range_s[0], duration_range_s[1] + 1e-9, coarse_step_s)
    best = _grid_fit(t, y, mids, durs)
    mid, dur = best[0], best[1]
    mids = np.arange(mid - coarse_step_s / 2, mid + coarse_step_s / 2 + 1e-9, fine_step_s)
    durs = np.arange(
        max(duration_range_s[0], dur - coarse_step_s), dur + coarse_step_s + 1e-9, fine_step_s
    )
    mid, dur, rss = _grid_fit(t, y, mids, durs)
    rms = math.sqrt(rss / t.size) * abs(span)
    return TransitionFit(mid - dur / 2, mid + dur / 2, lo_level, hi_level, rms)


def _grid_fit(t: Array, y: Array, mids: Array, durs: Array) -> tuple[float, float, float]:
    """Best (middle, duration, rss) of y = min_jerk over the grid."""
    best = (math.nan, math.nan, math.inf)
    for dur in durs:
        s = min_jerk((t[None, :] - mids[:, None]) / dur + 0.5)
        rss = ((s - y[None, :]) ** 2).sum(axis=1)
        i = int(np.argmin(rss))
        if rss[i] < best[2]:
            best = (float(mids[i]), float(dur), float(rss[i]))
    return best


def longest_run_s(t_s: Array, flags: BoolArray) -> float:
    """Longest time span over which ``flags`` stays true (sample to sample)."""
    best, start = 0.0, math.nan
    for t, flag in zip(t_s, flags, strict=True):
        if flag:
            start = t if math.isnan(start) else start
            best = max(best, float(t) - start)
        else:
            start = math.nan
    return best


def finite_max(x: Array) -> float:
    """The largest finite value (NaN when there is none)."""
    finite = x[np.isfinite(x)]
    return float(finite.max()) if finite.size else math.nan


def finite_min(x: Array) -> float:
    """The smallest finite value (NaN when there is none)."""
    finite = x[np.isfinite(x)]
    return float(finite.min()) if finite.size else math.nan
