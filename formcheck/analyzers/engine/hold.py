"""The hold timer: time in an isometric position, with hysteresis and a grace for short
breaks, and the person's own reference values once the hold has settled.

A hold's faults are changes from that reference: the median of each of the spec's
``reference_measures`` over ``reference_window_s`` once the hold has settled (``settle_s``
after entering), judged on a running median over ``live_window_s``. Its jitter is the
spread of that running median over the reference window (a check judges that median, not
single frames).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from formcheck.analyzers.signals import robust_median
from formcheck.analyzers.spec import HoldSpec


@dataclass(slots=True)
class HoldTimer:
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


class HoldReference:
    """The person's own values over the first settled window of the hold."""

    def __init__(self, spec: HoldSpec) -> None:
        self._names = tuple(spec.reference_measures)
        self._settle_s = spec.settle_s
        self._window_s = spec.reference_window_s
        self._live_s = spec.live_window_s
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
