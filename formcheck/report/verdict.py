"""The verdict of a set in plain words: what was counted, what was judged against what, what
was found, what could not be judged and what to change when filming.

One place makes it, from the typed report: the HTML report shows it first, the live page's
summary and the job page show it (the server sends it as JSON), the terminal prints it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from formcheck.analyzers.checks.condition import NotJudged
from formcheck.analyzers.events import Severity
from formcheck.config import FilmingConfig, QualityConfig
from formcheck.kinematics import names
from formcheck.report.advice import FILMING_REASONS, FILMING_TIPS, NOT_JUDGED_ADVICE
from formcheck.report.diagram import diagram_text, diagram_url
from formcheck.report.model import (
    CheckStatus,
    FilmingIssueBlock,
    FilmingProblem,
    FindingBlock,
    ReferenceKind,
    Report,
)
from formcheck.report.words import (
    FAULTS,
    NOT_COUNTED_LOOKED_LIKE,
    NOT_JUDGED,
    Basis,
    and_list,
    fault_explanation,
    fault_name,
    plural,
    rep_list,
)

# More than this off the side, the camera was turned towards the person: the side-view
# checks (back, head) lose their millimetres. Only for a report without a ``filming`` block
# (written before version 3), from its calibration's camera angle; newer reports carry the
# setup check's own per-frame verdict.
MAX_SIDE_YAW_DEG = 30.0
# Reasons that are not a problem of the set: a tempo or depth nobody asked for is listed
# apart ("not asked for"), a masked or switched-off check not at all.
NOT_ASKED = frozenset({NotJudged.NOT_PRESCRIBED})
UNLISTED = frozenset({NotJudged.CHECK_OFF, NotJudged.OTHER_FAULT})
SEVERITY_ORDER = {Severity.SAFETY: 0, Severity.WARNING: 1, Severity.INFO: 2}
PERCENT = 100.0
SEE_FILMING_HELP = "What to change is under Filming help, above."
SPAN_WORDS_MIN_S = 0.05  # a stretch shorter than this is written as one time
UNIT_WORDS = {"mm": " mm", "deg": "°", "ms": " ms", "s": " s", "x": "×", "%": "%", "pct": "%"}


class Tone(StrEnum):
    GOOD = "good"  # every check judged, nothing found
    FAULTS = "faults"  # form faults found
    SAFETY = "safety"  # a fault that matters for the back found
    UNKNOWN = "unknown"  # nothing counted, or parts not judged


class _Block(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class VerdictFinding(_Block):
    """One fault, with every rep it was seen in."""

    code: str
    name: str
    explanation: str
    severity: Severity
    reps: list[int]
    where: str  # "in reps 8-10"
    measured: str  # "12 mm at most (rep 10), the limit 6.4 mm; compared with your first reps"
    advice: str  # the analyzer's own cue for its largest occurrence


class VerdictUnjudged(_Block):
    code: str
    name: str
    reason: NotJudged
    where: str  # "in rep 3", "" for the whole set
    why: str
    advice: str


class FilmingTip(_Block):
    problem: FilmingProblem
    text: str  # what was wrong, with how much and when where the frames tell
    advice: str  # what to change
    checks: list[str]  # plain names of the checks not judged that this can explain


class CameraPlacement(_Block):
    """Where to put the camera for this exercise: the drawing's address and its words."""

    diagram_url: str
    text: str


class Verdict(_Block):
    """The set in plain words; every field is a sentence or a list of them."""

    tone: Tone
    headline: str
    counted: str
    judged: str
    compared_with: str
    form: str  # "Form held up through the set." / "From rep 6 ..."; "" when it cannot be told
    findings: list[VerdictFinding]
    not_judged: list[VerdictUnjudged]
    not_asked: str  # "Not asked for: ... (give a tempo ...)"; "" when none
    filming: list[FilmingTip]
    camera: CameraPlacement


def number_with_unit(value: float | None, unit: str) -> str:
    """``12 mm``, ``35°``, ``1.4×``, ``0.8 s``: whole numbers except seconds and ratios."""
    if value is None or not math.isfinite(value):
        return "–"
    digits = 1 if unit in ("s", "x") else 0
    return f"{value:.{digits}f}{UNIT_WORDS.get(unit, f' {unit}' if unit else '')}"


def compared_with(report: Report) -> str:
    """What the set's changes were measured against, in words."""
    summary = report.summary
    if summary is not None and summary.hold_s is not None:
        return "the first settled second of your hold"
    ref = report.reference
    if ref is None:
        return ""
    if ref.kind is ReferenceKind.SAVED:
        when = ref.recorded_at.strftime("%Y-%m-%d") if ref.recorded_at else "earlier"
        return f"your reference recorded {when}"
    if ref.reps:
        which = rep_list(ref.reps).split(" ", 1)[1]
        first = "first rep" if len(ref.reps) == 1 else "first reps"
        return f"your {first} of this set ({which})"
    return "nothing: no rep was counted"


def _basis_words(basis: Basis, reference: str) -> str:
    if basis is Basis.REFERENCE:
        return f"compared with {reference}" if reference else "compared with your first reps"
    if basis is Basis.PRESCRIPTION:
        return "compared with your prescription"
    if basis is Basis.WITHIN_REP:
        return "measured within each rep"
    return "against the exercise's fixed limit"


def _counted(report: Report) -> str:
    summary = report.summary
    if summary is None:
        return "No exercise was analysed (measures only)."
    if summary.hold_s is not None:
        target = f" of the {summary.target_hold_s:g} s asked for" if summary.target_hold_s else ""
        return f"Held for {summary.hold_s:.1f} s{target}."
    text = plural(summary.reps, "rep") + " counted"
    if summary.target_reps:
        text += f" of the {summary.target_reps} asked for"
    if summary.reps_per_side:
        text += " (" + ", ".join(f"{n} {side}" for side, n in summary.reps_per_side.items()) + ")"
    if summary.attempts:
        text += f"; {plural(summary.attempts, 'partial attempt')} did not go deep enough to count"
    if report.not_counted:
        looked = and_list(sorted({NOT_COUNTED_LOOKED_LIKE[n.sign] for n in report.not_counted}))
        text += (
            f"; {plural(len(report.not_counted), 'movement')} after the last rep "
            f"{'was' if len(report.not_counted) == 1 else 'were'} not counted: it looked like "
            f"{looked}"
        )
    return text + "."


def _judged_codes(report: Report) -> list[str]:
    codes: list[str] = []
    for rep in report.reps:
        for check in rep.checks:
            if check.status is CheckStatus.JUDGED and check.code not in codes:
                codes.append(check.code)
    for f in report.findings:  # holds judge without per-rep checks
        if f.code not in codes:
            codes.append(f.code)
    return codes


def _judged(report: Report, reference: str) -> str:
    codes = _judged_codes(report)
    if report.summary is None:
        return ""
    if not codes:
        return "No check could be judged."
    names_ = and_list([fault_name(code).lower() for code in codes])
    against = f" Changes are compared with {reference}." if reference else ""
    return f"Checked: {names_}.{against}"


def _fray_judged(report: Report) -> bool:
    ref = report.reference
    first = len(ref.reps) if ref is not None else 0
    return report.summary is not None and report.summary.reps >= first + 2


def _form(report: Report) -> str:
    summary = report.summary
    if summary is None or summary.hold_s is not None:
        return ""
    if summary.form_frays_at_rep:
        return (
            f"From rep {summary.form_frays_at_rep} to the end of the set, your reps had clearly "
            "more faults than your first reps: you may have been tiring."
        )
    if summary.reps and _fray_judged(report):
        return "Your form held up through the set: the last reps were as good as the first."
    return ""


def _findings(report: Report, reference: str) -> list[VerdictFinding]:
    by_code: dict[str, list[FindingBlock]] = {}
    for f in report.findings:
        by_code.setdefault(f.code, []).append(f)
    out = []
    for code, items in by_code.items():
        worst = max(items, key=lambda f: f.value if f.value is not None else -math.inf)
        severity = min((f.severity for f in items), key=lambda s: SEVERITY_ORDER[s])
        reps = sorted({f.rep for f in items if f.rep})
        where = f"in {rep_list(reps)}" if reps else "during the hold"
        basis = FAULTS[code].basis if code in FAULTS else Basis.REFERENCE
        at = f" (rep {worst.rep})" if len(reps) > 1 and worst.rep else ""
        measured = (
            f"{number_with_unit(worst.value, worst.unit)} at most{at}, the limit "
            f"{number_with_unit(worst.threshold, worst.unit)}; {_basis_words(basis, reference)}"
        )
        out.append(
            VerdictFinding(
                code=code,
                name=fault_name(code),
                explanation=fault_explanation(code),
                severity=severity,
                reps=reps,
                where=where,
                measured=measured,
                advice=worst.message,
            )
        )
    return sorted(out, key=lambda v: (SEVERITY_ORDER[v.severity], v.reps[:1] or [0]))


def _unjudged(report: Report) -> list[VerdictUnjudged]:
    ref = report.reference
    reference_reps = set(ref.reps) if ref is not None else set()
    judged = set(_judged_codes(report))
    out = []
    for item in report.not_judged:
        if item.reason in NOT_ASKED or item.reason in UNLISTED:
            continue
        if (
            item.reason is NotJudged.NO_REFERENCE
            and item.reps
            and set(item.reps) <= (reference_reps)
            and item.code in judged
        ):
            # the reference reps themselves, what later reps were compared with; with no
            # later rep judged (a single lift), the check was never judged: that is a gap
            continue
        out.append(
            VerdictUnjudged(
                code=item.code,
                name=fault_name(item.code),
                reason=item.reason,
                where=f"in {rep_list(item.reps)}" if item.reps else "",
                why=NOT_JUDGED[item.reason],
                advice=item.advice or NOT_JUDGED_ADVICE[item.reason],
            )
        )
    return out


def _not_asked(report: Report) -> str:
    codes = [i.code for i in report.not_judged if i.reason in NOT_ASKED]
    unique = list(dict.fromkeys(codes))
    if not unique:
        return ""
    return (
        f"Not asked for: {and_list([fault_name(c).lower() for c in unique])}. "
        f"{NOT_JUDGED_ADVICE[NotJudged.NOT_PRESCRIBED]}"
    )


def filming_problems(report: Report) -> list[FilmingProblem]:
    """What the recording itself got in the way of, in the order to fix it."""
    problems: list[FilmingProblem] = []
    reasons = {i.reason for i in report.not_judged}
    filming = report.filming
    if filming is not None:
        problems.extend(i.problem for i in filming.issues)
    else:  # a report written before the filming block: what its other fields tell
        cal = report.calibration
        yaw = cal.baseline.get(names.CAMERA_YAW_FROM_SIDE_DEG) if cal is not None else None
        if yaw is not None and abs(yaw) > MAX_SIDE_YAW_DEG:
            problems.append(FilmingProblem.NOT_SIDE_ON)
        if report.video.frames and report.video.pose_rate < FilmingConfig().min_pose_rate:
            problems.append(FilmingProblem.TRACKING_LOST)
    if NotJudged.VIEW_ANGLE in reasons and FilmingProblem.NOT_SIDE_ON not in problems:
        problems.insert(0, FilmingProblem.NOT_SIDE_ON)
    if NotJudged.TRACKING_LOST in reasons and FilmingProblem.TRACKING_LOST not in problems:
        problems.append(FilmingProblem.TRACKING_LOST)
    if NotJudged.BACK_HIDDEN in reasons:
        problems.append(FilmingProblem.BACK_HIDDEN)
    cal = report.calibration
    if report.summary is not None and (cal is None or not cal.found_still):
        problems.append(FilmingProblem.NO_STILL_MOMENT)
    return problems


def _share_words(issue: FilmingIssueBlock) -> str:
    """"in 40% of the frames (2.1-5.3 s, 8.0-9.2 s)"."""
    spans = ", ".join(
        f"{a:.1f} s" if b - a < SPAN_WORDS_MIN_S else f"{a:.1f}-{b:.1f} s" for a, b in issue.spans_s
    )
    share = f"{PERCENT * issue.share:.0f}%"
    return f"in {share} of the frames" + (f" ({spans})" if spans else "")


def _fill_words(report: Report) -> tuple[str, str]:
    """("height", "50-80%") for the advice on size."""
    filming = report.filming
    if filming is None:
        low, high = QualityConfig().target_fill_share
        return "height", f"{PERCENT * low:.0f}-{PERCENT * high:.0f}%"
    low, high = filming.target_fill_share
    axis = filming.fill_axis
    return axis, f"{PERCENT * low:.0f}-{PERCENT * high:.0f}%"


def _tip(
    report: Report, problem: FilmingProblem, unjudged: Sequence[VerdictUnjudged]
) -> FilmingTip:
    """The tip for ``problem``, with the frames' figures and the checks it can explain."""
    text, advice = FILMING_TIPS[problem]
    issues = report.filming.issues if report.filming is not None else []
    issue = next((i for i in issues if i.problem is problem), None)
    if issue is not None:
        when = _share_words(issue)
        if problem is FilmingProblem.TOO_SMALL and issue.value is not None:
            axis, aim = _fill_words(report)
            text = (
                f"You were small in the picture: {issue.value:.0f}% of its {axis} at your "
                f"tallest, below {issue.limit:.0f}% {when}."
            )
            advice = (
                f"Move the camera closer: you fill {issue.value:.0f}% of the picture's {axis}; "
                f"aim for {aim}, your whole body still in view."
            )
        elif problem is FilmingProblem.NOT_SIDE_ON and issue.value is not None:
            text = (
                f"The camera was {issue.value:.0f}° from side-on {when}; this exercise "
                f"needs it within {issue.limit:.0f}°."
            )
        elif problem is FilmingProblem.TOO_DARK and issue.value is not None:
            text = f"The picture was dark: brightness {issue.value:.0f} of 255 ({when})."
        else:
            text = f"{text.rstrip('.')} {when}."
    reasons = FILMING_REASONS.get(problem, frozenset())
    checks = list(dict.fromkeys(u.name for u in unjudged if u.reason in reasons))
    return FilmingTip(problem=problem, text=text, advice=advice, checks=checks)


def _headline(
    report: Report, findings: Sequence[VerdictFinding], unjudged: int
) -> tuple[Tone, str]:
    summary = report.summary
    if summary is None:
        return Tone.UNKNOWN, "Measured only: no exercise was chosen"
    counted_nothing = summary.hold_s is None and summary.reps == 0
    if report.set_started is False:
        return Tone.UNKNOWN, "The set did not start: the setup check did not pass"
    if counted_nothing and not findings:
        return Tone.UNKNOWN, "No rep was counted"
    if findings:
        tone = Tone.SAFETY if any(f.severity is Severity.SAFETY for f in findings) else Tone.FAULTS
        return tone, f"{plural(len(findings), 'thing')} to work on"
    if unjudged and summary.hold_s is None and not _judged_codes(report):
        return Tone.UNKNOWN, "Nothing could be judged"  # (a hold lists only unjudged checks)
    if unjudged:
        return Tone.UNKNOWN, "No faults found in what could be judged"
    return Tone.GOOD, "No faults found"


def build_verdict(report: Report) -> Verdict:
    reference = compared_with(report)
    findings = _findings(report, reference)
    unjudged = _unjudged(report)
    tone, headline = _headline(report, findings, len(unjudged))
    tips = [_tip(report, p, unjudged) for p in filming_problems(report)]
    # a check that filming kept from being judged: the filming help says once what to change
    covered = {r for t in tips for r in FILMING_REASONS.get(t.problem, frozenset())}
    unjudged = [
        u.model_copy(update={"advice": SEE_FILMING_HELP}) if u.reason in covered else u
        for u in unjudged
    ]
    return Verdict(
        tone=tone,
        headline=headline,
        counted=_counted(report),
        judged=_judged(report, reference),
        compared_with=reference,
        form=_form(report),
        findings=findings,
        not_judged=unjudged,
        not_asked=_not_asked(report),
        filming=tips,
        camera=CameraPlacement(
            diagram_url=diagram_url(report.exercise), text=diagram_text(report.exercise)
        ),
    )
