"""The person's own references: their start position (calibrated, or measured from the
first still window of the set), its value before each rep, their standing values over the
set, and their first reps.

Every check compares a rep with the same person's references, never with a population norm.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from formcheck.analyzers.baseline import Baseline, BaselineSource, StillWindowCalibrator
from formcheck.analyzers.events import Phase, RepRecord
from formcheck.analyzers.signals import robust_median
from formcheck.analyzers.spec import ExerciseSpec
from formcheck.analyzers.window import SampleBuffer

REST_MIN_SAMPLES = 3  # fewer samples than this cannot give a median start position


class StartPosition:
    """The start position and noise floor of one set.

    The pipeline's calibration is used when its still second was this exercise's start
    position; otherwise its jitter is kept and the start position is measured here, from
    the first still window at the start position (``update``)."""

    def __init__(
        self, spec: ExerciseSpec, baseline: Baseline | None, orient: Callable[[float], float]
    ) -> None:
        self._spec = spec
        self._orient = orient
        noise_defaults = spec.calibration.default_noise_floor
        if baseline is not None and not self._is_start_position(baseline):
            # The pipeline's still second was not this exercise's start position (e.g. the
            # bottom pause of a rep): keep its jitter, measure the start position here.
            baseline = Baseline({}, dict(baseline.noise_floor), BaselineSource.DEFAULT)
        if baseline is None:
            self.baseline = Baseline({}, dict(noise_defaults), BaselineSource.DEFAULT)
        else:
            self.baseline = baseline.with_defaults(noise_defaults)
        self._calibrator: StillWindowCalibrator | None = None
        if not math.isfinite(self.baseline.value(spec.phase.primary_signal)):
            cal = spec.calibration
            self._calibrator = StillWindowCalibrator(
                spec.phase.primary_signal,
                cal.still_window_s,
                cal.still_max_std_deg,
                cal.min_valid_fraction,
            )
        self._noise_measured = baseline is not None
        self.rest: dict[str, float] = {}  # start-position values before the current rep
        self._standing_history: dict[str, list[float]] = {}

    def value(self) -> float:
        """The start-position value of the primary signal (oriented; the spec's default
        until one is known)."""
        value = self.baseline.value(self._spec.phase.primary_signal)
        if not math.isfinite(value):
            return self._spec.phase.start_default_deg
        return self._orient(value)

    def update(self, t_s: float, measures: Mapping[str, float], phase: Phase) -> None:
        """Look for the first still window at the start position (before any rep)."""
        if self._calibrator is None or phase not in (Phase.SETUP, Phase.TOP):
            return
        still = self._calibrator.update(t_s, measures)
        if still is None:
            return
        noise = dict(self.baseline.noise_floor)
        if not self._noise_measured:
            noise.update(still.std)
            self._noise_measured = True
        values = dict(self.baseline.values)
        primary = still.median.get(self._spec.phase.primary_signal, math.nan)
        if abs(self._orient(primary)) <= self._spec.phase.start_max_deg:
            values.update({k: v for k, v in still.median.items() if k not in values})
            self._calibrator = None
        self.baseline = Baseline(values, noise, BaselineSource.STILL_START)

    def begin_rep(self, buffer: SampleBuffer, t_s: float) -> None:
        """Leaving the start position: the person's start values for the live checks (the
        medians over ``rest_window_s`` ending ``rest_margin_s`` before ``t_s``)."""
        cal = self._spec.calibration
        end = buffer.index_at(t_s - cal.rest_margin_s)
        if end < REST_MIN_SAMPLES:
            end = len(buffer.t_s)
        start = buffer.index_at(buffer.t_s[end - 1] - cal.rest_window_s)
        names = buffer.measures[-1].keys() if buffer.measures else []
        self.rest = {n: robust_median(buffer.column(n, start)[: end - start]) for n in names}
        self.remember_standing(self.rest)

    def remember_standing(self, rest: Mapping[str, float]) -> None:
        for name, value in rest.items():
            if math.isfinite(value):
                self._standing_history.setdefault(name, []).append(value)

    def standing_value(self, name: str) -> float:
        """The person's standing value of a measure: the median over the calibration and
        every start position seen so far (one start position alone is noisy)."""
        values = list(self._standing_history.get(name, []))
        calibrated = self.baseline.value(name)
        if math.isfinite(calibrated):
            values.append(calibrated)
        return float(np.median(values)) if values else math.nan

    def _is_start_position(self, baseline: Baseline) -> bool:
        """Whether a baseline's still posture is a start position for a set of reps (holds
        judge their position by its absolute value and take any baseline)."""
        if self._spec.mode == "hold":
            return True
        primary = baseline.value(self._spec.phase.primary_signal)
        return (
            not math.isfinite(primary)
            or abs(self._orient(primary)) <= self._spec.phase.start_max_deg
        )


def own_reference(reps: Sequence[RepRecord], metric: str, pick: str = "median") -> float:
    """The metric over the person's reference ``reps``: their median, or the lowest
    ("min") or highest ("max") value, the reference for a fault that raises or lowers the
    metric (a fault that starts in the second rep then does not hide in the reference: it
    is still measured against the first). NaN when no rep has it."""
    values = np.asarray([r.metrics.get(metric, math.nan) for r in reps], dtype=float)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return math.nan
    if pick == "min":
        return float(values.min())
    if pick == "max":
        return float(values.max())
    return float(np.median(values))


def own_reference_rep(reps: Sequence[RepRecord], metric: str, pick: str) -> RepRecord | None:
    """The rep of ``reps`` with the lowest ("min") or highest ("max") value of the metric,
    for checks that also need that rep's other metrics (e.g. its posture)."""
    having = [r for r in reps if math.isfinite(r.metrics.get(metric, math.nan))]
    if not having:
        return None
    return (min if pick == "min" else max)(having, key=lambda r: r.metrics[metric])


def rep_metric(rep: RepRecord | None, name: str) -> float:
    """A rep's metric (NaN without the rep or the metric)."""
    return math.nan if rep is None else rep.metrics.get(name, math.nan)


_STEADY_FILL_FRACTION = 0.8  # a running median needs this share of its window filled


@dataclass(slots=True)
class LeastBent:
    """The least-bent steady value of a joint angle so far: the minimum of its running
    median over ``window_s`` (standing, for a squat filmed from the front; fed the negated
    angle, the most-bent steady value: the seat of a sit-to-stand)."""

    window_s: float
    value: float = math.nan
    _recent: deque[tuple[float, float]] = field(default_factory=deque)

    def update(self, t_s: float, angle_deg: float) -> None:
        if not math.isfinite(angle_deg):
            return
        self._recent.append((t_s, angle_deg))
        while t_s - self._recent[0][0] > self.window_s:
            self._recent.popleft()
        if t_s - self._recent[0][0] < self.window_s * _STEADY_FILL_FRACTION:
            return
        median = float(np.median([v for _, v in self._recent]))
        self.value = median if not median >= self.value else self.value
