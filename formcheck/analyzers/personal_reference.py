"""A personal reference that lasts: the person's best rep, recorded once, used by later sets.

Every relative check compares a rep with a reference taken in the same posture. Without a
personal reference that is the person's own first reps of the set, which cannot show a fault
present from the first rep. ``formcheck reference record VIDEO --exercise X`` saves the rep
of a recording made for it ("one slow rep, your best form", ideally with a physiotherapist)
as a small JSON file; ``--reference FILE`` makes later runs compare with it, and their
reports say what they were compared with and when it was recorded.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from formcheck import __version__
from formcheck.analyzers.errors import PrescriptionError
from formcheck.analyzers.events import PhaseTimes, RepRecord

FORMAT_VERSION = 1
MAX_FILE_BYTES = 1_000_000  # a reference is a few kB; anything larger is not one


class ReferenceRep(BaseModel):
    """One rep of the reference: its metrics (units in their names) and working side."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    index: int = Field(ge=1)
    side: str | None = None
    metrics: dict[str, float | None]

    def as_rep(self) -> RepRecord:
        metrics = {k: (math.nan if v is None else float(v)) for k, v in self.metrics.items()}
        return RepRecord(
            index=self.index,
            start_s=math.nan,
            end_s=math.nan,
            phases=PhaseTimes(math.nan, math.nan, math.nan),
            metrics=metrics,
            faults=(),
            score=math.nan,
            side=self.side,
        )


class PersonalReference(BaseModel):
    """The saved reference (``formcheck reference record``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    format_version: int = FORMAT_VERSION
    exercise: str
    recorded_at: datetime
    source: str  # the recording's file name
    formcheck_version: str
    height_cm: float | None = None
    reps: list[ReferenceRep] = Field(min_length=1)

    def reference_reps(self) -> list[RepRecord]:
        return [r.as_rep() for r in self.reps]

    def describe(self) -> str:
        """What a set is compared with, for reports."""
        when = self.recorded_at.strftime("%Y-%m-%d %H:%M")
        return f"your reference rep recorded {when} from {self.source}"


def from_reps(
    exercise: str, reps: Sequence[RepRecord], source: str, height_cm: float | None = None
) -> PersonalReference:
    """The reference from a recorded set: its best-scored rep (the first of equals), one per
    working side for alternating exercises."""
    if not reps:
        raise PrescriptionError(
            f"No rep was counted in {source}: film one slow rep of {exercise} in your best form, "
            "side-on to the camera, and record it again."
        )
    chosen: dict[str | None, RepRecord] = {}
    for rep in reps:
        best = chosen.get(rep.side)
        if best is None or rep.score > best.score:
            chosen[rep.side] = rep
    return PersonalReference(
        exercise=exercise,
        recorded_at=datetime.now(UTC),
        source=source,
        formcheck_version=__version__,
        height_cm=height_cm,
        reps=[
            ReferenceRep(
                index=r.index,
                side=r.side,
                metrics={k: (v if math.isfinite(v) else None) for k, v in r.metrics.items()},
            )
            for r in chosen.values()
        ],
    )


def save_reference(reference: PersonalReference, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(reference.model_dump_json(indent=1) + "\n", encoding="utf-8")
    tmp.replace(path)


def load_reference(path: Path, exercise: str | None = None) -> PersonalReference:
    """Read a saved reference; one-sentence errors for a missing, large, malformed or
    other-exercise file."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise PrescriptionError(f"Reference {path} is too large to be a reference file.")
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise PrescriptionError(f"Reference {path} cannot be read: {exc}.") from exc
    return reference_from_mapping(data, str(path), exercise)


def reference_from_mapping(
    data: object, origin: str, exercise: str | None = None
) -> PersonalReference:
    try:
        reference = PersonalReference.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "file"
        raise PrescriptionError(f"Reference {origin} is not valid: {where}: {err['msg']}.") from exc
    if exercise is not None and reference.exercise != exercise:
        raise PrescriptionError(
            f"Reference {origin} was recorded for {reference.exercise}, not {exercise}."
        )
    return reference
