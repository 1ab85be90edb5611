"""A report in a few lines of text, for the terminal (``formcheck analyze`` and ``live``)."""

from __future__ import annotations

from formcheck.report.model import Report
from formcheck.report.words import NOT_JUDGED, fault_name, plural

SET = "set"


def summary_line(report: Report) -> str:
    """One line: reps (or hold time), attempts and where form frayed."""
    summary = report.summary
    exercise = report.exercise or SET
    if summary is None:
        return f"{exercise}: not analysed"
    if summary.hold_s is not None:
        target = summary.target_hold_s
        of = f" of {target:g} s" if target else ""
        line = f"{exercise}: held {summary.hold_s:.1f} s{of}"
    else:
        line = (
            f"{exercise}: {plural(summary.reps, 'rep')}, "
            f"{plural(summary.attempts, 'partial attempt')}"
        )
    frays = summary.form_frays_at_rep
    return line + (f", form frays from rep {frays}" if frays else "")


def finding_lines(report: Report) -> list[str]:
    """One indented line per finding, in the order they were found, then one per check that
    could not be judged (why, and what to change); "no faults" only when every check was
    judged."""
    lines = [f"  - {finding.message}" for finding in report.findings]
    if report.summary is not None and not report.findings:
        lines.append(
            "  no faults found" if not report.not_judged else "  no faults found in what could "
            "be judged"
        )
    for item in report.not_judged:
        reps = ", ".join(str(r) for r in item.reps)
        where = f" in rep{'s' if len(item.reps) > 1 else ''} {reps}" if reps else ""
        advice = f" {item.advice}" if item.advice else ""
        lines.append(
            f"  ? {fault_name(item.code)} not judged{where}: {NOT_JUDGED[item.reason]}.{advice}"
        )
    return lines
