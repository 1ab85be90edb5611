"""A report in a few lines of text, for the terminal (``formcheck analyze`` and ``live``)."""

from __future__ import annotations

from formcheck.report.model import Report

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
        line = f"{exercise}: {summary.reps} reps, {summary.attempts} partial attempts"
    frays = summary.form_frays_at_rep
    return line + (f", form frays from rep {frays}" if frays else "")


def finding_lines(report: Report) -> list[str]:
    """One indented line per finding, in the order they were found."""
    return [f"  - {finding.message}" for finding in report.findings]
