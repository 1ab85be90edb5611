"""The side plank (on the forearm), filmed from the front: time in position, the hips
dropping towards the floor from the person's own shoulder-ankle line (mm), and the trunk
rotating out of the body's plane (deg).

Seen from the front the body lies in the image plane: the shoulder-ankle line rises from the
feet to the supporting shoulder and the floor is image-down, so the hip drop is the same
measure as a plank's sag (kinematics' body line). The position limits are a plank's (see
``plank``): lying on the side before pushing up puts the hips on the floor, far below the
line, and does not count. The spec also asks kinematics for the shoulder axis' roll out of
the image plane (``shoulder_roll_deg``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from formcheck.analyzers.checks.condition import Condition
from formcheck.analyzers.codes import HIP_DROP, TRUNK_ROTATION
from formcheck.analyzers.engine import FrameContext
from formcheck.analyzers.plank import BodyLineChecks, BodyLineHold
from formcheck.kinematics import names as m


class SidePlankChecks(BodyLineChecks):
    drop_min_mm: float
    rotation_max_deg: float


class SidePlankAnalyzer(BodyLineHold[SidePlankChecks]):
    checks_model = SidePlankChecks

    def hold_conditions(self, ctx: FrameContext, change: Mapping[str, float]) -> list[Condition]:
        c = self.checks
        out = self.line_conditions(change, HIP_DROP, c.drop_min_mm)
        roll = abs(change.get(m.SHOULDER_ROLL_DEG, math.nan))
        jitter = self.hold_jitter(m.SHOULDER_ROLL_DEG)
        rotation = self.hold_check(TRUNK_ROTATION, roll, c.rotation_max_deg, jitter, "deg")
        return out if rotation is None else [*out, rotation]

    def describe(self, condition: Condition, rep: int) -> str:
        v = condition.value
        if condition.code == HIP_DROP:
            return f"Lift your hips back into line with your shoulders and feet: {v:.0f} mm low."
        if condition.code == TRUNK_ROTATION:
            return f"Keep your chest facing forward: the trunk turned {v:.0f} deg."
        return super().describe(condition, rep)
