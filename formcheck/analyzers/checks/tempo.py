"""Tempo: how long a movement or its phases took, against the prescription or the
person's own first reps."""

from __future__ import annotations

import math

from formcheck.analyzers.checks.condition import Condition, falls_short
from formcheck.analyzers.codes import TEMPO_DOWN_FAST, TEMPO_UP_FAST
from formcheck.analyzers.events import PhaseTimes
from formcheck.analyzers.spec import Tempo, TempoSpec
from formcheck.analyzers.window import RepWindow

S = "s"


def phase_minimums(
    prescribed: Tempo | None, spec: TempoSpec, tolerance_fraction: float
) -> tuple[float, float]:
    """The shortest acceptable way down and way up (s): the prescription's less
    ``tolerance_fraction``, else the spec's minimums (0: not checked)."""
    keep = 1.0 - tolerance_fraction
    if prescribed is None:
        return spec.down_min_s, spec.up_min_s
    return prescribed.down_s * keep, prescribed.up_s * keep


def phase_conditions(window: RepWindow, down_min_s: float, up_min_s: float) -> list[Condition]:
    """Each phase quicker than its minimum (a minimum of 0 is not checked; a way down the
    recording cut short, or that started at the bottom, is not judged)."""
    ph = window.timing.phases
    out = []
    if down_min_s > 0 and not (window.from_bottom or window.timing.start_cut):
        out.append(falls_short(TEMPO_DOWN_FAST, ph.down_s, down_min_s, S))
    if up_min_s > 0:
        out.append(falls_short(TEMPO_UP_FAST, ph.up_s, up_min_s, S))
    return out


def phase_ratios(
    phases: PhaseTimes, down_target_s: float, up_target_s: float, *, from_bottom: bool = False
) -> tuple[float, float]:
    """Each phase's duration over its target (infinite without a target, or for a way down
    that was not seen): the smaller one was the relatively quicker phase."""
    down = phases.down_s / down_target_s if down_target_s > 0 and not from_bottom else math.inf
    up = phases.up_s / up_target_s if up_target_s > 0 else math.inf
    return down, up


def quicker_code(down_ratio: float, up_ratio: float, *, ties_down: bool) -> str:
    """The tempo code of the relatively quicker phase (``ties_down``: the way down on a
    tie)."""
    down_first = down_ratio <= up_ratio if ties_down else down_ratio < up_ratio
    return TEMPO_DOWN_FAST if down_first else TEMPO_UP_FAST
