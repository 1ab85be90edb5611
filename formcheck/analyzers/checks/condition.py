"""A check's result on one frame or one rep, and the two ways a value breaks its limit."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from enum import StrEnum


class NotJudged(StrEnum):
    """Why a check was not judged on a rep (what the person can change is said with it)."""

    VIEW_ANGLE = "view_angle"  # the camera was not side-on enough (or from the front)
    BACK_HIDDEN = "back_hidden"  # the back's outline was hidden, crossed or unsteady
    TRACKING_LOST = "tracking_lost"  # too few trusted frames in the part of the rep judged
    NO_REFERENCE = "no_reference"  # the check compares with earlier reps and there were none
    POSTURE = "posture_not_comparable"  # the posture differed too much from the reference's
    NOT_DEEP = "not_deep_enough"  # the rep did not go deep enough for the check to apply
    CHECK_OFF = "check_off"  # the spec or the prescription turns the check off
    NOT_PRESCRIBED = "not_prescribed"  # a tempo or depth check without a target to meet
    TOO_SHORT = "too_short"  # a hold too short to settle into the person's own line
    NOT_MEASURED = "not_measured"  # a measure it needs could not be read on this rep
    IMPLAUSIBLE = "implausible_value"  # the measured value is outside its physical range
    CAMERA_CUT = "camera_cut"  # the video cut to another shot during the rep
    OTHER_FAULT = "masked_by_other_fault"  # a related fault (a rounding back) is the cue


@dataclass(frozen=True, slots=True)
class Condition:
    """One check evaluated on one frame or one rep.

    ``active`` is None when the check could not be evaluated (a missing measure, a posture
    that is not comparable with the reference): it was not judged, for ``reason``. A
    per-frame persistence timer neither advances nor resets then.
    """

    code: str
    active: bool | None
    value: float
    threshold: float
    unit: str
    reason: NotJudged | None = None


def _judge(
    code: str,
    active: bool,
    value: float,
    limit: float,
    unit: str,
    judged: bool,
    reason: NotJudged | None,
) -> Condition:
    if not judged:
        return Condition(code, None, value, limit, unit, reason or NotJudged.NOT_MEASURED)
    if not (math.isfinite(value) and math.isfinite(limit)):
        return Condition(code, None, value, limit, unit, NotJudged.NOT_MEASURED)
    return Condition(code, active, value, limit, unit)


def exceeds(
    code: str,
    value: float,
    limit: float,
    unit: str,
    judged: bool = True,
    reason: NotJudged | None = None,
) -> Condition:
    """Active when ``value`` is above ``limit``; not judged (for ``reason``) when ``judged``
    is False, or when either number is unknown (not measured)."""
    return _judge(code, value > limit, value, limit, unit, judged, reason)


def falls_short(
    code: str,
    value: float,
    limit: float,
    unit: str,
    judged: bool = True,
    reason: NotJudged | None = None,
) -> Condition:
    """Active when ``value`` is below ``limit`` (a depth, a range, a duration); not judged
    (for ``reason``) when ``judged`` is False or either number is unknown."""
    return _judge(code, value < limit, value, limit, unit, judged, reason)


def not_judged(condition: Condition, reason: NotJudged = NotJudged.NOT_MEASURED) -> Condition:
    """The same check, marked as not judged for ``reason`` (its value kept for the report)."""
    return replace(condition, active=None, reason=reason)


def unjudged(code: str, reason: NotJudged, unit: str = "") -> Condition:
    """A check that could not be evaluated at all on this rep."""
    return Condition(code, None, math.nan, math.nan, unit, reason)
