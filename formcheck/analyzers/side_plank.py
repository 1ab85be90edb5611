"""The side plank (on the forearm), filmed from the front: time in position, the hips
dropping towards the floor from the person's own shoulder-ankle line (mm), and the trunk
rotating out of the body's plane (deg).

Seen from the front the body lies in the image plane: the shoulder-ankle line rises from the
feet to the supporting shoulder and the floor is image-down, so the hip drop is the same
measure as a plank's sag (``lines.BodyLine``). The position limits are a plank's (see
``plank``): lying on the side before pushing up puts the hips on the floor, far below the
line, and does not count.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import ClassVar

from pydantic import BaseModel

from formcheck.analyzers.cues import Condition
from formcheck.analyzers.engine import FrameContext
from formcheck.analyzers.lines import BodyLine, shoulder_roll_deg
from formcheck.analyzers.plank import (
    BODY_LINE_LENGTH_MM,
    HIP_LINE_OFFSET_FRACTION,
    BodyLineChecks,
    BodyLineHold,
)
from formcheck.types import Sample

HIP_DROP = "hip_drop"
TRUNK_ROTATION = "trunk_rotation"

# The shoulder axis out of the image plane, unsigned (a left/right swap of the landmarks
# flips its sign), deg: 0 with the chest square to a camera in front.
SHOULDER_ROLL_DEG = "shoulder_roll_deg"


class SidePlankChecks(BodyLineChecks):
    drop_min_mm: float = 30.0
    rotation_max_deg: float = 25.0


class SidePlankAnalyzer(BodyLineHold):
    checks_model: ClassVar[type[BaseModel]] = SidePlankChecks
    reference_measures: ClassVar[tuple[str, ...]] = (
        HIP_LINE_OFFSET_FRACTION,
        BODY_LINE_LENGTH_MM,
        SHOULDER_ROLL_DEG,
    )

    @property
    def side_checks(self) -> SidePlankChecks:
        assert isinstance(self.checks, SidePlankChecks)
        return self.checks

    def derived_measures(self, sample: Sample, line: BodyLine | None) -> dict[str, float]:
        out = super().derived_measures(sample, line)
        out[SHOULDER_ROLL_DEG] = abs(shoulder_roll_deg(sample))
        return out

    def hold_conditions(self, ctx: FrameContext, change: Mapping[str, float]) -> list[Condition]:
        c = self.side_checks
        out = self.line_conditions(ctx, change, HIP_DROP, c.drop_min_mm)
        roll = change.get(SHOULDER_ROLL_DEG, math.nan)
        if math.isfinite(roll):
            limit = self.gate(
                self.reference_jitter(SHOULDER_ROLL_DEG), c.rotation_max_deg, TRUNK_ROTATION
            )
            out.append(Condition(TRUNK_ROTATION, abs(roll) > limit, abs(roll), limit, "deg"))
        return out

    def describe(self, condition: Condition, rep: int) -> str:
        v = condition.value
        if condition.code == HIP_DROP:
            return f"Lift your hips back into line with your shoulders and feet: {v:.0f} mm low."
        if condition.code == TRUNK_ROTATION:
            return f"Keep your chest facing forward: the trunk turned {v:.0f} deg."
        return super().describe(condition, rep)
