"""The FastAPI app: the page, a small JSON API and the live websocket.

    GET  /                the live page (static files, no build step, nothing from the internet)
    GET  /api/exercises   the exercise analyzers
    GET  /api/health      status, model and open sessions
    GET  /api/messages    JSON Schemas of the websocket messages
    GET  /api/schema/report  JSON Schema of report.json (and of a live set's report)
    WS   /ws/live         one live session per connection (see formcheck.server.messages)
    ...  /api/jobs, /jobs  uploads and their reports (formcheck.server.jobs_routes), when
                          ``config.jobs`` is set; the app's lifespan starts and stops the
                          JobService, so a restarted server picks up interrupted jobs

The pose model is found (or built) once, when the app is created; each connection gets its
own PoseEstimator (MediaPipe keeps tracking state per stream) loading that same bundle.
"""

from __future__ import annotations

import contextlib
import json
import logging
import tomllib
from collections.abc import AsyncIterator, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI, WebSocket, WebSocketDisconnect
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.websockets import WebSocketState

from formcheck import __version__
from formcheck.analyzers import Prescription, list_analyzers
from formcheck.analyzers.spec import prescription_from_mapping
from formcheck.errors import FormcheckError
from formcheck.jobs.service import JobService
from formcheck.pose.estimator import PoseEstimator
from formcheck.pose.model import ModelInfo, ensure_model
from formcheck.server.config import ServerConfig
from formcheck.server.frames import FRAME_HEADER_BYTES, FrameError
from formcheck.server.jobs_routes import jobs_health, jobs_router
from formcheck.server.live import LiveSession, NotStartedError, SessionRegistry
from formcheck.server.messages import (
    ClientMessage,
    CueOut,
    ErrorMessage,
    ExerciseOut,
    FinishMessage,
    FrameResult,
    HealthOut,
    PrescriptionText,
    StartedMessage,
    StartMessage,
    SummaryMessage,
)

STATIC_DIR = Path(__file__).parent / "static"
WS_CLOSE_TRY_AGAIN_LATER = 1013
log = logging.getLogger("formcheck.server")

DESCRIPTION = """
Live form feedback for back-care exercises. The page at `/` streams the camera to the
**websocket `/ws/live`** (not listed below: OpenAPI has no websockets). Protocol:

1. client → `StartMessage` (JSON) → server `StartedMessage`
2. client → binary frame: 12-byte little-endian header `<uint32 seq><float64 t_ms>` + JPEG;
   server → one `FrameResult` (or `ErrorMessage`) per frame. Send the next frame only after
   the answer: one frame in flight, never a queue.
3. client → `FinishMessage` → server `SummaryMessage` (the set's report).

`GET /api/messages` returns the JSON Schema of every message.

**Uploads** (when the server runs with a data directory): `POST /api/jobs` with a
multipart form (`file`, `exercise`, optional settings) queues an analysis and answers its id;
`GET /api/jobs/{id}` follows it (queued, running with progress, done, or failed with a plain
reason); `GET /api/jobs/{id}/files/{name}` serves report.html, report.json, measures.csv and
annotated.mp4 once done; `/jobs/{id}` is the job's page.
"""


@dataclass
class ServerContext:
    """Everything the routes share: settings, the model and the open sessions."""

    config: ServerConfig
    model: ModelInfo
    registry: SessionRegistry
    jobs: JobService | None = None

    def new_estimator(self) -> PoseEstimator:
        pipeline = self.config.pipeline
        return PoseEstimator(
            self.model.path, segmentation=pipeline.segmentation, max_people=pipeline.max_people
        )

    def new_session(self, session_id: str) -> LiveSession:
        return LiveSession(session_id, self.new_estimator, self.config, self.model.source)


def parse_prescription(given: PrescriptionText, exercise: str) -> Prescription:
    """A prescription file's text (.json as JSON, anything else as TOML)."""
    from formcheck.analyzers.errors import PrescriptionError

    try:
        if given.name.lower().endswith(".json"):
            data = json.loads(given.text)
        else:
            data = tomllib.loads(given.text)
    except ValueError as exc:
        raise PrescriptionError(f"Prescription {given.name} cannot be read: {exc}.") from exc
    if not isinstance(data, dict):
        raise PrescriptionError(f"Prescription {given.name} must be a table of settings.")
    data.setdefault("exercise", exercise)
    return prescription_from_mapping(data, given.name)


def create_app(config: ServerConfig | None = None, model: Path | None = None) -> FastAPI:
    """The app; finds or builds the pose model now (raises ModelUnavailableError)."""
    config = config or ServerConfig()
    jobs = JobService(config.jobs) if config.jobs is not None else None
    context = ServerContext(
        config=config,
        model=ensure_model(model),
        registry=SessionRegistry(config.max_sessions),
        jobs=jobs,
    )

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if jobs is not None:
            await run_in_threadpool(jobs.start)  # owns the data dir; requeues interrupted jobs
        try:
            yield
        finally:
            if jobs is not None:
                await run_in_threadpool(jobs.close)  # running jobs go back to the queue

    app = FastAPI(
        title="formcheck", version=__version__, description=DESCRIPTION, lifespan=lifespan
    )
    app.state.context = context
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    if jobs is not None:
        app.include_router(jobs_router(jobs, lambda: {a.name for a in list_analyzers()}))

    @app.get("/", include_in_schema=True, summary="The live page", response_class=FileResponse)
    def page() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html", media_type="text/html")

    @app.get("/api/exercises", summary="Exercise analyzers")
    def exercises() -> list[ExerciseOut]:
        return [
            ExerciseOut(name=a.name, description=a.description, camera_placement=a.camera_placement)
            for a in list_analyzers()
        ]

    @app.get("/api/health", summary="Status, model and open live sessions")
    def health() -> HealthOut:
        return HealthOut(
            version=__version__,
            model_source=context.model.source,
            sessions=len(context.registry),
            max_sessions=config.max_sessions,
            jobs=jobs_health(jobs) if jobs is not None else None,
        )

    @app.get("/api/messages", summary="JSON Schemas of the live websocket's messages")
    def messages() -> dict[str, Any]:
        kinds: list[type[BaseModel]] = [
            StartMessage, FinishMessage, StartedMessage, FrameResult, SummaryMessage,
            ErrorMessage, CueOut,
        ]  # fmt: skip
        return {kind.__name__: kind.model_json_schema() for kind in kinds}

    @app.get("/api/schema/report", summary="JSON Schema of report.json and live reports")
    def report_schema() -> dict[str, Any]:
        from formcheck.report.model import report_json_schema

        return report_json_schema()

    @app.websocket("/ws/live")
    async def live(websocket: WebSocket) -> None:
        await serve_live_socket(websocket, context)

    return app


async def serve_live_socket(websocket: WebSocket, context: ServerContext) -> None:
    """One connection: a LiveSession from accept to close, released whatever happens."""
    await websocket.accept()
    session = context.registry.open(context.new_session)
    if session is None:
        busy = ErrorMessage(
            code="busy",
            message=f"The server already has {context.registry.max_sessions} live sessions; "
            "try again later.",
        )
        await websocket.send_text(busy.model_dump_json())
        await websocket.close(code=WS_CLOSE_TRY_AGAIN_LATER)
        return
    try:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                break
            reply = await _answer(session, message)
            await websocket.send_text(reply.model_dump_json())
    except (WebSocketDisconnect, RuntimeError):
        pass  # the client went away mid-answer
    finally:
        context.registry.release(session)
        await run_in_threadpool(session.close)
        if websocket.application_state is WebSocketState.CONNECTED:
            with contextlib.suppress(RuntimeError, WebSocketDisconnect):
                await websocket.close()


async def _answer(session: LiveSession, message: MutableMapping[str, Any]) -> BaseModel:
    data = message.get("bytes")
    text = message.get("text")
    try:
        if data is not None:
            return await run_in_threadpool(session.handle_frame_message, data)
        if text is None:
            return ErrorMessage(code="bad_message", message="Empty websocket message.")
        return await _control(session, text)
    except FrameError as exc:
        return ErrorMessage(code=exc.code, message=exc.message, seq=_seq_of(data))
    except NotStartedError as exc:
        return ErrorMessage(code="not_started", message=str(exc), seq=_seq_of(data))
    except FormcheckError as exc:
        return ErrorMessage(code="bad_start", message=str(exc))
    except Exception:
        log.exception("live session %s failed on a message", session.session_id)
        return ErrorMessage(
            code="internal",
            message="The server could not process that message; the session goes on.",
            seq=_seq_of(data),
        )


async def _control(session: LiveSession, text: str) -> BaseModel:
    try:
        parsed = ClientMessage.model_validate({"message": json.loads(text)}).message
    except (ValueError, ValidationError) as exc:
        return ErrorMessage(code="bad_message", message=_why(exc))
    if isinstance(parsed, StartMessage):
        prescription = None
        if parsed.prescription is not None:
            prescription = parse_prescription(parsed.prescription, parsed.exercise)
        return await run_in_threadpool(session.start, parsed, prescription)
    return await run_in_threadpool(session.finish)


def _why(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"] if p != "message")
        return f"The message is not valid: {where or 'message'}: {err['msg']}."
    return "The message is not JSON: send a start or finish message, or a binary frame."


def _seq_of(data: bytes | None) -> int | None:
    if data is None or len(data) < FRAME_HEADER_BYTES:
        return None
    return int.from_bytes(data[:4], "little")
