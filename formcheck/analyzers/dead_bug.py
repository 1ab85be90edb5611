"""Dead bug: lying on the back, arms up and hips and knees bent to a right angle, reach one
arm overhead and straighten the opposite leg, alternating sides, seen from the side (heel
slides, the regression with the feet on the floor, are analysed the same way).

Reps, sides, reach, hold at full reach, the lower back at full reach (``spine_arched``: the
lower back lifting off the floor, from the back outline; the shoulder-hip distance is
reported as ``chord_change_mm``) and tempo come from the shared alternating analyzer.
"""

from __future__ import annotations

from formcheck.analyzers.alternating import AlternatingChecks, AlternatingFloorAnalyzer
from formcheck.analyzers.checks.condition import Condition
from formcheck.analyzers.codes import SPINE_ARCHED
from formcheck.analyzers.engine import rep_label


class DeadBugAnalyzer(AlternatingFloorAnalyzer[AlternatingChecks]):
    checks_model = AlternatingChecks

    def describe(self, condition: Condition, rep: int) -> str:
        where = rep_label(rep)
        if condition.code == SPINE_ARCHED:
            return (
                f"Keep your lower back on the floor as you reach: it lifted "
                f"{condition.value:.0f} mm in {where}."
            )
        return super().describe(condition, rep)
