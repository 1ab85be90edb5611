"""The FastAPI app: the page, a small JSON API and the live websocket.

    GET  /                the live page (server/public: no build step, nothing from the internet)
    GET  /api/exercises   the exercise analyzers
    GET  /api/health      status, model and open sessions
    GET  /api/messages    JSON Schemas of the websocket messages
    WS   /ws/live         one live session per connection (see formcheck.server.messages)
    ...  /api/jobs, /jobs  uploads and their reports (formcheck.server.jobs_routes), when
                          ``config.jobs`` is set; the app's lifespan starts and stops the
                          JobService, so a restarted server picks up interrupted jobs

The pose model is found (or built) once, when the app is created. By default the page runs
it in the browser (formcheck.server.web serves it with tasks-vision's WebAssembly files); a set
with pose on the server gets its own PoseEstimator (MediaPipe keeps tracking state per stream)
loading that same bundle.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
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
from formcheck.pose.remote import HEADER as POSE_HEADER
from formcheck.pose.remote import PosePayloadError, is_pose_payload
from formcheck.server.browser_pose import BrowserPoseSettings, browser_pose_settings
from formcheck.server.config import ServerConfig
from formcheck.server.frames import FRAME_HEADER_BYTES, FrameError
from formcheck.server.jobs_routes import jobs_health, jobs_router
from formcheck.server.live import (
    BusyError,
    LiveConnection,
    LiveSession,
    NotStartedError,
    ServerPoseSlots,
    SessionRegistry,
)
from formcheck.server.live_workers import LiveWorkerPool, SessionDispatcher
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
from formcheck.server.web import CONTENT_SECURITY_POLICY, WEB_ASSETS, WebAssets, web_router

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
    server_pose_slots: ServerPoseSlots
    web: WebAssets
    jobs: JobService | None = None
    live_pool: LiveWorkerPool | None = None  # browser-pose sets in worker processes

    def new_estimator(self) -> PoseEstimator:
        pipeline = self.config.pipeline
        return PoseEstimator(
            self.model.path, segmentation=pipeline.segmentation, max_people=pipeline.max_people
        )

    def browser_settings(self) -> BrowserPoseSettings | None:
        if not self.web.browser_pose:
            return None
        return browser_pose_settings(
            self.config.pipeline, self.config.max_pose_payload_bytes, self.model.sha256[:16]
        )

    def new_session(self, session_id: str) -> LiveConnection:
        local = LiveSession(
            session_id,
            self.new_estimator,
            self.config,
            self.model.source,
            browser_pose=self.browser_settings(),
            server_pose_slots=self.server_pose_slots,
        )
        return SessionDispatcher(local, self.live_pool) if self.live_pool is not None else local


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
        server_pose_slots=ServerPoseSlots(config.max_server_pose_sessions),
        web=WEB_ASSETS,
        jobs=jobs,
    )

    settings = context.browser_settings()
    workers = config.live_workers if config.live_workers is not None else os.cpu_count() or 1
    if settings is not None and workers > 0:
        context.live_pool = LiveWorkerPool(workers, config, settings, context.model.source)

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if jobs is not None:
            await run_in_threadpool(jobs.start)  # owns the data dir; requeues interrupted jobs
        try:
            yield
        finally:
            if jobs is not None:
                await run_in_threadpool(jobs.close)  # running jobs go back to the queue
            if context.live_pool is not None:
                await run_in_threadpool(context.live_pool.close)

    app = FastAPI(
        title="formcheck", version=__version__, description=DESCRIPTION, lifespan=lifespan
    )
    app.state.context = context
    app.mount("/static", StaticFiles(directory=context.web.public_dir), name="static")
    app.include_router(web_router(context.web, context.model.path))
    if jobs is not None:
        app.include_router(jobs_router(jobs, lambda: {a.name for a in list_analyzers()}))

    @app.get("/", include_in_schema=True, summary="The live page", response_class=FileResponse)
    def page() -> FileResponse:
        return FileResponse(
            context.web.public_dir / "index.html",
            media_type="text/html",
            headers={"Content-Security-Policy": CONTENT_SECURITY_POLICY},
        )

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
            server_pose_sessions=len(context.server_pose_slots),
            max_server_pose_sessions=config.max_server_pose_sessions,
            browser_pose=context.web.browser_pose,
            jobs=jobs_health(jobs) if jobs is not None else None,
        )

    @app.get("/api/messages", summary="JSON Schemas of the live websocket's messages")
    def messages() -> dict[str, Any]:
        kinds: list[type[BaseModel]] = [
            StartMessage, FinishMessage, StartedMessage, FrameResult, SummaryMessage,
            ErrorMessage, CueOut,
        ]  # fmt: skip
        return {kind.__name__: kind.model_json_schema() for kind in kinds}

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


async def _answer(session: LiveConnection, message: MutableMapping[str, Any]) -> BaseModel:
    data = message.get("bytes")
    text = message.get("text")
    try:
        if data is not None:
            if isinstance(session, SessionDispatcher) and session.in_worker:
                return await session.handle_frame_message_async(data)
            return await run_in_threadpool(session.handle_frame_message, data)
        if text is None:
            return ErrorMessage(code="bad_message", message="Empty websocket message.")
        return await _control(session, text)
    except (FrameError, PosePayloadError) as exc:
        return ErrorMessage(code=exc.code, message=exc.message, seq=_seq_of(data))
    except BusyError as exc:
        return ErrorMessage(code="busy", message=str(exc))
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


async def _control(session: LiveConnection, text: str) -> BaseModel:
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
    if data is not None and is_pose_payload(data):
        return int(POSE_HEADER.unpack_from(data)[1]) if len(data) >= POSE_HEADER.size else None
    if data is None or len(data) < FRAME_HEADER_BYTES:
        return None
    return int.from_bytes(data[:4], "little")
