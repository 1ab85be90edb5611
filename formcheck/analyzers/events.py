"""Events an analyzer emits, and the per-rep records they carry.

Every sink (websocket, terminal, report, annotated video) consumes these. Times are seconds
from the video's own timestamps.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import TypeVar

from formcheck.analyzers.checks.condition import NotJudged


class Phase(Enum):
    """Phase of the movement, driven by the exercise's primary signal."""

    SETUP = "setup"  # no usable sample yet
    TOP = "top"  # start position (standing for the hinge)
    DOWN = "down"  # moving away from the start position
    BOTTOM = "bottom"  # pause at the far end
    UP = "up"  # returning
    HOLD = "hold"  # isometric position held


class Severity(Enum):
    """How much a finding matters; the cue policy speaks safety first."""

    SAFETY = "safety"
    WARNING = "warning"
    INFO = "info"


class SetupHintCode(Enum):
    TURN_SIDEWAYS = "turn_sideways"
    FACE_CAMERA = "face_camera"
    STEP_BACK = "step_back"
    MOVE_CLOSER = "move_closer"
    NO_PERSON = "no_person"


@dataclass(frozen=True, slots=True)
class PhaseTimes:
    """Durations of the phases of one rep, seconds."""

    down_s: float
    pause_s: float
    up_s: float


@dataclass(frozen=True, slots=True)
class Finding:
    """One fault seen in one rep (the report's ``findings`` rows)."""

    code: str
    severity: Severity
    rep: int  # 1-based rep index; 0 when outside a counted rep
    t_s: float
    value: float
    threshold: float
    unit: str
    message: str


@dataclass(frozen=True, slots=True)
class CheckResult:
    """One check on one rep: judged (``found`` or not, with its value and limit) or not
    judged, and why (``reason``: a ``checks.condition.NotJudged`` value)."""

    code: str
    judged: bool
    found: bool
    value: float
    limit: float
    unit: str
    reason: NotJudged | None = None

    @property
    def status(self) -> str:
        return "judged" if self.judged else "not_judged"


@dataclass(frozen=True, slots=True)
class RepRecord:
    """A completed rep (or a partial attempt when ``counted`` is False)."""

    index: int  # 1-based among counted reps; for attempts, 1-based among attempts
    start_s: float
    end_s: float
    phases: PhaseTimes
    metrics: dict[str, float]
    faults: tuple[str, ...]
    score: float
    counted: bool = True
    side: str | None = None  # for alternating exercises (left/right); None otherwise
    checks: tuple[CheckResult, ...] = ()  # every check of the exercise, judged or not


class NotARepSign(Enum):
    """What followed a movement that was not counted: the sign that the set had ended."""

    FEET_LEFT_STANCE = "feet_left_stance"  # the feet left the stance they held (stepping away)
    LEFT_VIEW = "left_view"  # the person walked out of the camera's view


@dataclass(frozen=True, slots=True)
class NotARep:
    """A movement after the last rep that looked like a rep but was putting the weight down
    and stepping away (not counted; the report says so)."""

    start_s: float
    end_s: float
    pause_s: float  # how long it stayed down
    reps_pause_max_s: float  # the longest bottom pause of the set's reps
    sign: NotARepSign
    feet_moved_mm: float  # how far the feet left their stance after it
    gone_s: float  # how long the person was out of view at the end of the recording


@dataclass(frozen=True, slots=True)
class PhaseChanged:
    t_s: float
    phase: Phase
    previous: Phase
    rep: int  # the rep in progress (1-based), or the next rep while at the top


@dataclass(frozen=True, slots=True)
class RepCompleted:
    t_s: float
    rep: RepRecord


@dataclass(frozen=True, slots=True)
class PartialRep:
    """A movement that left the start position but did not reach the rep depth."""

    t_s: float
    attempt: RepRecord


@dataclass(frozen=True, slots=True)
class Cue:
    code: str
    severity: Severity
    message: str
    value: float
    threshold: float
    unit: str
    t_s: float
    rep: int
    spoken: bool = False  # chosen by the cue policy to be said aloud

    @classmethod
    def from_finding(cls, finding: Finding, spoken: bool) -> Cue:
        return cls(
            code=finding.code,
            severity=finding.severity,
            message=finding.message,
            value=finding.value,
            threshold=finding.threshold,
            unit=finding.unit,
            t_s=finding.t_s,
            rep=finding.rep,
            spoken=spoken,
        )


@dataclass(frozen=True, slots=True)
class SetupHint:
    code: SetupHintCode
    message: str
    t_s: float


@dataclass(frozen=True, slots=True)
class HoldProgress:
    t_s: float
    held_s: float
    target_s: float | None
    in_position: bool


E = TypeVar("E")

Event = PhaseChanged | RepCompleted | PartialRep | Cue | SetupHint | HoldProgress


@dataclass(slots=True)
class EventLog:
    """Collects events in order (handy for sinks and tests)."""

    events: list[Event] = field(default_factory=list)

    def extend(self, events: list[Event]) -> None:
        self.events.extend(events)

    def of_type(self, kind: type[E]) -> list[E]:
        return [e for e in self.events if isinstance(e, kind)]
