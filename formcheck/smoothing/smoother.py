"""Smooths the landmarks of a stream of PoseFrames (stage 3 of the pipeline)."""

from __future__ import annotations

import dataclasses

import numpy as np

from formcheck.config import OneEuroConfig
from formcheck.pose.landmarks import Landmark
from formcheck.smoothing.one_euro import OneEuroFilter
from formcheck.types import PoseFrame

_SHOULDERS = (Landmark.LEFT_SHOULDER, Landmark.RIGHT_SHOULDER)
_HIPS = (Landmark.LEFT_HIP, Landmark.RIGHT_HIP)


def torso_length(points: np.ndarray) -> float:
    """Distance between the shoulder midpoint and the hip midpoint, in the points' units."""
    shoulder = points[list(_SHOULDERS), :2].mean(axis=0)
    hip = points[list(_HIPS), :2].mean(axis=0)
    return float(np.linalg.norm(shoulder - hip))


class PoseSmoother:
    """One Euro filtering of every landmark coordinate, image and world.

    Image coordinates are filtered in torso lengths (``beta`` is per torso length per second)
    so a near and a far person are smoothed alike. A frame without a pose resets nothing:
    the filter resumes from the last estimate when the person reappears, unless they were
    gone longer than ``reset_after_ms``.
    """

    def __init__(self, config: OneEuroConfig, reset_after_ms: float = 500.0) -> None:
        self._image = OneEuroFilter(config)
        self._world = OneEuroFilter(config)
        self._reset_after_ms = reset_after_ms
        self._last_pose_t_ms: float | None = None

    def reset(self) -> None:
        """Forget the estimates: the next pose starts the filter afresh (a camera cut)."""
        self._image.reset()
        self._world.reset()
        self._last_pose_t_ms = None

    def __call__(self, frame: PoseFrame) -> PoseFrame:
        if frame.shot_cut:
            self.reset()  # a new shot: nothing of the last one's landmarks carries over
        if frame.landmarks_px is None:
            return frame
        if (
            self._last_pose_t_ms is not None
            and frame.t_ms - self._last_pose_t_ms > self._reset_after_ms
        ):
            self._image.reset()
            self._world.reset()
        self._last_pose_t_ms = frame.t_ms
        scale_px = max(torso_length(frame.landmarks_px), 1.0)
        image = self._image(frame.t_ms, frame.landmarks_px, value_scale=1.0 / scale_px)
        world = None
        if frame.world_m is not None:
            scale_m = max(torso_length(frame.world_m), 1e-3)
            world = self._world(frame.t_ms, frame.world_m, value_scale=1.0 / scale_m)
        return dataclasses.replace(frame, landmarks_px=image, world_m=world)
