"""The live setup check: is the person ready to be measured? One plain instruction per problem.

It looks at each frame's raw pose (before calibration, so it works from the first frame):
light, someone in view, the whole body in the picture, big enough, and the camera view the
exercise needs. The set starts once no problem has been seen for ``ok_hold_s``.
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np

from formcheck.analyzers.spec import SetupSpec
from formcheck.config import QualityConfig
from formcheck.kinematics.orientation import (
    OrientationConfig,
    camera_yaw_from_side_deg,
    classify_view,
)
from formcheck.kinematics.stage import frame_quality
from formcheck.pose.landmarks import SIDE_JOINTS, Landmark
from formcheck.server.messages import SetupProblem
from formcheck.types import CameraView, PoseFrame

VIEW_WINDOW_S = 0.5  # the view is judged on the median yaw over this long
MS_PER_S = 1000.0

MORE_LIGHT = SetupProblem(
    code="more_light", message="Turn on more light or face a window: the picture is too dark."
)
NO_PERSON = SetupProblem(
    code="no_person",
    message="Step into view: stand side-on about 3 m from the camera, whole body in the picture.",
)
STEP_BACK_FEET = SetupProblem(code="step_back", message="Step back until your feet are in view.")
STEP_BACK_HEAD = SetupProblem(code="step_back", message="Step back until your head is in view.")
STEP_BACK = SetupProblem(code="step_back", message="Step back so your whole body is in view.")
MOVE_CLOSER = SetupProblem(
    code="move_closer", message="Move closer to the camera: you are too small in the picture."
)

_FEET = [SIDE_JOINTS[s][j] for s in ("left", "right") for j in ("ankle", "heel", "foot_index")]
_HEAD = [Landmark.NOSE, Landmark.LEFT_EAR, Landmark.RIGHT_EAR]


class SetupChecker:
    """Per-frame setup problems, and whether the setup has been right long enough."""

    def __init__(
        self,
        setup: SetupSpec,
        quality: QualityConfig,
        *,
        min_mean_luma: float,
        ok_hold_s: float,
        orientation: OrientationConfig | None = None,
    ) -> None:
        self._setup = setup
        self._quality = quality
        self._orientation = orientation or OrientationConfig()
        self._min_mean_luma = min_mean_luma
        self._ok_hold_s = ok_hold_s
        self._ok_since_ms: float | None = None
        self._yaw_deg: deque[tuple[float, float]] = deque()

    def check(self, pose: PoseFrame, mean_luma: float) -> list[SetupProblem]:
        """This frame's problems, most important first."""
        problems: list[SetupProblem] = []
        if mean_luma < self._min_mean_luma:
            problems.append(MORE_LIGHT)
        if not pose.has_pose:
            self._yaw_deg.clear()
            return [*problems, NO_PERSON]
        quality = frame_quality(pose, self._quality)
        if not quality.in_frame:
            problems.append(self._step_back(pose))
        elif quality.too_small:
            problems.append(MOVE_CLOSER)
        if self._wrong_view(pose):
            view_hint = SetupProblem(
                code=self._setup.view_hint, message=self._setup.view_hint_message
            )
            problems.append(view_hint)
        return problems

    def update(self, t_ms: float, problems: list[SetupProblem]) -> bool:
        """Record this frame's verdict; True once the setup has been right for ok_hold_s."""
        if problems:
            self._ok_since_ms = None
            return False
        if self._ok_since_ms is None:
            self._ok_since_ms = t_ms
        return t_ms - self._ok_since_ms >= self._ok_hold_s * MS_PER_S

    def _step_back(self, pose: PoseFrame) -> SetupProblem:
        p = pose.landmarks_px
        assert p is not None
        margin = self._quality.edge_margin_px

        def outside(indices: list[Landmark]) -> bool:
            pts = p[indices, :2]
            return bool(
                np.any(pts[:, 0] < margin)
                or np.any(pts[:, 0] > pose.image_width_px - margin)
                or np.any(pts[:, 1] < margin)
                or np.any(pts[:, 1] > pose.image_height_px - margin)
            )

        if outside(_FEET):
            return STEP_BACK_FEET
        if outside(_HEAD):
            return STEP_BACK_HEAD
        return STEP_BACK

    def _wrong_view(self, pose: PoseFrame) -> bool:
        yaw_deg = camera_yaw_from_side_deg(pose)
        if not math.isnan(yaw_deg):
            self._yaw_deg.append((pose.t_ms, yaw_deg))
        while self._yaw_deg and self._yaw_deg[0][0] < pose.t_ms - VIEW_WINDOW_S * MS_PER_S:
            self._yaw_deg.popleft()
        if not self._yaw_deg:
            return False  # an unknown view is not a problem
        median_yaw_deg = float(np.median([yaw for _, yaw in self._yaw_deg]))
        view = classify_view(median_yaw_deg, self._orientation)
        limit_deg = self._setup.max_yaw_from_side_deg
        if limit_deg is not None and median_yaw_deg > limit_deg:
            return True
        return view is not CameraView.UNKNOWN and view.value not in self._setup.accepted_views
