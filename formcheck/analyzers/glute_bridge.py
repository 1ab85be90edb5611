"""The glute bridge, lying on the back with knees bent, seen from the side.

Phases follow hip extension: hip flexion falls from the lying value (40-95 deg, depending on
how close the feet are) to about 0 at the top (``phase.direction = "decrease"``); "down" is
the lift, the pause is the hold at the top, "up" is the lowering. The lying value is the
person's own: the most flexed the hips have been (a clip may open with the hips already up,
then the calibrated still start is the top, not the floor).

At the top: hip extension (deg), hold time (s), the back outline and the hip height, judged
against the person's own first rep(s) at the top. Arching the lower back instead of
extending the hips tips the pelvis forward under a hollow lumbar spine: the landmarks' hip
angle hardly changes (the lumbar extension makes up for the hip flexion) and the trunk tilt
moved either way on the renders, but the back outline moves towards the shoulder-hip chord
(``back_offset_mm`` falls), which decides ``spine_arched`` unless the hips rose clearly
higher than in the first rep. The arms lie along the body at the top and cover the outline
in a side view, so the spec asks kinematics for the outline read with the arm test off (the
arm lies inside the silhouette, not across its edge), for the hip angle from both sides'
midpoints, signed past straight, and for the pelvis tilt from the front. Pelvis level is
checked when the camera sees the person from the front (hip heights in the image). Tempo:
the whole rep against the prescription and the first rep (tight), each phase against the
prescription (loose).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict

from formcheck.analyzers.checks.condition import Condition, NotJudged, exceeds, unjudged
from formcheck.analyzers.checks.tempo import phase_ratios
from formcheck.analyzers.codes import (
    HIPS_LOW,
    PELVIS_TILT,
    SPINE_ARCHED,
    TEMPO_DOWN_FAST,
    TEMPO_UP_FAST,
)
from formcheck.analyzers.engine import Analyzer, FrameContext, rep_label
from formcheck.analyzers.events import Phase
from formcheck.analyzers.signals import robust_median
from formcheck.analyzers.window import RepWindow
from formcheck.kinematics import names as m
from formcheck.types import CameraView, Sample

_LYING_MEDIAN_S = 0.3  # the lying value is a median over this long (one bad frame is no floor)
_LYING_SPAN_SLACK_S = 0.05  # ... once the samples span all but this of it (frame spacing)
_HALF = 0.5


class GluteBridgeChecks(BaseModel):
    """Thresholds of the bridge's checks (``[checks]`` of glute_bridge.toml)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    own_reference_reps: int
    top_min_s: float
    lying_min_deg: float
    offset_drop_min_mm: float
    arch_live_window_s: float
    hip_rise_veto_mm: float
    fuller_hip_less_extended_max_deg: float
    top_hip_flexion_max_deg: float
    pelvis_tilt_max_mm: float
    tempo_phase_tolerance_fraction: float


class GluteBridgeAnalyzer(Analyzer[GluteBridgeChecks]):
    checks_model = GluteBridgeChecks

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._recent: deque[tuple[float, float]] = deque()
        self._lying_deg = -math.inf  # most flexed hips seen (short medians)

    def observe(self, sample: Sample) -> None:
        """The lying hip angle: the most flexed the hips have been, from tracked frames only
        (the estimator's multi-person start-up frames read the hips 15 deg more flexed: a
        render 117-120 deg, then 101-103, which raised the lying value so far that no rest
        came back to it and reps merged)."""
        if sample.quality.usable and sample.pose.steady_tracking:
            self._track_lying(sample.t_ms / 1000.0, sample.get(m.HIP_FLEXION_DEG))

    def _track_lying(self, t_s: float, hip_deg: float) -> None:
        if not math.isfinite(hip_deg):
            return
        self._recent.append((t_s, hip_deg))
        while self._recent and t_s - self._recent[0][0] > _LYING_MEDIAN_S:
            self._recent.popleft()
        if t_s - self._recent[0][0] < _LYING_MEDIAN_S - _LYING_SPAN_SLACK_S:
            return  # not yet a full window: its first sample alone would be the median
        self._lying_deg = max(self._lying_deg, float(np.median([v for _, v in self._recent])))

    def start_value(self) -> float:
        """The lying hip flexion (oriented): the most flexed the hips have been by this
        analyzer's own angle (both sides), at least the spec default. The pipeline's
        calibrated value is the near side's angle, which read 3-8 deg more flexed than
        both sides together on a render (the far hip is a guess): taken as the lying value,
        rests 9 deg short of it did not end their reps. It is used only until a lying value
        has been seen, and only if the hips were down then."""
        lying = self._lying_deg
        if not math.isfinite(lying):
            calibrated = self.baseline.value(self.spec.phase.primary_signal)
            lying = calibrated if calibrated >= self.checks.lying_min_deg else -math.inf
        return self._orient(max(self.spec.phase.start_default_deg, lying))

    # ----- per-rep metrics ------------------------------------------------------------------
    def rep_metrics(self, window: RepWindow) -> dict[str, float]:
        top = window.bottom_mask(self.checks.top_min_s)
        med = {
            name: robust_median(window.series(name)[top])
            for name in (
                m.HIP_FLEXION_DEG,
                m.TRUNK_INCLINATION_DEG,
                m.HIP_HEIGHT_MM,
                m.BACK_OFFSET_MM,
                m.BACK_BULGE_MM,
                m.BACK_CURVE_MM,
                m.SPINE_CHORD_MM,
                m.PELVIS_TILT_MM,
            )
        }
        out = {
            "top_hip_flexion_deg": med[m.HIP_FLEXION_DEG],
            "hip_extension_deg": window.timing.depth_deg,
            "top_hold_s": window.timing.phases.pause_s,
            "top_trunk_deg": med[m.TRUNK_INCLINATION_DEG],
            "top_hip_height_mm": med[m.HIP_HEIGHT_MM],
            "top_back_offset_mm": med[m.BACK_OFFSET_MM],
            "top_back_bulge_mm": med[m.BACK_BULGE_MM],
            "top_back_curve_mm": med[m.BACK_CURVE_MM],
            "top_pelvis_tilt_mm": med[m.PELVIS_TILT_MM],
            "returning_at_end": float(self.closing_open_rep),
            "top_frames": _finite_count(window.raw.get(m.BACK_OFFSET_MM), top),
            "rep_s": window.timing.phases.down_s
            + window.timing.phases.pause_s
            + window.timing.phases.up_s,
        }
        out["offset_drop_mm"] = self._reference("top_back_offset_mm") - out["top_back_offset_mm"]
        out["hip_drop_mm"] = self._reference("top_hip_height_mm") - out["top_hip_height_mm"]
        out["hip_less_extended_deg"] = (
            out["top_hip_flexion_deg"] - self._reference("top_hip_flexion_deg")
        )
        out["bulge_drop_mm"] = self._reference("top_back_bulge_mm") - out["top_back_bulge_mm"]
        # the hips sinking towards the floor relative to the shoulders: the trunk's tilt
        # below the first rep's at the top, as a height over the shoulder-hip chord
        trunk_drop = self._reference("top_trunk_deg") - out["top_trunk_deg"]
        out["hip_sink_mm"] = med[m.SPINE_CHORD_MM] * math.sin(math.radians(trunk_drop))
        return out

    def _reference(self, metric: str) -> float:
        """The person's own value over their first reps (median; NaN before)."""
        return self.own_reference(metric, "median", self.checks.own_reference_reps)

    def rep_conditions(self, window: RepWindow, metrics: Mapping[str, float]) -> list[Condition]:
        out = self._tempo(window, metrics)
        c = self.checks
        seen_side = window.view_share(CameraView.FRONT) < _HALF
        if seen_side:
            out.append(
                self._arched(
                    metrics["offset_drop_mm"],
                    metrics["hip_drop_mm"],
                    metrics["hip_less_extended_deg"],
                    metrics["top_frames"],
                )
            )
        else:
            out.append(unjudged(SPINE_ARCHED, NotJudged.VIEW_ANGLE, "mm"))
        hip = metrics["top_hip_flexion_deg"]
        out.append(exceeds(HIPS_LOW, hip, c.top_hip_flexion_max_deg, "deg"))
        tilt = abs(metrics["top_pelvis_tilt_mm"])
        out.append(exceeds(PELVIS_TILT, tilt, c.pelvis_tilt_max_mm, "mm"))
        return out

    # ----- per-frame checks (live cues) -----------------------------------------------------
    def frame_conditions(self, ctx: FrameContext) -> list[Condition]:
        """A live arch cue while the person holds the top: the rep check's values as
        medians over the hold so far (once it has lasted ``arch_live_window_s``); the
        rep's own verdict over its whole top restates it in the report."""
        if ctx.phase is not Phase.BOTTOM:
            return []  # the engine's BOTTOM is the bridge's top (the most hip extension)
        # the hold so far: the hips stay within the spec's plateau band of their highest
        # (the phase begins as the lift slows, while the hips may still be 70 deg short)
        window = ctx.buffer.held_s(
            m.HIP_FLEXION_DEG, self.spec.phase.plateau_band_deg, ctx.in_phase_s, increase=False
        )
        if not window >= self.checks.arch_live_window_s:
            return []
        if ctx.buffer.views and ctx.buffer.views[-1] is CameraView.FRONT:
            return []
        recent = ctx.buffer.recent_median
        offset = recent(m.BACK_OFFSET_MM, window)
        return [
            self._arched(
                self._reference("top_back_offset_mm") - offset,
                self._reference("top_hip_height_mm") - recent(m.HIP_HEIGHT_MM, window),
                recent(m.HIP_FLEXION_DEG, window) - self._reference("top_hip_flexion_deg"),
                float(np.isfinite(ctx.buffer.recent_values(m.BACK_OFFSET_MM, window)).sum()),
            )
        ]

    def _arched(
        self, drop_mm: float, hip_drop_mm: float, hip_less_extended_deg: float, frames: float
    ) -> Condition:
        """Arching instead of extending the hips, at the top against the first rep: the
        back outline ``offset_drop_min_mm`` nearer the shoulder-hip chord (``drop_mm``, a
        hollow lumbar spine), unless the hips also rose clearly higher than in the first
        rep (``hip_drop_mm`` negative) with at least as much hip extension (a fuller
        bridge; an arch lifts the hips too, but with less hip extension: a render 27 deg
        off the side, hips 52-57 mm higher, 8-9 deg less extended). Values are medians over
        ``frames`` samples of the top, so their jitter is the per-frame noise floor over
        sqrt(frames)."""
        c = self.checks
        limit = self.limit(m.BACK_OFFSET_MM, c.offset_drop_min_mm, SPINE_ARCHED, frames)
        active = None
        if math.isfinite(drop_mm):
            fuller = (
                hip_drop_mm < -c.hip_rise_veto_mm
                and not hip_less_extended_deg > c.fuller_hip_less_extended_max_deg
            )
            active = drop_mm > limit and not fuller
        return Condition(SPINE_ARCHED, active, drop_mm, limit, "mm")

    def _tempo(self, window: RepWindow, metrics: Mapping[str, float]) -> list[Condition]:
        """The whole rep (lift, hold and lowering: steadier than any one phase, within 4% of
        the truth on the renders) quicker than the prescription or the person's own first
        rep by more than the spec's tempo tolerance, reported on the phase that was
        relatively quicker; and a lift or lowering alone quicker than prescribed by more
        than the looser per-phase tolerance."""
        tempo = self.prescription.tempo if self.prescription else None
        if tempo is None or self.closing_open_rep:
            return []
        ph = window.timing.phases
        tol = 1.0 - self.checks.tempo_phase_tolerance_fraction
        down_min, up_min = tempo.down_s * tol, tempo.up_s * tol
        total_tol = 1.0 - self.spec.tempo.tolerance_fraction
        expected = tempo.down_s + tempo.pause_s + tempo.up_s
        first = self.own_reference("rep_s", "median", 1)
        if math.isfinite(first):
            expected = min(expected, first)
        quick = metrics["rep_s"] < expected * total_tol and not window.from_bottom
        down_ratio, up_ratio = phase_ratios(ph, tempo.down_s, tempo.up_s)
        down_fast = not window.from_bottom and (
            ph.down_s < down_min or (quick and down_ratio <= up_ratio)
        )
        up_fast = ph.up_s < up_min or (quick and up_ratio < down_ratio)
        return [
            Condition(TEMPO_DOWN_FAST, down_fast, ph.down_s, down_min, "s"),
            Condition(TEMPO_UP_FAST, up_fast, ph.up_s, up_min, "s"),
        ]

    def describe(self, condition: Condition, rep: int) -> str:
        v, thr = condition.value, condition.threshold
        where = rep_label(rep)
        texts = {
            SPINE_ARCHED: f"Lift with your hips, not your lower back: your back arched {v:.0f} "
            f"mm more at the top of {where} than in your first rep.",
            HIPS_LOW: f"Push your hips higher: they stayed {v:.0f} deg short of a straight "
            f"line at the top of {where}.",
            PELVIS_TILT: f"Keep your pelvis level: one hip was {v:.0f} mm lower at the top of "
            f"{where}.",
            TEMPO_DOWN_FAST: f"Lift more slowly: {v:.1f} s up in {where}, aim for at least "
            f"{thr:.1f} s.",
            TEMPO_UP_FAST: f"Lower more slowly: {v:.1f} s down in {where}, aim for at least "
            f"{thr:.1f} s.",
        }
        return texts.get(condition.code, super().describe(condition, rep))


def _finite_count(values: np.ndarray | None, where: np.ndarray) -> float:
    return float(np.isfinite(values[where]).sum()) if values is not None else 0.0
