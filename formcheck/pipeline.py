"""The streaming measure pipeline: PoseFrame -> smoothed -> Sample, calibrated on the fly.

The same object serves a file, a camera and browser frames: push one PoseFrame at a time,
get back the Samples that are ready. Until the first still second has been found the
frames are held back (the person is asked to stand still), then released with the locked
millimetre scale, so every Sample of a run uses one scale.
"""

from __future__ import annotations

import dataclasses
import math
from collections import Counter

from formcheck.config import PipelineConfig
from formcheck.kinematics.calibration import (
    Calibration,
    baseline_and_noise,
    find_still_window,
    scale_from_poses,
)
from formcheck.kinematics.orientation import OrientationConfig
from formcheck.kinematics.spine import BackMeasurer, BackOutline
from formcheck.kinematics.stage import FrameOrientation, KinematicsStage, SpineMeasurer
from formcheck.smoothing.smoother import PoseSmoother
from formcheck.types import PoseFrame, Sample

Orientation = FrameOrientation


class MeasurePipeline:
    def __init__(
        self,
        config: PipelineConfig | None = None,
        *,
        stated_height_cm: float | None = None,
        spine: SpineMeasurer | None = None,
        orientation: OrientationConfig | None = None,
    ) -> None:
        self.config = config or PipelineConfig()
        self._stated_height_cm = stated_height_cm
        self._smoother = PoseSmoother(self.config.smoothing)
        if spine is None and self.config.segmentation:
            spine = BackMeasurer()
        self._back = spine if isinstance(spine, BackMeasurer) else None
        self._kinematics = KinematicsStage(self.config.quality, orientation, spine)
        self.calibration: Calibration | None = None
        self._pending: list[tuple[PoseFrame, Orientation]] = []
        self._steady_from = 0  # index in _pending from which frames may calibrate

    @property
    def calibrating(self) -> bool:
        return self.calibration is None

    @property
    def back_outline(self) -> BackOutline | None:
        """The back outline read from the latest frame's mask, for drawing (None without one)."""
        return self._back.last_outline if self._back is not None else None

    def push(self, pose: PoseFrame) -> list[Sample]:
        smoothed = self._smoother(pose)
        orientation = self._kinematics.orient(smoothed)
        if self.calibration is not None:
            return [self._sample(smoothed, orientation, self.calibration)]
        if not self._pending and not smoothed.has_pose:
            # Nothing to calibrate on yet: frames before the person appears pass straight on.
            return [self._sample(smoothed, orientation, None)]
        # Held frames drop their mask (read by orient already): a few seconds of full-size
        # float masks would otherwise cost hundreds of megabytes.
        self._pending.append((dataclasses.replace(smoothed, mask=None), orientation))
        if not pose.steady_tracking:
            # Masks change when the estimator settles on one person: calibrate after that.
            self._steady_from = len(self._pending)
        if self._try_lock(final=False):
            return self._drain()
        return []

    def finish(self) -> list[Sample]:
        """End of stream: calibrate on whatever was seen and release the held frames."""
        if self.calibration is None and self._pending:
            self._try_lock(final=True)
        return self._drain()

    # -- calibration ------------------------------------------------------------------------

    def _try_lock(self, *, final: bool) -> bool:
        cfg = self.config.calibration
        steady = self._pending[self._steady_from :]
        if final and not any(p.has_pose for p, _ in steady):
            steady = self._pending  # the stream ended before tracking settled: use it all
        posed = [(p, o) for p, o in steady if p.has_pose]
        if not posed:
            return False
        span_s = (posed[-1][0].t_ms - posed[0][0].t_ms) / 1000.0
        if span_s < cfg.still_window_s and not final:
            return False
        poses = [p for p, _ in posed]
        if not final and span_s < cfg.search_window_s:
            # Is the latest still_window_s still? Lock as soon as it is.
            recent = [p for p in poses if p.t_ms >= poses[-1].t_ms - cfg.still_window_s * 1000.0]
            start, end, motion = find_still_window(recent, cfg)
            if not motion <= cfg.still_max_spread_body:
                return False
            offset = len(poses) - len(recent)
            start, end = start + offset, end + offset
        else:
            start, end, motion = find_still_window(poses, cfg)
        self._lock([posed[i] for i in range(start, end)], motion)
        return True

    def _lock(self, window: list[tuple[PoseFrame, Orientation]], motion: float) -> None:
        side = Counter(o.side for _, o in window).most_common(1)[0][0]
        poses = [p for p, _ in window]
        source, mm_per_px, world_to_mm, height_cm = scale_from_poses(
            poses, side, self._stated_height_cm
        )
        provisional = Calibration(
            scale_source=source,
            mm_per_px=mm_per_px,
            world_to_mm=world_to_mm,
            stated_height_cm=self._stated_height_cm,
            estimated_height_cm=height_cm,
            still_start_s=poses[0].t_ms / 1000.0,
            still_end_s=poses[-1].t_ms / 1000.0,
            found_still=motion <= self.config.calibration.still_max_spread_body,
            motion_body=motion,
        )
        samples = [self._sample(p, o, provisional) for p, o in window]
        baseline, noise = baseline_and_noise([s.measures for s in samples])
        self.calibration = dataclasses.replace(provisional, baseline=baseline, noise_floor=noise)

    def _drain(self) -> list[Sample]:
        out = [self._sample(p, o, self.calibration) for p, o in self._pending]
        self._pending = []
        self._steady_from = 0
        return out

    def _sample(
        self, pose: PoseFrame, orientation: Orientation, calibration: Calibration | None
    ) -> Sample:
        mm_per_px = calibration.mm_per_px if calibration else math.nan
        world_to_mm = calibration.world_to_mm if calibration else math.nan
        return self._kinematics.sample(pose, orientation, mm_per_px, world_to_mm)
