"""Findings and the cue policy: turning check results into findings and cues.

A per-frame condition must hold for ``persistence_s`` of video time before it becomes a
finding; the cue policy then decides which findings are spoken: at most
``spoken_per_rep_max`` per rep, the same code not again within ``cooldown_s``, and by the
spec's priority order (spine safety first).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from formcheck.analyzers.checks.condition import Condition
from formcheck.analyzers.events import Cue, Finding, Severity
from formcheck.analyzers.spec import CueSpec

_SEVERITY_ORDER = {Severity.SAFETY: 0, Severity.WARNING: 1, Severity.INFO: 2}


@dataclass(slots=True)
class _Run:
    since_s: float = math.nan
    worst: float = math.nan
    fired: bool = False


@dataclass(slots=True)
class Persistence:
    """Debounces per-frame conditions by how long (in seconds) they have held."""

    persistence_s: float
    _runs: dict[str, _Run] = field(default_factory=dict)
    _peaks: dict[str, float] = field(default_factory=dict)

    def update(self, t_s: float, condition: Condition) -> Condition | None:
        """The condition (with the worst value of the run) when it first persists, else None."""
        run = self._runs.setdefault(condition.code, _Run())
        if condition.active is None:
            return None
        if not condition.active:
            run.since_s, run.worst = math.nan, math.nan
            return None
        if math.isnan(run.since_s):
            run.since_s = t_s
        run.worst = _worse(run.worst, condition.value, condition.threshold)
        self._peaks[condition.code] = _worse(
            self._peaks.get(condition.code, math.nan), condition.value, condition.threshold
        )
        if run.fired or t_s - run.since_s < self.persistence_s:
            return None
        run.fired = True
        return Condition(condition.code, True, run.worst, condition.threshold, condition.unit)

    def fire(self, condition: Condition) -> Condition | None:
        """A condition judged once over a stretch (the bottom of a rep, a median over it:
        it needs no persistence) as a finding, unless its code already fired this rep."""
        if not condition.active:
            return None
        run = self._runs.setdefault(condition.code, _Run())
        if run.fired:
            return None
        run.fired = True
        run.worst = _worse(run.worst, condition.value, condition.threshold)
        self._peaks[condition.code] = _worse(
            self._peaks.get(condition.code, math.nan), condition.value, condition.threshold
        )
        return condition

    def worst(self, code: str) -> float:
        """The value furthest beyond the threshold while active, since the last reset."""
        return self._peaks.get(code, math.nan)

    def reset(self) -> None:
        """Start a new rep: every code may fire again."""
        self._runs.clear()
        self._peaks.clear()


def _worse(current: float, value: float, threshold: float) -> float:
    """The value further beyond the threshold (works for upper and lower limits)."""
    if math.isnan(current):
        return value
    if value >= threshold:
        return max(current, value)
    return min(current, value)


class CuePolicy:
    def __init__(self, spec: CueSpec):
        self._spec = spec
        self._spoken_in_rep: dict[int, int] = {}
        self._last_spoken_s: dict[str, float] = {}

    def rank(self, finding: Finding) -> tuple[int, int]:
        order = self._spec.priority
        pos = order.index(finding.code) if finding.code in order else len(order)
        return pos, _SEVERITY_ORDER[finding.severity]

    def decide(self, findings: list[Finding]) -> list[Cue]:
        """Cues for new findings (highest priority first), marking the ones to speak."""
        cues: list[Cue] = []
        for finding in sorted(findings, key=self.rank):
            spoken_count = self._spoken_in_rep.get(finding.rep, 0)
            last = self._last_spoken_s.get(finding.code, -math.inf)
            speak = (
                spoken_count < self._spec.spoken_per_rep_max
                and finding.t_s - last >= self._spec.cooldown_s
            )
            if speak:
                self._spoken_in_rep[finding.rep] = spoken_count + 1
                self._last_spoken_s[finding.code] = finding.t_s
            cues.append(Cue.from_finding(finding, spoken=speak))
        return cues
