"""Online phase state machine with hysteresis on the primary signal.

The signal is relative to the person's start position and oriented so that moving away
from it is positive (hip flexion above standing, for the hinge). A rep leaves the start
above ``leave_start_deg`` and ends when it comes back below ``return_start_deg``; it counts
when it went at least ``rep_min_depth_deg`` deep, otherwise it is a partial attempt.
Samples that are NaN never change the state: a gap just pauses the machine.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

import numpy as np

from formcheck.analyzers.events import Phase
from formcheck.analyzers.signals import slope_per_s
from formcheck.analyzers.spec import PhaseSpec


@dataclass(frozen=True, slots=True)
class Cycle:
    """Coarse boundaries of one excursion from the start position, from threshold crossings."""

    leave_s: float  # crossed leave_start_deg on the way down (first sample when from_bottom)
    return_s: float  # crossed return_start_deg on the way back
    peak_s: float
    peak_deg: float
    from_bottom: bool  # the set started away from the start position (e.g. a floor deadlift)

    def reached(self, depth_deg: float) -> bool:
        return self.peak_deg >= depth_deg


@dataclass(frozen=True, slots=True)
class Transition:
    t_s: float
    previous: Phase
    phase: Phase


class PhaseMachine:
    def __init__(self, spec: PhaseSpec):
        self._spec = spec
        self.phase = Phase.SETUP
        self._recent: deque[tuple[float, float]] = deque()
        self._leave_s = math.nan
        self._peak_s = math.nan
        self._peak = -math.inf
        self._trough = math.inf
        self._from_bottom = False

    def update(self, t_s: float, value_deg: float) -> tuple[list[Transition], Cycle | None]:
        """Feed one sample of the relative signal; NaN is ignored."""
        if not math.isfinite(value_deg):
            return [], None
        self._remember(t_s, value_deg)
        spec = self._spec
        moves: list[Transition] = []
        cycle: Cycle | None = None
        if self.phase is Phase.SETUP:
            if value_deg < spec.leave_start_deg:
                self._go(moves, t_s, Phase.TOP)
            else:
                self._start_rep(t_s, value_deg, from_bottom=True)
                self._go(moves, t_s, Phase.BOTTOM)
            return moves, None
        if self.phase is Phase.TOP:
            if value_deg > spec.leave_start_deg:
                self._start_rep(t_s, value_deg, from_bottom=False)
                self._go(moves, t_s, Phase.DOWN)
            return moves, None
        if value_deg > self._peak:
            self._peak, self._peak_s = value_deg, t_s
        if self.phase in (Phase.DOWN, Phase.BOTTOM) and value_deg < self._peak - spec.reverse_deg:
            self._trough = value_deg
            self._go(moves, t_s, Phase.UP)
        elif self.phase is Phase.DOWN and abs(self._speed()) < spec.bottom_speed_max_deg_s:
            self._go(moves, t_s, Phase.BOTTOM)
        elif self.phase is Phase.UP:
            self._trough = min(self._trough, value_deg)
            if value_deg > self._trough + spec.reverse_deg:
                self._go(moves, t_s, Phase.DOWN)  # went back down before reaching the start
        if self.phase is Phase.UP and value_deg < spec.return_start_deg:
            cycle = Cycle(self._leave_s, t_s, self._peak_s, self._peak, self._from_bottom)
            self._go(moves, t_s, Phase.TOP)
        return moves, cycle

    @property
    def peak_s(self) -> float:
        """When the excursion in progress was deepest (NaN before the first one)."""
        return self._peak_s

    @property
    def peak_deg(self) -> float:
        return self._peak

    def returning_cycle(self, t_s: float) -> Cycle | None:
        """The rep on its way back (phase UP) as if it ended at ``t_s``, else None: for a
        recording that stops while the person is still returning to the start."""
        if self.phase is not Phase.UP:
            return None
        return Cycle(self._leave_s, t_s, self._peak_s, self._peak, self._from_bottom)

    def _start_rep(self, t_s: float, value_deg: float, from_bottom: bool) -> None:
        self._leave_s = t_s
        self._peak, self._peak_s = value_deg, t_s
        self._trough = math.inf
        self._from_bottom = from_bottom

    def _remember(self, t_s: float, value_deg: float) -> None:
        self._recent.append((t_s, value_deg))
        while self._recent and t_s - self._recent[0][0] > self._spec.speed_window_s:
            self._recent.popleft()

    def _speed(self) -> float:
        if len(self._recent) < _MIN_SPEED_SAMPLES:
            return math.inf
        t = np.array([r[0] for r in self._recent])
        x = np.array([r[1] for r in self._recent])
        if t[-1] - t[0] < self._spec.speed_window_s * _SPEED_WINDOW_FILL:
            return math.inf
        return slope_per_s(t, x)

    def _go(self, moves: list[Transition], t_s: float, phase: Phase) -> None:
        if phase is not self.phase:
            moves.append(Transition(t_s, self.phase, phase))
            self.phase = phase


_MIN_SPEED_SAMPLES = 3
_SPEED_WINDOW_FILL = 0.6
