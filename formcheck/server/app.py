"""The FastAPI app: the page, a small JSON API and the live websocket.

    GET  /                the live page (server/public: no build step, nothing from the internet)
    GET  /api/exercises   the exercise analyzers
    GET  /api/health      status (ok, or degraded with the problems: HTTP 503), model,
                          open sessions, job workers and free disk
    GET  /api/messages    JSON Schemas of the websocket messages
    GET  /api/schema/report  JSON Schema of report.json (and of a live set's report)
    ...  /api/auth        whether a token is needed; trade it for a cookie
                          (formcheck.server.access)
    WS   /ws/live         one live session per connection (see formcheck.server.messages;
                          its limits: formcheck.server.live_guard)
    ...  /api/account, /api/people, /people  accounts, programmes, sessions and progress
                          (formcheck.people.routes), when there is a data directory or a
                          ``database_url``
    ...  /api/jobs, /jobs  uploads and their reports (formcheck.server.jobs_routes), when
                          ``config.jobs`` is set; the app's lifespan starts and stops the
                          job backend (local, or Celery over Redis: formcheck.jobs.backend),
                          so a restarted server picks up interrupted jobs; a queue that
                          cannot be reached answers 503

Every request passes, outermost first: the per-client request rate
(formcheck.server.client_limits), CORS for ``allowed_origins`` (only when some are set), and
the Host, Origin and token checks (formcheck.server.access).

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
from collections.abc import AsyncIterator, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import FastAPI, WebSocket, WebSocketDisconnect
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.websockets import WebSocketState

from formcheck import __version__
from formcheck.analyzers import exercise_names, list_analyzers
from formcheck.errors import FormcheckError
from formcheck.jobs.backend import JobBackend, QueueUnavailableError, open_job_backend
from formcheck.jobs.throttle import ThrottledLogger
from formcheck.jobs.worker import DEFAULT_JOB_FN
from formcheck.people.server import install_people, open_people
from formcheck.pose.estimator import PoseEstimator
from formcheck.pose.model import ModelInfo, ensure_model
from formcheck.pose.remote import HEADER as POSE_HEADER
from formcheck.pose.remote import PosePayloadError, is_pose_payload
from formcheck.server.access import AccessMiddleware, AccessPolicy, auth_router, resolve_token
from formcheck.server.attest import ReportSigner
from formcheck.server.browser_pose import BrowserPoseSettings, browser_pose_settings
from formcheck.server.client_limits import ClientRateMiddleware, client_key
from formcheck.server.config import ServerConfig
from formcheck.server.frames import FRAME_HEADER_BYTES, FrameError
from formcheck.server.jobs_models import ApiError
from formcheck.server.jobs_routes import HTTP_UNPROCESSABLE, jobs_health, jobs_router
from formcheck.server.live import (
    BusyError,
    LiveConnection,
    LiveSession,
    NotStartedError,
    ServerPoseSlots,
    SessionRegistry,
)
from formcheck.server.live_guard import (
    LiveGuard,
    MessageTooDeepError,
    SocketTimeoutError,
    parse_prescription,
    start_prescription,
)
from formcheck.server.live_workers import LiveWorkerPool, SessionDispatcher
from formcheck.server.memory import release_freed_memory
from formcheck.server.messages import (
    ClientMessage,
    CueOut,
    ErrorMessage,
    ExerciseOut,
    FinishMessage,
    FrameResult,
    HealthOut,
    StartedMessage,
    StartMessage,
    SummaryMessage,
)
from formcheck.server.web import CONTENT_SECURITY_POLICY, WEB_ASSETS, WebAssets, web_router

__all__ = [
    "ServerContext",
    "create_app",
    "parse_prescription",
    "serve_live_socket",
    "uvicorn_settings",
]

WS_CLOSE_NORMAL = 1000
WS_CLOSE_INTERNAL_ERROR = 1011
WS_CLOSE_TRY_AGAIN_LATER = 1013
HTTP_SERVICE_UNAVAILABLE = 503
QUEUE_RETRY_AFTER_S = 30  # Redis restarts or fails over within about this
MAX_ECHO_CHARS = 40  # an unknown name is quoted back this long at most
log = logging.getLogger("formcheck.server")

DESCRIPTION = """
Live form feedback for back-care exercises. The page at `/` runs the pose model itself and
sends each camera frame's pose to the **websocket `/ws/live`** (not listed below: OpenAPI
has no websockets). Protocol:

1. client → `StartMessage` (JSON; `pose`: "browser" or "server") → server `StartedMessage`
2. client → binary frame, per the set's `pose`: "browser", a pose payload (landmarks and
   the person mask around the trunk, no image: `formcheck.pose.remote`, magic `FCP1`);
   "server", a 12-byte little-endian header `<uint32 seq><float64 t_ms>` + JPEG. Server →
   one `FrameResult` (or `ErrorMessage`) per frame. Send the next frame only after the
   answer: one frame in flight, never a queue.
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
    errors: ThrottledLogger  # tracebacks of live sessions, throttled
    jobs: JobBackend | None = None
    live_pool: LiveWorkerPool | None = None  # browser-pose sets in worker processes
    signer: ReportSigner = field(default_factory=lambda: ReportSigner.for_data_dir(None))

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


def uvicorn_settings(config: ServerConfig) -> dict[str, Any]:
    """uvicorn's options for this app: ``formcheck serve``, the tests' background server and
    the benchmarks run it with these."""
    return {
        "ws_max_size": config.ws_max_message_bytes,
        # No permessage-deflate: a pose payload's mask is deflated already and a picture is a
        # JPEG, so deflating every message again (and inflating it here) costs the server CPU
        # on each frame and a zlib context per socket, and saves next to nothing.
        "ws_per_message_deflate": False,
        "log_level": "warning",
    }


def create_app(
    config: ServerConfig | None = None,
    model: Path | None = None,
    *,
    job_fn: str = DEFAULT_JOB_FN,
) -> FastAPI:
    """The app; finds or builds the pose model now (raises ModelUnavailableError), and the
    access token when one is needed (raises TokenMissingError). ``job_fn`` runs each upload
    on the local backend (tests use a fake one); with ``config.jobs.queue.url`` jobs go to
    Celery workers instead (formcheck.jobs.backend)."""
    config = config or ServerConfig()
    jobs = open_job_backend(config.jobs, job_fn=job_fn) if config.jobs is not None else None
    signer = ReportSigner.for_data_dir(config.jobs.data_dir if config.jobs is not None else None)
    people = open_people(config, jobs, signer)
    policy = AccessPolicy.from_config(
        config, resolve_token(config).value, people.signed_in if people is not None else None
    )
    context = ServerContext(
        config=config,
        model=ensure_model(model),
        registry=SessionRegistry(config.max_sessions, config.max_sessions_per_client),
        server_pose_slots=ServerPoseSlots(config.max_server_pose_sessions),
        web=WEB_ASSETS,
        errors=ThrottledLogger(log, config.traceback_log_interval_s),
        jobs=jobs,
        signer=signer,
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
            if people is not None:
                people.db.close()

    app = FastAPI(
        title="formcheck", version=__version__, description=DESCRIPTION, lifespan=lifespan
    )
    app.state.context = context

    @app.exception_handler(QueueUnavailableError)
    async def queue_unavailable(_: Any, error: QueueUnavailableError) -> JSONResponse:
        return JSONResponse(
            ApiError(detail=str(error), code="queue_unavailable").model_dump(),
            status_code=HTTP_SERVICE_UNAVAILABLE,
            headers={"Retry-After": str(QUEUE_RETRY_AFTER_S)},
        )

    app.add_middleware(AccessMiddleware, policy=policy)
    if config.allowed_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(config.allowed_origins),
            allow_credentials=True,
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "Idempotency-Key"],
        )
    app.add_middleware(ClientRateMiddleware, limits=config.clients)
    app.mount("/static", StaticFiles(directory=context.web.public_dir), name="static")
    app.include_router(auth_router(policy))
    app.include_router(web_router(context.web, context.model.path))
    if jobs is not None:
        app.include_router(
            jobs_router(jobs, lambda: {a.name for a in list_analyzers()}, config.clients)
        )
    if people is not None:
        install_people(app, people)  # accounts, programmes, sessions, progress: /people

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

    @app.get("/api/words", summary="Every fault code's plain name, explanation and basis")
    def words() -> dict[str, dict[str, str]]:
        from formcheck.report.words import words_for_page

        return words_for_page()

    @app.get(
        "/api/filming-diagram.svg",
        summary="A drawing of where to put the camera (for one exercise, or standing side-on)",
        response_class=Response,
        responses={HTTP_UNPROCESSABLE: {"model": ApiError}},
    )
    def filming_diagram(exercise: str | None = None) -> Response:
        from formcheck.report.diagram import camera_diagram_svg

        known = exercise_names()
        if exercise is not None and exercise not in known:
            return JSONResponse(
                ApiError(
                    detail=f"Unknown exercise {exercise[:MAX_ECHO_CHARS]!r}; known: "
                    f"{', '.join(known)}.",
                    code="unknown_exercise",
                ).model_dump(),
                status_code=HTTP_UNPROCESSABLE,
            )
        return Response(
            camera_diagram_svg(exercise),
            media_type="image/svg+xml",
            headers={"Cache-Control": "public, max-age=3600"},
        )

    @app.get(
        "/api/health",
        summary="Status (ok, or degraded with its problems), model, sessions and jobs",
        responses={HTTP_SERVICE_UNAVAILABLE: {"model": HealthOut}},
    )
    def health() -> Any:
        jobs_out, problems = jobs_health(jobs) if jobs is not None else (None, [])
        out = HealthOut(
            status="degraded" if problems else "ok",
            problems=problems,
            version=__version__,
            model_source=context.model.source,
            sessions=len(context.registry),
            max_sessions=config.max_sessions,
            server_pose_sessions=len(context.server_pose_slots),
            max_server_pose_sessions=config.max_server_pose_sessions,
            browser_pose=context.web.browser_pose,
            jobs=jobs_out,
        )
        if problems:
            return JSONResponse(out.model_dump(), status_code=HTTP_SERVICE_UNAVAILABLE)
        return out

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
    client = client_key(websocket.scope)
    session = context.registry.open(context.new_session, client)
    if session is None:
        await websocket.send_text(_busy(context, client).model_dump_json())
        await websocket.close(code=WS_CLOSE_TRY_AGAIN_LATER)
        return
    guard = LiveGuard(context.config, session.session_id, context.errors)
    close_code = WS_CLOSE_NORMAL
    try:
        while True:
            try:
                message = await guard.receive(websocket)
            except SocketTimeoutError as timeout:
                await websocket.send_text(
                    ErrorMessage(code="timeout", message=str(timeout)).model_dump_json()
                )
                break
            if message["type"] == "websocket.disconnect":
                break
            reply = await _answer(session, message, guard)
            if isinstance(reply, SummaryMessage):  # the report as the page will get it
                report = json.loads(reply.report.model_dump_json())
                reply = reply.model_copy(update={"signature": context.signer.sign(report)})
            await websocket.send_text(reply.model_dump_json())
            if guard.should_close:
                close_code = WS_CLOSE_INTERNAL_ERROR
                break
    except (WebSocketDisconnect, RuntimeError):
        pass  # the client went away mid-answer
    finally:
        context.registry.release(session)
        await run_in_threadpool(_close_session, session)
        if websocket.application_state is WebSocketState.CONNECTED:
            with contextlib.suppress(RuntimeError, WebSocketDisconnect):
                await websocket.close(code=close_code)


def _close_session(session: LiveConnection) -> None:
    session.close()
    release_freed_memory()  # the session's pose graph: back to the system, not kept


def _busy(context: ServerContext, client: str) -> ErrorMessage:
    registry = context.registry
    if registry.count_for(client) >= registry.max_per_client:
        message = (
            f"You already have {registry.max_per_client} live sessions open on this server; "
            "close one (another tab or device) and try again."
        )
    else:
        message = f"The server already has {registry.max_sessions} live sessions; try again later."
    return ErrorMessage(code="busy", message=message)


async def _answer(
    session: LiveConnection, message: MutableMapping[str, Any], guard: LiveGuard
) -> BaseModel:
    data = message.get("bytes")
    text = message.get("text")
    failed_inside = False
    try:
        if data is not None:
            guard.check_frame(data)
            if isinstance(session, SessionDispatcher) and session.in_worker:
                return await session.handle_frame_message_async(data)
            return await run_in_threadpool(session.handle_frame_message, data)
        if text is None:
            return ErrorMessage(code="bad_message", message="Empty websocket message.")
        return await _control(session, text, guard)
    except (FrameError, PosePayloadError) as exc:
        return ErrorMessage(code=exc.code, message=exc.message, seq=_seq_of(data))
    except BusyError as exc:
        return ErrorMessage(code="busy", message=str(exc))
    except NotStartedError as exc:
        return ErrorMessage(code="not_started", message=str(exc), seq=_seq_of(data))
    except FormcheckError as exc:
        return ErrorMessage(code="bad_start", message=str(exc))
    except Exception as exc:
        failed_inside = True
        guard.log_internal(exc)
        return ErrorMessage(
            code="internal",
            message="The server could not process that message; the session goes on.",
            seq=_seq_of(data),
        )
    finally:
        guard.answered(failed_inside)


async def _control(session: LiveConnection, text: str, guard: LiveGuard) -> BaseModel:
    try:
        guard.check_text(text)
        parsed = ClientMessage.model_validate({"message": json.loads(text)}).message
    except (ValueError, ValidationError) as exc:
        return ErrorMessage(code="bad_message", message=_why(exc))
    if isinstance(parsed, StartMessage):
        prescription = await run_in_threadpool(start_prescription, parsed, guard.config)
        started = await run_in_threadpool(session.start, parsed, prescription)
        guard.started()
        return started
    return await run_in_threadpool(session.finish)


def _why(exc: Exception) -> str:
    if isinstance(exc, MessageTooDeepError):
        return str(exc)
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
