"""Rep scores, form-fray detection and the set summary written into report.json."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from formcheck.analyzers.baseline import Baseline
from formcheck.analyzers.events import Finding, RepRecord
from formcheck.analyzers.spec import ScoringSpec

MAX_SCORE = 100.0


def rep_score(findings: Sequence[Finding], spec: ScoringSpec) -> float:
    """100 minus each fault's penalty, scaled up to ``excess_factor_max`` by how far it went."""
    score = MAX_SCORE
    for finding in findings:
        points = spec.penalty_points.get(finding.code, spec.default_penalty_points)
        score -= points * _excess(finding, spec.excess_factor_max)
    return max(0.0, score)


def _excess(finding: Finding, cap: float) -> float:
    value, threshold = abs(finding.value), abs(finding.threshold)
    if not (math.isfinite(value) and math.isfinite(threshold)) or threshold == 0 or value == 0:
        return 1.0
    ratio = max(value / threshold, threshold / value)
    return float(min(cap, max(1.0, ratio)))


def form_frays_at(scores: Sequence[float], reference_reps: int, spec: ScoringSpec) -> int | None:
    """1-based rep from which the score drops ``fray_drop_points`` below the first reps' and
    stays down to the end of the set (at least ``fray_min_reps`` reps); None if it never does."""
    n_ref = max(1, reference_reps)
    if len(scores) < n_ref + spec.fray_min_reps:
        return None
    reference = float(np.median(scores[:n_ref]))
    limit = reference - spec.fray_drop_points
    start: int | None = None
    for i in range(len(scores) - 1, n_ref - 1, -1):
        if scores[i] <= limit:
            start = i
        else:
            break
    if start is None or len(scores) - start < spec.fray_min_reps:
        return None
    return start + 1


@dataclass(slots=True)
class SetSummary:
    exercise: str
    reps: list[RepRecord] = field(default_factory=list)
    attempts: list[RepRecord] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    form_frays_at_rep: int | None = None
    baseline: Baseline | None = None
    hold_s: float | None = None
    target_reps: int | None = None
    target_hold_s: float | None = None

    def to_report_dict(self) -> dict[str, object]:
        summary: dict[str, object] = {
            "reps": len(self.reps),
            "attempts": len(self.attempts),
            "form_frays_at_rep": self.form_frays_at_rep,
        }
        sides = [r.side for r in self.reps if r.side is not None]
        if sides:  # alternating exercises: counted reps per working side
            summary["reps_per_side"] = {side: sides.count(side) for side in sorted(set(sides))}
        if self.hold_s is not None:
            summary["hold_s"] = round(self.hold_s, 3)
        if self.target_reps is not None:
            summary["target_reps"] = self.target_reps
        if self.target_hold_s is not None:
            summary["target_hold_s"] = self.target_hold_s
        out: dict[str, object] = {
            "exercise": self.exercise,
            "reps": [r.to_dict() for r in self.reps],
            "attempts": [a.to_dict() for a in self.attempts],
            "findings": [f.to_dict() for f in self.findings],
            "summary": summary,
        }
        if self.baseline is not None:
            out["baseline"] = self.baseline.to_dict()
        return out


def summary_line(report: Mapping[str, Any]) -> str:
    """One line for a terminal: reps (or hold time), attempts and where form frayed."""
    summary = report.get("summary") or {}
    exercise = report.get("exercise", "set")
    if summary.get("hold_s") is not None:
        target = summary.get("target_hold_s")
        of = f" of {target:g} s" if target else ""
        line = f"{exercise}: held {summary['hold_s']:.1f} s{of}"
    else:
        line = (
            f"{exercise}: {summary.get('reps', 0)} reps, "
            f"{summary.get('attempts', 0)} partial attempts"
        )
    frays = summary.get("form_frays_at_rep")
    return line + (f", form frays from rep {frays}" if frays else "")
