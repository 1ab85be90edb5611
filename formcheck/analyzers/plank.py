"""The forearm (or straight-arm) plank, filmed from the side: time in position, hips sagging
below or piking above the person's own shoulder-ankle line (mm).

In position (``hold_position_margin_deg`` > 0) means: the shoulder-foot line near level, the
supporting upper arm near vertical (shoulder stacked over the elbow: not lying flat), the
knees straight (not on all fours or the knees) and, to enter, the hips near the line (not resting
on the floor). Once holding, the hip limit is much looser: a sag that develops during the
hold is a fault and stays timed, while lying on the floor before pushing up does not count.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import ClassVar

from pydantic import BaseModel

from formcheck.analyzers.cues import Condition
from formcheck.analyzers.engine import FrameContext
from formcheck.analyzers.holds import (
    HOLD_POSITION_MARGIN_DEG,
    HoldAnalyzer,
    HoldChecks,
    position_margin,
)
from formcheck.analyzers.lines import BodyLine, support_arm_from_vertical_deg
from formcheck.kinematics import names as m
from formcheck.types import Sample

HIP_SAG = "hip_sag"
HIP_PIKE = "hip_pike"

# Measures of the body line, computed by the hold analyzers from the landmarks.
HIP_LINE_OFFSET_MM = "hip_line_offset_mm"  # hips below (+) the shoulder-ankle line
# ... as a fraction of the line's length (unchanged when the camera moves in or out)
HIP_LINE_OFFSET_FRACTION = "hip_line_offset_fraction"
BODY_LINE_LENGTH_MM = "body_line_length_mm"  # shoulder to ankle
HIP_LINE_BEND_DEG = "hip_line_bend_deg"  # bend of that line at the hips (+ hips low)
BODY_LINE_ELEVATION_DEG = "body_line_elevation_deg"  # foot->shoulder line above level
SUPPORT_ARM_FROM_VERTICAL_DEG = "support_arm_from_vertical_deg"  # elbow->shoulder lean


class BodyLineChecks(HoldChecks):
    """Position limits (deg) and line faults (mm) of the planks."""

    elevation_max_deg: float = 45.0
    support_arm_max_deg: float = 40.0
    knee_flexion_max_deg: float = 40.0
    hip_bend_enter_max_deg: float = 12.0
    hip_bend_hold_max_deg: float = 30.0
    hip_pike_bend_max_deg: float = 35.0
    sag_min_mm: float = 30.0
    pike_min_mm: float = 30.0


class BodyLineHold(HoldAnalyzer):
    """A hold on a straight body line (plank, side plank)."""

    checks_model: ClassVar[type[BaseModel]] = BodyLineChecks
    reference_measures: ClassVar[tuple[str, ...]] = (
        HIP_LINE_OFFSET_FRACTION,
        BODY_LINE_LENGTH_MM,
    )

    @property
    def line_checks(self) -> BodyLineChecks:
        assert isinstance(self.checks, BodyLineChecks)
        return self.checks

    def derived_measures(self, sample: Sample, line: BodyLine | None) -> dict[str, float]:
        if line is None:
            return {HOLD_POSITION_MARGIN_DEG: math.nan}
        c = self.line_checks
        bend = line.hip_bend_deg()
        elevation = line.elevation_deg()
        arm = support_arm_from_vertical_deg(sample)
        margins = [
            c.elevation_max_deg - elevation,
            c.support_arm_max_deg - arm,
            c.knee_flexion_max_deg - sample.get(m.KNEE_FLEXION_DEG),
            self._hip_bend_limit_deg() - bend,
            c.hip_pike_bend_max_deg + bend,
        ]
        # the hips are judged against the shoulder-ankle line only (a line to the knees,
        # used when the feet are cut off, puts the hips elsewhere)
        offset_mm = line.hip_offset_mm() if line.foot_is_ankle else math.nan
        length_mm = line.length_px * line.mm_per_px if line.foot_is_ankle else math.nan
        return {
            HIP_LINE_OFFSET_MM: offset_mm,
            HIP_LINE_OFFSET_FRACTION: offset_mm / length_mm,
            BODY_LINE_LENGTH_MM: length_mm,
            HIP_LINE_BEND_DEG: bend,
            BODY_LINE_ELEVATION_DEG: elevation,
            SUPPORT_ARM_FROM_VERTICAL_DEG: arm,
            HOLD_POSITION_MARGIN_DEG: position_margin(margins),
        }

    def _hip_bend_limit_deg(self) -> float:
        """Entering needs the hips lifted into the line; once holding, hips sinking are a
        fault (judged against the person's own line), and only hips let down much further
        than any sag end the hold."""
        c = self.line_checks
        return c.hip_bend_hold_max_deg if self.in_position else c.hip_bend_enter_max_deg

    def line_conditions(
        self, ctx: FrameContext, change: Mapping[str, float], low_code: str, low_min_mm: float
    ) -> list[Condition]:
        """Hips lower than the person's own line by ``low_min_mm`` (``low_code``) or higher
        by ``pike_min_mm`` (hip_pike). Only the change counts: the hip landmark's own offset
        from the line (10-40 mm, varying with body and camera) cancels out."""
        length_mm = self.reference.get(BODY_LINE_LENGTH_MM, math.nan)
        drop = change.get(HIP_LINE_OFFSET_FRACTION, math.nan) * length_mm
        if not math.isfinite(drop):
            return []
        jitter = self.reference_jitter(HIP_LINE_OFFSET_FRACTION) * length_mm
        low = self.gate(jitter, low_min_mm, low_code)
        high = self.gate(jitter, self.line_checks.pike_min_mm, HIP_PIKE)
        return [
            Condition(low_code, drop > low, drop, low, "mm"),
            Condition(HIP_PIKE, -drop > high, -drop, high, "mm"),
        ]

    def describe(self, condition: Condition, rep: int) -> str:
        v = condition.value
        if condition.code == HIP_PIKE:
            return f"Lower your hips into line with your shoulders and ankles: {v:.0f} mm high."
        return f"{condition.code.replace('_', ' ')}: {v:.0f} {condition.unit}."


class PlankAnalyzer(BodyLineHold):
    """Forearm or straight-arm plank, side view."""

    def hold_conditions(self, ctx: FrameContext, change: Mapping[str, float]) -> list[Condition]:
        return self.line_conditions(ctx, change, HIP_SAG, self.line_checks.sag_min_mm)

    def describe(self, condition: Condition, rep: int) -> str:
        if condition.code == HIP_SAG:
            return (
                f"Lift your hips back into line with your shoulders and ankles: they sag "
                f"{condition.value:.0f} mm."
            )
        return super().describe(condition, rep)
