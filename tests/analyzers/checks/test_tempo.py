"""Tempo: phase minimums from a prescription and which phase was relatively quicker."""

from __future__ import annotations

import math

from formcheck.analyzers import get_spec
from formcheck.analyzers.checks.tempo import phase_minimums, phase_ratios, quicker_code
from formcheck.analyzers.events import PhaseTimes
from formcheck.analyzers.spec import Tempo


def test_minimums_come_from_the_prescription_less_its_tolerance() -> None:
    spec = get_spec("squat").tempo
    assert phase_minimums(None, spec, 0.3) == (spec.down_min_s, spec.up_min_s)
    down, up = phase_minimums(Tempo.parse("3-1-2"), spec, 0.3)
    assert math.isclose(down, 2.1) and math.isclose(up, 1.4)


def test_the_relatively_quicker_phase_is_named() -> None:
    phases = PhaseTimes(down_s=1.0, pause_s=0.5, up_s=2.0)
    down, up = phase_ratios(phases, 2.0, 2.0)
    assert (down, up) == (0.5, 1.0)
    assert quicker_code(down, up, ties_down=False) == "tempo_down_fast"
    assert quicker_code(1.0, 1.0, ties_down=True) == "tempo_down_fast"
    assert quicker_code(1.0, 1.0, ties_down=False) == "tempo_up_fast"
    # a way down that was not seen (the set started at the bottom) is never the quicker
    assert phase_ratios(phases, 2.0, 2.0, from_bottom=True)[0] == math.inf
