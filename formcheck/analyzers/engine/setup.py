"""Camera and framing hints: turn sideways, step back, move closer."""

from __future__ import annotations

import math

from formcheck.analyzers.events import SetupHint, SetupHintCode
from formcheck.analyzers.spec import SetupSpec
from formcheck.kinematics.framing import view_not_accepted
from formcheck.kinematics.names import CAMERA_YAW_FROM_SIDE_DEG
from formcheck.types import Sample

_MESSAGES = {
    SetupHintCode.STEP_BACK: "Step back so your whole body is in view.",
    SetupHintCode.MOVE_CLOSER: "Move closer to the camera: you are too small in the picture.",
    SetupHintCode.NO_PERSON: "Step into view of the camera.",
}


class SetupAdvisor:
    """Emits a hint once a problem has lasted ``hint_persistence_s``, then every
    ``hint_repeat_s`` while it lasts."""

    def __init__(self, spec: SetupSpec):
        self._spec = spec
        self._since: dict[SetupHintCode, float] = {}
        self._last_emit: dict[SetupHintCode, float] = {}

    def update(self, t_s: float, sample: Sample) -> list[SetupHint]:
        problems = self._problems(sample)
        for code in list(self._since):
            if code not in problems:
                del self._since[code]
        hints: list[SetupHint] = []
        for code, message in problems.items():
            since = self._since.setdefault(code, t_s)
            last = self._last_emit.get(code, -math.inf)
            due = t_s - since >= self._spec.hint_persistence_s
            if due and t_s - last >= self._spec.hint_repeat_s:
                self._last_emit[code] = t_s
                hints.append(SetupHint(code, message, t_s))
        return hints

    def _problems(self, sample: Sample) -> dict[SetupHintCode, str]:
        quality = sample.quality
        if not quality.has_pose:
            return {SetupHintCode.NO_PERSON: _MESSAGES[SetupHintCode.NO_PERSON]}
        out: dict[SetupHintCode, str] = {}
        if not quality.in_frame:
            out[SetupHintCode.STEP_BACK] = _MESSAGES[SetupHintCode.STEP_BACK]
        if quality.too_small:
            out[SetupHintCode.MOVE_CLOSER] = _MESSAGES[SetupHintCode.MOVE_CLOSER]
        wrong = view_not_accepted(
            sample.view,
            sample.get(CAMERA_YAW_FROM_SIDE_DEG),
            accepted_views=self._spec.accepted_views,
            max_yaw_from_side_deg=self._spec.max_yaw_from_side_deg,
        )
        if wrong:
            out[SetupHintCode(self._spec.view_hint)] = self._spec.view_hint_message
        return out
