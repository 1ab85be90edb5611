"""Alternating floor exercises seen from the side (bird-dog, dead bug): the shared analyzer.

Each rep is one reach: an arm and/or the opposite leg move away from the start position and
come back, one side then the other. The phases follow ``limb_reach_deg``, the largest reach of
the four limbs (``floor_reach``), so a rep is found whichever side works. Each rep gets:

- its side (``RepRecord.side``): the working leg, "left" or "right" (the opposite arm works
  with it), from the reach of each limb at full reach; the summary counts reps per side;
- the reach of the arm and of the leg (deg from the start position) and the time held at
  full reach (within ``reach_band_deg`` of the rep's peak);
- the back at full reach: the outline measure ``spine_measure`` (median over full reach)
  against the same person's first reps at full reach and against the start position just
  before the rep; a back that sags or lifts off the floor (lumbar extension) lowers it
  (``spine_arched``). Absolute outlines differ between people and cameras far more than the
  fault changes them, so only changes count;
- tempo: the time from half-way out to half-way back against the prescription (or the
  spec's minimum phase times), and against the person's first reps.

The spec asks kinematics for the floor frames' measures (``floor_reach``: each limb's reach,
the back outline read for the posture, the hips' levels, a floor-posture frame quality). A
live back cue comes while the arm and leg are held at full reach.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import ClassVar, Generic, TypeVar

import numpy as np
from pydantic import BaseModel, ConfigDict

from formcheck.analyzers.checks.condition import Condition, exceeds
from formcheck.analyzers.checks.tempo import phase_ratios, quicker_code
from formcheck.analyzers.codes import SPINE_ARCHED, TEMPO_DOWN_FAST, TEMPO_UP_FAST
from formcheck.analyzers.engine import Analyzer, FrameContext, rep_label
from formcheck.analyzers.events import Phase
from formcheck.analyzers.signals import BoolArray, longest_run_s, robust_median
from formcheck.analyzers.window import RepWindow
from formcheck.kinematics import names as m

SIDES = ("left", "right")


class AlternatingChecks(BaseModel):
    """Thresholds shared by the alternating floor exercises (``[checks]`` of their specs)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    reach_band_deg: float
    reach_min_s: float
    own_reference_reps: int
    spine_measure: str
    spine_arched_min_mm: float
    outline_seen_share_min: float
    outline_scatter_max_mm: float
    spine_live_window_s: float
    tempo_own_drop_max_fraction: float
    side_margin_deg: float


A = TypeVar("A", bound=AlternatingChecks)


class AlternatingFloorAnalyzer(Analyzer[A], Generic[A]):
    """Engine plus sides, reach, back-at-reach and tempo checks."""

    checks_model: ClassVar[type[BaseModel]] = AlternatingChecks

    def own(self, metric: str, pick: str = "median") -> float:
        """The metric over the person's first ``own_reference_reps`` reps."""
        return self.own_reference(metric, pick, self.checks.own_reference_reps)

    # ----- per-rep analysis -----------------------------------------------------------------
    def reach_mask(self, window: RepWindow) -> BoolArray:
        """Samples at full reach: within ``reach_band_deg`` of the rep's peak reach (at least
        ``reach_min_s`` around the peak)."""
        tm = window.timing
        depth = window.series(self.spec.phase.primary_signal) - self.start_value()
        inside = window.mask(tm.start_s, tm.end_s)
        mask = inside & (depth >= tm.depth_deg - self.checks.reach_band_deg)
        if _span_s(window.t_s, mask) < self.checks.reach_min_s:
            half = self.checks.reach_min_s / 2
            mask = window.mask(tm.peak_s - half, tm.peak_s + half)
        return mask

    def limb_reaches(self, window: RepWindow, at: BoolArray) -> dict[str, float]:
        """Each limb's reach at full reach above its value at the start position."""
        out = {}
        for name in (*m.ARM_REACH_DEG.values(), *m.LEG_REACH_DEG.values()):
            rest = window.rest_value(name)
            rest = rest if math.isfinite(rest) else 0.0
            out[name] = robust_median(window.series(name)[at]) - rest
        return out

    def rep_side(self, window: RepWindow) -> str | None:
        """The working leg ("left"/"right"; the opposite arm works with it). The arms decide
        when one clearly reached further than the other: MediaPipe swaps the legs far more
        often than the arms in a side view (renders: the lifted leg read on the wrong side in
        whole reps). Otherwise the legs decide, else both together."""
        reach = self.limb_reaches(window, self.reach_mask(window))
        arm_gap = reach[m.ARM_REACH_DEG["right"]] - reach[m.ARM_REACH_DEG["left"]]
        leg_gap = reach[m.LEG_REACH_DEG["left"]] - reach[m.LEG_REACH_DEG["right"]]
        margin = self.checks.side_margin_deg
        for gap in (arm_gap, leg_gap, np.nansum([arm_gap, leg_gap])):
            if math.isfinite(gap) and abs(gap) >= margin:
                return "left" if gap > 0 else "right"
        return None

    def rep_metrics(self, window: RepWindow) -> dict[str, float]:
        at = self.reach_mask(window)
        reach = self.limb_reaches(window, at)
        arm = max((reach[m.ARM_REACH_DEG[s]] for s in SIDES), default=math.nan)
        leg = max((reach[m.LEG_REACH_DEG[s]] for s in SIDES), default=math.nan)
        out: dict[str, float] = {
            "arm_reach_deg": arm,
            "leg_reach_deg": leg,
            "reach_hold_s": longest_run_s(window.t_s, at),
            "moving_s": window.timing.end_s - window.timing.start_s,
            "half_reach_s": self.half_reach_s(window),
            **reach,
            **self.spine_metrics(window, at),
        }
        return out

    def half_reach_s(self, window: RepWindow) -> float:
        """Time from reaching half the rep's reach on the way out to falling below half on
        the way back. Unlike the phase ends, the half-way points do not depend on how
        gently a movement starts and ends (the same for any symmetric speed profile), nor
        much on which limb arrives first: it measures the tempo."""
        tm = window.timing
        depth = window.series(self.spec.phase.primary_signal) - self.start_value()
        inside = window.mask(tm.start_s, tm.end_s) & np.isfinite(depth)
        half = tm.depth_deg / 2
        above = np.nonzero(inside & (depth >= half))[0]
        if above.size == 0 or not half > 0:
            return math.nan
        first, last = int(above[0]), int(above[-1])
        t, x = window.t_s, depth
        t_out = _cross(t, x, first - 1, first, half) if first > 0 else float(t[first])
        t_back = _cross(t, x, last, last + 1, half) if last + 1 < t.size else float(t[last])
        return t_back - t_out

    def spine_metrics(self, window: RepWindow, at: BoolArray) -> dict[str, float]:
        """The back at full reach and its change from the first reps' (mm; - more arched)."""
        name = self.checks.spine_measure
        seen = np.isfinite(window.raw.get(name, np.full(window.t_s.shape, math.nan))[at])
        # NaN when the outline was hidden or crossed for most of the reach
        value = window.steady_value(
            name, at, self.checks.outline_seen_share_min, self.checks.outline_scatter_max_mm
        )
        chord = robust_median(window.series(m.SPINE_CHORD_MM)[at])
        return {
            "spine_reach_mm": value,
            "spine_rest_change_mm": value - window.rest_value(name),
            "spine_change_mm": value - self.own("spine_reach_mm", "max"),
            "spine_frames_count": float(seen.sum()),
            "chord_change_mm": chord - window.rest_value(m.SPINE_CHORD_MM),
        }

    def rep_conditions(self, window: RepWindow, metrics: Mapping[str, float]) -> list[Condition]:
        tempo = self.reach_tempo_conditions(window, metrics)
        if not any(c.active for c in tempo):
            tempo += self.own_tempo_conditions(window, metrics)
        return [self.arched_condition(metrics), *tempo]

    def _quicker_phase(self, window: RepWindow, down_s: float, up_s: float) -> str:
        """The phase that was quicker against its target: the one to name in the cue."""
        down, up = phase_ratios(window.timing.phases, down_s, up_s, from_bottom=window.from_bottom)
        return quicker_code(down, up, ties_down=False)

    def reach_tempo_conditions(
        self, window: RepWindow, metrics: Mapping[str, float]
    ) -> list[Condition]:
        """The time between the half-way points (``half_reach_s``) against the prescribed
        tempo's (half the way out and back plus the hold), less ``tolerance_fraction``;
        without a prescription against the spec's minimum phase times. The phase ends
        themselves depend on how gently each movement starts and ends, and on which limb
        arrives first: on the renders they read 68-100% of the true phase times, the
        half-way time 87-104%."""
        tempo = self.prescription.tempo if self.prescription else None
        if tempo is not None:
            down, pause, up = tempo.down_s, tempo.pause_s, tempo.up_s
            keep = 1.0 - self.spec.tempo.tolerance_fraction
        else:
            down, pause, up = self.spec.tempo.down_min_s, 0.0, self.spec.tempo.up_min_s
            keep = 1.0
        target = ((down + up) / 2 + pause) * keep
        value = metrics.get("half_reach_s", math.nan)
        if not (target > 0 and math.isfinite(value)):
            return []
        code = self._quicker_phase(window, down, up)
        return [Condition(code, value < target, value, target, "s")]

    def own_tempo_conditions(
        self, window: RepWindow, metrics: Mapping[str, float]
    ) -> list[Condition]:
        """A rep quicker than the person's first reps by more than
        ``tempo_own_drop_max_fraction``, in half-way time (``half_reach_s``). Only once the
        first ``own_reference_reps`` reps agree with each other within that fraction: a
        reference whose reps differ that much (a merged or a rushed early rep) says nothing
        about the person's own tempo."""
        refs = [
            r.metrics.get("half_reach_s", math.nan)
            for r in self.first_reps(self.checks.own_reference_reps)
        ]
        value = metrics.get("half_reach_s", math.nan)
        keep = 1.0 - self.checks.tempo_own_drop_max_fraction
        if (
            len(refs) < self.checks.own_reference_reps
            or not all(math.isfinite(r) and r > 0 for r in refs)
            or min(refs) < keep * max(refs)
            or not math.isfinite(value)
        ):
            return []
        limit = max(refs) * keep
        first = self.first_reps(1)[0].phases
        code = self._quicker_phase(window, first.down_s, first.up_s)
        return [Condition(code, value < limit, value, limit, "s")]

    def arched_condition(self, metrics: Mapping[str, float]) -> Condition:
        """The rep's back check over its whole full reach (:meth:`_arched`)."""
        return self._arched(
            metrics.get("spine_change_mm", math.nan),
            metrics.get("spine_rest_change_mm", math.nan),
            int(metrics.get("spine_frames_count", 0.0)),
        )

    def _arched(self, to_first_mm: float, to_rest_mm: float, frames: int) -> Condition:
        """The back lower (sagging, or lifted off the floor) at full reach by more than the
        limit, both against the first reps at full reach (``to_first_mm``) and, when known,
        against the start position just before this rep (``to_rest_mm``): each comparison
        alone moved up to 9 mm on correct renders (the reaching arm and leg reshape the
        outline a little differently on each side), both together far less. The first rep
        is the reference and is not judged. Values are medians over ``frames`` samples."""
        limit = self.limit(
            self.checks.spine_measure, self.checks.spine_arched_min_mm, SPINE_ARCHED, frames
        )
        value = math.nan
        if math.isfinite(to_first_mm):
            value = -max(to_first_mm, to_rest_mm) if math.isfinite(to_rest_mm) else -to_first_mm
        return exceeds(SPINE_ARCHED, value, limit, "mm")

    # ----- per-frame checks (live cues) -----------------------------------------------------
    def frame_conditions(self, ctx: FrameContext) -> list[Condition]:
        """A live back cue while the arm and leg are held at full reach: the rep check's
        values as medians over the hold so far (once it has lasted
        ``spine_live_window_s``); the rep's own verdict over its whole reach restates it in
        the report."""
        if ctx.phase is not Phase.BOTTOM:
            return []  # the engine's BOTTOM is full reach
        window = ctx.buffer.held_s(
            self.spec.phase.primary_signal,
            self.checks.reach_band_deg,
            ctx.in_phase_s,
            increase=self.spec.phase.direction == "increase",
        )
        if not window >= self.checks.spine_live_window_s:
            return []
        name = self.checks.spine_measure
        value = ctx.buffer.steady_recent(
            name, window, self.checks.outline_seen_share_min, self.checks.outline_scatter_max_mm
        )
        return [
            self._arched(
                value - self.own("spine_reach_mm", "max"),
                value - ctx.rest.get(name, math.nan),
                ctx.buffer.frames_within(window),
            )
        ]

    # ----- messages -------------------------------------------------------------------------
    def describe(self, condition: Condition, rep: int) -> str:
        v, thr = condition.value, condition.threshold
        where = rep_label(rep)
        if condition.code == TEMPO_DOWN_FAST:
            return (
                f"Reach out more slowly and hold: {v:.1f} s from half-way out to half-way back "
                f"in {where}, aim for at least {thr:.1f} s."
            )
        if condition.code == TEMPO_UP_FAST:
            return (
                f"Hold, then come back more slowly: {v:.1f} s from half-way out to half-way "
                f"back in {where}, aim for at least {thr:.1f} s."
            )
        return super().describe(condition, rep)


def _cross(t: np.ndarray, x: np.ndarray, i: int, j: int, level: float) -> float:
    """Time at which x crosses ``level`` between samples i and j (linear)."""
    if not (math.isfinite(x[i]) and math.isfinite(x[j])) or x[i] == x[j]:
        return float(t[j])
    return float(t[i] + (level - x[i]) / (x[j] - x[i]) * (t[j] - t[i]))


def _span_s(t_s: np.ndarray, mask: BoolArray) -> float:
    if not mask.any():
        return 0.0
    times = t_s[mask]
    return float(times[-1] - times[0])


