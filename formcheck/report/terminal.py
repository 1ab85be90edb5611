"""A report in a few lines of text, for the terminal (``formcheck analyze`` and ``live``)."""

from __future__ import annotations

from formcheck.report.model import Report
from formcheck.report.verdict import build_verdict
from formcheck.report.words import and_list, plural

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
    """One indented line per finding, in the order they were found; then the verdict's
    headline when nothing was found ("No faults found" only when every check was judged);
    then the filming help, and what was not judged, one line per reason with the checks it
    kept from being judged and what to change (the same words as the page and the HTML
    report)."""
    lines = [f"  - {finding.message}" for finding in report.findings]
    if report.summary is None:
        return lines
    verdict = build_verdict(report)
    if not report.findings:
        lines.append(f"  {verdict.headline.lower()}")
    for tip in verdict.filming:  # first: the not-judged lines below may point to it
        lines.append(f"  filming help: {tip.text} {tip.advice}")
    by_reason: dict[tuple[str, str], list[str]] = {}
    for item in verdict.not_judged:
        where = f" ({item.where})" if item.where else ""
        by_reason.setdefault((item.why, item.advice), []).append(f"{item.name.lower()}{where}")
    for (why, advice), checks in by_reason.items():
        tail = f" {advice}" if advice else ""
        lines.append(f"  ? not judged, because {why}: {and_list(checks)}.{tail}")
    if verdict.not_asked:
        lines.append(f"  {verdict.not_asked}")
    return lines
