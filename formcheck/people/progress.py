"""Progress over weeks for one person and exercise, and when a change is real.

Each metric is a value per session (set). "Better" or "worse" is claimed only when the
latest session differs from the first (the baseline) by at least the minimal detectable
change (MDC95), computed from this person's own noise:

- **Per-rep metrics** (back change at depth in mm, down-phase time in s, tempo kept as 0/1):
  the session's value is the mean of its reps. The noise is the pooled within-session
  (rep-to-rep) standard deviation over all the person's sessions,
  ``s_w = sqrt(sum_i (n_i - 1) s_i^2 / sum_i (n_i - 1))``, and the change between two
  sessions of n_a and n_b reps is detectable when it exceeds
  ``MDC95 = 1.96 * sqrt(s_w^2 / n_a + s_w^2 / n_b)``, which for equal n is the textbook
  ``1.96 * sqrt(2) * SEM`` with ``SEM = s_w / sqrt(n)``.
- **Per-session metrics** (reps, hold time, the rep where form frays, pain, effort): one value
  per session, so the noise is the SD between the first ``BASELINE_SESSIONS`` sessions (the
  baseline, before change is expected) and ``MDC95 = 1.96 * sqrt(2) * SD``, never below the
  metric's resolution floor (``MDC_FLOORS``: one rep; 2 points for the 0-10 pain and effort
  ratings, their published MDC (Childs et al. 2005); 0.15 s for a phase's time, per-rep too).

With too little data to estimate the noise the verdict is "not enough data", never a claim.
The progress page draws the band ``baseline ± MDC95``.
"""

from __future__ import annotations

import datetime as dt
import math
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeGuard

Z_95 = 1.96  # two-sided 95 %
BASELINE_SESSIONS = 3  # sessions whose spread is the noise of a per-session metric
MIN_REPS_FOR_NOISE = 2  # a session with fewer reps says nothing about rep-to-rep noise
MDC_FLOORS = {
    "reps": 1.0,
    "form_frays_at_rep": 1.0,
    "pain": 2.0,
    "effort": 2.0,
    "hold_s": 1.0,
    # a phase's time is read to about 0.15 s (the evaluation's phase tolerance: the
    # fitted phase ends against the renders' truth), however steady the reps
    "down_s": 0.15,
}

Better = Literal["higher", "lower"]
Verdict = Literal["better", "worse", "no change beyond noise", "not enough data"]


@dataclass(frozen=True, slots=True)
class SessionPoint:
    """One set of the person's history, as the progress computation reads it."""

    session_id: int
    recorded_at: dt.datetime
    measures: dict[str, Any]
    pain: int | None = None
    effort: int | None = None


@dataclass(frozen=True, slots=True)
class MetricDef:
    key: str
    label: str
    unit: str
    better: Better
    per_rep: bool
    # per-rep: the session's rep values; per-session: its one value (None: not measured)
    read: Callable[[SessionPoint], list[float] | float | None]


def _rep_values(name: str) -> Callable[[SessionPoint], list[float]]:
    def read(point: SessionPoint) -> list[float]:
        return [float(v) for v in point.measures.get(name) or [] if _finite(v)]

    return read


def _tempo_kept(point: SessionPoint) -> list[float]:
    return [1.0 if v else 0.0 for v in point.measures.get("rep_on_tempo") or [] if v is not None]


def _measure(name: str) -> Callable[[SessionPoint], float | None]:
    def read(point: SessionPoint) -> float | None:
        value = point.measures.get(name)
        return float(value) if _finite(value) else None

    return read


def _fray_rep(point: SessionPoint) -> float | None:
    """The rep where form frays; a set that never frayed counts as fraying after its last
    rep (reps + 1), so holding form longer reads as a later fray."""
    reps = point.measures.get("reps") or 0
    if reps <= 0:
        return None
    fray = point.measures.get("form_frays_at_rep")
    return float(fray) if fray is not None else float(reps + 1)


METRICS: tuple[MetricDef, ...] = (
    MetricDef("reps", "Reps", "", "higher", False, _measure("reps")),
    MetricDef("tempo_kept", "Tempo kept (share of reps)", "", "higher", True, _tempo_kept),
    MetricDef("down_s", "Down phase", "s", "higher", True, _rep_values("rep_down_s")),
    MetricDef(
        "back_change_mm", "Back change at depth", "mm", "lower", True,
        _rep_values("rep_back_change_mm"),
    ),
    MetricDef("hold_s", "Hold", "s", "higher", False, _measure("hold_s")),
    MetricDef("form_frays_at_rep", "Form frays at rep", "", "higher", False, _fray_rep),
    MetricDef("pain", "Pain (0-10)", "", "lower", False, lambda p: _num(p.pain)),
    MetricDef("effort", "Effort (0-10)", "", "lower", False, lambda p: _num(p.effort)),
)  # fmt: skip
METRIC_KEYS = tuple(m.key for m in METRICS)


@dataclass
class Series:
    """One metric over the sessions, its noise, MDC95 and verdict."""

    key: str
    label: str
    unit: str
    better: Better
    per_rep: bool
    points: list[dict[str, Any]] = field(default_factory=list)  # session_id, date, value, n
    noise_sd: float | None = None
    baseline: float | None = None
    latest: float | None = None
    change: float | None = None
    mdc: float | None = None
    verdict: Verdict = "not enough data"
    basis: str = ""

    @property
    def band(self) -> tuple[float, float] | None:
        if self.baseline is None or self.mdc is None:
            return None
        return self.baseline - self.mdc, self.baseline + self.mdc

    def to_dict(self) -> dict[str, Any]:
        band = self.band
        return {
            "key": self.key, "label": self.label, "unit": self.unit, "better": self.better,
            "per_rep": self.per_rep, "points": self.points, "noise_sd": self.noise_sd,
            "baseline": self.baseline, "latest": self.latest, "change": self.change,
            "mdc": self.mdc, "band": list(band) if band else None, "verdict": self.verdict,
            "basis": self.basis,
        }  # fmt: skip


def pooled_within_sd(groups: Sequence[Sequence[float]]) -> float | None:
    """``sqrt(sum (n_i - 1) s_i^2 / sum (n_i - 1))`` over groups of at least two values."""
    usable = [g for g in groups if len(g) >= MIN_REPS_FOR_NOISE]
    dof = sum(len(g) - 1 for g in usable)
    if dof == 0:
        return None
    squares = sum((len(g) - 1) * statistics.variance(g) for g in usable)
    return math.sqrt(squares / dof)


def mdc95_between(noise_sd: float, n_a: int, n_b: int) -> float:
    """MDC95 of the difference of two means of n_a and n_b samples with SD ``noise_sd``."""
    return Z_95 * math.sqrt(noise_sd**2 / n_a + noise_sd**2 / n_b)


def series_for(metric: MetricDef, points: Sequence[SessionPoint]) -> Series:
    out = Series(metric.key, metric.label, metric.unit, metric.better, metric.per_rep)
    values: list[tuple[SessionPoint, float, int, list[float]]] = []
    for point in points:
        read = metric.read(point)
        if isinstance(read, list):
            if not read:
                continue
            values.append((point, statistics.fmean(read), len(read), read))
        elif read is not None:
            values.append((point, read, 1, [read]))
    out.points = [
        {"session_id": p.session_id, "date": p.recorded_at.isoformat(), "value": v, "n": n}
        for p, v, n, _ in values
    ]
    if not values:
        return out
    first, last = values[0], values[-1]
    out.baseline, out.latest = first[1], last[1]
    out.change = last[1] - first[1]
    if metric.per_rep:
        out.noise_sd = pooled_within_sd([reps for *_, reps in values])
        if out.noise_sd is not None:
            floor = MDC_FLOORS.get(metric.key, 0.0)
            out.mdc = max(mdc95_between(out.noise_sd, first[2], last[2]), floor)
            out.basis = (
                f"rep-to-rep SD {out.noise_sd:.3g}{_unit(metric.unit)} pooled over {len(values)} "
                f"sessions; MDC95 = 1.96·√(SD²/{first[2]} + SD²/{last[2]})"
                + (f", never below {floor:g}{_unit(metric.unit)}" if floor else "")
            )
    else:
        baseline = [v for _, v, _, _ in values[:BASELINE_SESSIONS]]
        floor = MDC_FLOORS.get(metric.key, 0.0)
        if len(baseline) >= 2:
            out.noise_sd = statistics.stdev(baseline)
            out.mdc = max(Z_95 * math.sqrt(2) * out.noise_sd, floor)
            out.basis = (
                f"session-to-session SD {out.noise_sd:.3g}{_unit(metric.unit)} of the first "
                f"{len(baseline)} sessions; MDC95 = max(1.96·√2·SD, {floor:g})"
            )
    if out.mdc is not None and len(values) >= 2:
        out.verdict = _verdict(out.change, out.mdc, metric.better)
    return out


def _verdict(change: float, mdc: float, better: Better) -> Verdict:
    if abs(change) < mdc or change == 0:  # (a measure without noise has an MDC of 0)
        return "no change beyond noise"
    improved = change > 0 if better == "higher" else change < 0
    return "better" if improved else "worse"


def progress(points: Sequence[SessionPoint]) -> dict[str, Series]:
    """Every metric's series over these sessions (oldest first)."""
    ordered = sorted(points, key=lambda p: (p.recorded_at, p.session_id))
    return {m.key: series_for(m, ordered) for m in METRICS}


def _finite(value: Any) -> TypeGuard[float]:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _unit(unit: str) -> str:
    return f" {unit}" if unit else ""


def _num(value: int | None) -> float | None:
    return float(value) if value is not None else None
