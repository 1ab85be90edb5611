"""The analyzer: one instance per set, fed sample by sample.

``Analyzer.update(sample) -> list[Event]``; ``Analyzer.finish() -> SetSummary``. The engine
is small parts with one verb each, which this class wires together:

- the exercise's measures, asked of kinematics by the spec (``kinematics.providers``);
- the start position and noise floor (:mod:`.reference`);
- the rep timer (:mod:`.rep_timer`: phase machine, each rep's window and phase ends) or,
  for isometric holds, the hold timer and the person's own settled line (:mod:`.hold`);
- findings and the cue policy (:mod:`.findings`), setup hints (:mod:`.setup`);
- scoring and where form frays (:mod:`.scoring`).

An exercise subclasses ``Analyzer[ItsChecks]`` and fills the hooks below; its thresholds
are its spec's ``[checks]``, validated by its checks model. The checks themselves are the
shared components of ``formcheck.analyzers.checks``.
"""

from __future__ import annotations

import bisect
import dataclasses
import math
from collections.abc import Mapping
from typing import ClassVar, Generic, TypeVar, cast, final

from pydantic import BaseModel, ValidationError

from formcheck.analyzers.baseline import Baseline
from formcheck.analyzers.checks.condition import Condition, NotJudged, not_judged
from formcheck.analyzers.checks.gate import gated_limit
from formcheck.analyzers.checks.hold import beyond_own_line
from formcheck.analyzers.checks.tempo import phase_conditions, phase_minimums
from formcheck.analyzers.codes import TEMPO_DOWN_FAST, TEMPO_UP_FAST
from formcheck.analyzers.engine.context import FrameContext, NoChecks, rep_label
from formcheck.analyzers.engine.end_of_set import EndOfSetWatch
from formcheck.analyzers.engine.findings import CuePolicy, Persistence
from formcheck.analyzers.engine.hold import HoldReference, HoldTimer
from formcheck.analyzers.engine.phases import Cycle
from formcheck.analyzers.engine.reference import StartPosition, own_reference
from formcheck.analyzers.engine.rep_timer import BottomSoFar, RepTimer
from formcheck.analyzers.engine.scoring import form_frays_at, rep_score
from formcheck.analyzers.engine.setup import SetupAdvisor
from formcheck.analyzers.engine.verdicts import (
    check_results,
    hold_check_results,
    others_not_judged,
    plausible,
)
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
    Severity,
)
from formcheck.analyzers.personal_reference import PersonalReference
from formcheck.analyzers.signals import Array
from formcheck.analyzers.spec import ExerciseSpec, Prescription, apply_prescription
from formcheck.analyzers.summary import SetSummary
from formcheck.analyzers.window import RepWindow, SampleBuffer
from formcheck.kinematics.providers import ExerciseMeasures, ProviderContext
from formcheck.types import Sample

MS_PER_S = 1000.0


C = TypeVar("C", bound=BaseModel)


class Analyzer(Generic[C]):
    """Generic engine; usable as is for an exercise whose spec needs no checks of its own."""

    checks_model: ClassVar[type[BaseModel]] = NoChecks
    # what the set builds from its samples (see ``_start_afresh``)
    _start: StartPosition
    _buffer: SampleBuffer
    _reps: RepTimer
    _persistence: Persistence
    _rep_findings: list[Finding]
    _rep_from_top: bool
    _bottom_judged: bool
    _lost_s: list[float]
    _hold: HoldTimer
    _hold_reference: HoldReference

    def __init__(
        self,
        spec: ExerciseSpec,
        baseline: Baseline | None = None,
        prescription: Prescription | None = None,
        reference: PersonalReference | None = None,
    ):
        if prescription is not None:
            spec = apply_prescription(spec, prescription)
        self.spec = spec
        self.prescription = prescription
        self.personal_reference = reference
        try:
            self.checks: C = cast(C, self.checks_model.model_validate(spec.checks))
        except ValidationError as exc:
            raise SpecError(
                f"The [checks] of exercise spec {spec.name} are not valid: {exc}."
            ) from exc
        self.avoided_codes = {
            code
            for d in (prescription.avoid if prescription else [])
            for code in spec.avoid_codes[d]
        }
        self._given_baseline = baseline
        self.measures = ExerciseMeasures.from_specs(
            spec.measures, ProviderContext(baseline_value=lambda name: self.baseline.value(name))
        )
        self._policy = CuePolicy(spec.cues)
        self._setup = SetupAdvisor(spec.setup)
        self._end_of_set = EndOfSetWatch(spec.end_of_set)
        self._start_afresh()
        self._last_t_s = math.nan
        self._cuts_s: list[float] = []  # where the video cut to another camera shot
        self.closing_open_rep = False  # True while finish() analyses a rep cut off by the end
        self.summary = SetSummary(exercise=spec.name)
        self.summary.compared_with = (
            reference.describe() if reference is not None else "your first reps of this set"
        )
        self.summary.personal_reference = reference
        if prescription is not None:
            self.summary.target_reps = prescription.reps
            self.summary.target_hold_s = prescription.hold_s

    # ----- hooks for exercises --------------------------------------------------------------
    def observe(self, sample: Sample) -> None:
        """Every sample, before the engine uses it: for state an exercise keeps (e.g. the
        most-bent steady knee seen, its seated start position)."""

    def primary_value(self, sample: Sample) -> float:
        """The value of the signal that drives the phases (or the hold) in this sample."""
        return sample.get(self.spec.phase.primary_signal)

    def start_value(self) -> float:
        """The person's start-position value of the primary signal (oriented). A hold's
        position is absolute: its margin is never taken relative to a start."""
        if self.spec.mode == "hold":
            return self.spec.phase.start_default_deg
        return self._start.value()

    def counts_as_rep(self, cycle: Cycle) -> bool:
        """Whether a finished excursion went deep enough to be a rep (else an attempt)."""
        return cycle.reached(self.spec.phase.rep_min_depth_deg)

    def frame_conditions(self, ctx: FrameContext) -> list[Condition]:
        """Per-frame (live) checks while moving away from the start or back."""
        return []

    def bottom_conditions(self, ctx: FrameContext, bottom: BottomSoFar) -> list[Condition]:
        """Checks of the bottom, judged once as the person starts back up (over the bottom
        so far): a cue about the bottom then comes at its end, not after the rep's return."""
        return []

    def bottom_min_s(self) -> float:
        """The shortest stretch a bottom is judged over (the exercise's own, if any)."""
        return self.spec.phase.smoothing_window_s

    def hold_conditions(self, ctx: FrameContext, change: Mapping[str, float]) -> list[Condition]:
        """A hold's per-frame checks, from each reference measure's change (its running
        median minus the person's settled value)."""
        return []

    def rep_metrics(self, window: RepWindow) -> dict[str, float]:
        return {}

    def rep_conditions(self, window: RepWindow, metrics: Mapping[str, float]) -> list[Condition]:
        return []

    def rep_side(self, window: RepWindow) -> str | None:
        """For alternating exercises: which side ("left"/"right") this rep worked."""
        return None

    def describe(self, condition: Condition, rep: int) -> str:
        """A plain, short, actionable sentence for a finding."""
        v, thr, where = condition.value, condition.threshold, rep_label(rep)
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

    # ----- for exercises --------------------------------------------------------------------
    @property
    def baseline(self) -> Baseline:
        return self._start.baseline

    @property
    def reference_reps(self) -> list[RepRecord]:
        return self.summary.reps[: self.spec.calibration.reference_reps]

    def first_reps(self, count: int, side: str | None = None) -> list[RepRecord]:
        """The person's reference reps: their recorded reference when one was given, else
        the first ``count`` reps of this set (of ``side`` only, when given)."""
        if self.personal_reference is not None:
            reps = self.personal_reference.reference_reps()
            same = [r for r in reps if side is None or r.side == side]
            return same or reps
        if side is not None:
            return [r for r in self.summary.reps if r.side == side][:count]
        return self.summary.reps[:count]

    def own_reference(self, metric: str, pick: str, reps: int) -> float:
        """The metric over the person's reference reps (:meth:`first_reps`)."""
        return own_reference(self.first_reps(reps), metric, pick)

    def standing_reference(self, name: str) -> float:
        return self._start.standing_value(name)

    def severity(self, code: str) -> Severity:
        return Severity(self.spec.severity.get(code, Severity.WARNING.value))

    def threshold_scale(self, code: str) -> float:
        """Tighter limits for codes in a direction the prescription says to avoid."""
        return self.spec.cues.avoid_threshold_factor if code in self.avoided_codes else 1.0

    def limit(self, measure: str, threshold: float, code: str, frames: float = 1.0) -> float:
        """The limit of a check on a change in ``measure`` (a median over ``frames``
        samples): the threshold, tightened for avoided directions, noise-gated."""
        scaled = threshold * self.threshold_scale(code)
        return gated_limit(scaled, self.baseline.noise(measure), self.spec.cues.noise_k, frames)

    def hold_jitter(self, measure: str) -> float:
        """The jitter of the running median of ``measure`` over the person's settled line."""
        return self._hold_reference.jitter.get(measure, math.nan)

    def hold_check(
        self, code: str, change: float, threshold: float, jitter: float, unit: str
    ) -> Condition | None:
        """A hold's change beyond ``threshold`` (tightened for avoided directions), gated by
        ``jitter`` (:meth:`hold_jitter`); None when the change is unknown this frame."""
        scaled = threshold * self.threshold_scale(code)
        return beyond_own_line(code, change, scaled, jitter, self.spec.cues.noise_k, unit)

    @property
    def hold_reference(self) -> Mapping[str, float]:
        return self._hold_reference.values

    @property
    def in_position(self) -> bool:
        """Whether a hold is being timed now."""
        return self._hold.in_position

    def plausible(self, condition: Condition) -> Condition:
        """:func:`~formcheck.analyzers.engine.verdicts.plausible` with the spec's ranges."""
        return plausible(condition, self.spec.plausible)

    def others_not_judged(self, conditions: list[Condition], reason: NotJudged) -> list[Condition]:
        """``conditions`` and, for every other check of the exercise (tempo and depth
        apart: they need no particular view), "not judged" for ``reason``."""
        return others_not_judged(conditions, self.spec.faults, reason)

    def tempo_conditions(self, window: RepWindow) -> list[Condition]:
        """Phases quicker than the prescribed tempo (less its tolerance) or the spec's
        minimum; no check without either."""
        tempo = self.prescription.tempo if self.prescription else None
        tempo_spec = self.spec.tempo
        down_min, up_min = phase_minimums(tempo, tempo_spec, tempo_spec.tolerance_fraction)
        return phase_conditions(window, down_min, up_min)

    # ----- the engine -----------------------------------------------------------------------
    @final
    def update(self, sample: Sample) -> list[Event]:
        sample = self.measures(sample)
        t_s = sample.t_ms / MS_PER_S
        self._last_t_s = t_s
        self.observe(sample)
        self._end_of_set.update(t_s, sample)
        if sample.pose.shot_cut:
            self._camera_cut(t_s)
        events: list[Event] = list(self._setup.update(t_s, sample))
        if not sample.quality.usable:
            self._lost_s.append(t_s)
            return events + self._maybe_finalize(t_s, leaving=False)
        primary = self.primary_value(sample)
        measures = _with_value(sample.measures, self.spec.phase.primary_signal, primary)
        self._buffer.append(t_s, measures, sample.view)
        self._start.update(t_s, measures, self._reps.phase)
        depth = self._orient(primary) - self.start_value()
        if self.spec.mode == "hold":
            self._buffer.trim_before(t_s - self._reps.history_s)
            self._forget_lost_before(t_s - self._reps.history_s)
            events += self._update_hold(t_s, depth)
            self._hold_reference.update(t_s, self._hold.in_position, measures)
            return events
        leaving = math.isfinite(depth) and depth > self.spec.phase.leave_start_deg
        events += self._maybe_finalize(t_s, leaving)
        if self._reps.pending is None and self._reps.phase in (Phase.SETUP, Phase.TOP):
            self._buffer.trim_before(t_s - self._reps.history_s)
            self._forget_lost_before(t_s - self._reps.history_s)
        moves, cycle = self._reps.update(t_s, depth)
        rep_no = len(self.summary.reps) + 1
        for move in moves:
            if move.previous is Phase.TOP and move.phase is Phase.DOWN:
                self._begin_rep(move.t_s)
            events.append(PhaseChanged(move.t_s, move.phase, move.previous, rep_no))
        if self._rising_from_bottom(depth):
            self._bottom_judged = True
            events += self._bottom_checks(t_s, depth, rep_no)
        if self._reps.phase in (Phase.DOWN, Phase.BOTTOM, Phase.UP) or cycle is not None:
            events += self._frame_checks(t_s, depth, rep_no)
        return events

    @final
    def finish(self) -> SetSummary:
        """Close the set: a rep waiting for its settling samples is analysed now (and,
        where the spec says so, a rep still on its way back when the recording ends)."""
        if self.spec.phase.count_returning_rep_at_end and self._reps.pending is None:
            cycle = self._reps.machine.returning_cycle(self._last_t_s)
            if cycle is not None and cycle.reached(self.spec.phase.rep_min_depth_deg):
                self._reps.pending = cycle
                self.closing_open_rep = True
        self._finalize_pending()
        reps = self.summary.reps
        if self.closing_open_rep and reps and reps[-1].end_s > self._last_t_s:
            # the fitted return runs past the recording: the rep ends with the recording
            reps[-1] = dataclasses.replace(reps[-1], end_s=self._last_t_s)
        self._drop_set_down()
        self.summary.form_frays_at_rep = form_frays_at(
            [r.score for r in reps], self.spec.calibration.reference_reps, self.spec.scoring
        )
        self.summary.baseline = self.baseline
        count = getattr(self.checks, "own_reference_reps", self.spec.calibration.reference_reps)
        self.summary.first_reps_compared = min(int(count), len(reps))
        if self.spec.mode == "hold":
            self.summary.hold_s = self._hold.held_s
            # the hold is the set's one "rep": its findings, each at its worst value
            findings, self._rep_findings = self._rep_findings, []
            self.summary.findings += [self._settle(f, f.rep) for f in findings]
            self.summary.hold_checks = hold_check_results(
                self.spec.faults, self.summary.findings, settled=self._hold_reference.ready
            )
        return self.summary

    def _drop_set_down(self) -> None:
        """The last cycle, when it was putting the weight down and stepping away: kept as
        not counted (with its findings, which were about no rep)."""
        put_down = self._end_of_set.judge(self.summary.reps)
        if put_down is None:
            return
        last = self.summary.reps.pop()
        self.summary.findings = [f for f in self.summary.findings if f.rep != last.index]
        self.summary.not_counted.append(put_down)

    def _orient(self, value: float) -> float:
        return -value if self.spec.phase.direction == "decrease" else value

    def _orient_array(self, values: Array) -> Array:
        return -values if self.spec.phase.direction == "decrease" else values

    def _begin_rep(self, t_s: float) -> None:
        """Leaving the start position: a new rep's findings, and its start values."""
        self._persistence.reset()
        self._rep_findings = []
        self._rep_from_top = True
        self._bottom_judged = False
        self._start.begin_rep(self._buffer, t_s)

    def _frame_checks(self, t_s: float, depth: float, rep_no: int) -> list[Event]:
        ctx = self._context(t_s, depth)
        conditions = (
            self._hold_frame_conditions(ctx)
            if self.spec.mode == "hold"
            else self.frame_conditions(ctx)
        )
        new: list[Finding] = []
        for condition in map(self.plausible, conditions):
            fired = self._persistence.update(t_s, condition)
            if fired is not None:
                new.append(self._finding(fired, rep_no, t_s))
        self._rep_findings += new
        return list(self._policy.decide(new))

    def _rising_from_bottom(self, depth: float) -> bool:
        """Whether the rep in progress is now clearly on its way back from its bottom (by
        ``bottom_rise_fraction`` of its depth: a hesitation on the way down, which can
        reverse by reverse_deg, is not its bottom), and its bottom is not judged yet."""
        if self._bottom_judged or self._reps.phase is not Phase.UP:
            return False
        peak = self._reps.machine.peak_deg
        phase = self.spec.phase
        return depth <= peak - max(phase.reverse_deg, phase.bottom_rise_fraction * peak)

    def _bottom_checks(self, t_s: float, depth: float, rep_no: int) -> list[Event]:
        """The bottom judged once as the person leaves it (codes that fired live at the
        bottom are not repeated)."""
        bottom = self._reps.bottom_so_far(t_s, self.bottom_min_s())
        if not (self._rep_from_top and bottom.peak_deg >= self.spec.phase.rep_min_depth_deg):
            return []  # a set opening at the bottom has no start values; a partial rep no cue
        ctx = self._context(t_s, depth)
        new: list[Finding] = []
        for condition in map(self.plausible, self.bottom_conditions(ctx, bottom)):
            fired = self._persistence.fire(condition)
            if fired is not None:
                new.append(self._finding(fired, rep_no, t_s))
        self._rep_findings += new
        return list(self._policy.decide(new))

    def _context(self, t_s: float, depth: float) -> FrameContext:
        return FrameContext(
            t_s,
            self._reps.phase,
            depth,
            self._start.rest,
            self._buffer,
            self.spec.phase.smoothing_window_s,
            self._reps.phase_since_s,
        )

    def _hold_frame_conditions(self, ctx: FrameContext) -> list[Condition]:
        if not self._hold_reference.ready:
            return []
        window = self.spec.hold.live_window_s
        change = {
            name: ctx.buffer.recent_median(name, window) - ref
            for name, ref in self._hold_reference.values.items()
        }
        return self.hold_conditions(ctx, change)

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
        return dataclasses.replace(
            finding, rep=rep_no, value=value, message=self.describe(cond, rep_no)
        )

    def _maybe_finalize(self, t_s: float, leaving: bool) -> list[Event]:
        return self._finalize_pending() if self._reps.due(t_s, leaving) else []

    def _finalize_pending(self) -> list[Event]:
        cycle = self._reps.take_pending()
        if cycle is None:
            return []
        if not cycle.reached(self.spec.phase.attempt_min_depth_deg) or self._is_glitch(cycle):
            self._rep_findings = []  # a sway or a tracking glitch, not a movement
            return []
        counted = self.counts_as_rep(cycle)
        index = len(self.summary.reps) + 1 if counted else len(self.summary.attempts) + 1
        rep_no = index if counted else 0
        window = self._reps.window(cycle, index, counted)
        if cycle.from_bottom:
            self._start.remember_standing(window.rest)  # its start position came after it
        metrics = self.rep_metrics(window)
        conditions = [self.plausible(c) for c in self.rep_conditions(window, metrics)]
        untrusted = self._untrusted(window.timing.start_s, window.timing.end_s)
        if untrusted is not None:
            # Measures across a cut compare two camera shots; a rep mostly not seen was
            # measured on the frames that happened to be: the rep counts, its checks are not
            # judged (and what was cued live during it is withdrawn from the report).
            conditions = self.others_not_judged(
                [c if c.active is None else not_judged(c, untrusted) for c in conditions],
                untrusted,
            )
            self._rep_findings = []
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
            self._finding(c, rep_no, t_end) for c in conditions if c.active and c.code not in found
        ]
        findings = [self._settle(f, rep_no) for f in live] + new
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
            checks=check_results(self.spec.faults, conditions, findings),
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
        self._rep_from_top = False
        self._reps.close(t_end, cycle)
        return events

    def _start_afresh(self) -> None:
        """The state the set builds from its samples: start position, sample buffer, rep
        timer, findings in progress, hold timer."""
        spec = self.spec
        self._start = StartPosition(spec, self._given_baseline, self._orient)
        self._buffer = SampleBuffer()
        self._reps = RepTimer(
            spec.phase, spec.calibration, self._buffer, self.start_value, self._orient_array
        )
        self._persistence = Persistence(spec.cues.persistence_s)
        self._rep_findings = []
        self._rep_from_top = False  # the rep in progress left the start position (has rest values)
        self._bottom_judged = False  # its bottom was judged (bottom_conditions)
        self._lost_s = []  # times of frames without a usable pose (kept as long as the buffer)
        self._hold = HoldTimer()
        self._hold_reference = HoldReference(spec.hold)

    def _camera_cut(self, t_s: float) -> None:
        """The video cuts to another shot at ``t_s``. Before anything was counted, the set
        starts afresh from the new shot (a clip often opens on the last frames of another);
        later, a rep spanning the cut is counted but not judged."""
        self._cuts_s.append(t_s)
        self._end_of_set.camera_cut()  # feet seen from another shot are no step
        counted = self.summary.reps or self.summary.attempts or self._reps.pending
        if not (counted or self._hold.held_s > 0.0):
            self._start_afresh()

    def _untrusted(self, start_s: float, end_s: float) -> NotJudged | None:
        """Why a rep from ``start_s`` to ``end_s`` cannot be judged at all, if it cannot: the
        video cut to another shot during it, or too many of its frames had no usable pose."""
        if any(start_s < t <= end_s for t in self._cuts_s):
            return NotJudged.CAMERA_CUT
        lost = sum(start_s <= t <= end_s for t in self._lost_s)
        seen = sum(start_s <= t <= end_s for t in self._buffer.t_s)
        if lost and lost > self.spec.phase.rep_lost_max_fraction * (lost + seen):
            return NotJudged.TRACKING_LOST
        return None

    def _forget_lost_before(self, t_s: float) -> None:
        keep = bisect.bisect_left(self._lost_s, t_s)
        del self._lost_s[:keep]

    def _is_glitch(self, cycle: Cycle) -> bool:
        """An excursion too short, or seen in too few frames, to be a movement."""
        phase = self.spec.phase
        if cycle.return_s - cycle.leave_s < phase.glitch_max_s:
            return True
        frames = sum(cycle.leave_s <= t <= cycle.return_s for t in self._buffer.t_s)
        return frames < phase.glitch_max_frame_count

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


def _with_value(measures: dict[str, float], name: str, value: float) -> dict[str, float]:
    """``measures`` with ``name`` set to ``value`` (the same dict when it already is)."""
    current = measures.get(name, math.nan)
    if current == value or (math.isnan(current) and math.isnan(value)):
        return measures
    return {**measures, name: value}


__all__ = ["Analyzer"]
