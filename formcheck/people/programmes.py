"""What a clinician prescribes: an item's prescription and its progression rules.

The prescription is formcheck's own (:class:`formcheck.analyzers.spec.Prescription`: reps or
hold, tempo, depth, threshold overrides, directions to avoid), stored as JSON. The rules say
how it may grow, one step at a time, and when:

    {"sessions_required": 3, "pain_margin": 0,
     "steps": [{"kind": "tempo_down", "step": 2, "limit": 4},
               {"kind": "hold", "step": 5, "limit": 60}]}

``tempo_down`` lengthens the tempo's down phase (seconds), ``hold`` the hold (seconds),
``depth`` the target depth (degrees), ``reps`` the reps. The first step whose limit is not
yet reached is the one suggested next.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from formcheck.analyzers.errors import PrescriptionError
from formcheck.analyzers.spec import Prescription, Tempo
from formcheck.errors import FormcheckError

StepKind = Literal["tempo_down", "hold", "depth", "reps"]
DEFAULT_SESSIONS_REQUIRED = 3
MAX_SESSIONS_REQUIRED = 20
MAX_STEPS = 8


class ProgrammeError(FormcheckError):
    """A prescription or rule is not valid (the reason is for the clinician)."""


class Step(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: StepKind
    step: float = Field(gt=0, le=100, description="how much one progression adds")
    limit: float = Field(gt=0, le=1000, description="the value it never goes beyond")

    @model_validator(mode="after")
    def _whole_reps(self) -> Step:
        """Reps are counted whole: a step of 2.5 would be suggested as "10 -> 12.5" and
        applied as 12."""
        if self.kind == "reps" and not (self.step.is_integer() and self.limit.is_integer()):
            raise ValueError("a reps step and its limit are whole numbers")
        return self


class ProgressionRules(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    sessions_required: int = Field(
        DEFAULT_SESSIONS_REQUIRED,
        ge=1,
        le=MAX_SESSIONS_REQUIRED,
        description="sessions in a row at the current prescription meeting its targets",
    )
    pain_margin: int = Field(
        0, ge=0, le=10, description="pain (0-10) may be this much above its baseline"
    )
    steps: list[Step] = Field(default_factory=list, max_length=MAX_STEPS)


def parse_prescription(exercise: str, data: dict[str, Any]) -> Prescription:
    try:
        return Prescription.model_validate({**data, "exercise": exercise})
    except (ValidationError, PrescriptionError) as error:
        raise ProgrammeError(f"The prescription is not valid: {_first(error)}") from error


def parse_rules(data: dict[str, Any]) -> ProgressionRules:
    try:
        return ProgressionRules.model_validate(data)
    except ValidationError as error:
        raise ProgrammeError(f"The progression rules are not valid: {_first(error)}") from error


def prescription_json(prescription: Prescription) -> dict[str, Any]:
    """The stored form: only what is set, the tempo as its text ("4-1-2")."""
    data = prescription.model_dump(exclude={"exercise"}, exclude_none=True, exclude_defaults=True)
    if prescription.tempo is not None:
        data["tempo"] = tempo_text(prescription.tempo)
    return data


def tempo_text(tempo: Tempo) -> str:
    parts = [tempo.down_s, tempo.pause_s, tempo.up_s] + ([tempo.top_s] if tempo.top_s else [])
    return "-".join(f"{p:g}" for p in parts)


def current_value(prescription: Prescription, kind: StepKind) -> float | None:
    if kind == "tempo_down":
        return prescription.tempo.down_s if prescription.tempo is not None else None
    if kind == "hold":
        return prescription.hold_s
    if kind == "depth":
        return prescription.depth_deg
    return float(prescription.reps) if prescription.reps is not None else None


def with_value(prescription: Prescription, kind: StepKind, value: float) -> Prescription:
    if kind == "tempo_down":
        tempo = prescription.tempo or Tempo(down_s=0, pause_s=0, up_s=0)
        return prescription.model_copy(update={"tempo": tempo.model_copy(update={"down_s": value})})
    field = {"hold": "hold_s", "depth": "depth_deg", "reps": "reps"}[kind]
    return prescription.model_copy(update={field: int(value) if kind == "reps" else value})


STEP_WORDS = {
    "tempo_down": ("down phase", " s"),
    "hold": ("hold", " s"),
    "depth": ("depth", "°"),
    "reps": ("reps", ""),
}


def _first(error: Exception) -> str:
    if isinstance(error, ValidationError):
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "value"
        return f"{where}: {first['msg']}."
    return str(error)
