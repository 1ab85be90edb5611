"""Timing between two joints: which one starts a movement and by how many milliseconds,
and how the chest moves while the legs straighten.

Every lag is the second signal (the trunk) minus the first (the knees, or the hips): positive
when the first moves first. Each joint's own timing error is steady per person and camera
but large between them (renders: -0.8..+0.7 s on correct reps), so a fault needs the lag
over its limit both as measured and as a change from the person's own first reps
(:func:`lead_and_change_exceed`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from formcheck.analyzers.checks.condition import Condition
from formcheck.analyzers.signals import Array, BoolArray, median_filtered, robust_median
from formcheck.analyzers.window import RepWindow

MS_PER_S = 1000.0
_PERCENT = 100.0
_HALF = 0.5
DOWN, UP = 0, 1  # the phase of a rep's transition fits


def fit_start_lag_ms(
    window: RepWindow,
    phase: int,
    first: str,
    second: str,
    range_min_deg: float,
    rms_max_fraction: float,
    *,
    both_fitted: bool,
) -> float:
    """Start of ``second``'s fitted transition minus ``first``'s (ms) on the way down
    (``phase`` DOWN) or up (UP). NaN unless ``first`` (and ``second`` too when
    ``both_fitted``) moved at least ``range_min_deg`` with the smooth shape that was fitted
    (fit error within ``rms_max_fraction`` of its range): a joint's own errors of a few
    degrees would otherwise decide the sign."""
    fits = window.timing.fits
    if first not in fits or second not in fits:
        return math.nan
    a, b = fits[first][phase], fits[second][phase]
    if not (a.ok and b.ok):
        return math.nan
    for fit in (a, b) if both_fitted else (a,):
        if abs(fit.span) < range_min_deg or fit.rms > rms_max_fraction * abs(fit.span):
            return math.nan
    return (b.start_s - a.start_s) * MS_PER_S


def mid_lag_ms(
    window: RepWindow,
    phase: int,
    bottom: BoolArray,
    first: str,
    second: str,
    fractions: Sequence[float],
    filter_s: float,
    range_min_deg: float,
    before_s: float = 0.0,
) -> float:
    """How long ``second`` trails ``first`` through the middle of the way down (``phase``
    DOWN, searched from ``before_s`` ahead of the rep's start) or up (UP), in ms: the mean
    over ``fractions`` of the time between the two reaching the same share of their move
    (down: the share done; up: the share of the way down still left). Each signal runs
    from 0 at its start position to 1 at the bottom and is median-filtered over
    ``filter_s``, so that a blip of a few frames crosses no level. Unlike a fitted start,
    this follows the whole middle of the move: a start reshaped by the view moves it
    little. NaN when a signal moved less than ``range_min_deg`` or a level was not
    crossed."""
    tm = window.timing
    if phase == DOWN:
        seg = window.mask(tm.start_s - before_s, tm.bottom_out_s)
    else:
        seg = window.t_s >= tm.bottom_out_s
    steps = np.diff(window.t_s)
    frames = max(1, round(filter_s / float(np.median(steps)))) if steps.size else 1
    sign = 1.0 if phase == DOWN else -1.0  # on the way up: falling through a level
    crossings = []
    for name in (first, second):
        x = window.series(name)
        rest, deep = window.rest_value(name), robust_median(x[bottom])
        if not abs(deep - rest) >= range_min_deg:
            return math.nan
        y = median_filtered((x[seg] - rest) / (deep - rest), frames | 1)
        crossings.append(
            np.array([first_crossing_s(window.t_s[seg], sign * y, sign * f) for f in fractions])
        )
    lags = crossings[1] - crossings[0]
    if not np.isfinite(lags).all():
        return math.nan
    return float(np.mean(lags)) * MS_PER_S


def level_lag_ms(
    window: RepWindow,
    first: str,
    first_level: float,
    second: str,
    second_level: float,
    before_s: float,
) -> float:
    """When ``second`` has risen ``second_level`` from its start-position value minus when
    ``first`` has risen ``first_level`` from its own (ms), on the way down (searched from
    ``before_s`` ahead of the rep's start). Fixed early levels are not moved by what happens
    later in the rep (a back rounding at the bottom tips the trunk further and shifts a
    whole-move fit's start)."""
    tm = window.timing
    seg = window.mask(tm.start_s - before_s, tm.bottom_in_s)
    times = [
        first_crossing_s(window.t_s[seg], window.series(name)[seg], window.rest_value(name) + level)
        for name, level in ((first, first_level), (second, second_level))
    ]
    return (times[1] - times[0]) * MS_PER_S


def first_crossing_s(t_s: Array, x: Array, level: float) -> float:
    """First time ``x`` rises through ``level``, interpolated between samples (NaN when it
    never does or starts above it)."""
    ok = np.isfinite(x)
    t, v = t_s[ok], x[ok]
    above = np.nonzero(v >= level)[0]
    if above.size == 0 or above[0] == 0:
        return math.nan
    i = int(above[0])
    return float(t[i - 1] + (level - v[i - 1]) / (v[i] - v[i - 1]) * (t[i] - t[i - 1]))


def chest_drop_deg(knee: Array, trunk: Array, knee_range_min_deg: float | None = None) -> float:
    """Largest rise of trunk inclination from the knees' deepest point until they are half
    straight (NaN when a signal is missing, or when the knees bend less than
    ``knee_range_min_deg``): hips shooting up tip the chest down; a hinge raises it; a
    deadlift's first pull keeps it level."""
    ok = np.isfinite(knee) & np.isfinite(trunk)
    if ok.sum() < 2:
        return math.nan
    i_peak = int(np.nanargmax(np.where(ok, knee, -np.inf)))
    end = float(knee[ok][-1])
    if knee_range_min_deg is not None and knee[i_peak] - end < knee_range_min_deg:
        return math.nan
    half = knee[i_peak] - _HALF * (knee[i_peak] - end)
    after = np.nonzero((np.arange(knee.size) > i_peak) & ok & (knee <= half))[0]
    i_half = int(after[0]) if after.size else knee.size - 1
    return float(np.nanmax(trunk[i_peak : i_half + 1]) - trunk[i_peak])


def progress_lead(t_s: Array, lead: Array, lag: Array, range_min: float) -> tuple[float, float]:
    """Max of (progress of ``lead`` - progress of ``lag``) in % while both fall from their
    peaks to their ends, and the delay between their half-way times in ms."""
    if t_s.size < 2:
        return math.nan, math.nan
    progress = []
    for x in (lead, lag):
        ok = np.isfinite(x)
        if ok.sum() < 2:
            return math.nan, math.nan
        i_peak = int(np.nanargmax(x))
        top, end = float(x[i_peak]), float(x[ok][-1])
        if top - end < range_min:
            return math.nan, math.nan
        p = np.clip((top - x) / (top - end), 0.0, 1.0)
        p[: i_peak + 1] = 0.0
        progress.append(p)
    diff = progress[0] - progress[1]
    lead_pct = float(np.nanmax(diff)) * _PERCENT
    halves = [_first_at_or_above(t_s, p, _HALF) for p in progress]
    return lead_pct, (halves[1] - halves[0]) * MS_PER_S


def _first_at_or_above(t_s: Array, p: Array, level: float) -> float:
    """First time a progress curve (0 -> 1) reaches ``level`` (interpolated; the first
    sample's time when it starts there)."""
    above = np.nonzero(p >= level)[0]
    if above.size == 0:
        return math.nan
    i = int(above[0])
    if i == 0:
        return float(t_s[0])
    return float(t_s[i - 1] + (level - p[i - 1]) / (p[i] - p[i - 1]) * (t_s[i] - t_s[i - 1]))


def lead_and_change_exceed(value: float, change: float, limit: float) -> bool | None:
    """A timing fault: the lead over ``limit`` both as measured and as a change from the
    person's first reps; None (not judged) when either is unknown."""
    if not (math.isfinite(value) and math.isfinite(change)):
        return None
    return value > limit and change > limit


def lead_condition(code: str, value: float, change: float, limit: float, unit: str) -> Condition:
    return Condition(code, lead_and_change_exceed(value, change, limit), value, limit, unit)
