"""Sit-to-stand (five-times sit-to-stand, 30-second chair stand), seen from the side.

The set starts seated: the start position is the seat, and the phases follow knee
extension away from it (``knee_flexion_deg`` with ``direction = "decrease"``), so one rep is
seated -> standing -> seated and the "bottom" of the rep is standing. Each rep reports its
rise, stand and sit times and the time since the first rise (the five-times sit-to-stand
total is the last rep's ``total_time_s``; ``stands_time_s`` stops when the last stand is
reached). The seat is the calibration's knee angle when it was taken seated, else the
most-bent steady knee angle seen; anything before the first seat (walking up, sitting down)
is not part of the set.

Checks, against the same person's first reps: the back outline at the deepest forward lean of
the rise (``spine_rounded``), the head pushed forward while standing (``head_forward``),
pushing off the thighs with the hands (``hands_on_thighs``) and tempo. Trunk lean (signed,
forward of vertical), left-right knee symmetry and hand position are reported per rep. Lean
and head use the midpoints of both sides' landmarks, which do not jump when the near side
switches between frames.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict

from formcheck.analyzers.checks import back
from formcheck.analyzers.checks.condition import Condition, NotJudged, exceeds
from formcheck.analyzers.codes import (
    HANDS_ON_THIGHS,
    HEAD_FORWARD,
    SPINE_ROUNDED,
    TEMPO_DOWN_FAST,
    TEMPO_UP_FAST,
)
from formcheck.analyzers.engine import Analyzer, rep_label
from formcheck.analyzers.engine.reference import LeastBent
from formcheck.analyzers.signals import Array, finite_max, finite_min, robust_median
from formcheck.analyzers.window import RepWindow
from formcheck.kinematics import names as m
from formcheck.types import Sample

_SIDE_VIEW_SHARE_MIN = 0.5
_MS_PER_S = 1000.0
_PERCENT = 100.0


class SitToStandChecks(BaseModel):
    """Thresholds of the sit-to-stand's checks (``[checks]`` of sit_to_stand.toml)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    seated_knee_min_deg: float
    own_reference_reps: int
    bottom_min_s: float
    spine_measure: str
    lean_band_deg: float
    lean_min_deg: float
    lean_match_max_deg: float
    outline_seen_share_min: float
    outline_scatter_max_mm: float
    curve_rounded_min_mm: float
    head_forward_max_mm: float
    hand_thigh_max_mm: float
    hand_share_min_fraction: float
    seat_window_s: float


class SitToStandAnalyzer(Analyzer[SitToStandChecks]):
    checks_model = SitToStandChecks

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._seat = LeastBent(self.checks.seat_window_s)  # fed -knee: the most-bent steady value
        self._seated_once = False

    def observe(self, sample: Sample) -> None:
        """The seat: the most-bent steady knee angle, until the person has first sat."""
        knee = sample.get(self.spec.phase.primary_signal)
        self._seat.update(sample.t_ms / _MS_PER_S, -knee)
        if not self._seated_once:
            self._seated_once = self._seat_knee_deg() >= self.checks.seated_knee_min_deg

    def primary_value(self, sample: Sample) -> float:
        """The knee angle from the first seat on: standing before it (walking up to the
        chair, sitting down) is neither a stand nor a rep."""
        return super().primary_value(sample) if self._seated_once else math.nan

    def _seat_knee_deg(self) -> float:
        """The seated knee flexion: the calibration's when it was taken seated, else the
        most-bent steady knee angle seen so far."""
        knee = self.baseline.value(self.spec.phase.primary_signal)
        if math.isfinite(knee) and knee >= self.checks.seated_knee_min_deg:
            return knee
        return -self._seat.value

    def start_value(self) -> float:
        """The seated knee flexion (oriented); the spec's default seat until one is seen."""
        knee = self._seat_knee_deg()
        if math.isfinite(knee) and knee >= self.checks.seated_knee_min_deg:
            return -knee
        return self.spec.phase.start_default_deg

    # ----- per-rep metrics ------------------------------------------------------------------
    def rep_metrics(self, window: RepWindow) -> dict[str, float]:
        tm, c = window.timing, self.checks
        rise = window.mask(tm.start_s, tm.bottom_in_s)
        standing = window.bottom_mask(c.bottom_min_s)
        trunk = window.series(m.TRUNK_LEAN_DEG)
        lean_max = finite_max(trunk[rise])
        leaning = rise & (trunk >= lean_max - c.lean_band_deg)
        seen = np.isfinite(window.raw.get(c.spine_measure, np.full(rise.shape, np.nan)))
        curve = window.steady_value(
            c.spine_measure, leaning, c.outline_seen_share_min, c.outline_scatter_max_mm
        )
        hands = window.raw.get(m.WRIST_THIGH_MM, np.full(rise.shape, np.nan))[rise]
        left = window.series(f"left_{m.KNEE_FLEXION_DEG}")
        right = window.series(f"right_{m.KNEE_FLEXION_DEG}")
        asym = robust_median(np.abs(left[rise] - right[rise])) - abs(
            window.rest_value(f"left_{m.KNEE_FLEXION_DEG}")
            - window.rest_value(f"right_{m.KNEE_FLEXION_DEG}")
        )
        first = self.summary.reps[0].start_s if self.summary.reps else tm.start_s
        out: dict[str, float] = {
            "seated_knee_deg": window.rest_value(m.KNEE_FLEXION_DEG),
            "standing_knee_deg": robust_median(window.series(m.KNEE_FLEXION_DEG)[standing]),
            "rise_s": tm.bottom_in_s - tm.start_s,
            "sit_s": tm.end_s - tm.bottom_out_s,
            "total_time_s": tm.end_s - first,
            "stands_time_s": tm.bottom_in_s - first,
            # forward of vertical (signed: a person leaning back in the chair leans forward
            # through vertical to rise; a quick five-times test leaves no still seated
            # moment to measure a change from)
            "trunk_lean_deg": lean_max,
            "curve_lean_mm": curve,
            "head_standing_mm": robust_median(window.series(m.HEAD_FORWARD_MM)[standing]),
            "hands_on_thighs_fraction": _share_below(hands, c.hand_thigh_max_mm),
            "wrist_thigh_min_mm": finite_min(hands),
            "knee_asymmetry_deg": asym,
            "outline_frames": float(seen[leaning].sum()),
        }
        out["curve_change_mm"] = curve - self._own("curve_lean_mm", "min")
        out["head_change_mm"] = out["head_standing_mm"] - self._own("head_standing_mm", "min")
        return out

    def _own(self, metric: str, pick: str) -> float:
        return self.own_reference(metric, pick, self.checks.own_reference_reps)

    # ----- per-rep checks -------------------------------------------------------------------
    def rep_conditions(self, window: RepWindow, metrics: Mapping[str, float]) -> list[Condition]:
        c = self.checks
        out = self.tempo_conditions(window)
        share = metrics["hands_on_thighs_fraction"]
        out.append(
            Condition(
                HANDS_ON_THIGHS,
                None if not math.isfinite(share) else share >= c.hand_share_min_fraction,
                share * _PERCENT,
                c.hand_share_min_fraction * _PERCENT,
                "%",
            )
        )
        if not window.seen_from_side(self.spec.setup.max_yaw_from_side_deg, _SIDE_VIEW_SHARE_MIN):
            return self.others_not_judged(out, NotJudged.VIEW_ANGLE)
        lean = metrics["trunk_lean_deg"]
        refs = (self._own("trunk_lean_deg", "min"), self._own("trunk_lean_deg", "max"))
        matched = back.posture_off_deg(lean, refs) <= c.lean_match_max_deg
        frames = max(int(metrics["outline_frames"]), 1)
        curve, curve_ref = metrics["curve_lean_mm"], self._own("curve_lean_mm", "min")
        round_limit = self.limit(c.spine_measure, c.curve_rounded_min_mm, SPINE_ROUNDED, frames)
        reason = back.why_not(curve, curve_ref, lean >= c.lean_min_deg, matched)
        out.append(back.rounded(curve - curve_ref, round_limit, reason))
        head = metrics["head_standing_mm"] - self._own("head_standing_mm", "min")
        head_limit = self.limit(m.HEAD_FORWARD_MM, c.head_forward_max_mm, HEAD_FORWARD, frames)
        out.append(exceeds(HEAD_FORWARD, head, head_limit, "mm"))
        return out

    # ----- messages -------------------------------------------------------------------------
    def describe(self, condition: Condition, rep: int) -> str:
        v, thr = condition.value, condition.threshold
        where = rep_label(rep)
        texts = {
            SPINE_ROUNDED: f"Keep your back long as you lean forward to stand: it rounded "
            f"{v:.0f} mm in {where}.",
            HEAD_FORWARD: f"Stand tall with your head over your shoulders: it pushed {v:.0f} mm "
            f"forward in {where}.",
            HANDS_ON_THIGHS: f"Try to stand without pushing on your thighs: your hands were on "
            f"them for {v:.0f}% of the rise in {where}.",
            TEMPO_DOWN_FAST: f"Stand up more steadily: {v:.1f} s in {where}, aim for at "
            f"least {thr:.1f} s.",
            TEMPO_UP_FAST: f"Sit down with control: {v:.1f} s in {where}, aim for at least "
            f"{thr:.1f} s.",
        }
        return texts.get(condition.code, super().describe(condition, rep))


def _share_below(x: Array, limit: float) -> float:
    """Share of the samples with a known hand position that are below ``limit`` (NaN
    without any)."""
    known = np.isfinite(x)
    if not known.any():
        return math.nan
    return float(np.mean(x[known] < limit))
