"""The set summary written into report.json."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from formcheck.analyzers.baseline import Baseline
from formcheck.analyzers.events import Finding, RepRecord


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
    compared_with: str = ""  # what the relative checks compared each rep with

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
            "compared_with": self.compared_with,
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
