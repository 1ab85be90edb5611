"""The live setup check: is the person ready to be measured? One plain instruction per problem.

It looks at each frame's raw pose (before calibration, so it works from the first frame):
light, someone in view, the whole body in the picture, big enough, and the camera view the
exercise needs. The set starts once no problem has been seen for ``ok_hold_s``.
"""

from __future__ import annotations

from formcheck.analyzers.spec import SetupSpec
from formcheck.config import QualityConfig
from formcheck.kinematics.framing import Framing, YawWindow, frame_framing, wrong_view
from formcheck.kinematics.orientation import OrientationConfig, camera_yaw_from_side_deg
from formcheck.server.messages import SetupProblem
from formcheck.types import PoseFrame

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


class SetupChecker:
    """Per-frame setup problems, and whether the setup has been right long enough."""

    def __init__(
        self,
        setup: SetupSpec,
        quality: QualityConfig,
        *,
        ok_hold_s: float,
        orientation: OrientationConfig | None = None,
    ) -> None:
        self._setup = setup
        self._quality = quality
        self._orientation = orientation or OrientationConfig()
        self._ok_hold_s = ok_hold_s
        self._ok_since_ms: float | None = None
        self._yaw = YawWindow()

    def check(self, pose: PoseFrame, mean_luma: float) -> list[SetupProblem]:
        """This frame's problems, most important first."""
        problems: list[SetupProblem] = []
        if mean_luma < self._quality.min_mean_luma:
            problems.append(MORE_LIGHT)
        if not pose.has_pose:
            self._yaw.clear()
            return [*problems, NO_PERSON]
        framing = frame_framing(pose, self._quality)
        if framing.cut:
            problems.append(_step_back(framing))
        elif framing.too_small:
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

    def _wrong_view(self, pose: PoseFrame) -> bool:
        median_yaw_deg = self._yaw.push(pose.t_ms, camera_yaw_from_side_deg(pose))
        return wrong_view(
            median_yaw_deg,
            accepted_views=self._setup.accepted_views,
            max_yaw_from_side_deg=self._setup.max_yaw_from_side_deg,
            orientation=self._orientation,
        )


def _step_back(framing: Framing) -> SetupProblem:
    if framing.feet_out:
        return STEP_BACK_FEET
    if framing.head_out:
        return STEP_BACK_HEAD
    return STEP_BACK
