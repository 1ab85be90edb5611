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


# A set's ending as people do it (issue 19): after the last rep, bend to put the weight down
# (slower than a rep: the weight is lowered to the floor with care), stay down while letting
# go of it, stand up without it, pause, and walk out of the side view. None of it is a rep.
ENDING_NONE = ""
ENDING_SET_DOWN = "set_down_step_away"
ENDINGS = (ENDING_NONE, ENDING_SET_DOWN)
ENDING_DOWN_FACTOR = 1.3  # the put-down's descent is this much slower than a rep's
ENDING_UP_MIN_S = 1.0  # standing up without the weight: at least this long
ENDING_STAND_S = 0.6  # upright before the first step
ENDING_WALK_S = 2.6  # walking out of the side view (at WALK_SPEED_M_S: 3.1 m, past the frame)
ENDING_TAIL_S = 0.8  # the empty scene before the recording stops
ENDING_PHASES = ("set_down", "let_go", "stand_up", "stand", "step_away", "gone")


@dataclass(frozen=True, slots=True)
class SetEnding:
    """When the end of a set happens (seconds): the bend down to put the weight down
    (``start_s``..``bottom_start_s``), letting go at the bottom (..``up_start_s``), standing
    up (..``stand_s``), standing (..``walk_start_s``), walking away (..``walk_end_s``) and the
    empty scene (..``end_s``)."""

    start_s: float
    bottom_start_s: float
    up_start_s: float
    stand_s: float
    walk_start_s: float
    walk_end_s: float
    end_s: float

    def phases(self) -> list[tuple[str, float, float]]:
        edges = (
            self.start_s,
            self.bottom_start_s,
            self.up_start_s,
            self.stand_s,
            self.walk_start_s,
            self.walk_end_s,
            self.end_s,
        )
        return [(ENDING_PHASES[i], edges[i], edges[i + 1]) for i in range(len(ENDING_PHASES))]

    def bend(self, t_s: float) -> float:
        """0..1: how far down towards the put-down posture (minimum-jerk, as a rep)."""
        if t_s < self.start_s or t_s >= self.stand_s:
            return 0.0
        if t_s < self.bottom_start_s:
            return smoothstep((t_s - self.start_s) / (self.bottom_start_s - self.start_s))
        if t_s < self.up_start_s:
            return 1.0
        return 1.0 - smoothstep((t_s - self.up_start_s) / (self.stand_s - self.up_start_s))

    @property
    def release_s(self) -> float:
        """The hands let go of the weight half-way through the pause at the bottom."""
        return (self.bottom_start_s + self.up_start_s) / 2.0


def set_ending(after_s: float, tempo: Tempo, pause_s: float) -> SetEnding:
    """The ending that starts at ``after_s`` (the end of the last rep's rest)."""
    bottom = after_s + ENDING_DOWN_FACTOR * tempo.down_s
    up = bottom + pause_s
    stand = up + max(tempo.up_s, ENDING_UP_MIN_S)
    walk = stand + ENDING_STAND_S
    walk_end = walk + ENDING_WALK_S
    return SetEnding(after_s, bottom, up, stand, walk, walk_end, walk_end + ENDING_TAIL_S)
