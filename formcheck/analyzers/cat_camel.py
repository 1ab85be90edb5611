"""Cat-camel (cat-cow) on all fours, seen from the side.

The spine's bend drives the reps: ``spine_arc_deg``, the angle between the tangents at the two
ends of the lumbar/lower-thoracic back outline (from ``back_curve_mm`` over its span; + flexed,
the cat; - extended, the camel), against the person's neutral. One rep is one flexion-extension
cycle: away from neutral into the cat (the phase machine's "down"), the pause there, then
through neutral into the camel. The neutral is the middle of the person's own range over the
first cycle (a set that starts moving at once has no still start to calibrate from).

Checks: range of flexion and extension (deg and mm of outline sagitta), smoothness (speed peaks
per rep), tempo against the prescription (down: into the cat; up: cat to camel), and
``spine_arched``: the camel going further into extension than the person's own first rep(s),
beyond both an absolute margin and a share of that reference (the renderer's fault adds lumbar
extension only while the spine is in the camel, scaled by how far into the camel it is).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict

from formcheck.analyzers.checks.condition import Condition, exceeds, falls_short
from formcheck.analyzers.checks.tempo import phase_ratios, quicker_code
from formcheck.analyzers.codes import RANGE_SHORT, SPINE_ARCHED, TEMPO_DOWN_FAST, TEMPO_UP_FAST
from formcheck.analyzers.engine import Analyzer, rep_label
from formcheck.analyzers.engine.phases import Cycle
from formcheck.analyzers.signals import Array, BoolArray, moving_average, robust_median
from formcheck.analyzers.window import RepWindow
from formcheck.kinematics import names as m
from formcheck.types import Sample


class CatCamelChecks(BaseModel):
    """Thresholds of the cat-camel's checks (``[checks]`` of cat_camel.toml)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    own_reference_reps: int
    extension_margin_deg: float
    extension_margin_fraction: float
    range_min_deg: float
    range_min_fraction: float
    speed_smoothing_s: float
    speed_floor_fraction: float
    speed_peak_prominence_fraction: float
    tempo_prescription_tolerance_fraction: float


class CatCamelAnalyzer(Analyzer[CatCamelChecks]):
    checks_model = CatCamelChecks

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._arc_low = math.inf  # the person's extremes until the first rep is done
        self._arc_high = -math.inf
        self._neutral_frozen = math.nan

    def observe(self, sample: Sample) -> None:
        """The person's range of the spine's bend until the first rep is done (its middle is
        their neutral)."""
        arc = sample.get(m.SPINE_ARC_DEG)
        if math.isnan(self._neutral_frozen) and math.isfinite(arc) and sample.quality.usable:
            self._arc_low = min(self._arc_low, arc)
            self._arc_high = max(self._arc_high, arc)

    def start_value(self) -> float:
        """Neutral: the middle of the person's range over their first cycle (frozen once
        the first rep is done), or the still start's value before any movement."""
        if math.isfinite(self._neutral_frozen):
            return self._neutral_frozen
        if math.isfinite(self._arc_low) and math.isfinite(self._arc_high):
            return 0.5 * (self._arc_low + self._arc_high)
        return super().start_value()

    def counts_as_rep(self, cycle: Cycle) -> bool:
        """The first cycle's cat is measured live against a neutral learnt from the cat
        alone (half its size); once its camel is seen too, judge its depth against the
        neutral of the whole cycle (a clean first cycle of 19 deg each way read 9 deg live
        and became an attempt, leaving an arched cycle as the reference)."""
        if math.isfinite(self._neutral_frozen) or super().counts_as_rep(cycle):
            return super().counts_as_rep(cycle)
        buf = self._buffer
        arcs = [
            values.get(m.SPINE_ARC_DEG, math.nan)
            for t, values in zip(buf.t_s, buf.measures, strict=True)
            if cycle.leave_s <= t <= cycle.return_s
        ]
        finite = [a for a in arcs if math.isfinite(a)]
        if not finite:
            return False
        return max(finite) - self.start_value() >= self.spec.phase.rep_min_depth_deg

    # ----- per-rep metrics ------------------------------------------------------------------
    def rep_metrics(self, window: RepWindow) -> dict[str, float]:
        if math.isnan(self._neutral_frozen) and window.counted:
            self._neutral_frozen = self.start_value()
        neutral = self.start_value()
        tm = window.timing
        t = window.t_s
        arc = window.series(m.SPINE_ARC_DEG) - neutral
        curve = window.series(m.BACK_CURVE_MM)
        after = t >= tm.bottom_out_s
        camel_i = _camel_index(arc, after, self.spec.phase.reverse_deg)
        flex = tm.depth_deg
        ext = -float(arc[camel_i]) if camel_i >= 0 else math.nan
        cat = window.mask(tm.bottom_in_s, tm.bottom_out_s)
        # Tempo from the steepest, best-timed points of the cycle: half-way into the cat
        # and half-way from the cat to the camel (a prescription's down/2 + pause + up/2).
        into_cat_s = _crossing_s(t, arc, 0.5 * flex, t <= tm.peak_s, rising=True, last=True)
        t_camel = float(t[camel_i]) if camel_i >= 0 else math.nan
        mid_level = 0.5 * (flex - ext)
        to_camel_s = _crossing_s(
            t, arc, mid_level, after & (t <= t_camel), rising=False, last=False
        )
        end_s = t_camel if math.isfinite(t_camel) else tm.end_s
        out = {
            "flexion_deg": flex,
            "extension_deg": ext,
            "range_deg": flex + ext,
            "cat_curve_mm": robust_median(curve[cat]) if cat.any() else math.nan,
            "camel_curve_mm": float(curve[camel_i]) if camel_i >= 0 else math.nan,
            "half_cycle_s": to_camel_s - into_cat_s,
            "speed_peaks_count": float(
                _speed_peaks(
                    t,
                    moving_average(t, arc, self.checks.speed_smoothing_s),
                    window.mask(tm.start_s, end_s),
                    self.checks.speed_floor_fraction,
                    self.checks.speed_peak_prominence_fraction,
                )
            ),
        }
        ref = self._reference("extension_deg")
        out["extension_change_deg"] = ext - ref
        return out

    def _reference(self, metric: str) -> float:
        """The person's own value over their first reps (median; NaN before)."""
        return self.own_reference(metric, "median", self.checks.own_reference_reps)

    def rep_conditions(self, window: RepWindow, metrics: Mapping[str, float]) -> list[Condition]:
        out = self._tempo(window, metrics)
        c = self.checks
        ref = self._reference("extension_deg")
        margin = max(c.extension_margin_deg, c.extension_margin_fraction * ref)
        margin = self.limit(m.SPINE_ARC_DEG, margin, SPINE_ARCHED)
        change = metrics["extension_change_deg"]
        out.append(exceeds(SPINE_ARCHED, change, margin, "deg", math.isfinite(ref)))
        first = self.own_reference("range_deg", "median", 1)
        range_min = (
            max(c.range_min_deg, c.range_min_fraction * first)
            if math.isfinite(first)
            else c.range_min_deg
        )
        out.append(falls_short(RANGE_SHORT, metrics["range_deg"], range_min, "deg"))
        return out

    def _tempo(self, window: RepWindow, metrics: Mapping[str, float]) -> list[Condition]:
        """The time from half-way into the cat to half-way from the cat to the camel (the
        steepest points of the cycle, so the best timed: renders within a frame or two)
        against the person's own first rep, read the same way, with the spec's tempo
        tolerance, and against the prescription's down/2 + pause + up/2 with the looser
        ``tempo_prescription_tolerance_fraction`` (the outline reaches its extremes before
        the body does, which biases that reading by up to ~18% on the renders). Reported on
        the part that was quicker: into the cat (down) or on to the camel (up)."""
        tempo = self.prescription.tempo if self.prescription else None
        half = metrics["half_cycle_s"]
        if tempo is None or self.closing_open_rep or not math.isfinite(half):
            return []
        c = self.checks
        expected = 0.5 * tempo.down_s + tempo.pause_s + 0.5 * tempo.up_s
        limit = expected * (1.0 - c.tempo_prescription_tolerance_fraction)
        first = self.own_reference("half_cycle_s", "median", 1)
        if math.isfinite(first):
            limit = max(limit, first * (1.0 - self.spec.tempo.tolerance_fraction))
        quick = half < limit
        ph = window.timing.phases
        down_ratio, up_ratio = phase_ratios(ph, tempo.down_s, tempo.up_s)
        code = quicker_code(down_ratio, up_ratio, ties_down=True)
        return [Condition(code, quick, half, limit, "s")]

    def describe(self, condition: Condition, rep: int) -> str:
        v, thr = condition.value, condition.threshold
        where = rep_label(rep)
        texts = {
            SPINE_ARCHED: f"Arch only as far as is comfortable: your back went {v:.0f} deg "
            f"further into extension than in your first rep ({where}).",
            RANGE_SHORT: f"Move further through your spine: {v:.0f} deg from cat to camel in "
            f"{where}, aim for at least {thr:.0f} deg (as in your first rep).",
            TEMPO_DOWN_FAST: f"Slow down, especially rounding up into the cat: {v:.1f} s "
            f"from half-way into the cat to half-way to the camel in {where}, aim for at "
            f"least {thr:.1f} s.",
            TEMPO_UP_FAST: f"Slow down, especially from cat to camel: {v:.1f} s from half-way "
            f"into the cat to half-way to the camel in {where}, aim for at least {thr:.1f} s.",
        }
        return texts.get(condition.code, super().describe(condition, rep))


def _camel_index(arc: Array, after: BoolArray, reverse_deg: float) -> int:
    """Index of the deepest extension after the cat, before the bend turns back up by
    ``reverse_deg`` (the next cat); -1 when the window has none below neutral."""
    idx = np.flatnonzero(after & np.isfinite(arc))
    best, low = -1, math.inf
    for i in idx:
        value = float(arc[i])
        if value < low:
            best, low = int(i), value
        elif value > low + reverse_deg and low < 0:
            break
    return best if low < 0 else -1


def _crossing_s(
    t_s: Array, x: Array, level: float, allowed: BoolArray, *, rising: bool, last: bool
) -> float:
    """Time (interpolated) at which ``x`` crosses ``level`` upwards (``rising``) or
    downwards within ``allowed``: the last such crossing or the first; NaN if none."""
    if not math.isfinite(level):
        return math.nan
    idx = np.flatnonzero(allowed & np.isfinite(x))
    hits = []
    for a, b in itertools.pairwise(idx):
        if b != a + 1:
            continue
        xa, xb = float(x[a]) - level, float(x[b]) - level
        if (xa < 0 <= xb) if rising else (xa > 0 >= xb):
            frac = xa / (xa - xb) if xa != xb else 0.0
            hits.append(float(t_s[a] + frac * (t_s[b] - t_s[a])))
    if not hits:
        return math.nan
    return hits[-1] if last else hits[0]


def _speed_peaks(
    t_s: Array, x: Array, keep: BoolArray, floor_fraction: float, prominence_fraction: float
) -> int:
    """Number of separate speed peaks in ``x`` over ``keep``: a smooth move from one pose to
    the next has one; a jerky one several. Peaks below ``floor_fraction`` of the top speed
    are ignored and a peak must stand ``prominence_fraction`` of it above the dip before."""
    sel = keep & np.isfinite(x)
    if sel.sum() < _MIN_SPEED_SAMPLES:
        return 0
    t, v = t_s[sel], x[sel]
    speed = np.abs(np.gradient(v, t))
    top = float(speed.max())
    if top <= 0:
        return 0
    floor, prom = floor_fraction * top, prominence_fraction * top
    peaks, rising, dip = 0, True, float(speed[0])
    for a, b in itertools.pairwise(speed):
        if rising and b < a and a >= floor and a - dip >= prom:
            peaks += 1
            rising, dip = False, float(a)
        elif not rising and b > a:
            rising, dip = True, float(a)
        elif rising:
            dip = min(dip, float(a))
    return peaks


_MIN_SPEED_SAMPLES = 5
