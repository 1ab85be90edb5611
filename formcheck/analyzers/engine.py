"""The analyzer engine: one instance per set, fed sample by sample.

``Analyzer.update(sample) -> list[Event]`` runs calibration, setup hints, the phase state
machine, per-frame checks (with persistence) and, when a rep ends, the rep analysis: phase
timing from onsets, the exercise's metrics and rep checks, score, findings and cues.
``Analyzer.finish() -> SetSummary``. An exercise subclasses it and fills the hooks
``frame_conditions``, ``rep_metrics``, ``rep_conditions``, ``describe`` and ``severity``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from pydantic import BaseModel, ValidationError

from formcheck.analyzers.baseline import Baseline, BaselineSource, StillWindowCalibrator
from formcheck.analyzers.codes import TEMPO_DOWN_FAST, TEMPO_UP_FAST
from formcheck.analyzers.cues import Condition, CuePolicy, Persistence
from formcheck.analyzers.errors import SpecError
from formcheck.analyzers.events import (
    Event,
    Finding,
    HoldProgress,
    PartialRep,
    Phase,
    PhaseChanged,
    RepCompleted,
    RepRecord,
    SetupHint,
    SetupHintCode,
    Severity,
)
from formcheck.analyzers.phases import Cycle, PhaseMachine
from formcheck.analyzers.setup import SetupAdvisor
from formcheck.analyzers.signals import (
    NO_TRANSITION,
    TransitionFit,
    fill_gaps,
    fit_transition,
    moving_average,
    onset_backward,
    onset_time,
    robust_median,
)
from formcheck.analyzers.spec import ExerciseSpec, Prescription, apply_prescription
from formcheck.analyzers.summary import SetSummary, form_frays_at, rep_score
from formcheck.analyzers.window import RepTiming, RepWindow, SampleBuffer
from formcheck.types import Sample


@dataclass(frozen=True, slots=True)
class AnalyzerInfo:
    name: str
    description: str
    camera_placement: str


@dataclass(frozen=True, slots=True)
class FrameContext:
    """What a per-frame check may look at: causal means of measures and the references."""

    t_s: float
    phase: Phase
    depth_deg: float  # primary signal above the start position
    rest: Mapping[str, float]  # start-position values before the current rep
    buffer: SampleBuffer
    smoothing_window_s: float
    phase_since_s: float = math.nan  # when the current phase began

    def recent(self, name: str) -> float:
        return self.buffer.recent_mean(name, self.smoothing_window_s)

    @property
    def in_phase_s(self) -> float:
        """How long the current phase has lasted (NaN before any phase change)."""
        return self.t_s - self.phase_since_s


class _NoChecks(BaseModel):
    model_config = {"extra": "forbid"}


class Analyzer:
    """Generic engine; usable as is for an exercise whose spec needs no checks of its own."""

    checks_model: ClassVar[type[BaseModel]] = _NoChecks

    def __init__(
        self,
        spec: ExerciseSpec,
        baseline: Baseline | None = None,
        prescription: Prescription | None = None,
    ):
        if prescription is not None:
            spec = apply_prescription(spec, prescription)
        self.spec = spec
        self.prescription = prescription
        try:
            self.checks = self.checks_model.model_validate(spec.checks)
        except ValidationError as exc:
            raise SpecError(
                f"The [checks] of exercise spec {spec.name} are not valid: {exc}."
            ) from exc
        self.avoided_codes = {
            code
            for d in (prescription.avoid if prescription else [])
            for code in spec.avoid_codes[d]
        }
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
            self._calibrator = StillWindowCalibrator(
                spec.phase.primary_signal,
                spec.calibration.still_window_s,
                spec.calibration.still_max_std_deg,
                spec.calibration.min_valid_fraction,
            )
        self._noise_measured = baseline is not None
        self._machine = PhaseMachine(spec.phase)
        self._buffer = SampleBuffer()
        self._persistence = Persistence(spec.cues.persistence_s)
        self._policy = CuePolicy(spec.cues)
        self._setup = SetupAdvisor(spec.setup)
        self._pending: Cycle | None = None
        self._phase_since_s = math.nan
        self._rest: dict[str, float] = {}
        self._standing_history: dict[str, list[float]] = {}
        self._rep_findings: list[Finding] = []
        self._last_end_s = -math.inf
        self._hold = _HoldTimer()
        self.summary = SetSummary(exercise=spec.name)
        if prescription is not None:
            self.summary.target_reps = prescription.reps
            self.summary.target_hold_s = prescription.hold_s

    # ----- hooks for exercises --------------------------------------------------------------
    def frame_conditions(self, ctx: FrameContext) -> list[Condition]:
        return []

    def rep_metrics(self, window: RepWindow) -> dict[str, float]:
        return {}

    def counts_as_rep(self, cycle: Cycle) -> bool:
        """Whether a finished excursion went deep enough to be a rep (else an attempt)."""
        return cycle.reached(self.spec.phase.rep_min_depth_deg)

    def rep_conditions(self, window: RepWindow, metrics: Mapping[str, float]) -> list[Condition]:
        return []

    def describe(self, condition: Condition, rep: int) -> str:
        """A plain, short, actionable sentence for a finding."""
        v, thr, where = (
            condition.value,
            condition.threshold,
            rep_label(rep),
        )
        if condition.code == TEMPO_DOWN_FAST:
            return (
                f"Slow down the first half of the movement: {v:.1f} s in {where}, aim for at "
                f"least {thr:.1f} s."
            )
        if condition.code == TEMPO_UP_FAST:
            return f"Slow down the return: {v:.1f} s in {where}, aim for at least {thr:.1f} s."
        return (
            f"{condition.code.replace('_', ' ')} in rep {rep}: {condition.value:.0f} "
            f"{condition.unit} (limit {condition.threshold:.0f} {condition.unit})."
        )

    def severity(self, code: str) -> Severity:
        return Severity.WARNING

    def rep_side(self, window: RepWindow) -> str | None:
        """For alternating exercises: which side ("left"/"right") this rep worked."""
        return None

    # ----- helpers for exercises ------------------------------------------------------------
    def tempo_conditions(self, window: RepWindow) -> list[Condition]:
        """Phases quicker than the prescribed tempo (less its tolerance) or the spec's
        minimum; no check without either."""
        tempo = self.prescription.tempo if self.prescription else None
        tol = 1.0 - self.spec.tempo.tolerance_fraction
        down_min = tempo.down_s * tol if tempo else self.spec.tempo.down_min_s
        up_min = tempo.up_s * tol if tempo else self.spec.tempo.up_min_s
        ph = window.timing.phases
        out = []
        if down_min > 0 and not (window.from_bottom or window.timing.start_cut):
            out.append(Condition(TEMPO_DOWN_FAST, ph.down_s < down_min, ph.down_s, down_min, "s"))
        if up_min > 0:
            out.append(Condition(TEMPO_UP_FAST, ph.up_s < up_min, ph.up_s, up_min, "s"))
        return out

    def noise_gate(self, measure: str, threshold: float) -> float:
        """The effective limit for a change in ``measure``: max(threshold, k x noise floor)."""
        noise = self.baseline.noise(measure)
        if not math.isfinite(noise):
            return threshold
        return max(threshold, self.spec.cues.noise_k * noise)

    def threshold_scale(self, code: str) -> float:
        """Tighter limits for codes in a direction the prescription says to avoid."""
        return self.spec.cues.avoid_threshold_factor if code in self.avoided_codes else 1.0

    def start_value(self) -> float:
        """The person's start-position value of the primary signal (oriented)."""
        value = self.baseline.value(self.spec.phase.primary_signal)
        if not math.isfinite(value):
            return self.spec.phase.start_default_deg
        return self._orient(value)

    @property
    def reference_reps(self) -> list[RepRecord]:
        return self.summary.reps[: self.spec.calibration.reference_reps]

    # ----- the engine -----------------------------------------------------------------------
    def update(self, sample: Sample) -> list[Event]:
        t_s = sample.t_ms / 1000.0
        events: list[Event] = list(self._setup.update(t_s, sample))
        if not sample.quality.usable:
            events += self._maybe_finalize(t_s, leaving=False)
            return events
        self._buffer.append(t_s, sample.measures, sample.view)
        self._calibrate(t_s, sample.measures)
        depth = self._orient(sample.get(self.spec.phase.primary_signal)) - self.start_value()
        if self.spec.mode == "hold":
            self._buffer.trim_before(t_s - self._history_s)
            return events + self._update_hold(t_s, depth)
        leaving = math.isfinite(depth) and depth > self.spec.phase.leave_start_deg
        events += self._maybe_finalize(t_s, leaving)
        if self._pending is None and self._machine.phase in (Phase.SETUP, Phase.TOP):
            self._buffer.trim_before(t_s - self._history_s)
        moves, cycle = self._machine.update(t_s, depth)
        rep_no = len(self.summary.reps) + 1
        for move in moves:
            self._phase_since_s = move.t_s
            if move.previous is Phase.TOP and move.phase is Phase.DOWN:
                self._begin_rep(move.t_s)
            events.append(PhaseChanged(move.t_s, move.phase, move.previous, rep_no))
        if self._machine.phase in (Phase.DOWN, Phase.BOTTOM, Phase.UP) or cycle is not None:
            events += self._frame_checks(t_s, depth, rep_no)
        if cycle is not None:
            self._pending = cycle
        return events

    def finish(self) -> SetSummary:
        """Close the set: a rep waiting for its settling samples is analysed now."""
        self._finalize_pending()
        self.summary.form_frays_at_rep = form_frays_at(
            [r.score for r in self.summary.reps],
            self.spec.calibration.reference_reps,
            self.spec.scoring,
        )
        self.summary.baseline = self.baseline
        if self.spec.mode == "hold":
            self.summary.hold_s = self._hold.held_s
            # the hold is the set's one "rep": its findings, each at its worst value
            findings, self._rep_findings = self._rep_findings, []
            self.summary.findings += [self._settle(f, f.rep) for f in findings]
        return self.summary

    def _is_start_position(self, baseline: Baseline) -> bool:
        """Whether a baseline's still posture is a start position for a set of reps (holds
        judge their position by its absolute value and take any baseline)."""
        if self.spec.mode == "hold":
            return True
        primary = baseline.value(self.spec.phase.primary_signal)
        return (
            not math.isfinite(primary)
            or abs(self._orient(primary)) <= self.spec.phase.start_max_deg
        )

    def _orient(self, value: float) -> float:
        return -value if self.spec.phase.direction == "decrease" else value

    def _calibrate(self, t_s: float, measures: Mapping[str, float]) -> None:
        if self._calibrator is None or self._machine.phase not in (Phase.SETUP, Phase.TOP):
            return
        still = self._calibrator.update(t_s, measures)
        if still is None:
            return
        noise = dict(self.baseline.noise_floor)
        if not self._noise_measured:
            noise.update(still.std)
            self._noise_measured = True
        values = dict(self.baseline.values)
        primary = still.median.get(self.spec.phase.primary_signal, math.nan)
        if abs(self._orient(primary)) <= self.spec.phase.start_max_deg:
            values.update({k: v for k, v in still.median.items() if k not in values})
            self._calibrator = None
        self.baseline = Baseline(values, noise, BaselineSource.STILL_START)

    @property
    def _history_s(self) -> float:
        """How much standing history a rep's analysis may look back over."""
        cal = self.spec.calibration
        return self.spec.phase.preroll_max_s + cal.rest_window_s + cal.rest_margin_s

    def _begin_rep(self, t_s: float) -> None:
        """Leaving the start position: the person's start values for the live checks."""
        self._persistence.reset()
        self._rep_findings = []
        cal = self.spec.calibration
        end = self._buffer.index_at(t_s - cal.rest_margin_s)
        if end < _REST_MIN_SAMPLES:
            end = len(self._buffer.t_s)
        start = self._buffer.index_at(self._buffer.t_s[end - 1] - cal.rest_window_s)
        names = self._buffer.measures[-1].keys() if self._buffer.measures else []
        self._rest = {n: robust_median(self._buffer.column(n, start)[: end - start]) for n in names}
        self._remember_standing(self._rest)

    def _remember_standing(self, rest: Mapping[str, float]) -> None:
        for name, value in rest.items():
            if math.isfinite(value):
                self._standing_history.setdefault(name, []).append(value)

    def standing_reference(self, name: str) -> float:
        """The person's standing value of a measure: the median over the calibration and
        every start position seen so far (one start position alone is noisy)."""
        values = list(self._standing_history.get(name, []))
        calibrated = self.baseline.value(name)
        if math.isfinite(calibrated):
            values.append(calibrated)
        return float(np.median(values)) if values else math.nan

    def _frame_checks(self, t_s: float, depth: float, rep_no: int) -> list[Event]:
        ctx = FrameContext(
            t_s,
            self._machine.phase,
            depth,
            self._rest,
            self._buffer,
            self.spec.phase.smoothing_window_s,
            self._phase_since_s,
        )
        new: list[Finding] = []
        for condition in self.frame_conditions(ctx):
            fired = self._persistence.update(t_s, condition)
            if fired is not None:
                new.append(self._finding(fired, rep_no, t_s))
        self._rep_findings += new
        return list(self._policy.decide(new))

    def _finding(self, condition: Condition, rep_no: int, t_s: float) -> Finding:
        return Finding(
            code=condition.code,
            severity=self.severity(condition.code),
            rep=rep_no,
            t_s=t_s,
            value=condition.value,
            threshold=condition.threshold,
            unit=condition.unit,
            message=self.describe(condition, rep_no),
        )

    def _settle(self, finding: Finding, rep_no: int) -> Finding:
        """A live finding restated at the rep's end: its worst value over the rep."""
        worst = self._persistence.worst(finding.code)
        value = worst if math.isfinite(worst) else finding.value
        cond = Condition(finding.code, True, value, finding.threshold, finding.unit)
        return Finding(
            finding.code,
            finding.severity,
            rep_no,
            finding.t_s,
            value,
            finding.threshold,
            finding.unit,
            self.describe(cond, rep_no),
        )

    def _maybe_finalize(self, t_s: float, leaving: bool) -> list[Event]:
        if self._pending is None:
            return []
        if leaving or t_s - self._pending.return_s >= self.spec.phase.settle_wait_s:
            return self._finalize_pending()
        return []

    def _finalize_pending(self) -> list[Event]:
        cycle, self._pending = self._pending, None
        if cycle is None:
            return []
        if not cycle.reached(self.spec.phase.attempt_min_depth_deg):
            self._rep_findings = []  # a sway, not a movement: nothing to report
            return []
        counted = self.counts_as_rep(cycle)
        index = len(self.summary.reps) + 1 if counted else len(self.summary.attempts) + 1
        window = self._window(cycle, index, counted)
        if cycle.from_bottom:
            self._remember_standing(window.rest)  # its start position came after it
        metrics = self.rep_metrics(window)
        conditions = self.rep_conditions(window, metrics)
        # A live finding was judged on part of the rep (the bottom so far); where the rep's
        # own checks cover the same code, their verdict over the whole rep stands in the
        # report, including "could not be judged" (the back hidden over most of the bottom).
        judged: dict[str, bool] = {}
        for c in conditions:
            judged[c.code] = judged.get(c.code, False) or bool(c.active)
        live = [f for f in self._rep_findings if judged.get(f.code, True)]
        found = {f.code for f in live}
        t_end = window.timing.end_s
        new = [
            self._finding(c, index if counted else 0, t_end)
            for c in conditions
            if c.active and c.code not in found
        ]
        findings = [self._settle(f, index if counted else 0) for f in live] + new
        record = RepRecord(
            index=index,
            start_s=window.timing.start_s,
            end_s=t_end,
            phases=window.timing.phases,
            metrics={"depth_deg": window.timing.depth_deg, **metrics},
            faults=tuple(dict.fromkeys(f.code for f in findings)),
            score=rep_score(findings, self.spec.scoring),
            counted=counted,
            side=self.rep_side(window),
        )
        events: list[Event] = list(self._policy.decide(new))
        self.summary.findings += findings
        if counted:
            self.summary.reps.append(record)
            events.append(RepCompleted(t_end, record))
        else:
            self.summary.attempts.append(record)
            events.append(PartialRep(t_end, record))
        self._rep_findings = []
        self._last_end_s = t_end
        self._buffer.trim_before(min(t_end, cycle.return_s))
        return events

    def _window(self, cycle: Cycle, index: int, counted: bool) -> RepWindow:
        spec = self.spec.phase
        buf = self._buffer
        first = buf.index_at(max(cycle.leave_s - spec.preroll_max_s, self._last_end_s))
        t = np.asarray(buf.t_s[first:], dtype=float)
        raw = {n: buf.column(n, first) for n in (buf.measures[-1].keys() if buf.measures else [])}
        primary = raw.get(spec.primary_signal, np.full(t.shape, math.nan))
        depth = self._orient_array(primary) - self.start_value()
        sig = moving_average(t, fill_gaps(t, depth, spec.max_gap_s), spec.smoothing_window_s)
        timing = self._timing(t, sig, cycle, raw)
        cal = self.spec.calibration
        rest_end = min(timing.start_s, cycle.leave_s) - cal.rest_margin_s
        before = (t < rest_end) & (t >= rest_end - cal.rest_window_s)
        if before.sum() < _REST_MIN_SAMPLES:
            before = (t < cycle.leave_s) & (t >= cycle.leave_s - cal.rest_window_s)
        after = t > cycle.return_s
        use = after if cycle.from_bottom or not before.any() else before
        rest = {n: robust_median(v[use]) for n, v in raw.items()}
        return RepWindow(
            index=index,
            counted=counted,
            from_bottom=cycle.from_bottom,
            timing=timing,
            t_s=t,
            raw=raw,
            rest=rest,
            views=tuple(buf.views[first:]),
            smoothing_window_s=spec.smoothing_window_s,
            max_gap_s=spec.max_gap_s,
        )

    def _orient_array(self, values: np.ndarray) -> np.ndarray:
        return -values if self.spec.phase.direction == "decrease" else values

    def _timing(
        self, t: np.ndarray, sig: np.ndarray, cycle: Cycle, raw: Mapping[str, np.ndarray]
    ) -> RepTiming:
        spec = self.spec.phase
        inside = (t >= cycle.leave_s) & (t <= cycle.return_s) & np.isfinite(sig)
        if not inside.any():
            return RepTiming(
                cycle.leave_s,
                cycle.peak_s,
                cycle.peak_s,
                cycle.return_s,
                cycle.peak_s,
                cycle.peak_deg,
            )
        i_peak = int(np.nonzero(inside)[0][np.argmax(sig[inside])])
        t_peak = float(t[i_peak])
        # the bottom level: median of the samples near the deepest one (the max is biased
        # up by noise, which would shorten the pause)
        near = inside & (sig >= sig[i_peak] - spec.plateau_band_deg)
        peak = float(np.median(sig[near]))
        # the way down is fitted up to the middle of the bottom, the way up from there to
        # the rest after the rep (cut where the next rep starts to leave it)
        split = float(np.median(t[near]))
        down = t <= split
        rest_end = self._rest_after_end(t, sig, cycle)
        up = (t >= split) & (t <= rest_end)
        cal = self.spec.calibration
        before = (t < cycle.leave_s - cal.rest_margin_s) & (
            t >= cycle.leave_s - cal.rest_margin_s - cal.rest_window_s
        )
        after = (t > cycle.return_s + cal.rest_margin_s) & (t <= rest_end)
        regions = (before, near, after)
        fits: dict[str, tuple[TransitionFit, TransitionFit]] = {}
        fits[spec.primary_signal] = self._fit_rep(t, sig, down, up, regions, cycle.from_bottom)
        for name in spec.joint_signals:
            series = raw.get(name)
            if series is None:
                continue
            smooth = moving_average(
                t, fill_gaps(t, series, spec.max_gap_s), spec.smoothing_window_s
            )
            fits[name] = self._fit_rep(t, smooth, down, up, regions, cycle.from_bottom)
        fallback = self._timing_from_onsets(t, sig, cycle, i_peak, peak)
        bounds = self._bounds_from_fits(fits, fallback, cycle, t)
        start, bottom_in, bottom_out, end = bounds
        # a recording that opens mid-movement: the fit's start lies before the first frame
        start_cut = start < float(t[0])
        start = max(start, float(t[0]))
        bottom_in = min(max(bottom_in, start), max(t_peak, start))
        bottom_out = min(max(bottom_out, bottom_in), end)
        return RepTiming(start, bottom_in, bottom_out, end, t_peak, peak, fits, start_cut)

    def _rest_after_end(self, t: np.ndarray, sig: np.ndarray, cycle: Cycle) -> float:
        """Last sample of the rest after the rep, before the signal leaves it again."""
        post = np.nonzero((t > cycle.return_s) & np.isfinite(sig))[0]
        if post.size == 0:
            return float(t[-1])
        low = np.minimum.accumulate(sig[post])
        rising = np.nonzero(sig[post] > low + self.spec.phase.plateau_band_deg)[0]
        return float(t[post[rising[0]] - 1]) if rising.size else float(t[-1])

    def _fit_rep(
        self,
        t: np.ndarray,
        x: np.ndarray,
        down: np.ndarray,
        up: np.ndarray,
        regions: tuple[np.ndarray, np.ndarray, np.ndarray],
        from_bottom: bool,
    ) -> tuple[TransitionFit, TransitionFit]:
        """The (down, up) transitions of one signal between its levels before the rep, at
        the bottom and after the rep (medians over those regions)."""
        spec = self.spec.phase
        durations = (spec.transition_min_s, spec.transition_max_s)
        core = spec.transition_core_fractions
        rest_before, bottom, rest_after = (robust_median(x[r]) for r in regions)
        if not math.isfinite(rest_after):
            rest_after = rest_before
        if not math.isfinite(rest_before):
            rest_before = rest_after
        fit_down = NO_TRANSITION
        if not from_bottom:
            fit_down = fit_transition(t[down], x[down], durations, (rest_before, bottom), core)
        fit_up = fit_transition(t[up], x[up], durations, (bottom, rest_after), core)
        return fit_down, fit_up

    def _bounds_from_fits(
        self,
        fits: Mapping[str, tuple[TransitionFit, TransitionFit]],
        fallback: tuple[float, float, float, float],
        cycle: Cycle,
        t: np.ndarray,
    ) -> tuple[float, float, float, float]:
        """A rep starts when the first joint leaves its rest and reaches the bottom when the
        last one arrives (and the other way round on the way up). Joints that hardly move
        (below ``joint_range_min_deg``) are left out; the primary signal always counts."""
        spec = self.spec.phase
        primary = fits[spec.primary_signal]
        downs, ups = [], []
        for name, (fd, fu) in fits.items():
            main = name == spec.primary_signal
            if not (main or name in spec.bounding_signals):
                continue
            if fd.ok and (main or self._joint_fit_ok(fd, primary[0])):
                downs.append(fd)
            if fu.ok and (main or self._joint_fit_ok(fu, primary[1])):
                ups.append(fu)
        start, bottom_in, bottom_out, end = fallback
        if cycle.from_bottom:
            start = bottom_in = float(t[np.isfinite(t)][0])
        elif primary[0].ok:
            start = min(f.start_s for f in downs)
            bottom_in = max(f.end_s for f in downs)
        if primary[1].ok:
            bottom_out = min(f.start_s for f in ups)
            end = max(f.end_s for f in ups)
        return start, bottom_in, bottom_out, end

    def _joint_fit_ok(self, fit: TransitionFit, primary: TransitionFit) -> bool:
        """A joint bounds the phases when it moved enough, the same way as the primary
        signal, and its movement had the smooth shape that was fitted (a noisy or
        jumping joint signal is left out)."""
        spec = self.spec.phase
        if not (fit.ok and primary.ok) or abs(fit.span) < spec.joint_range_min_deg:
            return False
        same_way = fit.span * primary.span > 0
        return same_way and fit.rms <= spec.joint_fit_rms_max_fraction * abs(fit.span)

    def _timing_from_onsets(
        self, t: np.ndarray, sig: np.ndarray, cycle: Cycle, i_peak: int, peak: float
    ) -> tuple[float, float, float, float]:
        """Phase ends from power-law onset fits (used when a transition fit fails)."""
        spec = self.spec.phase
        fr, ex = spec.onset_fit_fractions, (spec.onset_exponent_min, spec.onset_exponent_max)
        t_peak = float(t[i_peak])
        # the start position: a low percentile of the smoothed signal, since the samples just
        # before the threshold crossing already belong to a slow descent
        pre = t < cycle.leave_s
        post = t > cycle.return_s
        rest_after = _low(sig[post]) if post.any() else spec.return_start_deg
        rest_before = _low(sig[pre]) if pre.any() else rest_after
        down, up = slice(0, i_peak + 1), slice(i_peak, None)
        if cycle.from_bottom:
            start = bottom_in = float(t[np.isfinite(sig)][0])
        else:
            start = onset_time(t[down], sig[down], rest_before, peak, fr, ex).t_s
            bottom_in = onset_backward(t[down], sig[down], peak, rest_before, fr, ex).t_s
        bottom_out = onset_time(t[up], sig[up], peak, rest_after, fr, ex).t_s
        end = onset_backward(t[up], sig[up], rest_after, peak, fr, ex).t_s
        start = _finite_or(start, cycle.leave_s)
        end = _finite_or(end, cycle.return_s)
        bottom_in = min(max(_finite_or(bottom_in, t_peak), start), t_peak)
        bottom_out = min(max(_finite_or(bottom_out, t_peak), t_peak), end)
        return start, bottom_in, bottom_out, end

    # ----- isometric holds ------------------------------------------------------------------
    def _update_hold(self, t_s: float, depth: float) -> list[Event]:
        hold = self.spec.hold
        events: list[Event] = []
        was = self._hold.in_position
        now_in = self._hold.update(t_s, depth, hold.enter_deg, hold.exit_deg, hold.break_max_s)
        if now_in != was:
            new, old = (Phase.HOLD, Phase.TOP) if now_in else (Phase.TOP, Phase.HOLD)
            events.append(PhaseChanged(t_s, new, old, 1))
        if t_s - self._hold.last_progress_s >= hold.progress_interval_s and (now_in or was):
            self._hold.last_progress_s = t_s
            target = self.prescription.hold_s if self.prescription else None
            target = target if target is not None else (hold.target_s or None)
            events.append(HoldProgress(t_s, self._hold.held_s, target, now_in))
        if now_in:
            events += self._frame_checks(t_s, depth, 1)
        return events


@dataclass(slots=True)
class _HoldTimer:
    """Time in position, with hysteresis; a break shorter than ``grace_s`` keeps the hold."""

    in_position: bool = False
    held_s: float = 0.0
    last_inside_s: float = math.nan
    last_progress_s: float = -math.inf

    def update(self, t_s: float, depth: float, enter: float, exit_: float, grace_s: float) -> bool:
        if not math.isfinite(depth):
            return self.in_position
        inside = depth >= (exit_ if self.in_position else enter)
        if inside:
            if self.in_position and t_s - self.last_inside_s <= grace_s:
                self.held_s += t_s - self.last_inside_s
            self.in_position = True
            self.last_inside_s = t_s
        elif self.in_position and t_s - self.last_inside_s > grace_s:
            self.in_position = False
        return self.in_position


def rep_label(rep: int) -> str:
    """How a finding's message names its rep: "rep 3", or "a partial rep" (rep 0)."""
    return f"rep {rep}" if rep > 0 else "a partial rep"


_REST_MIN_SAMPLES = 3  # fewer samples than this cannot give a median start position


def _low(values: np.ndarray) -> float:
    finite = values[np.isfinite(values)]
    return float(np.percentile(finite, _REST_PERCENTILE)) if finite.size else math.nan


_REST_PERCENTILE = 10.0


def _finite_or(value: float, fallback: float) -> float:
    return value if math.isfinite(value) else fallback


__all__ = ["Analyzer", "AnalyzerInfo", "FrameContext", "SetupHint", "SetupHintCode"]
