"""The rep timer: the phase machine on the depth signal, and each finished rep's window
with its phase ends from minimum-jerk fits of each transition."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from formcheck.analyzers.engine.phases import Cycle, PhaseMachine, Transition
from formcheck.analyzers.events import Phase
from formcheck.analyzers.signals import (
    NO_TRANSITION,
    Array,
    BoolArray,
    TransitionFit,
    fill_gaps,
    fit_transition,
    moving_average,
    onset_backward,
    onset_time,
    robust_median,
)
from formcheck.analyzers.spec import CalibrationSpec, PhaseSpec
from formcheck.analyzers.window import RepTiming, RepWindow, SampleBuffer


@dataclass(frozen=True, slots=True)
class BottomSoFar:
    """The bottom of a rep still in progress (seconds; depth above the start position)."""

    start_s: float
    end_s: float
    peak_s: float
    peak_deg: float


REST_MIN_SAMPLES = 3  # fewer samples than this cannot give a median start position
_REST_PERCENTILE = 10.0


class RepTimer:
    """Counts excursions from the start position and times each one.

    ``update`` feeds the oriented depth (primary signal above the start position) to the
    phase machine; a finished excursion waits as ``pending`` until its settling samples
    have arrived, then ``window`` cuts the rep's samples from the buffer and fits its
    phase ends. ``start_value`` and ``orient`` come from the analyzer (the start position
    may be learnt as the set goes on)."""

    def __init__(
        self,
        phase: PhaseSpec,
        calibration: CalibrationSpec,
        buffer: SampleBuffer,
        start_value: Callable[[], float],
        orient: Callable[[Array], Array],
    ) -> None:
        self.spec = phase
        self._cal = calibration
        self._buffer = buffer
        self._start_value = start_value
        self._orient = orient
        self.machine = PhaseMachine(phase)
        self.pending: Cycle | None = None
        self.phase_since_s = math.nan
        self.last_end_s = -math.inf

    @property
    def phase(self) -> Phase:
        return self.machine.phase

    @property
    def history_s(self) -> float:
        """How much standing history a rep's analysis may look back over."""
        return self.spec.preroll_max_s + self._cal.rest_window_s + self._cal.rest_margin_s

    def update(self, t_s: float, depth_deg: float) -> tuple[list[Transition], Cycle | None]:
        moves, cycle = self.machine.update(t_s, depth_deg)
        for move in moves:
            self.phase_since_s = move.t_s
        if cycle is not None:
            self.pending = cycle
        return moves, cycle

    def due(self, t_s: float, leaving: bool) -> bool:
        """Whether the pending rep can be analysed: its settling wait is over, or the next
        rep is already leaving the start position."""
        if self.pending is None:
            return False
        return leaving or t_s - self.pending.return_s >= self.spec.settle_wait_s

    def bottom_so_far(self, t_s: float, min_s: float) -> BottomSoFar:
        """The bottom of the rep in progress as it is known when the person starts back up:
        the unbroken run of samples within ``plateau_band_deg`` of its deepest (as a
        finished rep's bottom level is found), at least ``min_s`` long around the deepest
        sample (as a finished rep's bottom is, :meth:`RepWindow.bottom_mask`)."""
        machine, buf = self.machine, self._buffer
        peak_s, peak = machine.peak_s, machine.peak_deg
        t = np.asarray(buf.t_s, dtype=float)
        depth = self._orient(buf.column(self.spec.primary_signal)) - self._start_value()
        near = (t <= t_s) & ~(depth < peak - self.spec.plateau_band_deg)  # NaN: no break
        t0 = t1 = peak_s
        i = int(np.searchsorted(t, peak_s))
        if i < t.size and near[i]:  # the unbroken run of samples near the deepest one
            before, after = np.nonzero(~near[: i + 1])[0], np.nonzero(~near[i:])[0]
            first = before[-1] + 1 if before.size else 0
            last = i + after[0] - 1 if after.size else t.size - 1
            t0, t1 = float(t[first]), float(t[last])
        if t1 - t0 < min_s:
            t0, t1 = peak_s - min_s / 2, min(peak_s + min_s / 2, t_s)
        return BottomSoFar(t0, t1, peak_s, peak)

    def take_pending(self) -> Cycle | None:
        cycle, self.pending = self.pending, None
        return cycle

    def close(self, t_end_s: float, cycle: Cycle) -> None:
        """A rep was analysed: its samples are no longer needed."""
        self.last_end_s = t_end_s
        self._buffer.trim_before(min(t_end_s, cycle.return_s))

    def window(self, cycle: Cycle, index: int, counted: bool) -> RepWindow:
        spec = self.spec
        buf = self._buffer
        first = buf.index_at(max(cycle.leave_s - spec.preroll_max_s, self.last_end_s))
        t = np.asarray(buf.t_s[first:], dtype=float)
        raw = {n: buf.column(n, first) for n in (buf.measures[-1].keys() if buf.measures else [])}
        primary = raw.get(spec.primary_signal, np.full(t.shape, math.nan))
        depth = self._orient(primary) - self._start_value()
        sig = moving_average(t, fill_gaps(t, depth, spec.max_gap_s), spec.smoothing_window_s)
        timing = self._timing(t, sig, cycle, raw)
        cal = self._cal
        rest_end = min(timing.start_s, cycle.leave_s) - cal.rest_margin_s
        before = (t < rest_end) & (t >= rest_end - cal.rest_window_s)
        if before.sum() < REST_MIN_SAMPLES:
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

    def _timing(
        self, t: Array, sig: Array, cycle: Cycle, raw: Mapping[str, Array]
    ) -> RepTiming:
        spec = self.spec
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
        cal = self._cal
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
        start, bottom_in, bottom_out, end = self._bounds_from_fits(fits, fallback, cycle, t)
        # a recording that opens mid-movement: the fit's start lies before the first frame
        start_cut = start < float(t[0])
        start = max(start, float(t[0]))
        bottom_in = min(max(bottom_in, start), max(t_peak, start))
        bottom_out = min(max(bottom_out, bottom_in), end)
        return RepTiming(start, bottom_in, bottom_out, end, t_peak, peak, fits, start_cut)

    def _rest_after_end(self, t: Array, sig: Array, cycle: Cycle) -> float:
        """Last sample of the rest after the rep, before the signal leaves it again."""
        post = np.nonzero((t > cycle.return_s) & np.isfinite(sig))[0]
        if post.size == 0:
            return float(t[-1])
        low = np.minimum.accumulate(sig[post])
        rising = np.nonzero(sig[post] > low + self.spec.plateau_band_deg)[0]
        return float(t[post[rising[0]] - 1]) if rising.size else float(t[-1])

    def _fit_rep(
        self,
        t: Array,
        x: Array,
        down: BoolArray,
        up: BoolArray,
        regions: tuple[BoolArray, BoolArray, BoolArray],
        from_bottom: bool,
    ) -> tuple[TransitionFit, TransitionFit]:
        """The (down, up) transitions of one signal between its levels before the rep, at
        the bottom and after the rep (medians over those regions)."""
        spec = self.spec
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
        t: Array,
    ) -> tuple[float, float, float, float]:
        """A rep starts when the first joint leaves its rest and reaches the bottom when the
        last one arrives (and the other way round on the way up). Joints that hardly move
        (below ``joint_range_min_deg``) are left out; the primary signal always counts."""
        spec = self.spec
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
        spec = self.spec
        if not (fit.ok and primary.ok) or abs(fit.span) < spec.joint_range_min_deg:
            return False
        same_way = fit.span * primary.span > 0
        return same_way and fit.rms <= spec.joint_fit_rms_max_fraction * abs(fit.span)

    def _timing_from_onsets(
        self, t: Array, sig: Array, cycle: Cycle, i_peak: int, peak: float
    ) -> tuple[float, float, float, float]:
        """Phase ends from power-law onset fits (used when a transition fit fails)."""
        spec = self.spec
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


def _low(values: Array) -> float:
    finite = values[np.isfinite(values)]
    return float(np.percentile(finite, _REST_PERCENTILE)) if finite.size else math.nan


def _finite_or(value: float, fallback: float) -> float:
    return value if math.isfinite(value) else fallback
