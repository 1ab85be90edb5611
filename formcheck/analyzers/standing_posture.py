"""Standing posture held over time, filmed from the side: time standing, and the head, chin,
shoulders and stance against the person's own first settled second.

The checks are changes from that reference (mm), as a physiotherapist watches a posture
fade: the head drifting forward of the trunk line (mid-ear ahead of the mid-hip to
mid-shoulder line), the chin dropping or lifting (``chin_drop_mm``: nose below the ear along
the trunk), the shoulders moving ahead of or behind the hips (slouch or sway), and the feet
moving apart or together (the heels' distance in the image: ``lines.heel_gap_mm``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import ClassVar

from pydantic import BaseModel

from formcheck.analyzers.codes import HEAD_FORWARD
from formcheck.analyzers.cues import Condition
from formcheck.analyzers.engine import FrameContext
from formcheck.analyzers.holds import (
    HOLD_POSITION_MARGIN_DEG,
    HoldAnalyzer,
    HoldChecks,
    position_margin,
)
from formcheck.analyzers.lines import (
    BodyLine,
    forward_offset_mm,
    head_ahead_of_trunk_mm,
    heel_gap_mm,
)
from formcheck.kinematics import names as m
from formcheck.types import Sample

STANCE_WIDTH_CHANGE = "stance_width_change"
CHIN_DOWN = "chin_down"
CHIN_UP = "chin_up"
SHOULDERS_FORWARD = "shoulders_forward"
SHOULDERS_BACK = "shoulders_back"

# Mid-shoulder ahead of mid-hip along the facing direction, mm (+ shoulders forward).
SHOULDER_AHEAD_MM = "shoulder_ahead_of_hip_mm"
# Mid-ear ahead of the mid-hip to mid-shoulder line, mm: the kinematics' head_forward_mm from
# midpoints (the near side's ear flips between frames when the feet move).
HEAD_AHEAD_MM = "head_ahead_of_trunk_mm"
# The heels apart in the image, mm (lines.heel_gap_mm): the stance check's measure (the
# kinematics' stance_width_mm, from MediaPipe's depth, drifted 40 mm in a correct render and
# moved 36 mm for a 199 mm change).
HEEL_GAP_MM = "heel_gap_mm"


class StandingPostureChecks(HoldChecks):
    trunk_inclination_max_deg: float = 25.0
    knee_flexion_max_deg: float = 25.0
    hip_flexion_max_deg: float = 30.0
    head_forward_min_mm: float = 15.0
    chin_change_min_mm: float = 30.0
    shoulder_shift_min_mm: float = 50.0
    stance_change_min_mm: float = 35.0


class StandingPostureAnalyzer(HoldAnalyzer):
    checks_model: ClassVar[type[BaseModel]] = StandingPostureChecks
    reference_measures: ClassVar[tuple[str, ...]] = (
        HEAD_AHEAD_MM,
        m.CHIN_DROP_MM,
        HEEL_GAP_MM,
        SHOULDER_AHEAD_MM,
    )

    @property
    def posture_checks(self) -> StandingPostureChecks:
        assert isinstance(self.checks, StandingPostureChecks)
        return self.checks

    def derived_measures(self, sample: Sample, line: BodyLine | None) -> dict[str, float]:
        c = self.posture_checks
        margins = [
            c.trunk_inclination_max_deg - sample.get(m.TRUNK_INCLINATION_DEG),
            c.knee_flexion_max_deg - sample.get(m.KNEE_FLEXION_DEG),
            c.hip_flexion_max_deg - sample.get(m.HIP_FLEXION_DEG),
        ]
        return {
            SHOULDER_AHEAD_MM: forward_offset_mm(sample, "shoulder", "hip"),
            HEAD_AHEAD_MM: head_ahead_of_trunk_mm(sample),
            HEEL_GAP_MM: heel_gap_mm(sample),
            HOLD_POSITION_MARGIN_DEG: position_margin(margins),
        }

    def hold_conditions(self, ctx: FrameContext, change: Mapping[str, float]) -> list[Condition]:
        c = self.posture_checks
        out: list[Condition] = []

        def check(
            code: str, name: str, value: float, threshold: float, allowed: bool = True
        ) -> bool:
            if not math.isfinite(value):
                return False
            limit = self.gate(self.reference_jitter(name), threshold, code)
            out.append(Condition(code, allowed and value > limit, value, limit, "mm"))
            return value > limit

        head = change.get(HEAD_AHEAD_MM, math.nan)
        chin = change.get(m.CHIN_DROP_MM, math.nan)
        shoulders = change.get(SHOULDER_AHEAD_MM, math.nan)
        stance = change.get(HEEL_GAP_MM, math.nan)
        head_forward = check(HEAD_FORWARD, HEAD_AHEAD_MM, head, c.head_forward_min_mm)
        # a head carried forward also tips the chin: the forward head is the one cue then
        check(CHIN_DOWN, m.CHIN_DROP_MM, chin, c.chin_change_min_mm, not head_forward)
        check(CHIN_UP, m.CHIN_DROP_MM, -chin, c.chin_change_min_mm, not head_forward)
        check(SHOULDERS_FORWARD, SHOULDER_AHEAD_MM, shoulders, c.shoulder_shift_min_mm)
        check(SHOULDERS_BACK, SHOULDER_AHEAD_MM, -shoulders, c.shoulder_shift_min_mm)
        check(STANCE_WIDTH_CHANGE, HEEL_GAP_MM, abs(stance), c.stance_change_min_mm)
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
