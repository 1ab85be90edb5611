"""Isometric holds (plank, side plank, standing posture): time in position and the person's
own line.

The engine's hold mode times the position from its primary signal. For a hold that signal
is ``hold_position_margin_deg``: how far (deg) the posture is inside every limit of the
position (body line near level, supporting arm under the shoulder, knees straight, hips near
the body line...), positive inside. A hold's position is absolute, not a change from a
standing start: the person may already be in it when the clip starts, so ``start_value`` is
the spec's ``start_default_deg`` (0), never a calibrated value. Entering needs a margin of
``hold.enter_deg``, leaving a margin below ``hold.exit_deg`` (hysteresis in degrees).

Faults are changes from the person's own reference: the median of each measure over
``reference_window_s`` once the hold has settled (``settle_s`` after entering), judged on a
running median over ``live_window_s`` and gated by ``noise_k`` times the jitter measured in
that same reference window.

The pipeline's frame quality asks for a standing-sized person with the feet in the image; a
plank is long and low (its vertical extent is under the usual minimum height) and close
framing may cut the feet off. A hold therefore judges usability itself: the landmarks it
needs inside the image and the body line at least ``BODY_LINE_MIN_PX`` long.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
from pydantic import BaseModel, ConfigDict

from formcheck.analyzers.cues import Condition
from formcheck.analyzers.engine import Analyzer, FrameContext
from formcheck.analyzers.events import Event
from formcheck.analyzers.lines import BodyLine, body_line
from formcheck.analyzers.signals import robust_median
from formcheck.types import FrameQuality, Sample

HOLD_POSITION_MARGIN_DEG = "hold_position_margin_deg"
# Landmarks closer than this to the image edge are taken as cut off (the pipeline's margin).
EDGE_MARGIN_PX = 2.0
# A shoulder-to-foot line shorter than this is too small to measure (BlazePose loses or
# swaps people under about 125 px tall; the line is about 80% of the height).
BODY_LINE_MIN_PX = 100.0


class HoldChecks(BaseModel):
    """Settings every hold shares (``[checks]`` of its spec)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    settle_s: float = 0.5
    reference_window_s: float = 1.0
    live_window_s: float = 0.5


class _Reference:
    """The person's own values over the first settled window: each measure's median, and
    its jitter as the faults see it (the spread of the running median over ``live_s``, not
    of single frames: a check judges that median)."""

    def __init__(
        self, names: tuple[str, ...], settle_s: float, window_s: float, live_s: float
    ) -> None:
        self._names = names
        self._settle_s = settle_s
        self._window_s = window_s
        self._live_s = live_s
        self._since_s = math.nan
        self._t_s: list[float] = []
        self._rows: list[Mapping[str, float]] = []
        self.values: dict[str, float] = {}
        self.jitter: dict[str, float] = {}

    @property
    def ready(self) -> bool:
        return bool(self.values)

    def update(self, t_s: float, in_position: bool, measures: Mapping[str, float]) -> None:
        if self.ready:
            return
        if not in_position:
            self._since_s, self._t_s, self._rows = math.nan, [], []
            return
        if math.isnan(self._since_s):
            self._since_s = t_s
        elapsed = t_s - self._since_s
        if elapsed < self._settle_s:
            return
        self._t_s.append(t_s)
        self._rows.append(measures)
        if elapsed >= self._settle_s + self._window_s:
            self._freeze()

    def _freeze(self) -> None:
        t = np.asarray(self._t_s)
        for name in self._names:
            column = np.array([r.get(name, math.nan) for r in self._rows], dtype=float)
            finite = column[np.isfinite(column)]
            if not finite.size:
                continue
            self.values[name] = float(np.median(finite))
            running = [
                robust_median(column[(t > end - self._live_s) & (t <= end)])
                for end in t[t >= t[0] + self._live_s]
            ]
            spread = np.asarray(running, dtype=float)
            spread = spread[np.isfinite(spread)]
            self.jitter[name] = float(np.std(spread)) if spread.size > 1 else math.nan
        self._t_s, self._rows = [], []


class HoldAnalyzer(Analyzer):
    """Base of the hold analyzers: position margin, own-line reference, findings."""

    checks_model: ClassVar[type[BaseModel]] = HoldChecks
    # measures whose reference values the faults are judged against
    reference_measures: ClassVar[tuple[str, ...]] = ()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        c = self.hold_checks
        self._reference = _Reference(
            self.reference_measures, c.settle_s, c.reference_window_s, c.live_window_s
        )

    @property
    def hold_checks(self) -> HoldChecks:
        assert isinstance(self.checks, HoldChecks)
        return self.checks

    # ----- hooks for each hold --------------------------------------------------------------
    def derived_measures(self, sample: Sample, line: BodyLine | None) -> dict[str, float]:
        """The exercise's own measures of this frame, including the position margin."""
        return {}

    def hold_conditions(self, ctx: FrameContext, change: Mapping[str, float]) -> list[Condition]:
        """Fault conditions from each reference measure's change (recent median minus the
        person's reference)."""
        return []

    # ----- engine hooks -----------------------------------------------------------------------
    def start_value(self) -> float:
        """A hold's position is absolute: its margin is never taken relative to a start."""
        return self.spec.phase.start_default_deg

    def update(self, sample: Sample) -> list[Event]:
        """The engine's update on the sample with this hold's own measures and usability:
        shoulders, hips and knees in the image and a body line long enough to measure."""
        line = body_line(sample, EDGE_MARGIN_PX) if sample.pose.has_pose else None
        usable = line is not None and line.length_px >= BODY_LINE_MIN_PX
        measures = dict(sample.measures)
        if usable:
            measures.update(self.derived_measures(sample, line))
        quality = FrameQuality(
            has_pose=sample.quality.has_pose,
            in_frame=usable,
            mean_visibility=sample.quality.mean_visibility,
            person_height_px=sample.quality.person_height_px,
            too_small=False,
        )
        events = super().update(dataclasses.replace(sample, measures=measures, quality=quality))
        if usable:
            self._reference.update(sample.t_ms / 1000.0, self.in_position, measures)
        return events

    def frame_conditions(self, ctx: FrameContext) -> list[Condition]:
        if not self._reference.ready:
            return []
        window = self.hold_checks.live_window_s
        change = {
            name: ctx.buffer.recent_median(name, window) - ref
            for name, ref in self._reference.values.items()
        }
        return self.hold_conditions(ctx, change)

    def reference_jitter(self, name: str) -> float:
        """Spread of the running median of ``name`` over the person's reference window."""
        return self._reference.jitter.get(name, math.nan)

    def gate(self, jitter: float, threshold: float, code: str) -> float:
        """Limit for a change: the threshold (tightened for directions to avoid), at least
        ``noise_k`` times the ``jitter`` of the person's reference window."""
        limit = threshold * self.threshold_scale(code)
        if math.isfinite(jitter):
            limit = max(limit, self.spec.cues.noise_k * jitter)
        return limit

    @property
    def in_position(self) -> bool:
        """Whether the hold is being timed now."""
        return self._hold.in_position

    @property
    def reference(self) -> Mapping[str, float]:
        return self._reference.values


def position_margin(margins: list[float]) -> float:
    """The smallest margin (the limit nearest to being broken); NaN when any is unknown."""
    if not margins or any(not math.isfinite(v) for v in margins):
        return math.nan
    return float(min(margins))
