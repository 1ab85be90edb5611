"""The hip hinge: bodyweight/dowel hinges, Romanian, kettlebell and floor deadlifts, seen
from the side.

Phases follow hip flexion above the standing value; their ends come from minimum-jerk fits of
each transition (engine). The back (the lumbar outline's curve, ``back_curve_mm``) and the head
are judged at the bottom of each rep against the same person's first rep(s) at the bottom,
never against the standing outline or an absolute shape: absolute outlines differ between
people and cameras far more than the faults change them. Joint timing comes from the per-rep
transition fits of the knee and trunk angles.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
from pydantic import BaseModel, ConfigDict

from formcheck.analyzers.codes import (
    HEAD_FORWARD,
    SPINE_ARCHED,
    SPINE_ROUNDED,
    TEMPO_DOWN_FAST,
    TEMPO_UP_FAST,
)
from formcheck.analyzers.cues import Condition
from formcheck.analyzers.engine import Analyzer, FrameContext, rep_label
from formcheck.analyzers.events import Phase, RepRecord, Severity
from formcheck.analyzers.references import own_reference_rep
from formcheck.analyzers.signals import Array, BoolArray, robust_median
from formcheck.analyzers.window import RepWindow
from formcheck.kinematics import names as m
from formcheck.types import CameraView

KNEE_FIRST = "knee_first"
KNEE_DOMINANT = "knee_dominant"
HIPS_RISE_FIRST = "hips_rise_first"
DEPTH_SHORT = "depth_short"

FAULT_CODES = (
    SPINE_ROUNDED,
    SPINE_ARCHED,
    KNEE_FIRST,
    KNEE_DOMINANT,
    HIPS_RISE_FIRST,
    HEAD_FORWARD,
    TEMPO_DOWN_FAST,
    TEMPO_UP_FAST,
    DEPTH_SHORT,
)
_SEVERITY = {
    SPINE_ROUNDED: Severity.SAFETY,
    SPINE_ARCHED: Severity.SAFETY,
    TEMPO_DOWN_FAST: Severity.INFO,
    TEMPO_UP_FAST: Severity.INFO,
    DEPTH_SHORT: Severity.INFO,
}
_MS_PER_S = 1000.0
_PERCENT = 100.0
_HALF = 0.5
_MIN_FIT_SAMPLES = 4
_SIDE_VIEW_SHARE_MIN = 0.5  # side-only checks need at least half the rep seen from the side


class HipHingeChecks(BaseModel):
    """Thresholds of the hinge's checks (``[checks]`` of hip_hinge.toml)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    spine_measure: str = m.BACK_CURVE_MM
    own_reference_reps: int = 2
    spine_check_min_depth_deg: float = 30.0
    spine_trunk_min_deg: float = 30.0
    spine_depth_match_max_deg: float = 10.0
    spine_live_window_s: float = 0.3
    outline_seen_share_min: float = 0.5
    outline_scatter_max_mm: float = 6.0
    bottom_min_s: float = 0.2
    knee_range_floor_deg: float = 5.0
    curve_rounded_min_mm: float = 4.0
    curve_arched_min_mm: float = 4.0
    head_forward_max_mm: float = 25.0
    knee_first_check: bool = False
    knee_first_lead_min_ms: float = 100.0
    knee_onset_range_min_deg: float = 8.0
    knee_fit_rms_max_fraction: float = 0.1
    hip_knee_ratio_min: float = 1.0
    trunk_at_depth_min_deg: float = 30.0
    knee_range_squat_min_deg: float = 45.0
    knee_share_ratio_drop_max: float = 0.6
    knee_share_gain_min_deg: float = 15.0
    chest_drop_max_deg: float = 10.0
    rise_lag_max_ms: float = 300.0
    rise_knee_gain_max_deg: float = 15.0
    rise_lead_check: bool = False
    rise_lead_max_pct: float = 50.0
    rise_range_min_deg: float = 10.0
    depth_tolerance_deg: float = 10.0


class HipHingeAnalyzer(Analyzer):
    checks_model = HipHingeChecks

    @property
    def c(self) -> HipHingeChecks:
        assert isinstance(self.checks, HipHingeChecks)
        return self.checks

    def severity(self, code: str) -> Severity:
        return _SEVERITY.get(code, Severity.WARNING)

    # ----- references -----------------------------------------------------------------------
    def _reference_rep(self, metric: str, pick: str) -> RepRecord | None:
        """The person's own reference for a bottom-of-rep metric: of their first
        ``own_reference_reps`` reps, the one with the lowest (``pick`` "min") or highest
        ("max") value, the reference for a fault that raises/lowers the metric (a fault that
        starts in the second rep then does not hide in the reference: it is still measured
        against the first). The back and head are compared in the same posture, never with
        the standing outline (the buttocks, shoulder blades and arms change shape between
        the two)."""
        return own_reference_rep(self.summary.reps[: self.c.own_reference_reps], metric, pick)

    def _reference(self, metric: str, pick: str) -> float:
        return _metric(self._reference_rep(metric, pick), metric)

    def _gates(self, frames: int = 1) -> dict[str, float]:
        """Limits for the back and head changes. A bottom value averages ``frames`` samples,
        so its jitter is the per-frame noise floor over sqrt(frames)."""
        c, measure = self.c, self.c.spine_measure
        shrink = 1.0 / math.sqrt(max(frames, 1))

        def gate(name: str, threshold: float) -> float:
            noise = self.baseline.noise(name) * shrink
            if not math.isfinite(noise):
                return threshold
            return max(threshold, self.spec.cues.noise_k * noise)

        return {
            SPINE_ROUNDED: gate(
                measure, c.curve_rounded_min_mm * self.threshold_scale(SPINE_ROUNDED)
            ),
            SPINE_ARCHED: gate(measure, c.curve_arched_min_mm * self.threshold_scale(SPINE_ARCHED)),
            HEAD_FORWARD: gate(
                m.HEAD_FORWARD_MM, c.head_forward_max_mm * self.threshold_scale(HEAD_FORWARD)
            ),
        }

    # ----- per-frame checks (live cues) -----------------------------------------------------
    def frame_conditions(self, ctx: FrameContext) -> list[Condition]:
        """Live back and head cues at the bottom, against the first reps' bottoms: medians
        over the bottom so far (once it has lasted ``spine_live_window_s``), so that a live
        cue agrees with the rep's own verdict."""
        window = ctx.in_phase_s
        if ctx.phase is not Phase.BOTTOM or not window >= self.c.spine_live_window_s:
            return []
        if ctx.buffer.views and ctx.buffer.views[-1] is CameraView.FRONT:
            return []
        yaw_limit = self.spec.setup.max_yaw_from_side_deg
        if yaw_limit is not None and ctx.recent(m.CAMERA_YAW_FROM_SIDE_DEG) > yaw_limit:
            return []
        recent = ctx.buffer.recent_median
        trunk = _trunk_value(
            recent(m.TRUNK_LEAN_DEG, window), recent(m.TRUNK_INCLINATION_DEG, window)
        ) - _trunk_value(
            ctx.rest.get(m.TRUNK_LEAN_DEG, math.nan),
            ctx.rest.get(m.TRUNK_INCLINATION_DEG, math.nan),
        )
        # NaN when the outline is hidden (arms, a dowel) in most of these frames or jumps
        curve = ctx.buffer.steady_recent(
            self.c.spine_measure,
            window,
            self.c.outline_seen_share_min,
            self.c.outline_scatter_max_mm,
        )
        head = recent(m.HEAD_FORWARD_MM, window)
        frames = ctx.buffer.frames_within(window)
        return self._spine_conditions(curve, head, trunk, ctx.depth_deg, frames)

    def _spine_conditions(
        self,
        curve_mm: float,
        head_mm: float,
        trunk_depth_deg: float,
        depth_deg: float,
        frames: int,
    ) -> list[Condition]:
        """Back shape and head against the reference reps' bottoms, when this posture is
        comparable with theirs (deep enough, trunk tipped about as far)."""
        gates = self._gates(frames)
        deep_enough = (
            depth_deg >= self.c.spine_check_min_depth_deg
            and trunk_depth_deg >= self.c.spine_trunk_min_deg
        )

        def matched(reference: RepRecord | None) -> bool:
            """The posture matches the reference rep's (its outline is the reference)."""
            if reference is None or not deep_enough:
                return False
            ref_trunk = reference.metrics.get("trunk_depth_deg", math.nan)
            return abs(trunk_depth_deg - ref_trunk) <= self.c.spine_depth_match_max_deg

        least_round = self._reference_rep("curve_bottom_mm", "min")
        least_arched = self._reference_rep("curve_bottom_mm", "max")
        head_back = self._reference_rep("head_bottom_mm", "min")
        rounder = curve_mm - _metric(least_round, "curve_bottom_mm")
        flatter = _metric(least_arched, "curve_bottom_mm") - curve_mm
        head = head_mm - _metric(head_back, "head_bottom_mm")
        comparable = {
            SPINE_ROUNDED: matched(least_round),
            SPINE_ARCHED: matched(least_arched),
            HEAD_FORWARD: matched(head_back),
        }

        def cond(code: str, value: float) -> Condition:
            usable = comparable[code] and math.isfinite(value)
            active = value > gates[code] if usable else None
            return Condition(code, active, value, gates[code], "mm")

        rounded = cond(SPINE_ROUNDED, rounder)
        head_cond = cond(HEAD_FORWARD, head)
        if rounded.active:
            # a rounding back carries the head forward of the hip-shoulder line with it:
            # the back is the cue, not the head
            head_cond = Condition(HEAD_FORWARD, None, head, gates[HEAD_FORWARD], "mm")
        return [rounded, cond(SPINE_ARCHED, flatter), head_cond]

    # ----- per-rep metrics ------------------------------------------------------------------
    def rep_metrics(self, window: RepWindow) -> dict[str, float]:
        """Joint ranges are bottom values (medians over the bottom phase) above the start
        position: a single frame's flipped knee angle must not make a hinge a squat."""
        bottom = self._bottom_mask(window)
        hip, knee = (window.series(n) for n in (m.HIP_FLEXION_DEG, m.KNEE_FLEXION_DEG))
        trunk = _trunk_angle(
            window.series(m.TRUNK_LEAN_DEG), window.series(m.TRUNK_INCLINATION_DEG)
        )
        trunk_rest = _trunk_value(
            window.rest_value(m.TRUNK_LEAN_DEG), window.rest_value(m.TRUNK_INCLINATION_DEG)
        )
        hip_range = robust_median(hip[bottom]) - window.rest_value(m.HIP_FLEXION_DEG)
        knee_range = robust_median(knee[bottom]) - window.rest_value(m.KNEE_FLEXION_DEG)
        trunk_depth = robust_median(trunk[bottom]) - trunk_rest
        if knee_range < -self.c.knee_range_floor_deg:
            knee_range = math.nan  # knees straighter than standing: a flipped knee reading
        out: dict[str, float] = {
            "trunk_depth_deg": trunk_depth,
            "hip_range_deg": hip_range,
            "knee_range_deg": knee_range,
            # knees bent less than the floor at the bottom: the ratio is noise over noise
            "hip_knee_ratio": hip_range / knee_range
            if knee_range >= self.c.knee_range_floor_deg
            else math.nan,
            "onset_lag_ms": math.nan if window.from_bottom else self._onset_lag_ms(window, 0),
            **self._rise_metrics(window, knee, trunk),
            **self._spine_metrics(window, bottom),
        }
        # The knee angle's own timing errors differ a lot between people and cameras
        # (renders: -0.8..+0.7 s on neutral reps, steady within a clip): the rise is judged
        # as a change from the person's first rep(s), like the back; both changes are kept.
        for name in ("onset_lag_ms", "rise_onset_lag_ms"):
            change = name.replace("_ms", "_change_ms")
            out[change] = out[name] - self._reference(name, "min")
        return out

    def _bottom_mask(self, window: RepWindow) -> BoolArray:
        """The bottom phase, at least ``bottom_min_s`` long around the deepest point."""
        tm = window.timing
        t0, t1 = tm.bottom_in_s, tm.bottom_out_s
        half = self.c.bottom_min_s / 2
        if t1 - t0 < 2 * half:
            t0, t1 = tm.peak_s - half, tm.peak_s + half
        return window.mask(t0, t1)

    def _onset_lag_ms(self, window: RepWindow, phase: int) -> float:
        """Trunk start minus knee start in ms for the way down (``phase`` 0) or up (1):
        positive when the knees move first. Both come from the per-rep minimum-jerk fits;
        NaN unless the knees moved at least ``knee_onset_range_min_deg`` with the smooth
        shape that was fitted (the knee angle's own errors, a few degrees, would otherwise
        decide the sign)."""
        fits = window.timing.fits
        if m.KNEE_FLEXION_DEG not in fits or m.TRUNK_LEAN_DEG not in fits:
            return math.nan
        knee = fits[m.KNEE_FLEXION_DEG][phase]
        trunk = fits[m.TRUNK_LEAN_DEG][phase]
        if not (knee.ok and trunk.ok) or abs(knee.span) < self.c.knee_onset_range_min_deg:
            return math.nan
        if knee.rms > self.c.knee_fit_rms_max_fraction * abs(knee.span):
            return math.nan
        return (trunk.start_s - knee.start_s) * _MS_PER_S

    def _rise_metrics(self, window: RepWindow, knee: Array, trunk: Array) -> dict[str, float]:
        """How the chest moves while the legs straighten on the way up.

        ``chest_drop_deg``: the most the trunk tilts further down (inclination above its value
        when the knees start to straighten) until the knees are half straight. Hips shooting
        up tip the chest down; a hinge raises it; a deadlift's first pull keeps it level.
        ``rise_lead_pct``: how far knee extension runs ahead of the chest rising (% of each
        one's range), for information.
        """
        tm = window.timing
        seg = window.mask(tm.bottom_in_s, tm.end_s)
        t, k, tr = window.t_s[seg], knee[seg], trunk[seg]
        lead = _progress_lead(t, k, tr, self.c.rise_range_min_deg)
        return {
            "rise_onset_lag_ms": self._onset_lag_ms(window, 1),
            "chest_drop_deg": _chest_drop_deg(k, tr, self.c.rise_range_min_deg),
            "rise_lead_pct": lead[0],
            "rise_lag_ms": lead[1],
        }

    def _spine_metrics(self, window: RepWindow, bottom: BoolArray) -> dict[str, float]:
        """Back and head at the bottom of the rep (medians over ``bottom``) and their change
        from the reference reps' bottoms."""
        tm = window.timing
        deep = window.mask(tm.start_s, tm.end_s) & (
            self._depth(window) >= self.c.spine_check_min_depth_deg
        )
        chord = window.series(m.SPINE_CHORD_MM)
        raw_curve = window.raw.get(self.c.spine_measure, np.full(window.t_s.shape, math.nan))
        seen = np.isfinite(raw_curve[bottom])
        # NaN when the back was hidden (arms, a dowel) or crossed, for most of the bottom
        curve = window.steady_value(
            self.c.spine_measure,
            bottom,
            self.c.outline_seen_share_min,
            self.c.outline_scatter_max_mm,
        )
        head = robust_median(window.series(m.HEAD_FORWARD_MM)[bottom])
        return {
            "curve_bottom_mm": curve,
            "curve_change_mm": _signed_larger(
                curve - self._reference("curve_bottom_mm", "min"),
                curve - self._reference("curve_bottom_mm", "max"),
            ),
            "bulge_bottom_mm": robust_median(window.series(m.BACK_BULGE_MM)[bottom]),
            "bulge_peak_mm": _max(window.series(m.BACK_BULGE_MM)[deep]),
            "offset_bottom_mm": robust_median(window.series(m.BACK_OFFSET_MM)[bottom]),
            "chord_loss_mm": self.standing_reference(m.SPINE_CHORD_MM) - -_max(-chord[deep]),
            "head_bottom_mm": head,
            "head_offset_mm": head - self._reference("head_bottom_mm", "min"),
            "bottom_frames": float(seen.sum()),
        }

    def _depth(self, window: RepWindow) -> Array:
        primary = window.series(self.spec.phase.primary_signal)
        sign = -1.0 if self.spec.phase.direction == "decrease" else 1.0
        return sign * primary - self.start_value()

    # ----- per-rep checks -------------------------------------------------------------------
    def rep_conditions(self, window: RepWindow, metrics: Mapping[str, float]) -> list[Condition]:
        out = self.tempo_conditions(window)
        if not window.seen_from_side(self.spec.setup.max_yaw_from_side_deg, _SIDE_VIEW_SHARE_MIN):
            return out
        c = self.c
        out += self._spine_conditions(
            metrics["curve_bottom_mm"],
            metrics["head_bottom_mm"],
            metrics["trunk_depth_deg"],
            window.timing.depth_deg,
            int(metrics["bottom_frames"]),
        )
        out.append(self._knee_first(metrics))
        out.append(self._knee_dominant(metrics))
        out.append(self._hips_rise_first(metrics))
        depth_target = self.prescription.depth_deg if self.prescription else None
        if depth_target is not None:
            limit = depth_target - c.depth_tolerance_deg
            depth = metrics["trunk_depth_deg"]
            out.append(Condition(DEPTH_SHORT, _gt(limit, depth), depth, limit, "deg"))
        return out

    def _knee_first(self, metrics: Mapping[str, float]) -> Condition:
        """The knees start the descent ``knee_first_lead_min_ms`` before the trunk tips, and
        by that much more than in the person's first rep(s). The knee angle's timing error
        is steady per person and camera but large between them (renders: -0.8..+0.7 s on
        correct reps), so a measured lead alone is not trusted; a change alone is not
        either, since the first rep of a real set (lifting the weight) starts differently
        (0016c_1: 6 of 10 correct reps 0.2-0.35 s "later" than rep 1)."""
        lead_max = self.c.knee_first_lead_min_ms * self.threshold_scale(KNEE_FIRST)
        lead, change = metrics["onset_lag_ms"], metrics["onset_lag_change_ms"]
        if not self.c.knee_first_check or not (math.isfinite(lead) and math.isfinite(change)):
            return Condition(KNEE_FIRST, None, lead, lead_max, "ms")
        return Condition(KNEE_FIRST, lead > lead_max and change > lead_max, lead, lead_max, "ms")

    def _hips_rise_first(self, metrics: Mapping[str, float]) -> Condition:
        """The chest tips down as the hips rise, or the legs straighten well ahead of it."""
        c, scale = self.c, self.threshold_scale(HIPS_RISE_FIRST)
        drop = metrics["chest_drop_deg"]
        drop_max = self.noise_gate(m.TRUNK_LEAN_DEG, c.chest_drop_max_deg * scale)
        dropped = _gt(drop, drop_max)
        if dropped:
            return Condition(HIPS_RISE_FIRST, dropped, drop, drop_max, "deg")
        lag, lag_max = metrics["rise_onset_lag_change_ms"], c.rise_lag_max_ms * scale
        knee_gain = metrics["knee_range_deg"] - self._reference("knee_range_deg", "min")
        if knee_gain > c.rise_knee_gain_max_deg:
            # knees bending much deeper than in the first rep (a squat pattern) unwind that
            # extra bend first on the way up: the legs' timing is not comparable
            return Condition(HIPS_RISE_FIRST, None, lag, lag_max, "ms")
        if _gt(lag, lag_max) or not c.rise_lead_check:
            return Condition(HIPS_RISE_FIRST, _gt(lag, lag_max), lag, lag_max, "ms")
        lead, lead_max = metrics["rise_lead_pct"], c.rise_lead_max_pct * scale
        return Condition(HIPS_RISE_FIRST, _gt(lead, lead_max), lead, lead_max, "%")

    def _knee_dominant(self, metrics: Mapping[str, float]) -> Condition:
        """A squat pattern: an upright trunk with deep knees, the knees bending more than
        the hips, or the hip/knee share shifting well towards the knees from the person's
        own first rep (their knees bending much more while the hips do less)."""
        c = self.c
        scale = self.threshold_scale(KNEE_DOMINANT)
        ratio, ratio_min = metrics["hip_knee_ratio"], c.hip_knee_ratio_min / scale
        trunk, trunk_min = metrics["trunk_depth_deg"], c.trunk_at_depth_min_deg / scale
        upright = _gt(trunk_min, trunk) and metrics["knee_range_deg"] >= c.knee_range_squat_min_deg
        if upright:
            return Condition(KNEE_DOMINANT, True, trunk, trunk_min, "deg")
        if _gt(ratio_min, ratio):
            return Condition(KNEE_DOMINANT, True, ratio, ratio_min, "x")
        ref_ratio = self._reference("hip_knee_ratio", "max")
        gain = metrics["knee_range_deg"] - self._reference("knee_range_deg", "min")
        drop_limit = ref_ratio * c.knee_share_ratio_drop_max * scale
        shifted = _gt(drop_limit, ratio) and gain >= c.knee_share_gain_min_deg * scale
        if shifted:
            return Condition(KNEE_DOMINANT, True, ratio, drop_limit, "x")
        return Condition(KNEE_DOMINANT, _gt(ratio_min, ratio), ratio, ratio_min, "x")

    # ----- messages -------------------------------------------------------------------------
    def describe(self, condition: Condition, rep: int) -> str:
        v, thr = condition.value, condition.threshold
        where = rep_label(rep)
        texts = {
            SPINE_ROUNDED: f"Keep your back long: it rounded {v:.0f} mm at the bottom of {where}.",
            SPINE_ARCHED: f"Don't over-arch your lower back: it arched {v:.0f} mm in {where}.",
            HEAD_FORWARD: f"Keep your head in line with your back: it pushed {v:.0f} mm "
            f"forward in {where}.",
            KNEE_FIRST: f"Push your hips back first: your knees bent {v:.0f} ms before your "
            f"hips in {where}.",
            HIPS_RISE_FIRST: (
                f"Lift your chest and hips together: your hips rose first and your chest "
                f"dropped {v:.0f} deg in {where}."
                if condition.unit == "deg"
                else f"Lift your chest and hips together: your legs started straightening "
                f"{v:.0f} ms before your chest rose in {where}."
                if condition.unit == "ms"
                else f"Lift your chest and hips together: your legs straightened {v:.0f}% "
                f"ahead of your chest in {where}."
            ),
            TEMPO_DOWN_FAST: f"Lower more slowly: {v:.1f} s down in {where}, aim for at "
            f"least {thr:.1f} s.",
            TEMPO_UP_FAST: f"Come up more slowly: {v:.1f} s up in {where}, aim for at least "
            f"{thr:.1f} s.",
            DEPTH_SHORT: f"Hinge deeper: your trunk reached {v:.0f} deg in {where}, aim for "
            f"{thr:.0f} deg.",
        }
        if condition.code == KNEE_DOMINANT:
            if condition.unit == "deg":
                return (
                    f"Hinge, don't squat: your chest stayed up at {v:.0f} deg in {where}; "
                    "push your hips back and let your chest come forward."
                )
            return (
                f"Hinge, don't squat: your hips bent only {v:.1f} times as much as your "
                f"knees in {where} (aim for over {thr:.1f})."
            )
        return texts.get(condition.code, super().describe(condition, rep))


def _trunk_angle(lean_deg: Array, inclination_deg: Array) -> Array:
    """The signed trunk lean where the facing direction is known, else the unsigned
    inclination (a person seen from behind while standing still has no known facing; their
    lean is then near 0 either way)."""
    return np.where(np.isfinite(lean_deg), lean_deg, inclination_deg)


def _trunk_value(lean_deg: float, inclination_deg: float) -> float:
    return lean_deg if math.isfinite(lean_deg) else inclination_deg


def _metric(rep: RepRecord | None, name: str) -> float:
    return math.nan if rep is None else rep.metrics.get(name, math.nan)


def _gt(value: float, limit: float) -> bool | None:
    if not (math.isfinite(value) and math.isfinite(limit)):
        return None
    return value > limit


def _signed_larger(up: float, down: float) -> float:
    """The change from the reference reps that is larger in size: ``up`` when positive and
    larger than ``-down``, else ``down`` (NaN when either is NaN)."""
    if not (math.isfinite(up) and math.isfinite(down)):
        return math.nan
    if up > 0 and up >= -down:
        return up
    return down if down < 0 else 0.0


def _max(x: Array) -> float:
    finite = x[np.isfinite(x)]
    return float(finite.max()) if finite.size else math.nan


def _progress_lead(t_s: Array, lead: Array, lag: Array, range_min: float) -> tuple[float, float]:
    """Max of (progress of ``lead`` - progress of ``lag``) in % while both fall from their
    peaks to their ends, and the delay between their half-way times in ms."""
    if t_s.size < 2:
        return math.nan, math.nan
    progress = []
    for x in (lead, lag):
        ok = np.isfinite(x)
        if ok.sum() < 2:
            return math.nan, math.nan
        i_peak = int(np.nanargmax(x))
        top, end = float(x[i_peak]), float(x[ok][-1])
        if top - end < range_min:
            return math.nan, math.nan
        p = np.clip((top - x) / (top - end), 0.0, 1.0)
        p[: i_peak + 1] = 0.0
        progress.append(p)
    diff = progress[0] - progress[1]
    lead_pct = float(np.nanmax(diff)) * _PERCENT
    halves = [_first_time(t_s, p, 0.5) for p in progress]
    return lead_pct, (halves[1] - halves[0]) * _MS_PER_S


def _chest_drop_deg(knee: Array, trunk: Array, knee_range_min_deg: float) -> float:
    """Largest rise of trunk inclination from the knees' deepest point until they are half
    straight (NaN when the knees hardly bend or a signal is missing)."""
    ok = np.isfinite(knee) & np.isfinite(trunk)
    if ok.sum() < 2:
        return math.nan
    i_peak = int(np.nanargmax(np.where(ok, knee, -np.inf)))
    end = float(knee[ok][-1])
    if knee[i_peak] - end < knee_range_min_deg:
        return math.nan
    half = knee[i_peak] - _HALF * (knee[i_peak] - end)
    after = np.nonzero((np.arange(knee.size) > i_peak) & ok & (knee <= half))[0]
    i_half = int(after[0]) if after.size else knee.size - 1
    return float(np.nanmax(trunk[i_peak : i_half + 1]) - trunk[i_peak])


def _first_time(t_s: Array, p: Array, level: float) -> float:
    above = np.nonzero(p >= level)[0]
    if above.size == 0:
        return math.nan
    i = int(above[0])
    if i == 0:
        return float(t_s[0])
    return float(t_s[i - 1] + (level - p[i - 1]) / (p[i] - p[i - 1]) * (t_s[i] - t_s[i - 1]))
