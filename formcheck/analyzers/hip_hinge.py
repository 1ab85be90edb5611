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

from formcheck.analyzers.checks import back
from formcheck.analyzers.checks.condition import (
    Condition,
    NotJudged,
    exceeds,
    falls_short,
    not_judged,
)
from formcheck.analyzers.checks.timing import (
    DOWN,
    UP,
    chest_drop_deg,
    fit_start_lag_ms,
    lead_condition,
    progress_lead,
)
from formcheck.analyzers.codes import (
    DEPTH_SHORT,
    HEAD_FORWARD,
    HIPS_RISE_FIRST,
    KNEE_DOMINANT,
    KNEE_FIRST,
    SPINE_ARCHED,
    SPINE_ROUNDED,
    TEMPO_DOWN_FAST,
    TEMPO_UP_FAST,
)
from formcheck.analyzers.engine import Analyzer, FrameContext, rep_label
from formcheck.analyzers.engine.reference import own_reference_rep, rep_metric
from formcheck.analyzers.engine.rep_timer import BottomSoFar
from formcheck.analyzers.events import Phase, RepRecord
from formcheck.analyzers.signals import Array, BoolArray, finite_max, robust_median
from formcheck.analyzers.window import RepWindow, steady_median
from formcheck.kinematics import names as m
from formcheck.types import CameraView

_SIDE_VIEW_SHARE_MIN = 0.5  # side-only checks need at least half the rep seen from the side


class HipHingeChecks(BaseModel):
    """Thresholds of the hinge's checks (``[checks]`` of hip_hinge.toml)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    spine_measure: str
    own_reference_reps: int
    spine_check_min_depth_deg: float
    spine_trunk_min_deg: float
    spine_depth_match_max_deg: float
    spine_live_window_s: float
    bottom_cue_delay_max_s: float  # the promise the bottom checks keep (tests hold them to it)
    outline_seen_share_min: float
    outline_scatter_max_mm: float
    bottom_min_s: float
    knee_range_floor_deg: float
    curve_rounded_min_mm: float
    curve_arched_min_mm: float
    head_forward_max_mm: float
    knee_first_check: bool
    knee_first_lead_min_ms: float
    knee_onset_range_min_deg: float
    knee_fit_rms_max_fraction: float
    hip_knee_ratio_min: float
    trunk_at_depth_min_deg: float
    knee_range_squat_min_deg: float
    hinge_knee_min_deg: float
    hinge_knee_max_deg: float
    hinge_min_hip_knee_ratio: float
    hinge_trunk_max_deg: float
    knee_share_ratio_drop_max: float
    knee_share_gain_min_deg: float
    chest_drop_max_deg: float
    rise_lag_max_ms: float
    rise_knee_gain_max_deg: float
    rise_lead_check: bool
    rise_lead_max_pct: float
    rise_range_min_deg: float
    depth_tolerance_deg: float


class HipHingeAnalyzer(Analyzer[HipHingeChecks]):
    checks_model = HipHingeChecks

    # ----- references -----------------------------------------------------------------------
    def _reference_rep(self, metric: str, pick: str) -> RepRecord | None:
        """The person's own reference for a bottom-of-rep metric: of their first
        ``own_reference_reps`` reps, the one with the lowest (``pick`` "min") or highest
        ("max") value, the reference for a fault that raises/lowers the metric (a fault that
        starts in the second rep then does not hide in the reference: it is still measured
        against the first). The back and head are compared in the same posture, never with
        the standing outline (the buttocks, shoulder blades and arms change shape between
        the two)."""
        return own_reference_rep(self.first_reps(self.checks.own_reference_reps), metric, pick)

    def _reference(self, metric: str, pick: str) -> float:
        return rep_metric(self._reference_rep(metric, pick), metric)

    def _limits(self, frames: int = 1) -> dict[str, float]:
        """Limits for the back and head changes. A bottom value averages ``frames`` samples,
        so its jitter is the per-frame noise floor over sqrt(frames)."""
        c = self.checks
        return {
            SPINE_ROUNDED: self.limit(
                c.spine_measure, c.curve_rounded_min_mm, SPINE_ROUNDED, frames
            ),
            SPINE_ARCHED: self.limit(c.spine_measure, c.curve_arched_min_mm, SPINE_ARCHED, frames),
            HEAD_FORWARD: self.limit(
                m.HEAD_FORWARD_MM, c.head_forward_max_mm, HEAD_FORWARD, frames
            ),
        }

    # ----- per-frame checks (live cues) -----------------------------------------------------
    def frame_conditions(self, ctx: FrameContext) -> list[Condition]:
        """Live back and head cues at the bottom, against the first reps' bottoms: medians
        over the bottom so far (once it has lasted ``spine_live_window_s``), so that a live
        cue agrees with the rep's own verdict."""
        window = ctx.in_phase_s
        if ctx.phase is not Phase.BOTTOM or not window >= self.checks.spine_live_window_s:
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
            self.checks.spine_measure,
            window,
            self.checks.outline_seen_share_min,
            self.checks.outline_scatter_max_mm,
        )
        head = recent(m.HEAD_FORWARD_MM, window)
        frames = ctx.buffer.frames_within(window)
        return self._spine_conditions(curve, head, trunk, ctx.depth_deg, frames)

    def bottom_min_s(self) -> float:
        return self.checks.bottom_min_s

    def bottom_conditions(self, ctx: FrameContext, bottom: BottomSoFar) -> list[Condition]:
        """The back and head over the whole bottom, judged as the person starts back up: a
        bottom too short for the live window (real kettlebell sets swing through it) is
        cued at its end, not after the rep's return and settling wait (issue 19: 1.0-1.5 s
        after the bottom on real sets, as the next rep began). The hip/knee share stays
        with the rep's own verdict: read over the bottom so far it gave 6 cues the rep's
        verdict did not confirm on the real clips (deadlifts: plates hide the knees)."""
        if ctx.buffer.views and ctx.buffer.views[-1] is CameraView.FRONT:
            return []
        yaw_limit = self.spec.setup.max_yaw_from_side_deg
        if yaw_limit is not None and ctx.recent(m.CAMERA_YAW_FROM_SIDE_DEG) > yaw_limit:
            return []
        t0, t1 = bottom.start_s, bottom.end_s

        def median(name: str) -> float:
            return robust_median(ctx.buffer.values_between(name, t0, t1))

        trunk = _trunk_value(median(m.TRUNK_LEAN_DEG), median(m.TRUNK_INCLINATION_DEG))
        trunk -= _trunk_value(
            ctx.rest.get(m.TRUNK_LEAN_DEG, math.nan),
            ctx.rest.get(m.TRUNK_INCLINATION_DEG, math.nan),
        )
        c = self.checks
        raw_curve = ctx.buffer.values_between(c.spine_measure, t0, t1)
        curve = steady_median(raw_curve, c.outline_seen_share_min, c.outline_scatter_max_mm)
        head = median(m.HEAD_FORWARD_MM)
        seen = int(np.isfinite(raw_curve).sum())
        return self._spine_conditions(curve, head, trunk, bottom.peak_deg, seen)

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
        c = self.checks
        limits = self._limits(frames)
        deep_enough = back.deep_enough(
            depth_deg, c.spine_check_min_depth_deg, trunk_depth_deg, c.spine_trunk_min_deg
        )

        def reason(value: float, reference: RepRecord | None, name: str) -> NotJudged | None:
            """Why this posture cannot be compared with the reference rep's (None: it can)."""
            ref_value = rep_metric(reference, name)
            ref_trunk = rep_metric(reference, "trunk_depth_deg")
            matched = abs(trunk_depth_deg - ref_trunk) <= c.spine_depth_match_max_deg
            unseen = NotJudged.BACK_HIDDEN if name == "curve_bottom_mm" else NotJudged.NOT_MEASURED
            return back.why_not(value, ref_value, deep_enough, matched, unseen)

        least_round = self._reference_rep("curve_bottom_mm", "min")
        least_arched = self._reference_rep("curve_bottom_mm", "max")
        head_back = self._reference_rep("head_bottom_mm", "min")
        rounded = back.rounded(
            curve_mm - rep_metric(least_round, "curve_bottom_mm"),
            limits[SPINE_ROUNDED],
            reason(curve_mm, least_round, "curve_bottom_mm"),
        )
        arched = back.arched(
            rep_metric(least_arched, "curve_bottom_mm") - curve_mm,
            limits[SPINE_ARCHED],
            reason(curve_mm, least_arched, "curve_bottom_mm"),
        )
        head = back.head_forward(
            head_mm - rep_metric(head_back, "head_bottom_mm"),
            limits[HEAD_FORWARD],
            reason(head_mm, head_back, "head_bottom_mm"),
        )
        return [rounded, arched, back.unless_rounded(rounded, head)]

    # ----- per-rep metrics ------------------------------------------------------------------
    def rep_metrics(self, window: RepWindow) -> dict[str, float]:
        """Joint ranges are bottom values (medians over the bottom phase) above the start
        position: a single frame's flipped knee angle must not make a hinge a squat."""
        bottom = window.bottom_mask(self.checks.bottom_min_s)
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
        if knee_range < -self.checks.knee_range_floor_deg:
            knee_range = math.nan  # knees straighter than standing: a flipped knee reading
        out: dict[str, float] = {
            "trunk_depth_deg": trunk_depth,
            "hip_range_deg": hip_range,
            "knee_range_deg": knee_range,
            # knees bent less than the floor at the bottom: the ratio is noise over noise
            "hip_knee_ratio": hip_range / knee_range
            if knee_range >= self.checks.knee_range_floor_deg
            else math.nan,
            "onset_lag_ms": math.nan if window.from_bottom else self._onset_lag_ms(window, DOWN),
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

    def _onset_lag_ms(self, window: RepWindow, phase: int) -> float:
        """Trunk start minus knee start in ms for the way down (``phase`` DOWN) or up (UP):
        positive when the knees move first. Both come from the per-rep minimum-jerk fits;
        NaN unless the knees moved at least ``knee_onset_range_min_deg`` with the smooth
        shape that was fitted (the knee angle's own errors, a few degrees, would otherwise
        decide the sign)."""
        c = self.checks
        return fit_start_lag_ms(
            window,
            phase,
            m.KNEE_FLEXION_DEG,
            m.TRUNK_LEAN_DEG,
            c.knee_onset_range_min_deg,
            c.knee_fit_rms_max_fraction,
            both_fitted=False,
        )

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
        lead = progress_lead(t, k, tr, self.checks.rise_range_min_deg)
        return {
            "rise_onset_lag_ms": self._onset_lag_ms(window, UP),
            "chest_drop_deg": chest_drop_deg(k, tr, self.checks.rise_range_min_deg),
            "rise_lead_pct": lead[0],
            "rise_lag_ms": lead[1],
        }

    def _spine_metrics(self, window: RepWindow, bottom: BoolArray) -> dict[str, float]:
        """Back and head at the bottom of the rep (medians over ``bottom``) and their change
        from the reference reps' bottoms."""
        tm = window.timing
        deep = window.mask(tm.start_s, tm.end_s) & (
            self._depth(window) >= self.checks.spine_check_min_depth_deg
        )
        chord = window.series(m.SPINE_CHORD_MM)
        raw_curve = window.raw.get(self.checks.spine_measure, np.full(window.t_s.shape, math.nan))
        seen = np.isfinite(raw_curve[bottom])
        # NaN when the back was hidden (arms, a dowel) or crossed, for most of the bottom
        curve = window.steady_value(
            self.checks.spine_measure,
            bottom,
            self.checks.outline_seen_share_min,
            self.checks.outline_scatter_max_mm,
        )
        head = robust_median(window.series(m.HEAD_FORWARD_MM)[bottom])
        return {
            "curve_bottom_mm": curve,
            "curve_change_mm": back.signed_larger(
                curve - self._reference("curve_bottom_mm", "min"),
                curve - self._reference("curve_bottom_mm", "max"),
            ),
            "bulge_bottom_mm": robust_median(window.series(m.BACK_BULGE_MM)[bottom]),
            "bulge_peak_mm": finite_max(window.series(m.BACK_BULGE_MM)[deep]),
            "offset_bottom_mm": robust_median(window.series(m.BACK_OFFSET_MM)[bottom]),
            "chord_loss_mm": self.standing_reference(m.SPINE_CHORD_MM) - -finite_max(-chord[deep]),
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
            return self.others_not_judged(out, NotJudged.VIEW_ANGLE)
        c = self.checks
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
            out.append(falls_short(DEPTH_SHORT, depth, limit, "deg"))
        return out

    def _knee_first(self, metrics: Mapping[str, float]) -> Condition:
        """The knees start the descent ``knee_first_lead_min_ms`` before the trunk tips, and
        by that much more than in the person's first rep(s). The knee angle's timing error
        is steady per person and camera but large between them (renders: -0.8..+0.7 s on
        correct reps), so a measured lead alone is not trusted; a change alone is not
        either, since the first rep of a real set (lifting the weight) starts differently
        (0016c_1: 6 of 10 correct reps 0.2-0.35 s "later" than rep 1)."""
        lead_max = self.checks.knee_first_lead_min_ms * self.threshold_scale(KNEE_FIRST)
        lead = lead_condition(
            KNEE_FIRST, metrics["onset_lag_ms"], metrics["onset_lag_change_ms"], lead_max, "ms"
        )
        return lead if self.checks.knee_first_check else not_judged(lead, NotJudged.CHECK_OFF)

    def _hips_rise_first(self, metrics: Mapping[str, float]) -> Condition:
        """The chest tips down as the hips rise, or the legs straighten well ahead of it."""
        c, scale = self.checks, self.threshold_scale(HIPS_RISE_FIRST)
        drop_max = self.limit(m.TRUNK_LEAN_DEG, c.chest_drop_max_deg, HIPS_RISE_FIRST)
        dropped = exceeds(HIPS_RISE_FIRST, metrics["chest_drop_deg"], drop_max, "deg")
        if dropped.active:
            return dropped
        lag_max = c.rise_lag_max_ms * scale
        late = exceeds(HIPS_RISE_FIRST, metrics["rise_onset_lag_change_ms"], lag_max, "ms")
        knee_gain = metrics["knee_range_deg"] - self._reference("knee_range_deg", "min")
        if knee_gain > c.rise_knee_gain_max_deg:
            # knees bending much deeper than in the first rep (a squat pattern) unwind that
            # extra bend first on the way up: the legs' timing is not comparable
            return not_judged(late, NotJudged.POSTURE)
        if late.active or not c.rise_lead_check:
            return late
        return exceeds(HIPS_RISE_FIRST, metrics["rise_lead_pct"], c.rise_lead_max_pct * scale, "%")

    def _knee_dominant(self, metrics: Mapping[str, float]) -> Condition:
        """A squat pattern, judged on the rep itself: an upright trunk with deep knees, the
        knees bending more than the hips, or, in a hinge that does not pull from the floor
        (knees bent ``hinge_knee_min_deg``-``hinge_knee_max_deg``) with the chest up (trunk
        under ``hinge_trunk_max_deg``), the hips bending less than
        ``hinge_min_hip_knee_ratio`` times the knees; and, against the person's own first
        rep, the hip/knee share shifting well towards the knees (form fraying)."""
        c = self.checks
        scale = self.threshold_scale(KNEE_DOMINANT)
        ratio_min = c.hip_knee_ratio_min / scale
        trunk_min = c.trunk_at_depth_min_deg / scale
        ratio = metrics["hip_knee_ratio"]
        upright = falls_short(KNEE_DOMINANT, metrics["trunk_depth_deg"], trunk_min, "deg")
        if upright.active and metrics["knee_range_deg"] >= c.knee_range_squat_min_deg:
            return upright
        low_ratio = falls_short(KNEE_DOMINANT, ratio, ratio_min, "x")
        if low_ratio.active:
            return low_ratio
        knees = metrics["knee_range_deg"]
        upright_ish = metrics["trunk_depth_deg"] < c.hinge_trunk_max_deg
        if c.hinge_knee_min_deg <= knees < c.hinge_knee_max_deg and upright_ish:
            # not a pull from the floor: the hips must lead the knees clearly, from rep 1
            soft = falls_short(KNEE_DOMINANT, ratio, c.hinge_min_hip_knee_ratio / scale, "x")
            if soft.active:
                return soft
        ref_ratio = self._reference("hip_knee_ratio", "max")
        gain = metrics["knee_range_deg"] - self._reference("knee_range_deg", "min")
        drop_limit = ref_ratio * c.knee_share_ratio_drop_max * scale
        shifted = falls_short(KNEE_DOMINANT, ratio, drop_limit, "x")
        if shifted.active and gain >= c.knee_share_gain_min_deg * scale:
            return shifted
        return low_ratio

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
