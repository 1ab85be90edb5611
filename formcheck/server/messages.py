"""The messages of the live websocket (``/ws/live``) and the HTTP API, typed with pydantic.

Protocol, one connection = one person's live session:

1. The client sends a :class:`StartMessage` (JSON text). The server answers
   :class:`StartedMessage` (or :class:`ErrorMessage` and keeps waiting for a valid start).
2. The client sends frames as **binary** messages, one of two kinds fixed by the start
   message's ``pose``:

   - ``pose="browser"`` (the page's default): the page runs the pose model itself and sends a
     pose payload per frame (``formcheck.pose.remote``: capture time, landmarks, world
     landmarks and the person mask around the trunk; never image bytes). The settings it
     needs come in :class:`StartedMessage`'s ``browser_pose``.
   - ``pose="server"``: a 12-byte little-endian header ``<uint32 seq><float64 t_ms>`` (``seq``
     numbers the frame, ``t_ms`` is the capture time on the client's clock in milliseconds)
     followed by one JPEG (or PNG) image, posed on the server.

   The server answers every frame with exactly one :class:`FrameResult` or
   :class:`ErrorMessage` carrying the same ``seq``. The client sends its next frame only
   after that answer (one frame in flight): frames captured meanwhile are never queued, so
   the latency never builds up.
3. The client sends a :class:`FinishMessage`; the server answers :class:`SummaryMessage`
   with the set's report. Another :class:`StartMessage` begins a new set on the same
   connection.

Coordinates are normalised to the sent image: x / width and y / height, both 0..1.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from formcheck.report.model import Report
from formcheck.report.verdict import Verdict
from formcheck.server.browser_pose import BrowserPoseSettings
from formcheck.server.jobs_models import JobsHealthOut

PROTOCOL_VERSION = 2  # 2: pose in the browser (pose payloads)
FRAME_HEADER_FORMAT = "<Id"  # seq (uint32), t_ms (float64)
PoseMode = Literal["server", "browser"]  # where a set's pose model runs


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- client -> server --------------------------------------------------------------------------


class PrescriptionText(_Message):
    """A prescription file chosen on the page, sent as its text."""

    name: str = Field(max_length=200, description="file name; .json is JSON, anything else TOML")
    text: str = Field(max_length=64_000, description="the file's content")


class StartMessage(_Message):
    """Begin a set: which exercise, and optionally the person's height and prescription."""

    type: Literal["start"] = "start"
    exercise: str = Field("hip_hinge", description="exercise analyzer (GET /api/exercises)")
    height_cm: float | None = Field(
        None, ge=50, le=250, description="body height, for the millimetre scale"
    )
    prescription: PrescriptionText | None = None
    pose: PoseMode = Field(
        "server",
        description="where the pose model runs: 'browser' (frames are pose payloads, no "
        "image leaves the device) or 'server' (frames are JPEG images)",
    )


class FinishMessage(_Message):
    """End the set: the server answers with the summary and report."""

    type: Literal["finish"] = "finish"


class ClientMessage(BaseModel):
    """Any JSON message a client may send (discriminated by ``type``)."""

    message: StartMessage | FinishMessage = Field(discriminator="type")


# --- server -> client --------------------------------------------------------------------------


class StartedMessage(_Message):
    type: Literal["started"] = "started"
    session_id: str
    exercise: str
    camera_placement: str = Field(description="where to put the camera, one sentence")
    max_frame_bytes: int
    skeleton_edges: list[tuple[int, int]] = Field(
        description="pairs of landmark indices to join when drawing the skeleton"
    )
    pose: PoseMode
    browser_pose: BrowserPoseSettings | None = Field(
        None, description="for pose='browser': the model, its settings and the payload limits"
    )
    protocol: int = PROTOCOL_VERSION


class SetupProblem(_Message):
    """One thing to fix before (or while) exercising, with one plain instruction."""

    code: str = Field(description="no_person, step_back, move_closer, turn_sideways, more_light")
    message: str


class CueOut(_Message):
    """A form cue from the analyzer (shown; spoken when ``spoken``)."""

    code: str
    severity: Literal["safety", "warning", "info"]
    message: str
    value: float | None
    threshold: float | None
    unit: str
    rep: int
    t_s: float
    spoken: bool


class TempoOut(_Message):
    """Phase durations of the last completed rep, seconds."""

    rep: int
    down_s: float | None
    pause_s: float | None
    up_s: float | None
    score: float | None


class HoldOut(_Message):
    held_s: float
    target_s: float | None
    in_position: bool


class FrameResult(_Message):
    """The answer to one frame."""

    type: Literal["frame"] = "frame"
    seq: int
    t_ms: float = Field(description="the frame's capture time as the client sent it")
    server_ms: float = Field(description="time the server spent on this frame")
    state: Literal["setup", "calibrating", "active"] = Field(
        description="setup: fix the problems listed; calibrating: stand still; active: counting"
    )
    calibrating: bool
    setup_ok: bool
    setup: list[SetupProblem] = Field(description="current setup problems, most important first")
    landmarks: list[list[float]] | None = Field(
        None,
        description="33 x [x, y, visibility] normalised to the image, for the skeleton "
        "(server pose only: in browser pose the page has them already)",
    )
    outline: list[list[float]] | None = Field(
        None, description="back outline points [x, y], shoulder to hip, normalised"
    )
    phase: str
    reps: int
    attempts: int
    tempo: TempoOut | None = None
    hold: HoldOut | None = None
    cues: list[CueOut] = Field(default_factory=list, description="cues new in this frame")
    hints: list[SetupProblem] = Field(
        default_factory=list, description="setup hints from the analyzer new in this frame"
    )
    mean_luma: float = Field(description="mean brightness of the frame, 0..255")


class SummaryMessage(_Message):
    """End of the set: its report, in report.json's schema (``GET /api/schema/report``), and
    its verdict in plain words (formcheck/report/verdict.py), shown first."""

    type: Literal["summary"] = "summary"
    report: Report
    verdict: Verdict
    signature: str = Field(
        "",
        description="HMAC-SHA256 of the report by this server (formcheck/server/attest.py): "
        "give it with the report to record the set in a programme",
    )


class ErrorMessage(_Message):
    """Something the client sent could not be used; the connection stays open unless closed."""

    type: Literal["error"] = "error"
    code: Literal[
        "bad_message",
        "bad_frame",
        "frame_too_large",
        "not_started",
        "bad_start",
        "bad_timestamp",
        "busy",
        "timeout",
        "internal",
        "bad_pose",
        "pose_too_large",
        "time_not_increasing",
        "wrong_pose_mode",
    ]
    message: str
    seq: int | None = None


ServerMessage = StartedMessage | FrameResult | SummaryMessage | ErrorMessage


# --- HTTP ----------------------------------------------------------------------------------


class ExerciseOut(_Message):
    name: str
    description: str
    camera_placement: str


class HealthOut(_Message):
    status: Literal["ok", "degraded"] = Field(
        "ok", description="degraded (HTTP 503) when something listed in problems is wrong"
    )
    problems: list[str] = Field(default_factory=list, description="what is wrong, in words")
    version: str
    model_source: str
    sessions: int = Field(description="live sessions open now")
    max_sessions: int
    server_pose_sessions: int = Field(description="sets running now with pose on the server")
    max_server_pose_sessions: int
    browser_pose: bool = Field(description="whether the page can run pose in the browser")
    jobs: JobsHealthOut | None = Field(
        None, description="uploads and background jobs; null when the server runs without them"
    )
