"""Rule-based micro-progressions: the next step when the targets were met, a step back
when form frays earlier or pain rises. Every suggestion names the numbers it rests on.

**Progress** when the last ``rules.sessions_required`` sessions at the current prescription
all met its targets (reps, hold, tempo kept in at least ``TEMPO_KEPT_SHARE`` of the reps),
had no spine finding, and were rated for pain no higher than the baseline (the median of the
first ``BASELINE_SESSIONS`` ratings) plus ``rules.pain_margin``. The step is the first of
the rules' steps whose limit is not reached.

**Step back** when the latest session's pain is ``PAIN_RISE_POINTS`` or more above the
baseline (the rating's MDC), or the rep where form frays came earlier than at the baseline
by more than its MDC (formcheck.people.progress). The step back restores the prescription
before the last progression when there was one, else takes the first step back once.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from formcheck.analyzers.spec import Prescription
from formcheck.people.programmes import (
    STEP_WORDS,
    ProgressionRules,
    Step,
    current_value,
    parse_prescription,
    prescription_json,
    with_value,
)
from formcheck.people.progress import BASELINE_SESSIONS, MDC_FLOORS, SessionPoint, progress

TEMPO_KEPT_SHARE = 0.8  # a session keeps its tempo when 4 reps in 5 do
PAIN_RISE_POINTS = MDC_FLOORS["pain"]


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    point: SessionPoint
    prescription: dict[str, Any]  # the prescription the set was done at


@dataclass(frozen=True, slots=True)
class Proposal:
    kind: Literal["progress", "step_back"]
    reason: str
    basis: dict[str, Any]
    proposed: Prescription


def suggest(
    prescription: Prescription,
    rules: ProgressionRules,
    history: Sequence[HistoryEntry],
    previous: dict[str, Any] | None = None,
) -> Proposal | None:
    """A proposal from this item's history (oldest first), or None. ``previous``: the
    prescription before the last accepted progression, if any."""
    if not history:
        return None
    pains = [e.point.pain for e in history if e.point.pain is not None]
    baseline = statistics.median(pains[:BASELINE_SESSIONS]) if pains else None
    back = _step_back(prescription, rules, history, baseline, previous)
    if back is not None:
        return back
    return _progress(prescription, rules, history, baseline)


def _step_back(
    prescription: Prescription,
    rules: ProgressionRules,
    history: Sequence[HistoryEntry],
    pain_baseline: float | None,
    previous: dict[str, Any] | None,
) -> Proposal | None:
    latest = history[-1].point
    reasons: list[str] = []
    basis: dict[str, Any] = {"session": latest.session_id, "pain_baseline": pain_baseline}
    if latest.pain is not None and pain_baseline is not None:
        basis["pain"] = latest.pain
        if latest.pain >= pain_baseline + PAIN_RISE_POINTS:
            reasons.append(
                f"pain {latest.pain} is {latest.pain - pain_baseline:g} above the baseline "
                f"{pain_baseline:g} (≥ {PAIN_RISE_POINTS:g}, the rating's MDC)"
            )
    fray = progress([e.point for e in history])["form_frays_at_rep"]
    if fray.verdict == "worse" and fray.change is not None and fray.mdc is not None:
        basis |= {"fray_baseline": fray.baseline, "fray_latest": fray.latest, "fray_mdc": fray.mdc}
        reasons.append(
            f"form frayed at rep {fray.latest:g}, {-fray.change:g} reps earlier than the "
            f"baseline's rep {fray.baseline:g} (MDC {fray.mdc:.2g})"
        )
    if not reasons:
        return None
    if previous is not None:
        proposed = parse_prescription(prescription.exercise, previous)
        what = "go back to the prescription before the last progression"
    else:
        stepped = _first_step_back(prescription, rules)
        if stepped is None:
            return None
        proposed, what = stepped
    return Proposal("step_back", f"Step back: {'; '.join(reasons)}: {what}.", basis, proposed)


def _first_step_back(
    prescription: Prescription, rules: ProgressionRules
) -> tuple[Prescription, str] | None:
    for step in rules.steps:
        value = current_value(prescription, step.kind)
        if value is not None and value - step.step > 0:
            return with_value(prescription, step.kind, value - step.step), _change(
                step, value, value - step.step
            )
    return None


def _progress(
    prescription: Prescription,
    rules: ProgressionRules,
    history: Sequence[HistoryEntry],
    pain_baseline: float | None,
) -> Proposal | None:
    current = prescription_json(prescription)
    at_current = [e.point for e in history if e.prescription == current]
    needed = rules.sessions_required
    if len(at_current) < needed or pain_baseline is None:
        return None
    recent = at_current[-needed:]
    reps = [int(p.measures.get("reps") or 0) for p in recent]
    holds = [p.measures.get("hold_s") for p in recent]
    kept = [_kept_share(p) for p in recent]
    pains = [p.pain for p in recent]
    spine = [int(p.measures.get("spine_findings") or 0) for p in recent]
    if prescription.reps is not None and any(r < prescription.reps for r in reps):
        return None
    if prescription.hold_s is not None and any(h is None or h < prescription.hold_s for h in holds):
        return None
    if prescription.tempo is not None and any(k is None or k < TEMPO_KEPT_SHARE for k in kept):
        return None
    if any(spine) or any(p is None or p > pain_baseline + rules.pain_margin for p in pains):
        return None
    step = _next_step(prescription, rules)
    if step is None:
        return None
    value = current_value(prescription, step.kind) or 0.0
    new_value = min(value + step.step, step.limit)
    met = [f"reps {', '.join(map(str, reps))}" + (
        f" of {prescription.reps}" if prescription.reps is not None else "")]  # fmt: skip
    if prescription.hold_s is not None:
        met.append(f"hold {', '.join(f'{h:.0f}' for h in holds if h is not None)} s "
                   f"of {prescription.hold_s:g} s")  # fmt: skip
    if prescription.tempo is not None:
        met.append(f"tempo kept in {', '.join(f'{100 * k:.0f}%' for k in kept if k is not None)}"
                   " of reps")  # fmt: skip
    reason = (
        f"Targets met in the last {needed} sessions at this prescription ({'; '.join(met)}), "
        f"no spine finding, pain {', '.join(str(p) for p in pains)} not above the baseline "
        f"{pain_baseline:g}{f' + {rules.pain_margin}' if rules.pain_margin else ''}: "
        f"{_change(step, value, new_value)}."
    )
    basis = {
        "sessions": [p.session_id for p in recent], "reps": reps, "target_reps": prescription.reps,
        "hold_s": holds, "target_hold_s": prescription.hold_s, "tempo_kept": kept,
        "pain": pains, "pain_baseline": pain_baseline, "spine_findings": spine,
        "step": step.model_dump(),
    }  # fmt: skip
    return Proposal("progress", reason, basis, with_value(prescription, step.kind, new_value))


def _next_step(prescription: Prescription, rules: ProgressionRules) -> Step | None:
    for step in rules.steps:
        value = current_value(prescription, step.kind)
        if step.kind == "tempo_down" and value is None:
            continue  # no tempo prescribed: nothing to slow down
        if (value or 0.0) < step.limit:
            return step
    return None


def _kept_share(point: SessionPoint) -> float | None:
    judged = [v for v in point.measures.get("rep_on_tempo") or [] if v is not None]
    return sum(1 for v in judged if v) / len(judged) if judged else None


def _change(step: Step, old: float, new: float) -> str:
    words, unit = STEP_WORDS[step.kind]
    return f"{words} {old:g}{unit} → {new:g}{unit}"
