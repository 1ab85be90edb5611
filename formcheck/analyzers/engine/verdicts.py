"""What each rep's checks came to: found, judged and not found, or not judged and why, and
the plausibility gate that keeps impossible values out of every message."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

from formcheck.analyzers.checks.condition import Condition, NotJudged, not_judged, unjudged
from formcheck.analyzers.codes import DEPTH_SHORT, TEMPO_DOWN_FAST, TEMPO_UP_FAST
from formcheck.analyzers.events import CheckResult, Finding

TEMPO_CODES = (TEMPO_DOWN_FAST, TEMPO_UP_FAST)


def plausible(condition: Condition, ranges: Mapping[str, tuple[float, float]]) -> Condition:
    """The condition, or "not judged" when its value lies outside the physical range of its
    unit (``ranges``, the spec's ``[plausible]``): such a value is a failed measurement (a
    landmark on a barbell plate, an angle wrapped through 180 deg) and never reaches a
    message."""
    bounds = ranges.get(condition.unit)
    if bounds is None or condition.active is None:
        return condition
    low, high = bounds
    if low <= condition.value <= high:
        return condition
    return not_judged(condition, NotJudged.IMPLAUSIBLE)


def others_not_judged(
    conditions: list[Condition], faults: Iterable[str], reason: NotJudged
) -> list[Condition]:
    """``conditions`` and, for every other code of ``faults`` (tempo and depth apart: they
    need no particular view), "not judged" for ``reason``."""
    done = {c.code for c in conditions} | {*TEMPO_CODES, DEPTH_SHORT}
    return conditions + [unjudged(code, reason) for code in faults if code not in done]


def check_results(
    faults: Sequence[str], conditions: list[Condition], findings: list[Finding]
) -> tuple[CheckResult, ...]:
    """Every check of the exercise on one rep: found (by a rep check or a live finding the
    rep upheld), judged and not found, or not judged and why. The way down and the way up
    share one tempo judgement."""
    by_code: dict[str, list[Condition]] = {}
    for c in conditions:
        by_code.setdefault(c.code, []).append(c)
    found = {f.code: f for f in findings}
    tempo_judged = any(c.active is not None for code in TEMPO_CODES for c in by_code.get(code, []))
    out = []
    for code in dict.fromkeys([*faults, *by_code]):
        conds = by_code.get(code, [])
        judged = [c for c in conds if c.active is not None]
        if code in found:
            f = found[code]
            out.append(CheckResult(code, True, True, f.value, f.threshold, f.unit))
        elif judged:
            j = judged[0]
            out.append(CheckResult(code, True, False, j.value, j.threshold, j.unit))
        elif code in TEMPO_CODES and tempo_judged:
            out.append(CheckResult(code, True, False, math.nan, math.nan, "s"))
        else:
            reason = next((c.reason for c in conds if c.reason), None) or unevaluated(code)
            first = conds[0] if conds else Condition(code, None, math.nan, math.nan, "")
            out.append(
                CheckResult(code, False, False, first.value, first.threshold, first.unit, reason)
            )
    return tuple(out)


def unevaluated(code: str) -> NotJudged:
    """Why a check the exercise did not evaluate on a rep was not judged: tempo and depth
    need a prescription (or a spec minimum); anything else was turned off."""
    if code in TEMPO_CODES or code == DEPTH_SHORT:
        return NotJudged.NOT_PRESCRIBED
    return NotJudged.CHECK_OFF


def hold_check_results(
    faults: Sequence[str], findings: Sequence[Finding], *, settled: bool
) -> tuple[CheckResult, ...]:
    """A hold's checks over the whole hold: judged once the person settled into their own
    line (found or not), else not judged (too short)."""
    found = {f.code: f for f in findings}
    out = []
    for code in faults:
        f = found.get(code)
        if f is not None:
            out.append(CheckResult(code, True, True, f.value, f.threshold, f.unit))
        elif settled:
            out.append(CheckResult(code, True, False, math.nan, math.nan, ""))
        else:
            out.append(CheckResult(code, False, False, math.nan, math.nan, "", NotJudged.TOO_SHORT))
    return tuple(out)
