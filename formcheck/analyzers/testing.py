"""Hand-made sample streams for analyzer tests: synthetic hinge reps as measure time series.

``hinge_set(reps)`` describes a set of hinge reps with known timing and faults;
``samples_at(series, times_s)`` turns it into :class:`formcheck.types.Sample` objects at any
(even variable) frame rate, with optional noise, missing values and unusable frames.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from formcheck.analyzers.engine import Analyzer
from formcheck.analyzers.engine.end_of_set import FOOT_LANDMARKS
from formcheck.analyzers.events import Event
from formcheck.analyzers.summary import SetSummary
from formcheck.kinematics import names as m
from formcheck.pose.landmarks import NUM_LANDMARKS
from formcheck.types import CameraView, Facing, FrameQuality, PoseFrame, Sample

_IMAGE_W_PX, _IMAGE_H_PX = 640, 480
_FEET_ABOVE_BOTTOM_PX = 40.0
MM_PER_PX_TEST = 5.0  # a person about 1.7 m tall drawn 340 px high
MeasureSeries = Callable[[float], dict[str, float]]

STANDING = {
    m.HIP_FLEXION_DEG: 4.0,
    m.KNEE_FLEXION_DEG: 3.0,
    m.TRUNK_INCLINATION_DEG: 3.0,
    m.BACK_BULGE_MM: -12.0,
    m.BACK_CURVE_MM: -8.0,
    m.SPINE_CHORD_MM: 480.0,
    m.HEAD_FORWARD_MM: 20.0,
    m.HIP_HEIGHT_MM: 900.0,
    m.SHOULDER_HEIGHT_MM: 1380.0,
}
_TRUNK_LENGTH_MM = 480.0
_SHANK_LENGTH_MM = 430.0


def make_sample(
    t_ms: float,
    measures: Mapping[str, float],
    view: CameraView = CameraView.SIDE,
    usable: bool = True,
    feet_x_px: float = math.nan,
) -> Sample:
    """A sample of ``measures``; with ``feet_x_px``, its pose has the feet (ankles, heels,
    toes) seen at that image column and every other landmark unseen."""
    quality = FrameQuality(
        has_pose=usable,
        in_frame=usable,
        mean_visibility=0.9 if usable else 0.0,
        person_height_px=300.0,
    )
    pose = PoseFrame(t_ms=t_ms, image_width_px=_IMAGE_W_PX, image_height_px=_IMAGE_H_PX)
    if math.isfinite(feet_x_px) and usable:
        landmarks = np.zeros((NUM_LANDMARKS, 3))
        visibility = np.zeros(NUM_LANDMARKS)
        feet = [int(i) for i in FOOT_LANDMARKS]
        landmarks[feet, 0] = feet_x_px
        landmarks[feet, 1] = _IMAGE_H_PX - _FEET_ABOVE_BOTTOM_PX
        visibility[feet] = 1.0
        pose = replace(pose, landmarks_px=landmarks, visibility=visibility)
    return Sample(
        t_ms=t_ms,
        measures=dict(measures),
        facing=Facing.LEFT,
        view=view,
        quality=quality,
        pose=pose,
    )


def ease(tau: float) -> float:
    """Smooth 0..1 movement profile (minimum jerk, the shape of human point-to-point moves
    and of the synthetic renderer): zero speed and acceleration at both ends."""
    tau = min(1.0, max(0.0, tau))
    return tau * tau * tau * (10.0 - 15.0 * tau + 6.0 * tau * tau)


def _excursion(t: float, start: float, down: float, pause: float, up: float) -> float:
    """0 at rest, 1 at the bottom: descent from ``start`` over ``down``, pause, ascent."""
    if t <= start:
        return 0.0
    if t <= start + down:
        return ease((t - start) / down) if down > 0 else 1.0
    if t <= start + down + pause:
        return 1.0
    return 1.0 - ease((t - start - down - pause) / up) if up > 0 else 0.0


@dataclass(frozen=True, slots=True)
class HingeRep:
    """One rep: timing (s), ranges (deg), and faults to plant."""

    top_s: float = 1.0  # standing before the rep
    down_s: float = 1.5
    pause_s: float = 0.5
    up_s: float = 1.5
    hip_deg: float = 85.0
    knee_deg: float = 20.0
    trunk_deg: float = 75.0
    knee_lead_s: float = 0.0  # knees start bending this long before the hips
    hips_first_fraction: float = 0.0  # share of the rise in which the chest waits for the legs
    chest_drop_deg: float = 0.0  # the chest tips further down while the legs straighten
    curve_mm: float = 0.0  # change of the back outline at the bottom (+ rounded)
    head_mm: float = 0.0
    chord_loss_mm: float = 0.0


@dataclass(frozen=True, slots=True)
class RepTruth:
    start_s: float
    bottom_in_s: float
    bottom_out_s: float
    end_s: float


@dataclass(slots=True)
class HingeSet:
    reps: Sequence[HingeRep]
    lead_in_s: float = 0.0  # extra standing time before the first rep's top_s
    tail_s: float = 1.5
    standing: Mapping[str, float] = field(default_factory=lambda: dict(STANDING))

    def truth(self) -> list[RepTruth]:
        out, t = [], self.lead_in_s
        for rep in self.reps:
            start = t + rep.top_s
            out.append(
                RepTruth(
                    start,
                    start + rep.down_s,
                    start + rep.down_s + rep.pause_s,
                    start + rep.down_s + rep.pause_s + rep.up_s,
                )
            )
            t = out[-1].end_s
        return out

    @property
    def duration_s(self) -> float:
        truths = self.truth()
        return (truths[-1].end_s if truths else self.lead_in_s) + self.tail_s

    def measures(self, t: float) -> dict[str, float]:
        s = self.standing
        hip = knee = trunk = bulge = head = chord = 0.0
        for rep, tr in zip(self.reps, self.truth(), strict=True):
            if not tr.start_s - rep.knee_lead_s - 1e-9 <= t <= tr.end_s + 1e-9:
                continue
            x = _excursion(t, tr.start_s, rep.down_s, rep.pause_s, rep.up_s)
            wait = rep.hips_first_fraction * rep.up_s
            x_chest = _excursion(t, tr.start_s, rep.down_s, rep.pause_s + wait, rep.up_s - wait)
            x_knee = _excursion(
                t,
                tr.start_s - rep.knee_lead_s,
                rep.down_s,
                rep.pause_s + rep.knee_lead_s,
                rep.up_s - wait,
            )
            hip, trunk = rep.hip_deg * x_chest, rep.trunk_deg * x_chest
            if t > tr.bottom_out_s:  # hips first: the chest dips as the knees straighten
                trunk += rep.chest_drop_deg * math.sin(math.pi * (1.0 - x_knee))
            knee = rep.knee_deg * x_knee
            bulge, head, chord = rep.curve_mm * x, rep.head_mm * x, rep.chord_loss_mm * x
        trunk_abs = s[m.TRUNK_INCLINATION_DEG] + trunk
        knee_abs = s[m.KNEE_FLEXION_DEG] + knee
        hip_h = s[m.HIP_HEIGHT_MM] - _SHANK_LENGTH_MM * (1 - math.cos(math.radians(knee_abs)))
        return {
            m.HIP_FLEXION_DEG: s[m.HIP_FLEXION_DEG] + hip,
            m.KNEE_FLEXION_DEG: knee_abs,
            m.TRUNK_INCLINATION_DEG: trunk_abs,
            m.TRUNK_LEAN_DEG: trunk_abs,  # leaning forward: the signed lean is the same
            m.BACK_BULGE_MM: s[m.BACK_BULGE_MM] + bulge,
            m.BACK_CURVE_MM: s[m.BACK_CURVE_MM] + bulge,
            m.SPINE_CHORD_MM: s[m.SPINE_CHORD_MM] - chord,
            m.HEAD_FORWARD_MM: s[m.HEAD_FORWARD_MM] + head,
            m.HIP_HEIGHT_MM: hip_h,
            m.SHOULDER_HEIGHT_MM: hip_h + _TRUNK_LENGTH_MM * math.cos(math.radians(trunk_abs)),
        }


def frame_times(
    duration_s: float, fps: float, jitter_fraction: float = 0.0, seed: int = 0
) -> list[float]:
    """Sample times in seconds; ``jitter_fraction`` of the frame period makes them uneven."""
    rng = np.random.default_rng(seed)
    period = 1.0 / fps
    times = np.arange(0.0, duration_s, period)
    if jitter_fraction > 0:
        times = times + rng.uniform(-jitter_fraction / 2, jitter_fraction / 2, times.size) * period
    return [float(t) for t in np.sort(np.clip(times, 0.0, None))]


def samples_at(
    series: MeasureSeries,
    times_s: Iterable[float],
    noise: Mapping[str, float] | None = None,
    seed: int = 0,
    view: CameraView = CameraView.SIDE,
    missing: Callable[[float], bool] | None = None,
    unusable: Callable[[float], bool] | None = None,
    feet_x_px: Callable[[float], float] | None = None,
) -> list[Sample]:
    """Samples of ``series`` at the given times, with Gaussian noise (std per measure),
    all measures NaN where ``missing(t)``, unusable quality where ``unusable(t)`` and the
    feet seen at image column ``feet_x_px(t)`` (at MM_PER_PX_TEST, unless ``series`` has
    its own scale)."""
    rng = np.random.default_rng(seed)
    out = []
    for t in times_s:
        values = series(t)
        for name, std in (noise or {}).items():
            if name in values:
                values[name] += float(rng.normal(0.0, std))
        if missing is not None and missing(t):
            values = {k: math.nan for k in values}
        ok = unusable is None or not unusable(t)
        feet = math.nan
        if feet_x_px is not None:
            feet = feet_x_px(t)
            values.setdefault(m.MM_PER_PX, MM_PER_PX_TEST)
        out.append(make_sample(t * 1000.0, values, view=view, usable=ok, feet_x_px=feet))
    return out


def run(analyzer: Analyzer[Any], samples: Iterable[Sample]) -> tuple[list[Event], SetSummary]:
    events: list[Event] = []
    for sample in samples:
        events.extend(analyzer.update(sample))
    return events, analyzer.finish()
