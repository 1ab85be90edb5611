"""The back-shape and head checks, against the person's own reference posture.

Absolute outlines differ between people and cameras far more than a fault changes them
(FACTS.md), so the back is judged as a change from a reference taken in the same posture:
the rep's outline measure against the reference's, only when the posture is comparable
(deep enough, trunk tipped about as far as in the reference), with a noise-gated limit. A
back that rounds carries the head forward with it: the back is the cue then, and the head is
not judged.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from formcheck.analyzers.checks.condition import Condition, NotJudged, exceeds, not_judged
from formcheck.analyzers.codes import HEAD_FORWARD, SPINE_ARCHED, SPINE_ROUNDED

MM = "mm"


def deep_enough(
    depth_deg: float, depth_min_deg: float, trunk_deg: float, trunk_min_deg: float
) -> bool:
    """The rep went deep enough and the trunk tipped far enough for the outline to show
    the back's bend (more upright, the outline is seen edge-on to it)."""
    return depth_deg >= depth_min_deg and trunk_deg >= trunk_min_deg


def posture_off_deg(value_deg: float, references_deg: Iterable[float]) -> float:
    """How far a posture angle is from the furthest of the references' (NaN when the first
    reference is unknown)."""
    return max(abs(value_deg - r) for r in references_deg)


def why_not(
    value: float,
    reference: float,
    deep: bool,
    matched: bool,
    unseen: NotJudged = NotJudged.BACK_HIDDEN,
) -> NotJudged | None:
    """Why a change of ``value`` from ``reference`` cannot be judged (None: it can): the
    value was not seen (``unseen``), there is no reference yet, the rep was not deep
    enough, or its posture differs from the reference's."""
    if not math.isfinite(value):
        return unseen
    if not math.isfinite(reference):
        return NotJudged.NO_REFERENCE
    if not deep:
        return NotJudged.NOT_DEEP
    if not matched:
        return NotJudged.POSTURE
    return None


def rounded(change_mm: float, limit_mm: float, reason: NotJudged | None) -> Condition:
    """The back rounder than the reference by more than the limit (mm); not judged for
    ``reason`` when there is one."""
    return exceeds(SPINE_ROUNDED, change_mm, limit_mm, MM, reason is None, reason)


def arched(change_mm: float, limit_mm: float, reason: NotJudged | None) -> Condition:
    """The back more arched (flatter, or hollow) than the reference by more than the limit
    (mm, positive towards arched)."""
    return exceeds(SPINE_ARCHED, change_mm, limit_mm, MM, reason is None, reason)


def head_forward(change_mm: float, limit_mm: float, reason: NotJudged | None) -> Condition:
    """The head pushed forward of the trunk line more than in the reference (mm)."""
    return exceeds(HEAD_FORWARD, change_mm, limit_mm, MM, reason is None, reason)


def unless_rounded(back: Condition, other: Condition) -> Condition:
    """Another check of the same posture (the head, the trunk's lean), not judged when the
    back rounded: a rounding back carries the head and the trunk with it, and the back is
    the cue then."""
    return not_judged(other, NotJudged.OTHER_FAULT) if back.active else other


def signed_larger(up: float, down: float) -> float:
    """The change from the reference reps that is larger in size: ``up`` when positive and
    larger than ``-down``, else ``down`` (NaN when either is NaN)."""
    if not (math.isfinite(up) and math.isfinite(down)):
        return math.nan
    if up > 0 and up >= -down:
        return up
    return down if down < 0 else 0.0
