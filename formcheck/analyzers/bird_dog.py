"""Bird-dog: from all fours, reach one arm forward and the opposite leg back, alternating
sides, seen from the side.

Reps, sides, reach, hold at full reach, the back at full reach (``spine_arched``: the lower
back sagging) and tempo come from the shared alternating analyzer. This module adds the
pelvis: how far the working leg's hip rose against the other hip at full reach (hip hike, in
mm, and the pelvis roll it means, in deg), in the image and in MediaPipe's world landmarks,
compared with the person's first rep on the same side. The check (``pelvis_rotation``) is
off by default: on the renders MediaPipe hardly follows a 15-20 deg pelvis roll seen from
the side (the hips and the lifted knee move 4-5 px; the far hip is a guess), and the lifted
leg itself tilts its hips differently on each side, so no limit separated it from correct
reps (see the spec).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping

from formcheck.analyzers.alternating import AlternatingChecks, AlternatingFloorAnalyzer
from formcheck.analyzers.checks.condition import Condition, exceeds
from formcheck.analyzers.codes import PELVIS_ROTATION, SPINE_ARCHED
from formcheck.analyzers.engine import rep_label
from formcheck.analyzers.signals import BoolArray, robust_median
from formcheck.analyzers.window import RepWindow
from formcheck.kinematics.names import HIP_LEVEL_MM, HIP_LEVEL_WORLD_MM, HIP_WIDTH_WORLD_MM


class BirdDogChecks(AlternatingChecks):
    """Thresholds of the bird-dog's checks (``[checks]`` of bird_dog.toml)."""

    pelvis_check: bool
    pelvis_measure: str
    pelvis_hike_max_mm: float


class BirdDogAnalyzer(AlternatingFloorAnalyzer[BirdDogChecks]):
    checks_model = BirdDogChecks

    def rep_metrics(self, window: RepWindow) -> dict[str, float]:
        out = super().rep_metrics(window)
        at = self.reach_mask(window)
        side = self.rep_side(window)
        out.update(self._pelvis_metrics(window, at, side))
        return out

    def _pelvis_metrics(
        self, window: RepWindow, at: BoolArray, side: str | None
    ) -> dict[str, float]:
        """Hip hike at full reach (mm, + the working leg's hip higher than at the start
        position), from the image (``hike_mm``) and the world landmarks (``hike_world_mm``).
        Both include how the lifted leg itself moves MediaPipe's hip points (20-70 mm on
        correct renders), so the change from the first rep on the same side is what counts
        (``hike_change_mm``), with the pelvis roll that change means over the hip width
        (``pelvis_roll_change_deg``)."""
        sign = {"left": -1.0, "right": 1.0}.get(side or "", math.nan)  # + left hip lower
        out: dict[str, float] = {}
        for key, name in (("hike_mm", HIP_LEVEL_MM), ("hike_world_mm", HIP_LEVEL_WORLD_MM)):
            at_reach = robust_median(window.series(name)[at])
            out[key] = sign * (at_reach - window.rest_value(name))
        key = "hike_world_mm" if self.checks.pelvis_measure == HIP_LEVEL_WORLD_MM else "hike_mm"
        change = out[key] - self._same_side_reference(key, side)
        out["hike_change_mm"] = change
        width = window.rest_value(HIP_WIDTH_WORLD_MM)
        ratio = change / width if width > 0 else math.nan
        out["pelvis_roll_change_deg"] = (
            math.degrees(math.asin(max(-1.0, min(1.0, ratio)))) if math.isfinite(ratio) else ratio
        )
        return out

    def _same_side_reference(self, metric: str, side: str | None) -> float:
        """The metric in the person's first rep on the same side (NaN before there is one):
        a lifted leg tilts MediaPipe's hips differently on each side."""
        for rep in self.first_reps(1, side):
            if rep.side == side:
                return rep.metrics.get(metric, math.nan)
        return math.nan

    def rep_conditions(self, window: RepWindow, metrics: Mapping[str, float]) -> list[Condition]:
        out = super().rep_conditions(window, metrics)
        if self.checks.pelvis_check:
            limit = self.checks.pelvis_hike_max_mm * self.threshold_scale(PELVIS_ROTATION)
            value = metrics.get("hike_change_mm", math.nan)
            cond = exceeds(PELVIS_ROTATION, abs(value), limit, "mm")
            out.append(dataclasses.replace(cond, value=value))  # reported with its direction
        return out

    def describe(self, condition: Condition, rep: int) -> str:
        where = rep_label(rep)
        if condition.code == SPINE_ARCHED:
            return (
                f"Keep your back flat as you reach: your lower back sagged {condition.value:.0f} "
                f"mm in {where}."
            )
        if condition.code == PELVIS_ROTATION:
            return (
                f"Keep your hips level and square: the hip of the lifted leg moved "
                f"{abs(condition.value):.0f} mm in {where}."
            )
        return super().describe(condition, rep)
