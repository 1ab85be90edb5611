"""One live session: frames in, per-frame feedback out, a report at the end of each set.

The same ExerciseSession (pose -> measures -> analyzer) as ``formcheck analyze``; what live
adds is the setup check before the set starts and the per-frame answer for the page. The
websocket (``formcheck.server.app``) and the terminal (``formcheck live``) both drive it.

States: IDLE (no set; waiting for a start) -> SETUP (pose only, until the setup check has
been right for a moment) -> ACTIVE (the ExerciseSession calibrates, then counts) -> IDLE
after ``finish``. One PoseEstimator serves the whole connection (it holds tracking state),
so timestamps are kept on one clock from the connection's first frame.

A set runs pose on the server (JPEG frames in, ``push``) or in the browser (pose payloads in,
``push_pose``; see ``formcheck.server.browser_pose``): after the pose, both take the same path.
"""

from __future__ import annotations

import dataclasses
import math
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import Enum
from typing import Protocol

import numpy as np

from formcheck.analyzers import (
    Cue,
    Event,
    HoldProgress,
    PartialRep,
    PhaseChanged,
    Prescription,
    RepCompleted,
    SetupHint,
    get_analyzer,
    get_spec,
)
from formcheck.analyzers.events import Phase
from formcheck.pose.estimator import PoseEstimator
from formcheck.pose.landmarks import SKELETON_EDGES
from formcheck.pose.remote import PayloadLimits, PosePayload, is_pose_payload
from formcheck.report.build import build_report, stream_video_block
from formcheck.report.filming import FilmingTally
from formcheck.report.model import FilmingBlock, ModelBlock, ReportSource
from formcheck.report.verdict import build_verdict
from formcheck.server.browser_pose import (
    BrowserPoseInput,
    BrowserPoseSettings,
    BrowserPoseUnavailableError,
)
from formcheck.server.config import ServerConfig
from formcheck.server.frames import (
    FrameError,
    decode_image,
    fit_within,
    parse_frame_message,
)
from formcheck.server.messages import (
    CueOut,
    FrameResult,
    HoldOut,
    PoseMode,
    SetupProblem,
    StartedMessage,
    StartMessage,
    SummaryMessage,
    TempoOut,
)
from formcheck.server.setup_check import SetupChecker
from formcheck.session import ExerciseSession, Step
from formcheck.types import PoseFrame, VideoFrame
from formcheck.video.luma import mean_luma

EstimatorFactory = Callable[[], PoseEstimator]

MS_PER_S = 1000.0
COORD_DIGITS = 4  # normalised coordinates to 0.0001 of the frame (0.06 px at 640 px)
VALUE_DIGITS = 3
WARM_UP_FRAME_PX = (640, 480)
WARM_UP_T_MS = 0.0  # the warm-up frame's time: real frames follow it on the session clock


class SessionState(Enum):
    IDLE = "idle"
    SETUP = "setup"
    ACTIVE = "active"


class NotStartedError(Exception):
    """A frame or finish arrived before a start."""


class BusyError(Exception):
    """No room for another set with pose on the server."""


class ServerPoseSlots:
    """Counts the sets that run pose on the server, which cost a core each; caps them."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._holders: set[str] = set()
        self._lock = threading.Lock()

    def acquire(self, holder: str) -> bool:
        with self._lock:
            if holder in self._holders:
                return True
            if len(self._holders) >= self.limit:
                return False
            self._holders.add(holder)
            return True

    def release(self, holder: str) -> None:
        with self._lock:
            self._holders.discard(holder)

    def __len__(self) -> int:
        with self._lock:
            return len(self._holders)


@dataclass
class SetProgress:
    """What the page shows between frames: the latest phase, counts, tempo and hold."""

    phase: Phase = Phase.SETUP
    reps: int = 0
    attempts: int = 0
    tempo: TempoOut | None = None
    hold: HoldOut | None = None
    cues: list[Cue] = field(default_factory=list)  # every cue of the set, in order

    def apply(self, events: list[Event]) -> tuple[list[CueOut], list[SetupProblem]]:
        """Fold events in; return the new cues and analyzer hints for this frame's answer."""
        cues: list[CueOut] = []
        hints: list[SetupProblem] = []
        for event in events:
            if isinstance(event, PhaseChanged):
                self.phase = event.phase
            elif isinstance(event, RepCompleted):
                self.reps += 1
                phases = event.rep.phases
                self.tempo = TempoOut(
                    rep=event.rep.index,
                    down_s=_finite(phases.down_s),
                    pause_s=_finite(phases.pause_s),
                    up_s=_finite(phases.up_s),
                    score=_finite(event.rep.score),
                )
            elif isinstance(event, PartialRep):
                self.attempts += 1
            elif isinstance(event, Cue):
                self.cues.append(event)
                cues.append(cue_out(event))
            elif isinstance(event, SetupHint):
                hints.append(SetupProblem(code=event.code.value, message=event.message))
            elif isinstance(event, HoldProgress):
                self.hold = HoldOut(
                    held_s=round(event.held_s, VALUE_DIGITS),
                    target_s=event.target_s,
                    in_position=event.in_position,
                )
        return cues, hints


def cue_out(cue: Cue) -> CueOut:
    return CueOut(
        code=cue.code,
        severity=cue.severity.value,
        message=cue.message,
        value=_finite(cue.value),
        threshold=_finite(cue.threshold),
        unit=cue.unit,
        rep=cue.rep,
        t_s=round(cue.t_s, VALUE_DIGITS),
        spoken=cue.spoken,
    )


def _finite(value: float) -> float | None:
    return round(float(value), VALUE_DIGITS) if math.isfinite(value) else None


def landmarks_out(pose: PoseFrame) -> list[list[float]] | None:
    if pose.landmarks_px is None or pose.visibility is None:
        return None
    scale = np.array([pose.image_width_px, pose.image_height_px], dtype=np.float64)
    xy = np.round(pose.landmarks_px[:, :2] / scale, COORD_DIGITS)
    vis = np.round(pose.visibility, VALUE_DIGITS)
    return [[float(x), float(y), float(v)] for (x, y), v in zip(xy, vis, strict=True)]


class LiveSession:
    """One connection's live session. Not thread-safe: one call at a time (one frame in flight)."""

    def __init__(
        self,
        session_id: str,
        estimator_factory: EstimatorFactory,
        config: ServerConfig,
        model_source: str = "",
        *,
        browser_pose: BrowserPoseSettings | None = None,
        server_pose_slots: ServerPoseSlots | None = None,
    ) -> None:
        self.session_id = session_id
        self.config = config
        self._estimator_factory = estimator_factory
        self._estimator: PoseEstimator | None = None
        self._browser_settings = browser_pose
        self._server_slots = server_pose_slots
        self.pose_mode: PoseMode = "server"
        self._browser: BrowserPoseInput | None = None
        self._steady_tracking = False
        self._model_source = model_source
        self.state = SessionState.IDLE
        self._origin_ms: float | None = None
        self._last_t_ms = -math.inf
        self._start: StartMessage | None = None
        self._prescription: Prescription | None = None
        self._session: ExerciseSession | None = None
        self._checker: SetupChecker | None = None
        self._filming: FilmingTally | None = None
        self._filming_setup: FilmingTally | None = None
        self.progress = SetProgress()
        self.frames = 0
        self.frames_with_pose = 0
        self._first_frame_t_ms: float | None = None
        self._last_frame_t_ms = 0.0
        self._ready_since_ms: float | None = None

    # -- control ---------------------------------------------------------------------------

    def start(self, message: StartMessage, prescription: Prescription | None) -> StartedMessage:
        """Begin a set (ending any set in progress without a report).

        Raises UnknownExerciseError for an exercise no analyzer has, PrescriptionError for a
        prescription that does not fit it (checked now, not when the set begins), BusyError
        when a set with pose on the server finds no free slot, and BrowserPoseUnavailableError
        for pose in the browser when this server cannot offer it.
        """
        spec = get_spec(message.exercise)
        get_analyzer(message.exercise, prescription)
        if message.pose == "browser":
            if self._browser_settings is None:
                raise BrowserPoseUnavailableError(
                    "This server cannot serve pose in the browser (its tasks-vision files are "
                    "missing); start the set with pose='server'."
                )
            self._release_estimator()
            self._browser = BrowserPoseInput(
                PayloadLimits(
                    max_payload_bytes=self.config.max_pose_payload_bytes,
                    max_image_side_px=self.config.max_frame_side_px,
                ),
                last_t_ms=self._browser.last_t_ms if self._browser is not None else None,
            )
        else:
            if self._server_slots is not None and not self._server_slots.acquire(self.session_id):
                raise BusyError(
                    f"The server already runs pose for {self._server_slots.limit} sets; use a "
                    "browser that runs pose itself, or try again later."
                )
            self._browser = None
            if self._estimator is None:
                self._estimator = self._warm(self._estimator_factory())
        self.pose_mode = message.pose
        self._steady_tracking = False
        self._start = message
        self._prescription = prescription
        self._session = None
        self._checker = SetupChecker(
            spec.setup,
            self.config.pipeline.quality,
            ok_hold_s=self.config.setup_ok_hold_s,
        )
        self.progress = SetProgress()
        # How the set was filmed: its own frames once it started (walking into place is
        # not the set); the setup's frames for a set that never started.
        self._filming = FilmingTally(quality=self.config.pipeline.quality, setup=spec.setup)
        self._filming_setup = FilmingTally(
            quality=self.config.pipeline.quality, setup=spec.setup
        )
        self.frames = 0
        self.frames_with_pose = 0
        self._first_frame_t_ms = None
        self._ready_since_ms = None
        self.state = SessionState.SETUP
        return StartedMessage(
            session_id=self.session_id,
            exercise=spec.name,
            camera_placement=spec.camera_placement,
            max_frame_bytes=self.config.max_frame_bytes,
            skeleton_edges=[(int(a), int(b)) for a, b in SKELETON_EDGES],
            pose=message.pose,
            browser_pose=self._browser_settings if message.pose == "browser" else None,
        )

    def finish(self) -> SummaryMessage:
        """End the set: flush the pipeline and analyzer, return the summary and report."""
        if self._start is None or self.state is SessionState.IDLE:
            raise NotStartedError("No set is in progress: send a start message first.")
        session = self._session or self._new_session()
        _, events, summary = session.finish()
        self.progress.apply(events)
        report = build_report(
            source=ReportSource.LIVE,
            video=stream_video_block(
                frames=self.frames,
                frames_with_pose=self.frames_with_pose,
                first_t_ms=self._first_frame_t_ms,
                last_t_ms=self._last_frame_t_ms,
            ),
            model=ModelBlock(source=self._model_source),
            calibration=session.pipeline.calibration,
            summary=summary,
            set_started=self._session is not None,
            pose=self.pose_mode,
            filming=self._filming_block(),
        )
        self.state = SessionState.IDLE
        self._session = None
        return SummaryMessage(report=report, verdict=build_verdict(report))

    def _filming_block(self) -> FilmingBlock | None:
        tally = self._filming if self._session is not None else self._filming_setup
        return tally.block() if tally is not None else None

    def close(self) -> None:
        self._release_estimator()
        self._session = None
        self.state = SessionState.IDLE

    def _release_estimator(self) -> None:
        if self._estimator is not None:
            self._estimator.close()
            self._estimator = None
        if self._server_slots is not None:
            self._server_slots.release(self.session_id)

    # -- frames ----------------------------------------------------------------------------

    def handle_frame_message(self, data: bytes) -> FrameResult:
        """Decode one binary frame message and push it.

        Raises FrameError, PosePayloadError, NotStartedError.
        """
        started = time.perf_counter()
        if self.state is SessionState.IDLE and is_pose_payload(data):
            raise NotStartedError("Send a start message before the first frame.")
        if self.pose_mode == "browser" and self.state is not SessionState.IDLE:
            if not is_pose_payload(data):
                # Never decoded, never kept: this set promised that no picture is used.
                raise FrameError(
                    "wrong_pose_mode",
                    "This set runs pose in the browser: send pose payloads, not images.",
                )
            assert self._browser is not None
            result = self.push_pose(self._browser.read(data))
            result.server_ms = round((time.perf_counter() - started) * MS_PER_S, VALUE_DIGITS)
            return result
        if is_pose_payload(data):
            raise FrameError(
                "wrong_pose_mode",
                "This is a pose payload but the set runs pose on the server: start the set "
                "with pose='browser', or send JPEG frames.",
            )
        packet = parse_frame_message(data, self.config.max_frame_bytes)
        if self.state is SessionState.IDLE:
            raise NotStartedError("Send a start message before the first frame.")
        rgb = decode_image(packet.image, self.config.max_frame_side_px)
        rgb = fit_within(rgb, self.config.pipeline.max_inference_side_px)
        result = self.push(rgb, packet.t_ms, seq=packet.seq)
        result.server_ms = round((time.perf_counter() - started) * MS_PER_S, VALUE_DIGITS)
        return result

    def push(self, rgb: np.ndarray, client_t_ms: float, *, seq: int = 0) -> FrameResult:
        """One frame (RGB uint8, captured at ``client_t_ms`` on the client's clock)."""
        if self.state is SessionState.IDLE or self._checker is None:
            raise NotStartedError("Send a start message before the first frame.")
        if self._estimator is None:
            raise NotStartedError("This set runs pose in the browser: send pose payloads.")
        started = time.perf_counter()
        frame = VideoFrame(index=self.frames, t_ms=self._session_time(client_t_ms), rgb=rgb)
        if self._session is None:
            pose, step = self._estimator.process(frame), None
        else:
            step = self._session.push(frame)
            pose = step.pose
        self._steady_tracking = self._estimator.tracking_one_person
        return self._answer(pose, step, mean_luma(rgb), client_t_ms, seq, started)

    def push_pose(self, payload: PosePayload) -> FrameResult:
        """One frame posed in the browser (a checked payload; see BrowserPoseInput)."""
        if self.state is SessionState.IDLE or self._checker is None:
            raise NotStartedError("Send a start message before the first frame.")
        started = time.perf_counter()
        pose = dataclasses.replace(payload.pose, t_ms=self._session_time(payload.t_ms))
        step = self._session.push_pose(pose) if self._session is not None else None
        self._steady_tracking = pose.steady_tracking
        return self._answer(pose, step, payload.mean_luma, payload.t_ms, payload.seq, started)

    def _session_time(self, client_t_ms: float) -> float:
        if self._origin_ms is None:
            self._origin_ms = client_t_ms
        # One clock per connection; a frame from the past is moved just after the last one.
        t_ms = max(client_t_ms - self._origin_ms, self._last_t_ms + 1.0)
        self._last_t_ms = t_ms
        return t_ms

    def _answer(
        self,
        pose: PoseFrame,
        step: Step | None,
        luma: float,
        client_t_ms: float,
        seq: int,
        started: float,
    ) -> FrameResult:
        """Setup check, set start and the page's answer, whichever side ran the pose."""
        assert self._checker is not None
        t_ms = pose.t_ms
        self.frames += 1
        if self._first_frame_t_ms is None:
            self._first_frame_t_ms = t_ms
        self._last_frame_t_ms = t_ms
        cues: list[CueOut] = []
        hints: list[SetupProblem] = []
        outline: list[list[float]] | None = None
        if step is not None:
            cues, hints = self.progress.apply(step.events)
            outline = self._outline(pose)
        self.frames_with_pose += int(pose.has_pose)
        problems = self._checker.check(pose, luma)
        ready = self._checker.update(t_ms, problems)
        if not ready:
            self._ready_since_ms = None
        if self._session is None and ready and self._tracker_settled(t_ms):
            self._session = self._new_session()
            self.state = SessionState.ACTIVE
        tally = self._filming if self._session is not None else self._filming_setup
        if tally is not None:
            tally.add(pose, luma)

        calibrating = self._session is None or self._session.calibrating
        if self._session is None:
            state = "setup"
        elif calibrating:
            state = "calibrating"
        else:
            state = "active"
        return FrameResult(
            seq=seq,
            t_ms=client_t_ms,
            server_ms=round((time.perf_counter() - started) * MS_PER_S, VALUE_DIGITS),
            state=state,
            calibrating=calibrating,
            setup_ok=not problems,
            setup=problems,
            landmarks=landmarks_out(pose) if self.pose_mode == "server" else None,
            outline=outline,
            phase=self.progress.phase.value,
            reps=self.progress.reps,
            attempts=self.progress.attempts,
            tempo=self.progress.tempo,
            hold=self.progress.hold,
            cues=cues,
            hints=hints,
            mean_luma=round(luma, 1),
        )

    # -- helpers ---------------------------------------------------------------------------

    def _warm(self, estimator: PoseEstimator) -> PoseEstimator:
        """Run one blank frame so the model's first, slow inference happens at start."""
        width_px, height_px = WARM_UP_FRAME_PX
        blank = np.zeros((height_px, width_px, 3), dtype=np.uint8)
        estimator.process(VideoFrame(index=0, t_ms=WARM_UP_T_MS, rgb=blank))
        self._last_t_ms = max(self._last_t_ms, WARM_UP_T_MS)
        return estimator

    def _tracker_settled(self, t_ms: float) -> bool:
        """Whether the estimator tracks one person now (or has been given long enough).

        The estimator starts looking for several people and switches to tracking one after
        about a second alone; landmarks shift a little at that switch, and a calibration
        window spanning it is not "still". So the set starts after the switch, unless it
        does not come within ``tracker_settle_max_s`` (someone else in view).
        """
        if self._steady_tracking or self.config.pipeline.max_people <= 1:
            return True
        if self._ready_since_ms is None:
            self._ready_since_ms = t_ms
        return t_ms - self._ready_since_ms >= self.config.tracker_settle_max_s * MS_PER_S

    def _new_session(self) -> ExerciseSession:
        assert self._start is not None
        return ExerciseSession(
            self._estimator,
            exercise=self._start.exercise,
            prescription=self._prescription,
            height_cm=self._start.height_cm,
            config=self.config.pipeline,
        )

    def _outline(self, pose: PoseFrame) -> list[list[float]] | None:
        if self._session is None or not pose.has_pose:
            return None
        outline = self._session.pipeline.back_outline
        if outline is None or not outline.usable:
            return None
        scale = np.array([pose.image_width_px, pose.image_height_px], dtype=np.float64)
        points: list[list[float]] = np.round(
            outline.points_px[outline.valid] / scale, COORD_DIGITS
        ).tolist()
        return points

class LiveConnection(Protocol):
    """What the websocket loop drives: a LiveSession, or one that runs its browser-pose sets
    in a worker process (formcheck.server.live_workers.SessionDispatcher)."""

    @property
    def session_id(self) -> str: ...

    def start(self, message: StartMessage, prescription: Prescription | None) -> StartedMessage: ...

    def handle_frame_message(self, data: bytes) -> FrameResult: ...

    def finish(self) -> SummaryMessage: ...

    def close(self) -> None: ...


class SessionRegistry:
    """The live sessions open now, so none leaks and their number is capped, in total and
    per client."""

    def __init__(self, max_sessions: int, max_per_client: int | None = None) -> None:
        self.max_sessions = max_sessions
        self.max_per_client = max_per_client or max_sessions
        self._sessions: dict[str, LiveConnection] = {}
        self._clients: dict[str, str] = {}  # session id -> client
        self._lock = threading.Lock()

    def open(
        self, factory: Callable[[str], LiveConnection], client: str = ""
    ) -> LiveConnection | None:
        """A new session, or None when ``max_sessions`` are open already, or
        ``max_per_client`` for this client."""
        with self._lock:
            if len(self._sessions) >= self.max_sessions:
                return None
            if sum(1 for c in self._clients.values() if c == client) >= self.max_per_client:
                return None
            session_id = uuid.uuid4().hex[:12]
            session = factory(session_id)
            self._sessions[session_id] = session
            self._clients[session_id] = client
            return session

    def count_for(self, client: str) -> int:
        with self._lock:
            return sum(1 for c in self._clients.values() if c == client)

    def release(self, session: LiveConnection) -> None:
        """Forget the session (the caller closes it)."""
        with self._lock:
            self._sessions.pop(session.session_id, None)
            self._clients.pop(session.session_id, None)

    def __len__(self) -> int:
        with self._lock:
            return len(self._sessions)

    def __iter__(self) -> Iterator[LiveConnection]:
        with self._lock:
            return iter(list(self._sessions.values()))
