"""The set summary (``formcheck.report.build`` turns it into report.json's blocks)."""

from __future__ import annotations

from dataclasses import dataclass, field

from formcheck.analyzers.baseline import Baseline
from formcheck.analyzers.events import CheckResult, Finding, NotARep, RepRecord
from formcheck.analyzers.personal_reference import PersonalReference


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
    personal_reference: PersonalReference | None = None  # a recorded reference, if used
    first_reps_compared: int = 0  # without one: how many first reps were the reference
    # a hold's checks over the whole hold (a set of reps keeps them per rep)
    hold_checks: tuple[CheckResult, ...] = ()
    # movements after the last rep that were not counted (putting the weight down)
    not_counted: list[NotARep] = field(default_factory=list)
