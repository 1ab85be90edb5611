"""report.json as one typed model: the same shape for a file, a live set and an uploaded job.

``formcheck schema report`` prints :func:`report_json_schema`; the server serves it at
``GET /api/schema/report``. :mod:`formcheck.report.build` is the one place a Report is made;
every reader (the HTML page, the terminal line, the evaluation) reads these typed fields.

Schema version 3 adds ``filming``: what the frames themselves showed about how the set was
filmed (the person too small, feet or head cut at the picture's edge, no person found, the
camera off the view the exercise needs), each with its share of frames and times; and
``not_counted`` with ``summary.not_counted`` (issue 19): a movement after the last rep that was
putting the weight down and stepping away, kept out of the count and said so. A version 2
report reads as version 3 with ``filming`` null and nothing not counted.

Schema version 2. What changed from the untyped version 1 (no ``schema_version`` key):

- One shape for every source; ``schema_version`` and ``source`` (``file``, ``live`` or
  ``job``) are new.
- A live set's top-level ``frames``, ``frames_with_pose`` and ``duration_s`` are in the
  ``video`` block as for a file (with ``pose_rate``, ``first_frame_t_s`` and
  ``last_frame_t_s``; the file-only fields are null); its ``model_source`` is
  ``model.source``; its ``height_cm`` is ``calibration.stated_height_cm`` (as for a file;
  a set that never calibrated has no calibration block).
- ``video.width`` and ``video.height`` are ``video.width_px`` and ``video.height_px``.
- Every key is always written: null (or an empty list) where version 1 left it out
  (``exercise``, ``summary``, ``summary.hold_s``, ``summary.target_reps``,
  ``summary.target_hold_s``, ``summary.reps_per_side``, ``reps[].side``, ``baseline``;
  ``reps``, ``attempts`` and ``findings`` are empty lists and ``summary`` null when no exercise
  was analysed). ``set_started`` (live only) is null for files and jobs.
- Room for what judging every check brings (issue 14), empty until it is filled:
  ``reps[].checks`` (each check judged or not, and why), ``not_judged`` (what the set could
  not judge and what to change) and ``reference`` (what the set was compared with).

Units are in the names (``_s``, ``_ms``, ``_mm``, ``_deg``, ``_px``, ``_cm``) or, for a value
with a limit, in its ``unit``. NaN and infinities are written as null.
"""

from __future__ import annotations

import math
from enum import Enum, StrEnum
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from formcheck.analyzers.baseline import BaselineSource
from formcheck.analyzers.checks.condition import NotJudged as NotJudgedReason
from formcheck.analyzers.events import NotARepSign, Severity
from formcheck.types import ScaleSource

SCHEMA_VERSION: Literal[3] = 3
# Versions read by upgrading them on the way in: 2 lacks only the ``filming`` block.
UPGRADABLE_VERSIONS = frozenset({2})
JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


class ReportSource(Enum):
    FILE = "file"  # formcheck analyze, or the evaluation
    LIVE = "live"  # a set on the live page or `formcheck live`
    JOB = "job"  # an upload analysed by the server


class FilmingProblem(StrEnum):
    """What in a recording got in the way of judging it (the setup check's, or the report's)."""

    NOT_SIDE_ON = "not_side_on"  # the camera off the view the exercise needs
    TRACKING_LOST = "tracking_lost"
    BACK_HIDDEN = "back_hidden"
    NO_STILL_MOMENT = "no_still_moment"
    TOO_SMALL = "too_small"
    FEET_OUT = "feet_out_of_frame"
    HEAD_OUT = "head_out_of_frame"
    TOO_DARK = "too_dark"


class CheckStatus(Enum):
    JUDGED = "judged"
    NOT_JUDGED = "not_judged"


class ReferenceKind(Enum):
    SAVED = "saved"  # a reference recorded earlier (formcheck reference record)
    FIRST_REPS = "first_reps"  # the set's own first reps


def _finite_or_none(value: Any) -> Any:
    """NaN and infinities become None (null); anything else is left to the type check."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


# A number that may be missing: NaN and infinities read as null.
Num = Annotated[float | None, BeforeValidator(_finite_or_none)]
Measures = dict[str, Num]


class _Block(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        allow_inf_nan=False,
        # Every key is written, defaults included: the schema of the output says so.
        json_schema_serialization_defaults_required=True,
    )


class VideoBlock(_Block):
    """The frames analysed: a file's (or upload's) video, or the frames of a live set."""

    path: str | None = Field(
        description="the file as given (a job: the name the user gave the upload); "
        "null for a live set"
    )
    frames: int = Field(ge=0, description="frames analysed")
    frames_with_pose: int = Field(ge=0, description="frames in which a person was found")
    pose_rate: float = Field(ge=0.0, le=1.0, description="frames_with_pose / frames")
    fps: Num = Field(description="the file's frame rate; null for a live set")
    width_px: int | None = Field(description="frame width after rotation; null for live")
    height_px: int | None = Field(description="frame height after rotation; null for live")
    rotation_deg: int | None = Field(description="rotation metadata applied; null for live")
    duration_s: Num = Field(
        description="the file's duration (0 when unknown); a live set: first to last frame"
    )
    first_frame_t_s: Num = Field(description="time of the first frame analysed")
    last_frame_t_s: Num = Field(description="time of the last frame analysed")
    inference_size_px: tuple[int, int] | None = Field(
        description="frame size given to the pose model (width, height); null for live"
    )


class ModelBlock(_Block):
    """The pose model bundle used."""

    source: str = Field(description='"built:mediapipe-...", "official:<file>" or "user:<path>"')
    path: str | None = Field(None, description="the bundle's path; null for a live set")
    sha256: str | None = Field(None, description="the bundle's checksum; null for a live set")


class CalibrationBlock(_Block):
    """Scale to millimetres and the standing baseline, from the first still second."""

    scale_source: ScaleSource
    mm_per_px: Num
    stated_height_cm: Num
    estimated_height_cm: Num
    still_window_s: tuple[float, float] = Field(description="start and end of the still window")
    found_still: bool = Field(description="false: the stillest window still moved too much")
    spread_in_still_window_torso_lengths: Num
    baseline: Measures = Field(description="each measure's value in the still window")


class PhasesBlock(_Block):
    """Durations of one rep's phases."""

    down_s: Num
    pause_s: Num
    up_s: Num


# The schema says what CheckResult's validator does: a check not judged has a reason and no
# verdict; a judged one has no reason.
_CHECK_STATUS_RULE: dict[str, Any] = {
    "if": {"properties": {"status": {"const": "not_judged"}}},
    "then": {"properties": {"reason": {"not": {"type": "null"}}, "fault": {"type": "null"}}},
    "else": {"properties": {"reason": {"type": "null"}}},
}


class CheckResult(_Block):
    """One check on one rep: judged (with its value against its limit) or not, and why."""

    model_config = ConfigDict(json_schema_extra=_CHECK_STATUS_RULE)

    code: str = Field(description="the check's fault code")
    status: CheckStatus
    fault: bool | None = Field(None, description="judged: whether the limit was crossed")
    value: Num = None
    limit: Num = None
    unit: str = ""
    reason: NotJudgedReason | None = Field(None, description="not judged: why")

    @model_validator(mode="after")
    def _reason_matches_status(self) -> CheckResult:
        judged = self.status is CheckStatus.JUDGED
        if judged and self.reason is not None:
            raise ValueError("a judged check has no reason for not being judged")
        if not judged and (self.reason is None or self.fault is not None):
            raise ValueError("a check not judged needs its reason and has no fault verdict")
        return self


class RepBlock(_Block):
    """A counted rep (in ``reps``) or a partial attempt (in ``attempts``)."""

    index: int = Field(ge=1, description="1-based among reps (or among attempts)")
    start_s: Num
    end_s: Num
    phases: PhasesBlock
    metrics: Measures = Field(description="the rep's measures; units in their names")
    faults: list[str] = Field(description="fault codes found in this rep")
    score: Num = Field(description="0-100 points")
    side: str | None = Field(None, description="alternating exercises: the working side")
    checks: list[CheckResult] = Field(
        default_factory=list, description="every check on this rep, judged or not"
    )


class NotCountedBlock(_Block):
    """A movement after the last rep that was not counted: putting the weight down and
    stepping away (it went as deep as a rep; what followed showed the set had ended)."""

    start_s: Num
    end_s: Num
    pause_s: Num = Field(description="how long it stayed down (letting go of the weight)")
    reps_pause_max_s: Num = Field(description="the longest bottom pause of the set's reps")
    sign: NotARepSign = Field(description="what showed the set had ended")
    feet_moved_mm: Num = Field(description="how far the feet left their stance after it")
    gone_s: Num = Field(description="how long the person was out of view at the end")
    message: str = Field(description="what the person reads")


class FindingBlock(_Block):
    """One fault seen in one rep, with the message the person reads."""

    code: str
    severity: Severity
    rep: int = Field(ge=0, description="1-based rep; 0 when outside a counted rep")
    t_s: Num
    value: Num = Field(description="what was measured, in unit")
    threshold: Num = Field(description="the limit it crossed, in unit")
    unit: str
    message: str


class SummaryBlock(_Block):
    """The set in a few numbers."""

    reps: int = Field(ge=0)
    attempts: int = Field(ge=0, description="movements that did not reach the rep depth")
    not_counted: int = Field(
        0, ge=0, description="movements after the last rep not counted (putting the weight down)"
    )
    form_frays_at_rep: int | None = Field(
        description="the rep from which the scores stayed well below the first reps'"
    )
    reps_per_side: dict[str, int] | None = Field(
        None, description="alternating exercises: counted reps per working side"
    )
    hold_s: Num = Field(None, description="holds: time in position")
    target_reps: int | None = Field(None, description="the prescription's reps")
    target_hold_s: Num = Field(None, description="the prescription's hold time")


class BaselineBlock(_Block):
    """The analyzer's standing reference and noise floor per measure."""

    source: BaselineSource
    values: dict[str, float]
    noise_floor: dict[str, float]


class NotJudgedBlock(_Block):
    """A check the set could not judge, why, and what to change so it can be."""

    code: str = Field(description="the check's fault code")
    reason: NotJudgedReason
    reps: list[int] = Field(
        default_factory=list, description="the reps concerned; empty for the whole set"
    )
    advice: str = Field("", description="what to change (camera angle, distance, ...)")


class ReferenceBlock(_Block):
    """What the set was compared with, and when that was recorded."""

    kind: ReferenceKind
    path: str | None = Field(None, description="a saved reference's file")
    exercise: str | None = None
    recorded_at: AwareDatetime | None = Field(None, description="when it was recorded")
    reps: list[int] = Field(default_factory=list, description="first_reps: which of the set's reps")


class FilmingIssueBlock(_Block):
    """One filming problem the frames showed, how often and when."""

    problem: FilmingProblem
    frames: int = Field(ge=0, description="frames with the problem")
    share: float = Field(
        ge=0.0,
        le=1.0,
        description="frames with the problem over the frames it is judged on (frames with a "
        "person; tracking_lost and too_dark: all frames; too_dark counts a dark frame only "
        "when the person in it was not found or not seen clearly)",
    )
    spans_s: list[tuple[float, float]] = Field(
        description="when, in the video's seconds: the longest stretches, in time order"
    )
    value: Num = Field(
        description="too_small: the share of the picture the person filled at their "
        "tallest (the 90th percentile of the frames); not_side_on: the median camera angle "
        "from side-on; too_dark: the median brightness; else null"
    )
    limit: Num = Field(description="the limit value was compared with")
    unit: str = Field(description='"%" (a share of the picture), "deg", "luma" or ""')


class FilmingBlock(_Block):
    """How the set was filmed, from its frames: the checks the live setup check makes, made
    on every frame of the set, with the same limits."""

    frames: int = Field(ge=0, description="frames looked at")
    frames_with_pose: int = Field(ge=0)
    fill_share: Num = Field(
        description="median share of the picture the person filled (height standing, length "
        "lying down), 0..1"
    )
    fill_axis: Literal["height", "width"] = Field(
        description="which side of the picture fill_share is measured along"
    )
    target_fill_share: tuple[float, float] = Field(description="the share to aim for")
    issues: list[FilmingIssueBlock] = Field(
        description="problems seen in at least the reporting share of frames, worst first"
    )


class Report(_Block):
    """report.json: one analysed set (or a file analysed for its measures only)."""

    model_config = ConfigDict(title="formcheck report")

    schema_version: Literal[3] = Field(SCHEMA_VERSION, description="this schema's version")
    formcheck_version: str
    source: ReportSource
    video: VideoBlock
    model: ModelBlock
    calibration: CalibrationBlock | None = Field(description="null when no person was calibrated")
    noise_floor: Measures = Field(description="each measure's jitter (SD) while still")
    exercise: str | None = Field(description="the exercise analysed; null for measures only")
    set_started: bool | None = Field(
        None, description="live: whether the set got past the setup check; null otherwise"
    )
    pose: Literal["browser", "server"] | None = Field(
        None,
        description="live: where pose ran, on the person's device (browser: no image left it) "
        "or on the server; null otherwise",
    )
    summary: SummaryBlock | None = Field(None, description="null when no exercise was analysed")
    reps: list[RepBlock] = Field(default_factory=list)
    attempts: list[RepBlock] = Field(default_factory=list)
    not_counted: list[NotCountedBlock] = Field(
        default_factory=list,
        description="movements after the last rep that were not counted, and why",
    )
    findings: list[FindingBlock] = Field(default_factory=list)
    baseline: BaselineBlock | None = None
    not_judged: list[NotJudgedBlock] = Field(
        default_factory=list, description="checks the set could not judge, and why"
    )
    reference: ReferenceBlock | None = Field(
        None, description="what the set was compared with; null: nothing recorded"
    )
    filming: FilmingBlock | None = Field(
        None, description="how the set was filmed, from its frames; null: not looked at"
    )

    @model_validator(mode="before")
    @classmethod
    def _upgrade(cls, data: Any) -> Any:
        """A version 2 report reads as version 3: it only lacks ``filming``."""
        if isinstance(data, dict) and data.get("schema_version") in UPGRADABLE_VERSIONS:
            return {**data, "schema_version": SCHEMA_VERSION}
        return data


def report_json_schema() -> dict[str, Any]:
    """The JSON Schema (2020-12) every report.json and live summary report validates against."""
    schema = Report.model_json_schema(mode="serialization")
    return {"$schema": JSON_SCHEMA_DIALECT, **schema}
