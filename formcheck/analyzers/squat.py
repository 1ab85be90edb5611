"""The bodyweight squat, seen from the side.

Phases follow knee flexion above the standing value (the squat's depth is the knee bend);
their ends come from minimum-jerk fits of each transition (engine). Every form check compares
the rep with the same person's own first reps (or their standing start), never with an
absolute shape: outlines, landmark offsets and joint timing differ between people and cameras
far more than the faults change them.

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
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict

from formcheck.analyzers.codes import (
    HEAD_FORWARD,
    SPINE_ROUNDED,
    TEMPO_DOWN_FAST,
    TEMPO_UP_FAST,
)
from formcheck.analyzers.cues import Condition
from formcheck.analyzers.engine import Analyzer, FrameContext, rep_label
from formcheck.analyzers.events import Event, Phase, RepRecord, Severity
from formcheck.analyzers.references import own_reference
from formcheck.analyzers.signals import Array, BoolArray, median_filtered, robust_median
from formcheck.analyzers.window import RepWindow
from formcheck.kinematics import names as m
from formcheck.kinematics.geometry import flexion_deg
from formcheck.kinematics.stage import KNEE_FLEXION_MAX_DEG
from formcheck.pose.landmarks import Landmark
from formcheck.types import CameraView, Facing, Sample

KNEE_FIRST = "knee_first"
HIPS_RISE_FIRST = "hips_rise_first"
STANCE_WIDTH_CHANGE = "stance_width_change"
HEEL_LIFT = "heel_lift"
DEPTH_SHORT = "depth_short"

# Measures this module adds to each sample from its landmarks (units in the names).
HEEL_Y_PX = "heel_y_px"  # mean image row of both heels (down is +): a rise from standing is a lift

FAULT_CODES = (
    SPINE_ROUNDED,
    HEAD_FORWARD,
    KNEE_FIRST,
    HIPS_RISE_FIRST,
    STANCE_WIDTH_CHANGE,
    HEEL_LIFT,
    TEMPO_DOWN_FAST,
    TEMPO_UP_FAST,
    DEPTH_SHORT,
)
_SEVERITY = {
    SPINE_ROUNDED: Severity.SAFETY,
    TEMPO_DOWN_FAST: Severity.INFO,
    TEMPO_UP_FAST: Severity.INFO,
    DEPTH_SHORT: Severity.INFO,
    STANCE_WIDTH_CHANGE: Severity.INFO,
}
_MS_PER_S = 1000.0
_FORWARD_X = {Facing.LEFT: -1.0, Facing.RIGHT: 1.0}  # image x of "forward"
_SIDE_VIEW_SHARE_MIN = 0.5  # side-only checks need at least half the rep seen from the side
_FILTER_MIN_SAMPLES = 3  # a median needs three samples to drop a one-sample spike
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
_SIDES = ("left", "right")
_STEADY_FILL_FRACTION = 0.8  # a running median needs this share of its window filled


class SquatChecks(BaseModel):
    """Thresholds of the squat's checks (``[checks]`` of squat.toml)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    own_reference_reps: int = 2
    bottom_min_s: float = 0.2
    spine_measure: str = m.BACK_CURVE_MM
    spine_check_min_depth_deg: float = 50.0
    spine_trunk_min_deg: float = 20.0
    spine_depth_match_max_deg: float = 15.0
    outline_seen_share_min: float = 0.5
    outline_scatter_max_mm: float = 6.0
    spine_live_window_s: float = 0.3
    curve_rounded_min_mm: float = 4.0
    head_forward_max_mm: float = 15.0
    onset_range_min_deg: float = 8.0
    onset_fit_rms_max_fraction: float = 0.15
    knee_first_lag_min_ms: float = 120.0
    knee_first_trunk_match_max_deg: float = 6.0
    knee_first_knee_level_deg: float = 20.0
    knee_first_trunk_level_deg: float = 8.0
    onset_search_before_s: float = 0.5
    rise_lag_min_ms: float = 150.0
    rise_mid_fractions: tuple[float, ...] = (0.3, 0.4, 0.5, 0.6)
    rise_mid_lag_min_ms: float = 60.0
    knee_first_mid_fractions: tuple[float, ...] = (0.2, 0.3, 0.4, 0.5)
    knee_first_mid_lag_min_ms: float = 60.0
    mid_lag_filter_s: float = 0.15
    chest_drop_max_deg: float = 10.0
    stance_change_max_mm: float = 60.0
    stance_min_yaw_from_side_deg: float = 45.0
    heel_lift_max_mm: float = 25.0
    depth_tolerance_deg: float = 10.0
    spike_window_s: float = 0.1
    front_view_min_yaw_deg: float = 60.0
    front_standing_window_s: float = 0.5
    spike_max_deg: float = 20.0
    heel_lift_check: bool = False


class SquatAnalyzer(Analyzer):
    checks_model = SquatChecks

    @property
    def c(self) -> SquatChecks:
        assert isinstance(self.checks, SquatChecks)
        return self.checks

    def severity(self, code: str) -> Severity:
        return _SEVERITY.get(code, Severity.WARNING)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._front_view: bool | None = None
        self._front_standing = LeastBent(self.c.front_standing_window_s)
        self._filter = SpikeFilter(
            self.spec.phase.primary_signal, self.c.spike_window_s, self.c.spike_max_deg
        )

    def update(self, sample: Sample) -> list[Event]:
        sample = with_foot_measures(sample)
        if self._front_view is None:
            self._front_view = self._is_front_view(sample)
        if self._front_view:
            sample = with_world_knee(sample)
        elif self._front_view is not None:
            sample = with_mid_knee(sample)
        sample = self._filter(sample)
        if self._front_view:
            self._front_standing.update(sample.t_ms / _MS_PER_S, sample.get(m.KNEE_FLEXION_DEG))
        return super().update(sample)

    def _is_front_view(self, sample: Sample) -> bool | None:
        """Whether the set is filmed from the front (decided once, from the calibration's
        camera yaw or else the first sample that has one)."""
        yaw = self.baseline.value(m.CAMERA_YAW_FROM_SIDE_DEG)
        if not math.isfinite(yaw):
            yaw = sample.get(m.CAMERA_YAW_FROM_SIDE_DEG)
        if not math.isfinite(yaw):
            return None
        return yaw >= self.c.front_view_min_yaw_deg

    def start_value(self) -> float:
        """Standing knee flexion; a calibration taken while already squatting (a held squat,
        a person who never stands up) is no standing reference. From the front the knee
        angle is the world-landmark one, and standing is its least-bent steady value."""
        value = self._front_standing.value if self._front_view else super().start_value()
        if not value <= self.spec.phase.start_max_deg:
            return self.spec.phase.start_default_deg
        return value

    # ----- per-rep metrics ------------------------------------------------------------------
    def rep_metrics(self, window: RepWindow) -> dict[str, float]:
        bottom = bottom_mask(window, self.c.bottom_min_s)

        def at_bottom(name: str) -> float:
            return robust_median(window.series(name)[bottom])

        hip, trunk = at_bottom(m.HIP_FLEXION_DEG), at_bottom(m.TRUNK_INCLINATION_DEG)
        scale = at_bottom(m.MM_PER_PX)
        seen = np.isfinite(window.raw.get(self.c.spine_measure, np.full(bottom.shape, np.nan)))
        # NaN when the back was hidden or crossed (arms) for most of the bottom
        curve = window.steady_value(
            self.c.spine_measure,
            bottom,
            self.c.outline_seen_share_min,
            self.c.outline_scatter_max_mm,
        )
        stance_rest = window.rest_value(m.STANCE_WIDTH_MM)
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
            "heel_lift_mm": (window.rest_value(HEEL_Y_PX) - at_bottom(HEEL_Y_PX)) * scale,
            "curve_bottom_mm": curve,
            "head_bottom_mm": at_bottom(m.HEAD_FORWARD_MM),
            "onset_lag_ms": math.nan if window.from_bottom else self._lag_ms(window, 0),
            "early_lag_ms": math.nan if window.from_bottom else self._early_lag_ms(window),
            "onset_mid_lag_ms": math.nan
            if window.from_bottom
            else self._mid_lag_ms(window, 0, bottom),
            "rise_lag_ms": self._lag_ms(window, 1),
            "rise_mid_lag_ms": self._mid_lag_ms(window, 1, bottom),
            "chest_drop_deg": chest_drop_deg(window, m.KNEE_FLEXION_DEG, m.TRUNK_INCLINATION_DEG),
            "bottom_frames": float(seen[bottom].sum()),
        }
        if self._front_view:
            # image-plane lean, thigh angle, knee travel, back and head need a side view
            out.update(dict.fromkeys(_SIDE_ONLY_METRICS, math.nan))
        refs = self.reference_reps_of(self.c.own_reference_reps)
        out["curve_change_mm"] = out["curve_bottom_mm"] - own_reference(
            refs, "curve_bottom_mm", "min"
        )
        out["head_change_mm"] = out["head_bottom_mm"] - own_reference(refs, "head_bottom_mm", "min")
        out["onset_lag_change_ms"] = out["onset_lag_ms"] - own_reference(
            refs, "onset_lag_ms", "min"
        )
        out["early_lag_change_ms"] = out["early_lag_ms"] - own_reference(
            refs, "early_lag_ms", "min"
        )
        out["rise_lag_change_ms"] = out["rise_lag_ms"] - own_reference(refs, "rise_lag_ms", "min")
        out["onset_mid_lag_change_ms"] = out["onset_mid_lag_ms"] - own_reference(
            refs, "onset_mid_lag_ms", "min"
        )
        out["rise_mid_lag_change_ms"] = out["rise_mid_lag_ms"] - own_reference(
            refs, "rise_mid_lag_ms", "min"
        )
        out["chest_drop_change_deg"] = out["chest_drop_deg"] - own_reference(refs, "chest_drop_deg")
        return out

    def reference_reps_of(self, count: int) -> Sequence[RepRecord]:
        return self.summary.reps[:count]

    def _first_stance_mm(self) -> float:
        """The stance of the person's first standing start (calibration and first rep)."""
        first = [r.metrics.get("stance_rest_mm", math.nan) for r in self.summary.reps[:1]]
        values = [v for v in first if math.isfinite(v)]
        calibrated = self.baseline.value(m.STANCE_WIDTH_MM)
        if math.isfinite(calibrated):
            values.append(calibrated)
        return float(np.median(values)) if values else math.nan

    def _lag_ms(self, window: RepWindow, phase: int) -> float:
        """Trunk transition start minus knee transition start (ms) on the way down (``phase``
        0: positive when the knees bend before the trunk tips) or up (1: positive when the
        knees straighten before the chest rises)."""
        return trunk_lag_ms(
            window,
            phase,
            m.KNEE_FLEXION_DEG,
            m.TRUNK_INCLINATION_DEG,
            self.c.onset_range_min_deg,
            self.c.onset_fit_rms_max_fraction,
        )

    def _mid_lag_ms(self, window: RepWindow, phase: int, bottom: BoolArray) -> float:
        """The trunk's lag behind the knees through the middle of the way down (``phase``
        0) or up (1), ms (:func:`mid_lag_ms`)."""
        c = self.c
        return mid_lag_ms(
            window,
            phase,
            bottom,
            m.KNEE_FLEXION_DEG,
            m.TRUNK_INCLINATION_DEG,
            c.knee_first_mid_fractions if phase == 0 else c.rise_mid_fractions,
            c.mid_lag_filter_s,
            c.onset_range_min_deg,
            c.onset_search_before_s,
        )

    def _early_lag_ms(self, window: RepWindow) -> float:
        """When the trunk has tipped ``knee_first_trunk_level_deg`` minus when the knees have
        bent ``knee_first_knee_level_deg`` from their standing values (ms; positive: knees
        first). Fixed early levels are not moved by what happens later in the rep (a back
        rounding at the bottom tips the trunk further and shifts a whole-move fit's start)."""
        c, tm = self.c, window.timing
        seg = window.mask(tm.start_s - c.onset_search_before_s, tm.bottom_in_s)
        times = []
        for name, level in (
            (m.KNEE_FLEXION_DEG, c.knee_first_knee_level_deg),
            (m.TRUNK_INCLINATION_DEG, c.knee_first_trunk_level_deg),
        ):
            times.append(
                first_crossing_s(
                    window.t_s[seg], window.series(name)[seg], window.rest_value(name) + level
                )
            )
        return (times[1] - times[0]) * _MS_PER_S

    # ----- per-rep checks -------------------------------------------------------------------
    def rep_conditions(self, window: RepWindow, metrics: Mapping[str, float]) -> list[Condition]:
        out = self.tempo_conditions(window)
        c = self.c
        depth_target = self.prescription.depth_deg if self.prescription else None
        if depth_target is not None:
            limit = depth_target - c.depth_tolerance_deg
            depth = window.timing.depth_deg
            out.append(Condition(DEPTH_SHORT, _gt(limit, depth), depth, limit, "deg"))
        out.append(self._stance_condition(window, metrics["stance_change_mm"]))
        if not window.seen_from_side(self.spec.setup.max_yaw_from_side_deg, _SIDE_VIEW_SHARE_MIN):
            return out
        heel_limit = c.heel_lift_max_mm * self.threshold_scale(HEEL_LIFT)
        heel = metrics["heel_lift_mm"]
        heel_active = _gt(heel, heel_limit) if c.heel_lift_check else None
        out.append(Condition(HEEL_LIFT, heel_active, heel, heel_limit, "mm"))
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

    def _knee_first(self, metrics: Mapping[str, float], rounded: bool) -> Condition:
        """The knees start the descent ``knee_first_lag_min_ms`` earlier against the trunk
        than in the person's first reps (whole-move fits), and the trunk still trails
        through the middle of the way down. Only judged when the trunk went about as far
        as in those reps and the back did not round (``rounded``): a rounding back reshapes
        the trunk's move and shifts its fitted start by 100-300 ms, and it is the cue that
        matters then."""
        c = self.c
        scale = self.threshold_scale(KNEE_FIRST)
        lag_min = c.knee_first_lag_min_ms * scale
        change = metrics["onset_lag_change_ms"]
        refs = self.reference_reps_of(c.own_reference_reps)
        trunk = metrics["trunk_depth_deg"]
        off_deg = max(
            abs(trunk - own_reference(refs, "trunk_depth_deg", "min")),
            abs(trunk - own_reference(refs, "trunk_depth_deg", "max")),
        )
        active = _gt(change, lag_min)
        # (a middle that could not be measured does not overrule the fitted start)
        if active and metrics["onset_mid_lag_change_ms"] <= c.knee_first_mid_lag_min_ms * scale:
            active = False  # a reshaped start: the trunk kept pace through the middle
        if rounded or not off_deg <= c.knee_first_trunk_match_max_deg:
            active = None
        return Condition(KNEE_FIRST, active, change, lag_min, "ms")

    def _stance_condition(self, window: RepWindow, change_mm: float) -> Condition:
        """Feet apart or together by ``stance_change_max_mm`` against the first standing
        start. Only judged with the camera at least ``stance_min_yaw_from_side_deg`` off
        the side view: seen from the side, the feet move apart along the camera axis and the
        pose model's depth does not follow (renders: a 142 mm wider stance changed the
        measure by -1..+20 mm, within its rep-to-rep spread)."""
        c = self.c
        limit = self.noise_gate(
            m.STANCE_WIDTH_MM, c.stance_change_max_mm * self.threshold_scale(STANCE_WIDTH_CHANGE)
        )
        yaw = robust_median(
            window.raw.get(m.CAMERA_YAW_FROM_SIDE_DEG, np.full(window.t_s.shape, np.nan))
        )
        frontish = window.view_share(CameraView.FRONT) >= _SIDE_VIEW_SHARE_MIN or (
            yaw >= c.stance_min_yaw_from_side_deg
        )
        active = _gt(abs(change_mm), limit) if frontish else None
        return Condition(STANCE_WIDTH_CHANGE, active, change_mm, limit, "mm")

    # ----- per-frame checks (live cues) -----------------------------------------------------
    def frame_conditions(self, ctx: FrameContext) -> list[Condition]:
        """Live back and head cues while the person is still at the bottom: the rep checks'
        values as medians over the hold at the bottom so far (once it has lasted
        ``spine_live_window_s``); the rep's own verdict over its whole bottom restates
        them in the report."""
        if ctx.phase is not Phase.BOTTOM:
            return []
        # the hold so far: the knees stay within the spec's plateau band of their deepest
        # (the phase begins as the descent slows, before the knees have stopped)
        window = ctx.buffer.held_s(
            m.KNEE_FLEXION_DEG, self.spec.phase.plateau_band_deg, ctx.in_phase_s, increase=True
        )
        if not window >= self.c.spine_live_window_s:
            return []
        if self._front_view or (ctx.buffer.views and ctx.buffer.views[-1] is CameraView.FRONT):
            return []
        yaw_limit = self.spec.setup.max_yaw_from_side_deg
        if yaw_limit is not None and ctx.recent(m.CAMERA_YAW_FROM_SIDE_DEG) > yaw_limit:
            return []
        recent = ctx.buffer.recent_median
        curve = ctx.buffer.steady_recent(
            self.c.spine_measure,
            window,
            self.c.outline_seen_share_min,
            self.c.outline_scatter_max_mm,
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
        c = self.c
        frames = max(frames, 1)
        refs = self.reference_reps_of(c.own_reference_reps)
        off_deg = max(
            abs(trunk_depth_deg - own_reference(refs, "trunk_depth_deg", "min")),
            abs(trunk_depth_deg - own_reference(refs, "trunk_depth_deg", "max")),
        )
        comparable = (
            depth_deg >= c.spine_check_min_depth_deg
            and trunk_depth_deg >= c.spine_trunk_min_deg
            and off_deg <= c.spine_depth_match_max_deg
        )
        rounder = curve_mm - own_reference(refs, "curve_bottom_mm", "min")
        head = head_mm - own_reference(refs, "head_bottom_mm", "min")
        gates = {
            SPINE_ROUNDED: self._gate(
                c.spine_measure, c.curve_rounded_min_mm, SPINE_ROUNDED, frames
            ),
            HEAD_FORWARD: self._gate(
                m.HEAD_FORWARD_MM, c.head_forward_max_mm, HEAD_FORWARD, frames
            ),
        }

        def cond(code: str, value: float) -> Condition:
            active = None if not (comparable and math.isfinite(value)) else value > gates[code]
            return Condition(code, active, value, gates[code], "mm")

        rounded = cond(SPINE_ROUNDED, rounder)
        head_cond = cond(HEAD_FORWARD, head)
        if rounded.active:
            # a rounding back carries the head forward with it: the back is the cue
            head_cond = Condition(HEAD_FORWARD, None, head, gates[HEAD_FORWARD], "mm")
        return [rounded, head_cond]

    def _gate(self, measure: str, threshold: float, code: str, frames: int) -> float:
        """max(threshold, noise_k x per-frame noise / sqrt(frames)): a bottom value is a
        median over ``frames`` samples."""
        limit = threshold * self.threshold_scale(code)
        noise = self.baseline.noise(measure) / math.sqrt(frames)
        if not math.isfinite(noise):
            return limit
        return max(limit, self.spec.cues.noise_k * noise)

    def _hips_rise_first(self, metrics: Mapping[str, float]) -> Condition:
        """The knees straighten (hips shoot up) while the chest stays down: the trunk's rise
        starts late against the knees', compared with the person's first reps, or the chest
        tips further down as the legs start to straighten."""
        c, scale = self.c, self.threshold_scale(HIPS_RISE_FIRST)
        drop_max = self.noise_gate(m.TRUNK_INCLINATION_DEG, c.chest_drop_max_deg * scale)
        drop = metrics["chest_drop_deg"]
        if _gt(drop, drop_max):
            return Condition(HIPS_RISE_FIRST, True, drop, drop_max, "deg")
        lag_min = c.rise_lag_min_ms * scale
        lag, change = metrics["rise_lag_ms"], metrics["rise_lag_change_ms"]
        active = _both_gt(lag, change, lag_min)
        mid_change = metrics["rise_mid_lag_change_ms"]
        if active and mid_change <= c.rise_mid_lag_min_ms * scale:
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


# ----- helpers shared with the sit-to-stand ---------------------------------------------------
@dataclass(slots=True)
class SpikeFilter:
    """Drops one- and two-frame flips of a joint angle (the pose model swapping or bending a
    leg for a frame, up to 150 deg off on renders), which must neither end a rep nor start
    one: a sample further than ``spike_max_deg`` from the median of the samples over the
    last ``window_s`` (at least three) is replaced by that median. A smooth movement stays
    within one frame's step of that median, so it passes unchanged and without lag."""

    name: str
    window_s: float
    spike_max_deg: float
    _recent: deque[tuple[float, float]] = field(default_factory=deque)

    def __call__(self, sample: Sample) -> Sample:
        t_s, value = sample.t_ms / _MS_PER_S, sample.get(self.name)
        if not math.isfinite(value):
            return sample
        self._recent.append((t_s, value))
        while len(self._recent) > _FILTER_MIN_SAMPLES and t_s - self._recent[0][0] > self.window_s:
            self._recent.popleft()
        median = float(np.median([v for _, v in self._recent]))
        if abs(value - median) <= self.spike_max_deg:
            return sample
        return dataclasses.replace(sample, measures={**sample.measures, self.name: median})


@dataclass(slots=True)
class LeastBent:
    """The least-bent steady value of a joint angle so far: the minimum of its running
    median over ``window_s`` (standing, for a squat filmed from the front)."""

    window_s: float
    value: float = math.nan
    _recent: deque[tuple[float, float]] = field(default_factory=deque)

    def update(self, t_s: float, angle_deg: float) -> None:
        if not math.isfinite(angle_deg):
            return
        self._recent.append((t_s, angle_deg))
        while t_s - self._recent[0][0] > self.window_s:
            self._recent.popleft()
        if t_s - self._recent[0][0] < self.window_s * _STEADY_FILL_FRACTION:
            return
        median = float(np.median([v for _, v in self._recent]))
        self.value = median if not median >= self.value else self.value


def with_mid_knee(sample: Sample) -> Sample:
    """The sample with ``knee_flexion_deg`` from the midpoints of both hips, knees and
    ankles (image plane), unless a leg reads folded beyond the knee's range (a misplaced
    landmark: the pipeline's value, from the other leg, is kept then).

    Seen from the side the far leg is a guess that read its knee up to 25 deg off the near
    one, and the pipeline's near side switches between them: at each switch the squat's
    depth jumped, a rep's bottom was placed at the jump and its back and knee timing were
    judged there (held-out render: three rounded reps and three of four knee-first reps
    missed). Both legs bend alike in a squat, so their midpoints give one steady angle."""
    p = sample.pose.landmarks_px
    if p is None or not math.isfinite(sample.get(m.KNEE_FLEXION_DEG)):
        return sample
    if any(sample.get(f"{side}_{m.KNEE_FLEXION_DEG}") > KNEE_FLEXION_MAX_DEG for side in _SIDES):
        return sample

    def mid(joint: str) -> Array:
        left, right = Landmark[f"LEFT_{joint}"], Landmark[f"RIGHT_{joint}"]
        return np.asarray((p[left, :2] + p[right, :2]) / 2.0)

    value = flexion_deg(mid("HIP"), mid("KNEE"), mid("ANKLE"))
    return dataclasses.replace(sample, measures={**sample.measures, m.KNEE_FLEXION_DEG: value})


def with_world_knee(sample: Sample) -> Sample:
    """The sample with ``knee_flexion_deg`` from the world landmarks (3D, mean of both legs):
    seen from the front the knees bend towards the camera and the image-plane angle hardly
    changes (real clip: 10 -> 30 deg in a squat whose world-landmark angle goes 25 -> 95)."""
    w = sample.pose.world_m
    if w is None:
        return dataclasses.replace(
            sample, measures={**sample.measures, m.KNEE_FLEXION_DEG: math.nan}
        )
    angles = [
        flexion_3d_deg(w[hip], w[knee], w[ankle])
        for hip, knee, ankle in (
            (Landmark.LEFT_HIP, Landmark.LEFT_KNEE, Landmark.LEFT_ANKLE),
            (Landmark.RIGHT_HIP, Landmark.RIGHT_KNEE, Landmark.RIGHT_ANKLE),
        )
    ]
    value = float(np.mean(angles))
    return dataclasses.replace(sample, measures={**sample.measures, m.KNEE_FLEXION_DEG: value})


def flexion_3d_deg(a: Array, joint: Array, b: Array) -> float:
    """180 minus the angle at ``joint`` between ``a`` and ``b`` (0 = straight)."""
    u, v = a - joint, b - joint
    norm = float(np.linalg.norm(u) * np.linalg.norm(v))
    if norm <= 0.0:
        return math.nan
    cos = float(np.clip(np.dot(u, v) / norm, -1.0, 1.0))
    return 180.0 - math.degrees(math.acos(cos))


def with_foot_measures(sample: Sample) -> Sample:
    """The sample with ``heel_y_px`` added: the mean image row of both heels (a fixed pair
    of points: the near side may switch between frames, and the far heel sits higher in the
    image)."""
    pose = sample.pose
    value = math.nan
    if pose.landmarks_px is not None:
        value = float(pose.landmarks_px[[Landmark.LEFT_HEEL, Landmark.RIGHT_HEEL], 1].mean())
    return dataclasses.replace(sample, measures={**sample.measures, HEEL_Y_PX: value})


def bottom_mask(window: RepWindow, min_s: float) -> BoolArray:
    """The bottom phase, at least ``min_s`` long around the deepest point."""
    tm = window.timing
    t0, t1 = tm.bottom_in_s, tm.bottom_out_s
    if t1 - t0 < min_s:
        t0, t1 = tm.peak_s - min_s / 2, tm.peak_s + min_s / 2
    return window.mask(t0, t1)


def trunk_lag_ms(
    window: RepWindow,
    phase: int,
    joint: str,
    trunk: str,
    range_min_deg: float,
    rms_max_fraction: float,
) -> float:
    """Start of the trunk's fitted transition minus the joint's (ms) for the way down
    (``phase`` 0) or up (1); NaN unless both moved ``range_min_deg`` with the smooth shape
    that was fitted (within ``rms_max_fraction`` of their range)."""
    fits = window.timing.fits
    if joint not in fits or trunk not in fits:
        return math.nan
    a, b = fits[joint][phase], fits[trunk][phase]
    for fit in (a, b):
        if (
            not fit.ok
            or abs(fit.span) < range_min_deg
            or fit.rms > rms_max_fraction * abs(fit.span)
        ):
            return math.nan
    return (b.start_s - a.start_s) * _MS_PER_S


def mid_lag_ms(
    window: RepWindow,
    phase: int,
    bottom: BoolArray,
    joint: str,
    trunk: str,
    fractions: Sequence[float],
    filter_s: float,
    range_min_deg: float,
    before_s: float = 0.0,
) -> float:
    """How long the trunk trails the joint through the middle of the way down (``phase``
    0, searched from ``before_s`` ahead of the rep's start) or up (1), in ms: the mean
    over ``fractions`` of the time between the two reaching the same share of their move
    (down: the share done; up: the share of the way down still left). Each signal runs
    from 0 at its start position to 1 at the bottom and is median-filtered over
    ``filter_s``, so that a blip of a few frames crosses no level. Unlike a fitted start,
    this follows the whole middle of the move: a start reshaped by the view moves it
    little. NaN when a signal moved less than ``range_min_deg`` or a level was not
    crossed."""
    tm = window.timing
    if phase == 0:
        seg = window.mask(tm.start_s - before_s, tm.bottom_out_s)
    else:
        seg = window.t_s >= tm.bottom_out_s
    steps = np.diff(window.t_s)
    frames = max(1, round(filter_s / float(np.median(steps)))) if steps.size else 1
    sign = 1.0 if phase == 0 else -1.0  # on the way up: falling through a level
    crossings = []
    for name in (joint, trunk):
        x = window.series(name)
        rest, deep = window.rest_value(name), robust_median(x[bottom])
        if not abs(deep - rest) >= range_min_deg:
            return math.nan
        y = median_filtered((x[seg] - rest) / (deep - rest), frames | 1)
        crossings.append(
            np.array([first_crossing_s(window.t_s[seg], sign * y, sign * f) for f in fractions])
        )
    lags = crossings[1] - crossings[0]
    if not np.isfinite(lags).all():
        return math.nan
    return float(np.mean(lags)) * _MS_PER_S


def chest_drop_deg(window: RepWindow, joint: str, trunk: str) -> float:
    """Largest rise of trunk inclination from the joint's deepest point until the joint is
    half way back (NaN when a signal is missing): hips shooting up tip the chest down."""
    tm = window.timing
    seg = window.mask(tm.bottom_in_s, tm.end_s)
    k, tr = window.series(joint)[seg], window.series(trunk)[seg]
    ok = np.isfinite(k) & np.isfinite(tr)
    if ok.sum() < 2:
        return math.nan
    i_peak = int(np.nanargmax(np.where(ok, k, -np.inf)))
    end = float(k[ok][-1])
    half = k[i_peak] - 0.5 * (k[i_peak] - end)
    after = np.nonzero((np.arange(k.size) > i_peak) & ok & (k <= half))[0]
    i_half = int(after[0]) if after.size else k.size - 1
    return float(np.nanmax(tr[i_peak : i_half + 1]) - tr[i_peak])


def first_crossing_s(t_s: Array, x: Array, level: float) -> float:
    """First time ``x`` rises through ``level``, interpolated between samples (NaN when it
    never does or starts above it)."""
    ok = np.isfinite(x)
    t, v = t_s[ok], x[ok]
    above = np.nonzero(v >= level)[0]
    if above.size == 0 or above[0] == 0:
        return math.nan
    i = int(above[0])
    return float(t[i - 1] + (level - v[i - 1]) / (v[i] - v[i - 1]) * (t[i] - t[i - 1]))


def _max(x: Array) -> float:
    finite = x[np.isfinite(x)]
    return float(finite.max()) if finite.size else math.nan


def _gt(value: float, limit: float) -> bool | None:
    if not (math.isfinite(value) and math.isfinite(limit)):
        return None
    return value > limit


def _both_gt(value: float, change: float, limit: float) -> bool | None:
    """A timing fault: the lead is over the limit both as measured and as a change from the
    person's first reps (the joint's own timing error is steady per person and camera)."""
    if not (math.isfinite(value) and math.isfinite(change)):
        return None
    return value > limit and change > limit
