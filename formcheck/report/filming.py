"""How a set was filmed, read from its own frames: the live setup check's per-frame checks
(:mod:`formcheck.kinematics.framing`, with the same limits), made on every frame of a file, an
upload or a live set, and summed up per problem with its share of frames and when it happened.

Feed :class:`FilmingTally` each raw pose (before smoothing, as the setup check sees it) with the
frame's brightness when known; :meth:`FilmingTally.block` gives the report's ``filming`` block.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from formcheck.analyzers.spec import SetupSpec
from formcheck.config import FilmingConfig, QualityConfig
from formcheck.kinematics.framing import YawWindow, frame_framing, wrong_view
from formcheck.kinematics.orientation import OrientationConfig, camera_yaw_from_side_deg
from formcheck.report.model import FilmingBlock, FilmingIssueBlock, FilmingProblem
from formcheck.types import PoseFrame

MS_PER_S = 1000.0
PERCENT = 100.0
VALUE_DIGITS = 3
# A person bends, kneels and lies down during a set: their size in the picture is how big they
# are at their tallest (this percentile of the set's frames), not in the frame they crouch in.
FILL_PERCENTILE = 90.0
# The order a person should fix things in: the camera's place first, then the framing; a
# person lost in many frames is often a consequence of the others.
ORDER = (
    FilmingProblem.NOT_SIDE_ON,
    FilmingProblem.TOO_SMALL,
    FilmingProblem.FEET_OUT,
    FilmingProblem.HEAD_OUT,
    FilmingProblem.TOO_DARK,
    FilmingProblem.TRACKING_LOST,
)


@dataclass(frozen=True, slots=True)
class _Frame:
    t_s: float
    has_pose: bool
    feet_out: bool
    head_out: bool
    too_small: bool  # below the pose model's pixel floor
    fill_share: float
    lying: bool
    yaw_deg: float  # the window's median
    wrong_view: bool
    luma: float
    dark: bool


class FilmingTally:
    """Per-frame framing of one set; ``setup``: the exercise's (None: measures only, so no
    view is asked for)."""

    def __init__(
        self,
        *,
        quality: QualityConfig,
        setup: SetupSpec | None,
        config: FilmingConfig | None = None,
        orientation: OrientationConfig | None = None,
    ) -> None:
        self._quality = quality
        self._setup = setup
        self._config = config or FilmingConfig()
        self._orientation = orientation or OrientationConfig()
        self._yaw = YawWindow()
        self._frames: list[_Frame] = []

    def add(self, pose: PoseFrame, mean_luma: float = math.nan) -> None:
        """One frame, in time order (``mean_luma`` NaN: brightness not known)."""
        framing = frame_framing(pose, self._quality)
        # A dark picture is a problem when it hides the person: a well-lit person before a
        # black studio wall (a real plank clip: brightness 31, every frame posed) is not.
        dark = bool(mean_luma < self._quality.min_mean_luma) and not framing.seen_clearly
        if not framing.has_pose:
            self._yaw.clear()
            self._frames.append(
                _Frame(
                    t_s=pose.t_ms / MS_PER_S,
                    has_pose=False,
                    feet_out=False,
                    head_out=False,
                    too_small=False,
                    fill_share=math.nan,
                    lying=False,
                    yaw_deg=math.nan,
                    wrong_view=False,
                    luma=mean_luma,
                    dark=dark,
                )
            )
            return
        yaw_deg = self._yaw.push(pose.t_ms, camera_yaw_from_side_deg(pose))
        # The camera's angle is read from the shoulders' and hips' apparent width: a person
        # too small in the picture gives no angle to trust (a side-on 17% person read 90 deg).
        off_view = self._setup is not None and not framing.too_small and wrong_view(
            yaw_deg,
            accepted_views=self._setup.accepted_views,
            max_yaw_from_side_deg=self._setup.max_yaw_from_side_deg,
            orientation=self._orientation,
        )
        p = pose.landmarks_px
        assert p is not None
        self._frames.append(
            _Frame(
                t_s=pose.t_ms / MS_PER_S,
                has_pose=True,
                feet_out=framing.feet_out,
                head_out=framing.head_out,
                # as the setup check: a person cut at the edge is told to step back, not to
                # come closer (their extent in the picture is not all of them)
                too_small=framing.below_pixel_floor and not framing.cut,
                fill_share=framing.fill_share,
                lying=float(np.ptp(p[:, 0])) > float(np.ptp(p[:, 1])),
                yaw_deg=yaw_deg,
                wrong_view=off_view,
                luma=mean_luma,
                dark=dark,
            )
        )

    def __len__(self) -> int:
        return len(self._frames)

    def block(self) -> FilmingBlock | None:
        """The report's block (None before any frame)."""
        frames = self._frames
        if not frames:
            return None
        posed = [f for f in frames if f.has_pose]
        lying = sum(f.lying for f in posed) * 2 > len(posed)
        fills = [f.fill_share for f in posed if math.isfinite(f.fill_share)]
        issues = [
            self._issue(FilmingProblem.NOT_SIDE_ON, posed, [f.wrong_view for f in posed]),
            self._too_small(posed),
            self._issue(FilmingProblem.FEET_OUT, posed, [f.feet_out for f in posed]),
            self._issue(FilmingProblem.HEAD_OUT, posed, [f.head_out for f in posed]),
            self._issue(FilmingProblem.TOO_DARK, frames, [f.dark for f in frames]),
            self._issue(FilmingProblem.TRACKING_LOST, frames, [not f.has_pose for f in frames]),
        ]
        return FilmingBlock(
            frames=len(frames),
            frames_with_pose=len(posed),
            fill_share=_rounded(float(np.median(fills))) if fills else None,
            fill_axis="width" if lying else "height",
            target_fill_share=self._quality.target_fill_share,
            issues=[i for i in issues if i is not None],
        )

    def _too_small(self, posed: list[_Frame]) -> FilmingIssueBlock | None:
        """Too small: below the pose model's pixel floor in many frames, or filling less than
        ``min_fill_share`` of the picture at the person's tallest."""
        fills = [f.fill_share for f in posed if math.isfinite(f.fill_share)]
        if not fills:
            return None
        tallest = float(np.percentile(fills, FILL_PERCENTILE))
        small_set = tallest < self._quality.min_fill_share
        flags = [
            f.too_small or (small_set and f.fill_share < self._quality.min_fill_share)
            for f in posed
        ]
        issue = self._issue(FilmingProblem.TOO_SMALL, posed, flags, forced=small_set)
        if issue is None:
            return None
        return issue.model_copy(update={"value": _rounded(PERCENT * tallest)})

    def _issue(
        self,
        problem: FilmingProblem,
        frames: list[_Frame],
        flags: list[bool],
        *,
        forced: bool = False,
    ) -> FilmingIssueBlock | None:
        """The issue when enough frames have it (``forced``: when any has it)."""
        count = sum(flags)
        if not frames or not count:
            return None
        share = count / len(frames)
        if forced:
            reported = True
        elif problem is FilmingProblem.TRACKING_LOST:
            reported = share > 1.0 - self._config.min_pose_rate
        else:
            reported = share >= self._config.min_problem_share
        if not reported:
            return None
        value, limit, unit = self._measure(problem, frames, flags)
        return FilmingIssueBlock(
            problem=problem,
            frames=count,
            share=round(share, VALUE_DIGITS),
            spans_s=self._spans([f.t_s for f, flag in zip(frames, flags, strict=True) if flag]),
            value=value,
            limit=limit,
            unit=unit,
        )

    def _measure(
        self, problem: FilmingProblem, frames: list[_Frame], flags: list[bool]
    ) -> tuple[float | None, float | None, str]:
        flagged = [f for f, flag in zip(frames, flags, strict=True) if flag]
        if problem is FilmingProblem.TOO_SMALL:  # the value: the set's, from _too_small
            return None, _rounded(PERCENT * self._quality.min_fill_share), "%"
        if problem is FilmingProblem.NOT_SIDE_ON and self._setup is not None:
            yaws = [f.yaw_deg for f in flagged if math.isfinite(f.yaw_deg)]
            limit = self._setup.max_yaw_from_side_deg
            if limit is None and "oblique" not in self._setup.accepted_views:
                limit = self._orientation.side_view_max_yaw_deg
            if limit is None:
                limit = self._orientation.front_view_min_yaw_deg
            return (_rounded(float(np.median(yaws))) if yaws else None, limit, "deg")
        if problem is FilmingProblem.TOO_DARK:
            lumas = [f.luma for f in flagged if math.isfinite(f.luma)]
            return (
                _rounded(float(np.median(lumas))) if lumas else None,
                self._quality.min_mean_luma,
                "luma",
            )
        return None, None, ""

    def _spans(self, times_s: list[float]) -> list[tuple[float, float]]:
        """Stretches of the flagged frames (gaps up to span_gap_s bridged), the longest
        max_spans of them, in time order."""
        spans: list[tuple[float, float]] = []
        for t_s in times_s:
            if spans and t_s - spans[-1][1] <= self._config.span_gap_s:
                spans[-1] = (spans[-1][0], t_s)
            else:
                spans.append((t_s, t_s))
        longest = sorted(spans, key=lambda s: s[1] - s[0], reverse=True)[: self._config.max_spans]
        return [(round(a, VALUE_DIGITS), round(b, VALUE_DIGITS)) for a, b in sorted(longest)]


def _rounded(value: float) -> float:
    return round(value, VALUE_DIGITS)
