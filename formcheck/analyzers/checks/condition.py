"""A check's result on one frame or one rep, and the two ways a value breaks its limit."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Condition:
    """One check evaluated on one frame or one rep.

    ``active`` is None when the check cannot be evaluated (a missing measure, a posture that
    is not comparable with the reference): it was not judged. A per-frame persistence timer
    neither advances nor resets then.
    """

    code: str
    active: bool | None
    value: float
    threshold: float
    unit: str


def exceeds(code: str, value: float, limit: float, unit: str, judged: bool = True) -> Condition:
    """Active when ``value`` is above ``limit``; not judged when ``judged`` is False or
    either number is unknown."""
    known = judged and math.isfinite(value) and math.isfinite(limit)
    return Condition(code, value > limit if known else None, value, limit, unit)


def falls_short(code: str, value: float, limit: float, unit: str, judged: bool = True) -> Condition:
    """Active when ``value`` is below ``limit`` (a depth, a range, a duration); not judged
    when ``judged`` is False or either number is unknown."""
    known = judged and math.isfinite(value) and math.isfinite(limit)
    return Condition(code, value < limit if known else None, value, limit, unit)


def not_judged(condition: Condition) -> Condition:
    """The same check, marked as not judged (its value kept for the report)."""
    return Condition(condition.code, None, condition.value, condition.threshold, condition.unit)
