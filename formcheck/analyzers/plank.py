"""The forearm (or straight-arm) plank, filmed from the side: time in position, hips sagging
below or piking above the person's own shoulder-ankle line (mm).

The spec asks kinematics for the body line (``body_line``: the hips against the
shoulder-ankle line, its bend and elevation, the supporting arm) and a frame quality judged
on it. In position (the primary signal, ``hold_position_margin_deg`` > 0) means: the
shoulder-foot line near level, the supporting upper arm near vertical (shoulder stacked over
the elbow: not lying flat), the knees straight (not on all fours or the knees) and, to enter,
the hips near the line (not resting on the floor). Once holding, the hip limit is much
looser: a sag that develops during the hold is a fault and stays timed, while lying on the
floor before pushing up does not count.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import ClassVar, Generic, TypeVar

from pydantic import BaseModel, ConfigDict

from formcheck.analyzers.checks.condition import Condition
from formcheck.analyzers.codes import HIP_PIKE, HIP_SAG
from formcheck.analyzers.engine import Analyzer, FrameContext
from formcheck.kinematics import names as m
from formcheck.types import Sample


class BodyLineChecks(BaseModel):
    """Position limits (deg) and line faults (mm) of the planks."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    elevation_max_deg: float
    support_arm_max_deg: float
    knee_flexion_max_deg: float
    hip_bend_enter_max_deg: float
    hip_bend_hold_max_deg: float
    hip_pike_bend_max_deg: float
    pike_min_mm: float


class PlankChecks(BodyLineChecks):
    sag_min_mm: float


L = TypeVar("L", bound=BodyLineChecks)


class BodyLineHold(Analyzer[L], Generic[L]):
    """A hold on a straight body line (plank, side plank)."""

    checks_model: ClassVar[type[BaseModel]] = BodyLineChecks

    def primary_value(self, sample: Sample) -> float:
        """How far (deg) the posture is inside every limit of the position."""
        c = self.checks
        bend = sample.get(m.HIP_LINE_BEND_DEG)
        return position_margin(
            [
                c.elevation_max_deg - sample.get(m.BODY_LINE_ELEVATION_DEG),
                c.support_arm_max_deg - sample.get(m.SUPPORT_ARM_FROM_VERTICAL_DEG),
                c.knee_flexion_max_deg - sample.get(m.KNEE_FLEXION_DEG),
                self._hip_bend_limit_deg() - bend,
                c.hip_pike_bend_max_deg + bend,
            ]
        )

    def _hip_bend_limit_deg(self) -> float:
        """Entering needs the hips lifted into the line; once holding, hips sinking are a
        fault (judged against the person's own line), and only hips let down much further
        than any sag end the hold."""
        c = self.checks
        return c.hip_bend_hold_max_deg if self.in_position else c.hip_bend_enter_max_deg

    def line_conditions(
        self, change: Mapping[str, float], low_code: str, low_min_mm: float
    ) -> list[Condition]:
        """Hips lower than the person's own line by ``low_min_mm`` (``low_code``) or higher
        by ``pike_min_mm`` (hip_pike). Only the change counts: the hip landmark's own offset
        from the line (10-40 mm, varying with body and camera) cancels out."""
        length_mm = self.hold_reference.get(m.BODY_LINE_LENGTH_MM, math.nan)
        drop = change.get(m.HIP_LINE_OFFSET_FRACTION, math.nan) * length_mm
        jitter = self.hold_jitter(m.HIP_LINE_OFFSET_FRACTION) * length_mm
        low = self.hold_check(low_code, drop, low_min_mm, jitter, "mm")
        high = self.hold_check(HIP_PIKE, -drop, self.checks.pike_min_mm, jitter, "mm")
        return [c for c in (low, high) if c is not None]

    def describe(self, condition: Condition, rep: int) -> str:
        v = condition.value
        if condition.code == HIP_PIKE:
            return f"Lower your hips into line with your shoulders and ankles: {v:.0f} mm high."
        return f"{condition.code.replace('_', ' ')}: {v:.0f} {condition.unit}."


class PlankAnalyzer(BodyLineHold[PlankChecks]):
    """Forearm or straight-arm plank, side view."""

    checks_model = PlankChecks

    def hold_conditions(self, ctx: FrameContext, change: Mapping[str, float]) -> list[Condition]:
        return self.line_conditions(change, HIP_SAG, self.checks.sag_min_mm)

    def describe(self, condition: Condition, rep: int) -> str:
        if condition.code == HIP_SAG:
            return (
                f"Lift your hips back into line with your shoulders and ankles: they sag "
                f"{condition.value:.0f} mm."
            )
        return super().describe(condition, rep)


def position_margin(margins: list[float]) -> float:
    """The smallest margin (the limit nearest to being broken); NaN when any is unknown."""
    if not margins or any(not math.isfinite(v) for v in margins):
        return math.nan
    return float(min(margins))
