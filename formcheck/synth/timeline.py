"""Rep timing: tempo per phase, rep windows, movement progress, and fault ramps.

A rep-based clip starts with a still period (the pipeline calibrates from it), then each rep
runs four phases: ``down`` (towards the working position), ``bottom`` (pause there), ``up``
(back) and ``top`` (rest before the next rep). Progress is 0 at the start position and 1 at
the working position, eased with a minimum-jerk profile. Times are seconds from clip start.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from formcheck.synth.geometry import smoothstep

STILL_S = 1.5
TAIL_S = 0.5
FAULT_RAMP_START = 0.5  # bottom faults start when the movement is this far down (0..1)
MAX_LEAD_FRACTION = 0.8  # a joint lead may use at most this share of its phase


@dataclass(frozen=True, slots=True)
class Tempo:
    """Seconds per phase of one rep (e.g. 3-1-3-1)."""

    down_s: float = 2.0
    pause_s: float = 0.5
    up_s: float = 1.5
    rest_s: float = 1.0

    @property
    def cycle_s(self) -> float:
        return self.down_s + self.pause_s + self.up_s + self.rest_s

    def as_list(self) -> list[float]:
        return [self.down_s, self.pause_s, self.up_s, self.rest_s]


@dataclass(frozen=True, slots=True)
class RepWindow:
    """When one rep's phases happen (seconds). The rep itself is ``start_s``..``end_s``;
    the rest before the next rep runs ``end_s``..``rest_end_s``."""

    index: int
    start_s: float
    bottom_start_s: float
    up_start_s: float
    end_s: float
    rest_end_s: float

    def phases(self, names: Sequence[str]) -> list[tuple[str, float, float]]:
        edges = (self.start_s, self.bottom_start_s, self.up_start_s, self.end_s, self.rest_end_s)
        return [(names[i], edges[i], edges[i + 1]) for i in range(4) if edges[i + 1] > edges[i]]

    def progress(self, t_s: float, down_delay_s: float = 0.0, up_delay_s: float = 0.0) -> float:
        """0..1 movement progress at ``t_s``; a delay makes this joint group start later in
        that phase and catch up by the phase's end."""
        down_s = self.bottom_start_s - self.start_s
        up_s = self.end_s - self.up_start_s
        if t_s < self.start_s or t_s >= self.end_s:
            return 0.0
        if t_s < self.bottom_start_s:
            d = min(down_delay_s, MAX_LEAD_FRACTION * down_s)
            return smoothstep((t_s - self.start_s - d) / max(down_s - d, 1e-9))
        if t_s < self.up_start_s:
            return 1.0
        d = min(up_delay_s, MAX_LEAD_FRACTION * up_s)
        return 1.0 - smoothstep((t_s - self.up_start_s - d) / max(up_s - d, 1e-9))

    def bottom_weight(self, t_s: float) -> float:
        """Ramp for faults placed at the bottom: 0 until half-way down, 1 at the bottom,
        back to 0 half-way up."""
        s = self.progress(t_s)
        return smoothstep((s - FAULT_RAMP_START) / (1.0 - FAULT_RAMP_START))

    def bottom_fault_times(self) -> tuple[float, float, float, float]:
        """(onset, full size from, full size until, gone) for a bottom fault (seconds)."""
        down_s = self.bottom_start_s - self.start_s
        up_s = self.end_s - self.up_start_s
        return (
            self.start_s + FAULT_RAMP_START * down_s,
            self.bottom_start_s,
            self.up_start_s,
            self.up_start_s + (1.0 - FAULT_RAMP_START) * up_s,
        )


def schedule(tempos: Sequence[Tempo], still_s: float = STILL_S) -> list[RepWindow]:
    """Rep windows for consecutive reps with the given tempos, after the still period."""
    reps = []
    t = still_s
    for i, tempo in enumerate(tempos):
        b = t + tempo.down_s
        u = b + tempo.pause_s
        e = u + tempo.up_s
        reps.append(RepWindow(i, t, b, u, e, e + tempo.rest_s))
        t = e + tempo.rest_s
    return reps


def hold_weight(t_s: float, onset_s: float, ramp_s: float, end_s: float | None = None) -> float:
    """Ramps in from ``onset_s`` over ``ramp_s``; with ``end_s``, ramps out after it."""
    w = smoothstep((t_s - onset_s) / ramp_s)
    if end_s is not None:
        w *= 1.0 - smoothstep((t_s - end_s) / ramp_s)
    return w
