"""Buffered samples and the per-rep window handed to an exercise's rep checks."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from formcheck.analyzers.events import PhaseTimes
from formcheck.analyzers.signals import (
    Array,
    BoolArray,
    TransitionFit,
    fill_gaps,
    frame_jitter,
    moving_average,
    robust_median,
)
from formcheck.kinematics.names import CAMERA_YAW_FROM_SIDE_DEG
from formcheck.types import CameraView


def is_steady(raw: Array, seen_share_min: float, scatter_max: float) -> bool:
    """Whether a held shape's samples are mostly seen (``seen_share_min`` of them finite)
    and steady (frame-to-frame jitter, :func:`frame_jitter`, under ``scatter_max`` in the
    measure's unit): a held shape barely moves between frames, even when it changes
    during the stretch; one that jumps every frame is being crossed by arms or a dowel."""
    if raw.size == 0 or np.isfinite(raw).mean() < seen_share_min:
        return False
    return frame_jitter(raw) <= scatter_max


def steady_median(raw: Array, seen_share_min: float, scatter_max: float) -> float:
    """Median of a held shape's samples; NaN unless they are steady (:func:`is_steady`)."""
    return robust_median(raw) if is_steady(raw, seen_share_min, scatter_max) else math.nan


@dataclass(slots=True)
class SampleBuffer:
    """Usable samples kept since the end of the previous rep (plus a pre-roll)."""

    t_s: list[float] = field(default_factory=list)
    measures: list[Mapping[str, float]] = field(default_factory=list)
    views: list[CameraView] = field(default_factory=list)

    def append(self, t_s: float, measures: Mapping[str, float], view: CameraView) -> None:
        self.t_s.append(t_s)
        self.measures.append(measures)
        self.views.append(view)

    def trim_before(self, t_s: float) -> None:
        keep = int(np.searchsorted(np.asarray(self.t_s), t_s, side="left"))
        del self.t_s[:keep], self.measures[:keep], self.views[:keep]

    def column(self, name: str, start: int = 0) -> Array:
        return np.array([m.get(name, math.nan) for m in self.measures[start:]], dtype=float)

    def recent_mean(self, name: str, window_s: float) -> float:
        """Causal mean of a measure over the last ``window_s`` (NaN ignored)."""
        if not self.t_s:
            return math.nan
        now = self.t_s[-1]
        total, count = 0.0, 0
        for i in range(len(self.t_s) - 1, -1, -1):
            if now - self.t_s[i] > window_s:
                break
            value = self.measures[i].get(name, math.nan)
            if math.isfinite(value):
                total += value
                count += 1
        return total / count if count else math.nan

    def recent_values(self, name: str, window_s: float) -> Array:
        """A measure's samples over the last ``window_s``, newest first (NaN kept)."""
        if not self.t_s:
            return np.empty(0)
        now = self.t_s[-1]
        values = []
        for i in range(len(self.t_s) - 1, -1, -1):
            if now - self.t_s[i] > window_s:
                break
            values.append(self.measures[i].get(name, math.nan))
        return np.asarray(values, dtype=float)

    def recent_median(self, name: str, window_s: float) -> float:
        """Causal median of a measure over the last ``window_s`` (NaN ignored): a blip
        shorter than half the window does not move it."""
        return robust_median(self.recent_values(name, window_s))

    def steady_recent(
        self, name: str, window_s: float, seen_share_min: float, scatter_max: float
    ) -> float:
        """:meth:`RepWindow.steady_value` over the last ``window_s``, for live checks:
        the median of a shape measure, NaN when it was missing in more than ``1 -
        seen_share_min`` of the samples or jumped about more than ``scatter_max`` frame to
        frame."""
        return steady_median(self.recent_values(name, window_s), seen_share_min, scatter_max)

    def held_s(self, name: str, band: float, window_s: float, *, increase: bool) -> float:
        """How long the newest samples of the last ``window_s`` have stayed within ``band``
        of the furthest value reached in it (the highest when ``increase``, else the
        lowest): a hold at the bottom of a squat or the top of a bridge, not a move still on
        its way there. A missing sample does not end the hold."""
        values = self.recent_values(name, window_s)  # newest first
        if not np.isfinite(values).any():
            return 0.0
        x = values if increase else -values
        inside = ~(x < np.nanmax(x) - band)
        run = values.size if inside.all() else int(np.argmin(inside))
        return self.t_s[-1] - self.t_s[-run] if run else 0.0

    def values_between(self, name: str, t0_s: float, t1_s: float) -> Array:
        """A measure's samples from ``t0_s`` to ``t1_s`` (both included), oldest first."""
        i0, i1 = self.index_at(t0_s), int(np.searchsorted(np.asarray(self.t_s), t1_s, "right"))
        return np.array([m.get(name, math.nan) for m in self.measures[i0:i1]], dtype=float)

    def frames_within(self, window_s: float) -> int:
        """Samples in the last ``window_s``."""
        if not self.t_s:
            return 0
        now = self.t_s[-1]
        return len(self.t_s) - self.index_at(now - window_s)

    def index_at(self, t_s: float) -> int:
        return int(np.searchsorted(np.asarray(self.t_s), t_s, side="left"))


@dataclass(frozen=True, slots=True)
class RepTiming:
    """Phase boundaries of one rep in seconds, located between samples."""

    start_s: float
    bottom_in_s: float
    bottom_out_s: float
    end_s: float
    peak_s: float
    depth_deg: float  # peak of the primary signal above the start position
    # per signal (primary and joints): the fitted (down, up) transitions
    fits: Mapping[str, tuple[TransitionFit, TransitionFit]] = field(default_factory=dict)
    # the movement began before the first buffered frame (a recording opening mid-rep):
    # start_s is that frame and the way down is shorter than it was
    start_cut: bool = False

    @property
    def phases(self) -> PhaseTimes:
        return PhaseTimes(
            down_s=self.bottom_in_s - self.start_s,
            pause_s=self.bottom_out_s - self.bottom_in_s,
            up_s=self.end_s - self.bottom_out_s,
        )


@dataclass(frozen=True, slots=True)
class RepWindow:
    """All buffered samples around one rep, with its timing and the start-position values.

    ``t_s`` spans the pre-roll before the rep (the person at the start position) to a short
    post-roll after it. ``rest`` holds each measure's median at the start position before
    the rep (after it, for a rep that started at the bottom).
    """

    index: int
    counted: bool
    from_bottom: bool
    timing: RepTiming
    t_s: Array
    raw: Mapping[str, Array]
    rest: Mapping[str, float]
    views: tuple[CameraView, ...]
    smoothing_window_s: float
    max_gap_s: float

    def series(self, name: str) -> Array:
        """The measure, gaps filled and smoothed (NaN when the measure is absent)."""
        raw = self.raw.get(name)
        if raw is None:
            return np.full(self.t_s.shape, math.nan)
        return moving_average(
            self.t_s, fill_gaps(self.t_s, raw, self.max_gap_s), self.smoothing_window_s
        )

    def mask(self, t0_s: float, t1_s: float) -> BoolArray:
        return (self.t_s >= t0_s) & (self.t_s <= t1_s)

    def bottom_mask(self, min_s: float) -> BoolArray:
        """The bottom phase (the top of a bridge, full reach...), at least ``min_s`` long
        around the deepest point."""
        tm = self.timing
        t0, t1 = tm.bottom_in_s, tm.bottom_out_s
        if t1 - t0 < min_s:
            t0, t1 = tm.peak_s - min_s / 2, tm.peak_s + min_s / 2
        return self.mask(t0, t1)

    def median_between(self, name: str, t0_s: float, t1_s: float) -> float:
        return robust_median(self.series(name)[self.mask(t0_s, t1_s)])

    def rest_value(self, name: str) -> float:
        return float(self.rest.get(name, math.nan))

    def steady_value(
        self, name: str, at: BoolArray, seen_share_min: float, scatter_max: float
    ) -> float:
        """Median of a shape measure (the back outline) over ``at``, a stretch where the
        body holds still, from the smoothed series; NaN when the raw samples there are
        mostly missing or jump about (:func:`is_steady`)."""
        raw = self.raw.get(name, np.full(self.t_s.shape, math.nan))[at]
        if not is_steady(raw, seen_share_min, scatter_max):
            return math.nan
        return robust_median(self.series(name)[at])

    def seen_from_side(self, max_yaw_from_side_deg: float | None, min_share: float) -> bool:
        """Whether enough of the rep was seen from the side for side-view checks: at least
        ``min_share`` of its samples not front-on, and its median camera yaw within limit."""
        if self.view_share(CameraView.FRONT) > 1.0 - min_share:
            return False
        if max_yaw_from_side_deg is None:
            return True
        yaw = robust_median(self.raw.get(CAMERA_YAW_FROM_SIDE_DEG, np.array([math.nan])))
        return not yaw > max_yaw_from_side_deg

    def view_share(self, view: CameraView) -> float:
        """Fraction of the rep's samples seen from ``view``."""
        if not self.views:
            return 0.0
        return sum(v is view for v in self.views) / len(self.views)
