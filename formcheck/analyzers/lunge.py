"""The lunge (static split squat), seen from the side: reps per side, depth, trunk lean,
front knee travel, the back's shape at the bottom and tempo.

The spec asks kinematics for the split stance (``split_stance``: which leg is in front, each
leg's knee angle, the front knee past its toes). Phases follow the front knee's flexion above
standing; each rep's side is its front leg. The back, the trunk and the knee are judged
against the person's own first reps with
the shared back-shape and change checks. Which of the person's legs was in front comes from
MediaPipe's labels, which swap between the legs in a side view: the side per rep is reported
as read, and no check depends on it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
from pydantic import BaseModel, ConfigDict

from formcheck.analyzers.checks import back
from formcheck.analyzers.checks.condition import Condition, NotJudged, exceeds, falls_short
from formcheck.analyzers.codes import (
    DEPTH_SHORT,
    KNEE_TRAVEL,
    SPINE_ROUNDED,
    TEMPO_DOWN_FAST,
    TEMPO_UP_FAST,
    TRUNK_LEAN,
)
from formcheck.analyzers.engine import Analyzer, rep_label
from formcheck.analyzers.signals import robust_median
from formcheck.analyzers.window import RepWindow
from formcheck.kinematics import names as m

_SIDE_VIEW_SHARE_MIN = 0.5  # side-only checks need at least half the rep seen from the side
_RIGHT = 0.5  # the front-leg flag's median above this: the right leg was in front


class LungeChecks(BaseModel):
    """Thresholds of the lunge's checks (``[checks]`` of lunge.toml, where each is explained)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    own_reference_reps: int
    bottom_min_s: float
    spine_measure: str
    spine_check_min_depth_deg: float
    spine_trunk_min_deg: float
    spine_depth_match_max_deg: float
    outline_seen_share_min: float
    outline_scatter_max_mm: float
    curve_rounded_min_mm: float
    trunk_lean_min_deg: float
    knee_travel_min_mm: float
    depth_tolerance_deg: float


class LungeAnalyzer(Analyzer[LungeChecks]):
    checks_model = LungeChecks

    def rep_side(self, window: RepWindow) -> str | None:
        """The front leg over the rep ("left" or "right")."""
        flag = robust_median(
            window.raw.get(m.FRONT_LEG_RIGHT_FLAG, np.full(window.t_s.shape, np.nan))
        )
        return None if math.isnan(flag) else ("right" if flag > _RIGHT else "left")

    def rep_metrics(self, window: RepWindow) -> dict[str, float]:
        c = self.checks
        bottom = window.bottom_mask(c.bottom_min_s)

        def at_bottom(name: str) -> float:
            return robust_median(window.series(name)[bottom])

        trunk = at_bottom(m.TRUNK_INCLINATION_DEG) - window.rest_value(m.TRUNK_INCLINATION_DEG)
        outline = window.raw.get(c.spine_measure, np.full(window.t_s.shape, np.nan))
        out = {
            "front_knee_bottom_deg": at_bottom(m.FRONT_KNEE_FLEXION_DEG),
            "rear_knee_bottom_deg": at_bottom(m.REAR_KNEE_FLEXION_DEG),
            "trunk_depth_deg": trunk,
            "knee_past_toes_mm": at_bottom(m.FRONT_KNEE_PAST_TOES_MM),
            "curve_bottom_mm": window.steady_value(
                c.spine_measure, bottom, c.outline_seen_share_min, c.outline_scatter_max_mm
            ),
            "bottom_frames": float(bottom.sum()),
            "outline_frames": float(np.isfinite(outline[bottom]).sum()),
        }
        out["curve_change_mm"] = out["curve_bottom_mm"] - self._own("curve_bottom_mm", "min")
        out["trunk_change_deg"] = trunk - self._own("trunk_depth_deg", "min")
        # against the first reps whichever leg was in front: the legs' labels cannot be
        # trusted from one side view (kinematics.providers.legs.SplitStanceSpec)
        out["knee_travel_change_mm"] = out["knee_past_toes_mm"] - self._own(
            "knee_past_toes_mm", "min"
        )
        return out

    def rep_conditions(self, window: RepWindow, metrics: Mapping[str, float]) -> list[Condition]:
        c = self.checks
        out = self.tempo_conditions(window)
        depth_target = self.prescription.depth_deg if self.prescription else None
        if depth_target is not None:
            limit = depth_target - c.depth_tolerance_deg
            out.append(falls_short(DEPTH_SHORT, window.timing.depth_deg, limit, "deg"))
        if not window.seen_from_side(self.spec.setup.max_yaw_from_side_deg, _SIDE_VIEW_SHARE_MIN):
            return self.others_not_judged(out, NotJudged.VIEW_ANGLE)
        trunk = metrics["trunk_depth_deg"]
        refs = (self._own("trunk_depth_deg", "min"), self._own("trunk_depth_deg", "max"))
        deep = back.deep_enough(
            window.timing.depth_deg, c.spine_check_min_depth_deg, trunk, c.spine_trunk_min_deg
        )
        matched = back.posture_off_deg(trunk, refs) <= c.spine_depth_match_max_deg
        outline_frames, frames = metrics["outline_frames"], metrics["bottom_frames"]
        limit = self.limit(c.spine_measure, c.curve_rounded_min_mm, SPINE_ROUNDED, outline_frames)
        curve_ref = self._own("curve_bottom_mm", "min")
        reason = back.why_not(metrics["curve_bottom_mm"], curve_ref, deep, matched)
        rounded = back.rounded(metrics["curve_change_mm"], limit, reason)
        lean_limit = self.limit(m.TRUNK_INCLINATION_DEG, c.trunk_lean_min_deg, TRUNK_LEAN, frames)
        lean = exceeds(TRUNK_LEAN, metrics["trunk_change_deg"], lean_limit, "deg")
        travel_limit = self.limit(m.KNEE_FORWARD_MM, c.knee_travel_min_mm, KNEE_TRAVEL, frames)
        travel = exceeds(KNEE_TRAVEL, metrics["knee_travel_change_mm"], travel_limit, "mm")
        # a rounding back tips the trunk with it: the back is the cue then
        return [*out, rounded, back.unless_rounded(rounded, lean), travel]

    def _own(self, metric: str, pick: str) -> float:
        return self.own_reference(metric, pick, self.checks.own_reference_reps)

    def describe(self, condition: Condition, rep: int) -> str:
        v, thr, where = condition.value, condition.threshold, rep_label(rep)
        texts = {
            SPINE_ROUNDED: f"Keep your back long: it rounded {v:.0f} mm at the bottom of {where}.",
            TRUNK_LEAN: f"Keep your chest up: your trunk leaned {v:.0f} deg further forward "
            f"at the bottom of {where} than in your first reps.",
            KNEE_TRAVEL: f"Keep your front knee over your foot: it travelled {v:.0f} mm "
            f"further forward in {where} than in your first reps on that side.",
            TEMPO_DOWN_FAST: f"Lower more slowly: {v:.1f} s down in {where}, aim for at least "
            f"{thr:.1f} s.",
            TEMPO_UP_FAST: f"Come up more slowly: {v:.1f} s up in {where}, aim for at least "
            f"{thr:.1f} s.",
            DEPTH_SHORT: f"Lunge deeper: your front knee bent {v:.0f} deg in {where}, aim for "
            f"{thr:.0f} deg.",
        }
        return texts.get(condition.code, super().describe(condition, rep))
