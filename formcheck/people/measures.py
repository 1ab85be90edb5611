"""A set's numbers for the progress page, from its report (live, upload or file).

Per rep: the back's change at depth (mm: the magnitude of the exercise's own back-change
measure, the first of ``BACK_CHANGE_MEASURES`` it reports), the down phase (s) and whether it
kept the prescribed tempo. Per set: reps, hold time, the rep where form frays, spine
findings.
"""

from __future__ import annotations

import math
from typing import Any

from formcheck.analyzers.codes import TEMPO_DOWN_FAST, TEMPO_UP_FAST
from formcheck.people.programmes import ProgrammeError
from formcheck.report.model import CheckResult, CheckStatus, Report

# Each exercise's "how much the back moved away from its reference at depth", in millimetres.
BACK_CHANGE_MEASURES = ("curve_change_mm", "spine_change_mm", "chord_change_mm")
TEMPO_CODES = (TEMPO_DOWN_FAST, TEMPO_UP_FAST)
SPINE_FINDING_PREFIX = "spine_"  # spine_rounded, spine_arched: the findings about the back


def set_measures(report: Report) -> dict[str, Any]:
    """The stored measures of one set (JSON-ready; units in the names)."""
    summary = report.summary
    down_s = [r.phases.down_s for r in report.reps]
    back = [_back_change(r.metrics) for r in report.reps]
    on_tempo = [_on_tempo(r.checks) for r in report.reps]
    spine = [f.code for f in report.findings if f.code.startswith(SPINE_FINDING_PREFIX)]
    return {
        "exercise": report.exercise,
        "reps": summary.reps if summary is not None else 0,
        "target_reps": summary.target_reps if summary is not None else None,
        "hold_s": summary.hold_s if summary is not None else None,
        "target_hold_s": summary.target_hold_s if summary is not None else None,
        "form_frays_at_rep": summary.form_frays_at_rep if summary is not None else None,
        "rep_down_s": down_s,
        "rep_on_tempo": on_tempo,
        "rep_back_change_mm": back,
        "spine_findings": len(spine),
        "findings": sorted({f.code for f in report.findings}),
    }


def report_from_json(data: dict[str, Any]) -> Report:
    try:
        return Report.model_validate(data)
    except ValueError as error:
        raise ProgrammeError(f"The set's report is not a formcheck report: {error}") from error


def _back_change(metrics: dict[str, float | None]) -> float | None:
    for name in BACK_CHANGE_MEASURES:
        value = metrics.get(name)
        if value is not None and math.isfinite(value):
            return abs(value)
    return None


def _on_tempo(checks: list[CheckResult]) -> bool | None:
    """Whether the rep kept its tempo (neither phase judged too quick); None: not judged."""
    judged = [c for c in checks if c.code in TEMPO_CODES and c.status is CheckStatus.JUDGED]
    return None if not judged else not any(c.fault for c in judged)
