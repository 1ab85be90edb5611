"""The bodyweight squat, seen from the side.

Phases follow knee flexion above the standing value (the squat's depth is the knee bend);
their ends come from minimum-jerk fits of each transition (engine). The spec asks kinematics
for the knee angle the set's view needs (both legs' midpoints from the side, world landmarks
from the front), with one-frame spikes dropped, and for the heels' image row. Every form
check compares the rep with the same person's own first reps (or their standing start),
never with an absolute shape: outlines, landmark offsets and joint timing differ between
people and cameras far more than the faults change them.

Checks: the back outline at the bottom (``spine_rounded``), the head pushed forward at the
bottom (``head_forward``), the knees starting the descent before the hips sit back
(``knee_first``), the hips rising before the chest (``hips_rise_first``), the feet moving
apart or together between reps (``stance_width_change``), the heels lifting (``heel_lift``),
tempo, and a prescribed depth (``depth_short``). Trunk lean, knee travel past the toes, thigh
angle and stance are reported per rep.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict

from formcheck.analyzers.checks import back
from formcheck.analyzers.checks.condition import Condition, NotJudged, exceeds, falls_short
from formcheck.analyzers.checks.timing import (
    DOWN,
    UP,
    chest_drop_deg,
    fit_start_lag_ms,
    lead_and_change_exceed,
    level_lag_ms,
    mid_lag_ms,
)
from formcheck.analyzers.codes import (
    DEPTH_SHORT,
    HEAD_FORWARD,
    HEEL_LIFT,
    HIPS_RISE_FIRST,
    KNEE_FIRST,
    SPINE_ROUNDED,
    STANCE_WIDTH_CHANGE,
    TEMPO_DOWN_FAST,
    TEMPO_UP_FAST,
)
from formcheck.analyzers.engine import Analyzer, FrameContext, rep_label
from formcheck.analyzers.engine.reference import LeastBent
from formcheck.analyzers.events import Phase
from formcheck.analyzers.signals import BoolArray, robust_median
from formcheck.analyzers.window import RepWindow
from formcheck.kinematics import names as m
from formcheck.types import CameraView, Sample

_SIDE_VIEW_SHARE_MIN = 0.5  # side-only checks need at least half the rep seen from the side
_SIDE_ONLY_METRICS = (
    "hip_bottom_deg",
    "trunk_bottom_deg",
    "trunk_depth_deg",
    "thigh_angle_deg",
    "shin_angle_deg",
    "knee_past_toes_mm",
    "heel_lift_mm",
    "curve_bottom_mm",
    "head_bottom_mm",
    "onset_lag_ms",
    "early_lag_ms",
    "rise_lag_ms",
    "rise_mid_lag_ms",
    "onset_mid_lag_ms",
    "chest_drop_deg",
)
_OWN_CHANGES = (  # (metric, its change from the first reps, which extreme of them)
    ("curve_bottom_mm", "curve_change_mm", "min"),
    ("head_bottom_mm", "head_change_mm", "min"),
    ("onset_lag_ms", "onset_lag_change_ms", "min"),
    ("early_lag_ms", "early_lag_change_ms", "min"),
    ("rise_lag_ms", "rise_lag_change_ms", "min"),
    ("onset_mid_lag_ms", "onset_mid_lag_change_ms", "min"),
    ("rise_mid_lag_ms", "rise_mid_lag_change_ms", "min"),
    ("chest_drop_deg", "chest_drop_change_deg", "median"),
)


class SquatChecks(BaseModel):
    """Thresholds of the squat's checks (``[checks]`` of squat.toml, where each is
    explained)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    own_reference_reps: int
    bottom_min_s: float
    spine_measure: str
    spine_check_min_depth_deg: float
    spine_trunk_min_deg: float
    spine_depth_match_max_deg: float
    outline_seen_share_min: float
    outline_scatter_max_mm: float
    spine_live_window_s: float
    curve_rounded_min_mm: float
    head_forward_max_mm: float
    onset_range_min_deg: float
    onset_fit_rms_max_fraction: float
    knee_first_lag_min_ms: float
    knee_first_trunk_match_max_deg: float
    knee_first_knee_level_deg: float
    knee_first_trunk_level_deg: float
    onset_search_before_s: float
    rise_lag_min_ms: float
    rise_mid_fractions: tuple[float, ...]
    rise_mid_lag_min_ms: float
    knee_first_mid_fractions: tuple[float, ...]
    knee_first_mid_lag_min_ms: float
    mid_lag_filter_s: float
    chest_drop_max_deg: float
    stance_change_max_mm: float
    stance_min_yaw_from_side_deg: float
    heel_lift_max_mm: float
    depth_tolerance_deg: float
    front_standing_window_s: float
    heel_lift_check: bool


class SquatAnalyzer(Analyzer[SquatChecks]):
    checks_model = SquatChecks

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._front_view: bool | None = None
        self._front_standing = LeastBent(self.checks.front_standing_window_s)

    def observe(self, sample: Sample) -> None:
        """The set's view (decided once by kinematics), and from the front the standing
        knee angle: its least-bent steady value."""
        flag = sample.get(m.FRONT_VIEW_SET_FLAG)
        self._front_view = None if math.isnan(flag) else flag == 1.0
        if self._front_view:
            self._front_standing.update(sample.t_ms / 1000.0, sample.get(m.KNEE_FLEXION_DEG))

    def start_value(self) -> float:
        """Standing knee flexion; a calibration taken while already squatting (a held squat,
        a person who never stands up) is no standing reference. From the front the knee
        angle is the world-landmark one, and standing is its least-bent steady value."""
        value = self._front_standing.value if self._front_view else super().start_value()
        if not value <= self.spec.phase.start_max_deg:
            return self.spec.phase.start_default_deg
        return value

    def _own(self, metric: str, pick: str) -> float:
        return self.own_reference(metric, pick, self.checks.own_reference_reps)

    # ----- per-rep metrics ------------------------------------------------------------------
    def rep_metrics(self, window: RepWindow) -> dict[str, float]:
        c = self.checks
        bottom = window.bottom_mask(c.bottom_min_s)

        def at_bottom(name: str) -> float:
            return robust_median(window.series(name)[bottom])

        hip, trunk = at_bottom(m.HIP_FLEXION_DEG), at_bottom(m.TRUNK_INCLINATION_DEG)
        scale = at_bottom(m.MM_PER_PX)
        seen = np.isfinite(window.raw.get(c.spine_measure, np.full(bottom.shape, np.nan)))
        # NaN when the back was hidden or crossed (arms) for most of the bottom
        curve = window.steady_value(
            c.spine_measure, bottom, c.outline_seen_share_min, c.outline_scatter_max_mm
        )
        stance_rest = window.rest_value(m.STANCE_WIDTH_MM)
        tm = window.timing
        rise = window.mask(tm.bottom_in_s, tm.end_s)
        out: dict[str, float] = {
            "knee_bottom_deg": at_bottom(m.KNEE_FLEXION_DEG),
            "hip_bottom_deg": hip,
            "trunk_bottom_deg": trunk,
            "trunk_depth_deg": trunk - window.rest_value(m.TRUNK_INCLINATION_DEG),
            # thigh from vertical: 90 deg is "thighs parallel to the floor"
            "thigh_angle_deg": hip - trunk,
            "shin_angle_deg": at_bottom(m.SHIN_ANGLE_DEG),
            "knee_past_toes_mm": at_bottom(m.KNEE_FORWARD_MM),
            "stance_rest_mm": stance_rest,
            "stance_change_mm": stance_rest - self._first_stance_mm(),
            # the heel's rise in the image from standing (the camera stays put); the toe
            # landmark is no floor reference: it drops as the shin tilts over the foot
            "heel_lift_mm": (window.rest_value(m.HEEL_Y_PX) - at_bottom(m.HEEL_Y_PX)) * scale,
            "curve_bottom_mm": curve,
            "head_bottom_mm": at_bottom(m.HEAD_FORWARD_MM),
            "onset_lag_ms": math.nan if window.from_bottom else self._lag_ms(window, DOWN),
            "early_lag_ms": math.nan if window.from_bottom else self._early_lag_ms(window),
            "onset_mid_lag_ms": math.nan
            if window.from_bottom
            else self._mid_lag_ms(window, DOWN, bottom),
            "rise_lag_ms": self._lag_ms(window, UP),
            "rise_mid_lag_ms": self._mid_lag_ms(window, UP, bottom),
            "chest_drop_deg": chest_drop_deg(
                window.series(m.KNEE_FLEXION_DEG)[rise],
                window.series(m.TRUNK_INCLINATION_DEG)[rise],
            ),
            "bottom_frames": float(seen[bottom].sum()),
        }
        if self._front_view:
            # image-plane lean, thigh angle, knee travel, back and head need a side view
            out.update(dict.fromkeys(_SIDE_ONLY_METRICS, math.nan))
        for metric, change, pick in _OWN_CHANGES:
            out[change] = out[metric] - self._own(metric, pick)
        return out

    def _first_stance_mm(self) -> float:
        """The stance of the person's first standing start (calibration and first rep)."""
        first = [r.metrics.get("stance_rest_mm", math.nan) for r in self.first_reps(1)]
        values = [v for v in first if math.isfinite(v)]
        calibrated = self.baseline.value(m.STANCE_WIDTH_MM)
        if math.isfinite(calibrated):
            values.append(calibrated)
        return float(np.median(values)) if values else math.nan

    def _lag_ms(self, window: RepWindow, phase: int) -> float:
        """Trunk transition start minus knee transition start (ms) on the way down (positive
        when the knees bend before the trunk tips) or up (when the knees straighten before
        the chest rises)."""
        c = self.checks
        return fit_start_lag_ms(
            window,
            phase,
            m.KNEE_FLEXION_DEG,
            m.TRUNK_INCLINATION_DEG,
            c.onset_range_min_deg,
            c.onset_fit_rms_max_fraction,
            both_fitted=True,
        )

    def _mid_lag_ms(self, window: RepWindow, phase: int, bottom: BoolArray) -> float:
        c = self.checks
        return mid_lag_ms(
            window,
            phase,
            bottom,
            m.KNEE_FLEXION_DEG,
            m.TRUNK_INCLINATION_DEG,
            c.knee_first_mid_fractions if phase == DOWN else c.rise_mid_fractions,
            c.mid_lag_filter_s,
            c.onset_range_min_deg,
            c.onset_search_before_s,
        )

    def _early_lag_ms(self, window: RepWindow) -> float:
        """When the trunk has tipped ``knee_first_trunk_level_deg`` minus when the knees have
        bent ``knee_first_knee_level_deg`` from their standing values (ms; positive: knees
        first)."""
        c = self.checks
        return level_lag_ms(
            window,
            m.KNEE_FLEXION_DEG,
            c.knee_first_knee_level_deg,
            m.TRUNK_INCLINATION_DEG,
            c.knee_first_trunk_level_deg,
            c.onset_search_before_s,
        )

    # ----- per-rep checks -------------------------------------------------------------------
    def rep_conditions(self, window: RepWindow, metrics: Mapping[str, float]) -> list[Condition]:
        out = self.tempo_conditions(window)
        c = self.checks
        depth_target = self.prescription.depth_deg if self.prescription else None
        if depth_target is not None:
            limit = depth_target - c.depth_tolerance_deg
            out.append(falls_short(DEPTH_SHORT, window.timing.depth_deg, limit, "deg"))
        out.append(self._stance_condition(window, metrics["stance_change_mm"]))
        if not window.seen_from_side(self.spec.setup.max_yaw_from_side_deg, _SIDE_VIEW_SHARE_MIN):
            return self.others_not_judged(out, NotJudged.VIEW_ANGLE)
        heel_limit = c.heel_lift_max_mm * self.threshold_scale(HEEL_LIFT)
        out.append(exceeds(HEEL_LIFT, metrics["heel_lift_mm"], heel_limit, "mm", c.heel_lift_check))
        spine = self._spine_conditions(
            metrics["curve_bottom_mm"],
            metrics["head_bottom_mm"],
            metrics["trunk_depth_deg"],
            window.timing.depth_deg,
            int(metrics["bottom_frames"]),
        )
        out += spine
        rounded = any(cond.code == SPINE_ROUNDED and cond.active for cond in spine)
        out.append(self._knee_first(metrics, rounded))
        out.append(self._hips_rise_first(metrics))
        return out

    def _trunk_off_deg(self, trunk_depth_deg: float) -> float:
        """How far the trunk tipped from the reference reps' (the further of the two)."""
        refs = (self._own("trunk_depth_deg", "min"), self._own("trunk_depth_deg", "max"))
        return back.posture_off_deg(trunk_depth_deg, refs)

    def _knee_first(self, metrics: Mapping[str, float], rounded: bool) -> Condition:
        """The knees start the descent ``knee_first_lag_min_ms`` earlier against the trunk
        than in the person's first reps (whole-move fits), and the trunk still trails
        through the middle of the way down. Only judged when the trunk went about as far
        as in those reps and the back did not round (``rounded``): a rounding back reshapes
        the trunk's move and shifts its fitted start by 100-300 ms, and it is the cue that
        matters then."""
        c = self.checks
        scale = self.threshold_scale(KNEE_FIRST)
        lag_min = c.knee_first_lag_min_ms * scale
        change = metrics["onset_lag_change_ms"]
        active = exceeds(KNEE_FIRST, change, lag_min, "ms").active
        # (a middle that could not be measured does not overrule the fitted start)
        if active and metrics["onset_mid_lag_change_ms"] <= c.knee_first_mid_lag_min_ms * scale:
            active = False  # a reshaped start: the trunk kept pace through the middle
        trunk_off = self._trunk_off_deg(metrics["trunk_depth_deg"])
        if rounded or not trunk_off <= c.knee_first_trunk_match_max_deg:
            active = None
        return Condition(KNEE_FIRST, active, change, lag_min, "ms")

    def _stance_condition(self, window: RepWindow, change_mm: float) -> Condition:
        """Feet apart or together by ``stance_change_max_mm`` against the first standing
        start. Only judged with the camera at least ``stance_min_yaw_from_side_deg`` off
        the side view: seen from the side, the feet move apart along the camera axis and the
        pose model's depth does not follow (renders: a 142 mm wider stance changed the
        measure by -1..+20 mm, within its rep-to-rep spread)."""
        c = self.checks
        limit = self.limit(m.STANCE_WIDTH_MM, c.stance_change_max_mm, STANCE_WIDTH_CHANGE)
        yaw = robust_median(
            window.raw.get(m.CAMERA_YAW_FROM_SIDE_DEG, np.full(window.t_s.shape, np.nan))
        )
        frontish = window.view_share(CameraView.FRONT) >= _SIDE_VIEW_SHARE_MIN or (
            yaw >= c.stance_min_yaw_from_side_deg
        )
        cond = exceeds(STANCE_WIDTH_CHANGE, abs(change_mm), limit, "mm", frontish)
        return dataclasses.replace(cond, value=change_mm)  # reported with its direction

    # ----- per-frame checks (live cues) -----------------------------------------------------
    def frame_conditions(self, ctx: FrameContext) -> list[Condition]:
        """Live back and head cues while the person is still at the bottom: the rep checks'
        values as medians over the hold at the bottom so far (once it has lasted
        ``spine_live_window_s``); the rep's own verdict over its whole bottom restates
        them in the report."""
        if ctx.phase is not Phase.BOTTOM:
            return []
        c = self.checks
        # the hold so far: the knees stay within the spec's plateau band of their deepest
        # (the phase begins as the descent slows, before the knees have stopped)
        window = ctx.buffer.held_s(
            m.KNEE_FLEXION_DEG, self.spec.phase.plateau_band_deg, ctx.in_phase_s, increase=True
        )
        if not window >= c.spine_live_window_s:
            return []
        if self._front_view or (ctx.buffer.views and ctx.buffer.views[-1] is CameraView.FRONT):
            return []
        yaw_limit = self.spec.setup.max_yaw_from_side_deg
        if yaw_limit is not None and ctx.recent(m.CAMERA_YAW_FROM_SIDE_DEG) > yaw_limit:
            return []
        recent = ctx.buffer.recent_median
        curve = ctx.buffer.steady_recent(
            c.spine_measure, window, c.outline_seen_share_min, c.outline_scatter_max_mm
        )
        trunk = recent(m.TRUNK_INCLINATION_DEG, window) - ctx.rest.get(
            m.TRUNK_INCLINATION_DEG, math.nan
        )
        return self._spine_conditions(
            curve,
            recent(m.HEAD_FORWARD_MM, window),
            trunk,
            ctx.depth_deg,
            ctx.buffer.frames_within(window),
        )

    def _spine_conditions(
        self,
        curve_mm: float,
        head_mm: float,
        trunk_depth_deg: float,
        depth_deg: float,
        frames: int,
    ) -> list[Condition]:
        """Back outline and head at the bottom (medians over ``frames`` samples) against
        the reference reps' bottoms, when this bottom is comparable with theirs (deep,
        trunk tipped about as far)."""
        c = self.checks
        deep = back.deep_enough(
            depth_deg, c.spine_check_min_depth_deg, trunk_depth_deg, c.spine_trunk_min_deg
        )
        matched = self._trunk_off_deg(trunk_depth_deg) <= c.spine_depth_match_max_deg
        frames = max(frames, 1)
        round_limit = self.limit(c.spine_measure, c.curve_rounded_min_mm, SPINE_ROUNDED, frames)
        head_limit = self.limit(m.HEAD_FORWARD_MM, c.head_forward_max_mm, HEAD_FORWARD, frames)
        curve_ref = self._own("curve_bottom_mm", "min")
        head_ref = self._own("head_bottom_mm", "min")
        rounded = back.rounded(
            curve_mm - curve_ref, round_limit, back.why_not(curve_mm, curve_ref, deep, matched)
        )
        head = back.head_forward(
            head_mm - head_ref,
            head_limit,
            back.why_not(head_mm, head_ref, deep, matched, NotJudged.NOT_MEASURED),
        )
        return [rounded, back.unless_rounded(rounded, head)]

    def _hips_rise_first(self, metrics: Mapping[str, float]) -> Condition:
        """The knees straighten (hips shoot up) while the chest stays down: the trunk's rise
        starts late against the knees', compared with the person's first reps, or the chest
        tips further down as the legs start to straighten."""
        c, scale = self.checks, self.threshold_scale(HIPS_RISE_FIRST)
        drop_max = self.limit(m.TRUNK_INCLINATION_DEG, c.chest_drop_max_deg, HIPS_RISE_FIRST)
        dropped = exceeds(HIPS_RISE_FIRST, metrics["chest_drop_deg"], drop_max, "deg")
        if dropped.active:
            return dropped
        lag_min = c.rise_lag_min_ms * scale
        lag, change = metrics["rise_lag_ms"], metrics["rise_lag_change_ms"]
        active = lead_and_change_exceed(lag, change, lag_min)
        if active and metrics["rise_mid_lag_change_ms"] <= c.rise_mid_lag_min_ms * scale:
            # the chest started late but caught up by the middle of the rise: a reshaped
            # start (a wider stance bends the side-view knee angle), not hips shooting up
            active = False
        return Condition(HIPS_RISE_FIRST, active, change, lag_min, "ms")

    # ----- messages -------------------------------------------------------------------------
    def describe(self, condition: Condition, rep: int) -> str:
        v, thr = condition.value, condition.threshold
        where = rep_label(rep)
        texts = {
            SPINE_ROUNDED: f"Keep your back long: it rounded {v:.0f} mm at the bottom of {where}.",
            HEAD_FORWARD: f"Keep your head in line with your back: it pushed {v:.0f} mm "
            f"forward at the bottom of {where}.",
            KNEE_FIRST: f"Sit your hips back as your knees bend: your knees led by {v:.0f} ms "
            f"more than in your first reps in {where}.",
            HIPS_RISE_FIRST: (
                f"Lift your chest and hips together: your chest dropped {v:.0f} deg as you "
                f"rose in {where}."
                if condition.unit == "deg"
                else f"Lift your chest and hips together: your legs straightened {v:.0f} ms "
                f"before your chest rose in {where}."
            ),
            STANCE_WIDTH_CHANGE: f"Keep your feet where they were: your stance changed by "
            f"{v:+.0f} mm before {where}.",
            HEEL_LIFT: f"Keep your heels down: they lifted {v:.0f} mm in {where}.",
            TEMPO_DOWN_FAST: f"Lower more slowly: {v:.1f} s down in {where}, aim for at "
            f"least {thr:.1f} s.",
            TEMPO_UP_FAST: f"Stand up more slowly: {v:.1f} s up in {where}, aim for at least "
            f"{thr:.1f} s.",
            DEPTH_SHORT: f"Squat deeper: your knees bent {v:.0f} deg in {where}, aim for "
            f"{thr:.0f} deg.",
        }
        return texts.get(condition.code, super().describe(condition, rep))
