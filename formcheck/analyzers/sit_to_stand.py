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

import dataclasses
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict

from formcheck.analyzers.codes import HEAD_FORWARD, SPINE_ROUNDED, TEMPO_DOWN_FAST, TEMPO_UP_FAST
from formcheck.analyzers.cues import Condition
from formcheck.analyzers.engine import Analyzer, rep_label
from formcheck.analyzers.events import Event, Severity
from formcheck.analyzers.references import own_reference
from formcheck.analyzers.signals import Array, robust_median
from formcheck.analyzers.squat import (
    LeastBent,
    SpikeFilter,
    bottom_mask,
)
from formcheck.analyzers.window import RepWindow
from formcheck.kinematics import names as m
from formcheck.pose.landmarks import Landmark
from formcheck.types import Sample

HANDS_ON_THIGHS = "hands_on_thighs"

# Measures this module adds to each sample from its landmarks (units in the names).
WRIST_THIGH_MM = "wrist_thigh_mm"  # nearer wrist's distance from the thigh (hip->knee)

FAULT_CODES = (SPINE_ROUNDED, HEAD_FORWARD, HANDS_ON_THIGHS, TEMPO_DOWN_FAST, TEMPO_UP_FAST)
_SEVERITY = {
    SPINE_ROUNDED: Severity.SAFETY,
    HANDS_ON_THIGHS: Severity.INFO,
    TEMPO_DOWN_FAST: Severity.INFO,
    TEMPO_UP_FAST: Severity.INFO,
}
_SIDE_VIEW_SHARE_MIN = 0.5
_MS_PER_S = 1000.0
_SIDES = (
    (Landmark.LEFT_HIP, Landmark.LEFT_KNEE, Landmark.LEFT_WRIST),
    (Landmark.RIGHT_HIP, Landmark.RIGHT_KNEE, Landmark.RIGHT_WRIST),
)


class SitToStandChecks(BaseModel):
    """Thresholds of the sit-to-stand's checks (``[checks]`` of sit_to_stand.toml)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    seated_knee_min_deg: float = 50.0
    own_reference_reps: int = 2
    bottom_min_s: float = 0.2
    spine_measure: str = m.BACK_CURVE_MM
    lean_band_deg: float = 5.0
    lean_min_deg: float = 15.0
    lean_match_max_deg: float = 12.0
    outline_seen_share_min: float = 0.5
    outline_scatter_max_mm: float = 6.0
    curve_rounded_min_mm: float = 4.0
    head_forward_max_mm: float = 15.0
    hand_thigh_max_mm: float = 60.0
    hand_share_min_fraction: float = 0.5
    thigh_span_fractions: tuple[float, float] = (0.3, 1.1)
    spike_window_s: float = 0.1
    spike_max_deg: float = 20.0
    seat_window_s: float = 0.5


class SitToStandAnalyzer(Analyzer):
    checks_model = SitToStandChecks

    @property
    def c(self) -> SitToStandChecks:
        assert isinstance(self.checks, SitToStandChecks)
        return self.checks

    def severity(self, code: str) -> Severity:
        return _SEVERITY.get(code, Severity.WARNING)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._seat = LeastBent(self.c.seat_window_s)  # fed -knee: the most-bent steady value
        self._seated_once = False
        self._filter = SpikeFilter(
            self.spec.phase.primary_signal, self.c.spike_window_s, self.c.spike_max_deg
        )

    def update(self, sample: Sample) -> list[Event]:
        sample = self._filter(self._with_hand_measures(sample))
        primary = self.spec.phase.primary_signal
        knee = sample.get(primary)
        self._seat.update(sample.t_ms / _MS_PER_S, -knee)
        if not self._seated_once:
            self._seated_once = self._seat_knee_deg() >= self.c.seated_knee_min_deg
        if not self._seated_once:
            # the set starts at the first seat: standing before it (walking up to the
            # chair, sitting down) is neither a stand nor a rep
            sample = dataclasses.replace(sample, measures={**sample.measures, primary: math.nan})
        return super().update(sample)

    def _seat_knee_deg(self) -> float:
        """The seated knee flexion: the calibration's when it was taken seated, else the
        most-bent steady knee angle seen so far."""
        knee = self.baseline.value(self.spec.phase.primary_signal)
        if math.isfinite(knee) and knee >= self.c.seated_knee_min_deg:
            return knee
        return -self._seat.value

    def start_value(self) -> float:
        """The seated knee flexion (oriented); the spec's default seat until one is seen."""
        knee = self._seat_knee_deg()
        if math.isfinite(knee) and knee >= self.c.seated_knee_min_deg:
            return -knee
        return self.spec.phase.start_default_deg

    def _with_hand_measures(self, sample: Sample) -> Sample:
        """``wrist_thigh_mm``: the smaller distance of either wrist from the same side's thigh
        (image plane, mm), from its part between ``thigh_span_fractions`` of the way from hip
        to knee (hands resting by the hips or crossed on the chest are far from it)."""
        pose, scale = sample.pose, sample.get(m.MM_PER_PX)
        value = math.nan
        if pose.landmarks_px is not None and math.isfinite(scale):
            p = pose.landmarks_px[:, :2]
            lo, hi = self.c.thigh_span_fractions
            dists = [
                _distance_along(p[hip], p[knee], p[wrist], lo, hi) for hip, knee, wrist in _SIDES
            ]
            finite = [d for d in dists if math.isfinite(d)]
            value = min(finite) * scale if finite else math.nan
        return dataclasses.replace(
            sample,
            measures={
                **sample.measures,
                WRIST_THIGH_MM: value,
            },
        )

    # ----- per-rep metrics ------------------------------------------------------------------
    def rep_metrics(self, window: RepWindow) -> dict[str, float]:
        tm, c = window.timing, self.c
        rise = window.mask(tm.start_s, tm.bottom_in_s)
        standing = bottom_mask(window, c.bottom_min_s)
        trunk = window.series(m.TRUNK_LEAN_DEG)
        lean_max = _max(trunk[rise])
        leaning = rise & (trunk >= lean_max - c.lean_band_deg)
        seen = np.isfinite(window.raw.get(c.spine_measure, np.full(rise.shape, np.nan)))
        curve = window.steady_value(
            c.spine_measure, leaning, c.outline_seen_share_min, c.outline_scatter_max_mm
        )
        hands = window.raw.get(WRIST_THIGH_MM, np.full(rise.shape, np.nan))[rise]
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
            "wrist_thigh_min_mm": _min(hands),
            "knee_asymmetry_deg": asym,
            "outline_frames": float(seen[leaning].sum()),
        }
        refs = self.summary.reps[: c.own_reference_reps]
        out["curve_change_mm"] = curve - own_reference(refs, "curve_lean_mm", "min")
        out["head_change_mm"] = out["head_standing_mm"] - own_reference(
            refs, "head_standing_mm", "min"
        )
        return out

    # ----- per-rep checks -------------------------------------------------------------------
    def rep_conditions(self, window: RepWindow, metrics: Mapping[str, float]) -> list[Condition]:
        c = self.c
        out = self.tempo_conditions(window)
        share = metrics["hands_on_thighs_fraction"]
        out.append(
            Condition(
                HANDS_ON_THIGHS,
                None if not math.isfinite(share) else share >= c.hand_share_min_fraction,
                share * 100.0,
                c.hand_share_min_fraction * 100.0,
                "%",
            )
        )
        if not window.seen_from_side(self.spec.setup.max_yaw_from_side_deg, _SIDE_VIEW_SHARE_MIN):
            return out
        refs = self.summary.reps[: c.own_reference_reps]
        lean = metrics["trunk_lean_deg"]
        off = max(
            abs(lean - own_reference(refs, "trunk_lean_deg", "min")),
            abs(lean - own_reference(refs, "trunk_lean_deg", "max")),
        )
        comparable = lean >= c.lean_min_deg and off <= c.lean_match_max_deg
        frames = max(int(metrics["outline_frames"]), 1)
        rounder = metrics["curve_lean_mm"] - own_reference(refs, "curve_lean_mm", "min")
        round_gate = self._gate(c.spine_measure, c.curve_rounded_min_mm, SPINE_ROUNDED, frames)
        out.append(
            Condition(
                SPINE_ROUNDED,
                None if not (comparable and math.isfinite(rounder)) else rounder > round_gate,
                rounder,
                round_gate,
                "mm",
            )
        )
        head = metrics["head_standing_mm"] - own_reference(refs, "head_standing_mm", "min")
        head_gate = self._gate(m.HEAD_FORWARD_MM, c.head_forward_max_mm, HEAD_FORWARD, frames)
        out.append(
            Condition(
                HEAD_FORWARD,
                None if not math.isfinite(head) else head > head_gate,
                head,
                head_gate,
                "mm",
            )
        )
        return out

    def _gate(self, measure: str, threshold: float, code: str, frames: int) -> float:
        limit = threshold * self.threshold_scale(code)
        noise = self.baseline.noise(measure) / math.sqrt(frames)
        if not math.isfinite(noise):
            return limit
        return max(limit, self.spec.cues.noise_k * noise)

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


def _distance_along(hip: Array, knee: Array, wrist: Array, lo: float, hi: float) -> float:
    """Distance (px) of ``wrist`` from the part of the hip->knee segment between ``lo`` and
    ``hi`` of the way along it (NaN for a zero-length thigh)."""
    axis = knee - hip
    length2 = float(np.dot(axis, axis))
    if length2 <= 0.0:
        return math.nan
    along = min(max(float(np.dot(wrist - hip, axis)) / length2, lo), hi)
    return float(np.linalg.norm(wrist - (hip + along * axis)))


def _share_below(x: Array, limit: float) -> float:
    """Share of the samples with a known hand position that are below ``limit`` (NaN
    without any)."""
    known = np.isfinite(x)
    if not known.any():
        return math.nan
    return float(np.mean(x[known] < limit))


def _max(x: Array) -> float:
    finite = x[np.isfinite(x)]
    return float(finite.max()) if finite.size else math.nan


def _min(x: Array) -> float:
    finite = x[np.isfinite(x)]
    return float(finite.min()) if finite.size else math.nan
