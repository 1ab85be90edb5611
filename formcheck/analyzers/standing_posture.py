"""Standing posture held over time, filmed from the side: time standing, and the head, chin,
shoulders and stance against the person's own first settled second.

The checks are changes from that reference (mm), as a physiotherapist watches a posture
fade: the head drifting forward of the trunk line (mid-ear ahead of the mid-hip to
mid-shoulder line), the chin dropping or lifting (``chin_drop_mm``: nose below the ear along
the trunk), the shoulders moving ahead of or behind the hips (slouch or sway), and the feet
moving apart or together (the heels' distance in the image). The spec asks kinematics for
these lines from both sides' midpoints (``body_line`` with ``standing_lines``).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict

from formcheck.analyzers.checks.condition import Condition
from formcheck.analyzers.codes import (
    CHIN_DOWN,
    CHIN_UP,
    HEAD_FORWARD,
    SHOULDERS_BACK,
    SHOULDERS_FORWARD,
    STANCE_WIDTH_CHANGE,
)
from formcheck.analyzers.engine import Analyzer, FrameContext
from formcheck.analyzers.plank import position_margin
from formcheck.kinematics import names as m
from formcheck.types import Sample


class StandingPostureChecks(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    trunk_inclination_max_deg: float
    knee_flexion_max_deg: float
    hip_flexion_max_deg: float
    head_forward_min_mm: float
    chin_change_min_mm: float
    shoulder_shift_min_mm: float
    stance_change_min_mm: float


class StandingPostureAnalyzer(Analyzer[StandingPostureChecks]):
    checks_model = StandingPostureChecks

    def primary_value(self, sample: Sample) -> float:
        """How far (deg) the posture is inside every limit of standing tall."""
        c = self.checks
        return position_margin(
            [
                c.trunk_inclination_max_deg - sample.get(m.TRUNK_INCLINATION_DEG),
                c.knee_flexion_max_deg - sample.get(m.KNEE_FLEXION_DEG),
                c.hip_flexion_max_deg - sample.get(m.HIP_FLEXION_DEG),
            ]
        )

    def hold_conditions(self, ctx: FrameContext, change: Mapping[str, float]) -> list[Condition]:
        c = self.checks
        out: list[Condition] = []

        def check(
            code: str, name: str, value: float, threshold: float, allowed: bool = True
        ) -> bool:
            cond = self.hold_check(code, value, threshold, self.hold_jitter(name), "mm")
            if cond is None:
                return False
            out.append(dataclasses.replace(cond, active=allowed and bool(cond.active)))
            return bool(cond.active)

        head = change.get(m.HEAD_AHEAD_MM, math.nan)
        chin = change.get(m.CHIN_DROP_MM, math.nan)
        shoulders = change.get(m.SHOULDER_AHEAD_MM, math.nan)
        stance = change.get(m.HEEL_GAP_MM, math.nan)
        head_forward = check(HEAD_FORWARD, m.HEAD_AHEAD_MM, head, c.head_forward_min_mm)
        # a head carried forward also tips the chin: the forward head is the one cue then
        check(CHIN_DOWN, m.CHIN_DROP_MM, chin, c.chin_change_min_mm, not head_forward)
        check(CHIN_UP, m.CHIN_DROP_MM, -chin, c.chin_change_min_mm, not head_forward)
        check(SHOULDERS_FORWARD, m.SHOULDER_AHEAD_MM, shoulders, c.shoulder_shift_min_mm)
        check(SHOULDERS_BACK, m.SHOULDER_AHEAD_MM, -shoulders, c.shoulder_shift_min_mm)
        check(STANCE_WIDTH_CHANGE, m.HEEL_GAP_MM, abs(stance), c.stance_change_min_mm)
        return out

    def describe(self, condition: Condition, rep: int) -> str:
        v = condition.value
        messages = {
            HEAD_FORWARD: f"Bring your head back over your shoulders: {v:.0f} mm forward.",
            CHIN_DOWN: f"Lift your chin a little: it dropped {v:.0f} mm.",
            CHIN_UP: f"Tuck your chin a little: it lifted {v:.0f} mm.",
            SHOULDERS_FORWARD: f"Stand tall: your shoulders moved {v:.0f} mm ahead of your hips.",
            SHOULDERS_BACK: f"Bring your hips under your shoulders: they moved {v:.0f} mm back.",
            STANCE_WIDTH_CHANGE: f"Keep your feet where they started: {v:.0f} mm change.",
        }
        return messages.get(condition.code) or super().describe(condition, rep)
