"""Browser-pose sets in worker processes: one process per core for the sets' Python work.

A set posed in the browser costs the server no model, only Python: smoothing, kinematics, the
back outline and the analyzer, 1-3 ms a frame. One process runs Python on one core at a time
(the GIL), so sixteen people at 30 frames/s would need more than the one core a single process
can give. The app therefore hands browser-pose sets to a small pool of worker processes
(``ServerConfig.live_workers``, one per core by default), each running ordinary LiveSessions;
the app's process keeps the websockets, the page and sets with pose on the server (whose
MediaPipe work runs outside the GIL in threads).

:class:`SessionDispatcher` stands in for a LiveSession in the app: a start with
``pose="browser"`` opens the set in the least-loaded worker, any other start runs in the app's
own LiveSession, and frames, finish and close go wherever the set is. Requests travel over a
pipe per worker (pickled; payloads are a few kB, answers about 1 kB) and come back through a
reader thread; the caller (a threadpool thread of the app) waits without holding the GIL.
Errors come back as their kind, code and sentence and are raised again as the same types, so
the app answers exactly as for an in-process set. A worker that dies fails its sets' pending
requests with a plain error; its sets end, new sets go to the other workers or stay in the
app's process.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import multiprocessing
import threading
from concurrent.futures import Future
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any, NoReturn

from formcheck.analyzers import Prescription
from formcheck.errors import FormcheckError
from formcheck.pose.remote import PosePayloadError
from formcheck.server.browser_pose import BrowserPoseSettings
from formcheck.server.config import ServerConfig
from formcheck.server.frames import FrameError
from formcheck.server.live import LiveSession, NotStartedError
from formcheck.server.messages import (
    FrameResult,
    PoseMode,
    StartedMessage,
    StartMessage,
    SummaryMessage,
)

log = logging.getLogger("formcheck.server")

REQUEST_TIMEOUT_S = 60.0  # a frame takes milliseconds; a start builds the analyzer
WORKER_JOIN_TIMEOUT_S = 5.0
# Asks a worker to end. Closing the pipe alone does not reach it while the app's reader thread
# is still blocked reading the same pipe: the worker would wait out WORKER_JOIN_TIMEOUT_S.
QUIT_OP = "quit"


class WorkerGoneError(RuntimeError):
    """The worker process running a set ended."""


# --- the worker process -------------------------------------------------------------------------


def _error_reply(exc: BaseException) -> tuple[str, str, str]:
    if isinstance(exc, FrameError):
        return ("frame", exc.code, exc.message)
    if isinstance(exc, PosePayloadError):
        return ("pose", exc.code, exc.message)
    if isinstance(exc, NotStartedError):
        return ("not_started", "", str(exc))
    if isinstance(exc, FormcheckError):
        return ("formcheck", "", str(exc))
    return ("internal", "", f"{type(exc).__name__}: {exc}")


def _worker_main(conn: Connection, config_json: str, settings_json: str, model_source: str) -> None:
    """Serve requests ``(request_id, session_id, op, args)`` until the pipe closes."""
    config = ServerConfig.model_validate_json(config_json)
    settings = BrowserPoseSettings.model_validate_json(settings_json)
    sessions: dict[str, LiveSession] = {}

    def no_estimator() -> Any:
        raise NotStartedError("A worker process runs only sets posed in the browser.")

    while True:
        try:
            request_id, session_id, op, args = conn.recv()
        except (EOFError, OSError):
            return
        if op == QUIT_OP:
            return
        try:
            if op == "start":
                session = sessions.get(session_id) or LiveSession(
                    session_id, no_estimator, config, model_source, browser_pose=settings
                )
                sessions[session_id] = session
                result: Any = session.start(*args)
            elif op == "close":
                closing = sessions.pop(session_id, None)
                if closing is not None:
                    closing.close()
                result = None
            else:
                session = sessions[session_id]
                result = session.finish() if op == "finish" else session.handle_frame_message(*args)
            conn.send((request_id, True, result))
        except Exception as exc:
            conn.send((request_id, False, _error_reply(exc)))


def _raise_error(reply: tuple[str, str, str]) -> NoReturn:
    kind, code, message = reply
    if kind == "frame":
        raise FrameError(code, message)
    if kind == "pose":
        error = PosePayloadError(message)
        error.code = code
        raise error
    if kind == "not_started":
        raise NotStartedError(message)
    if kind == "formcheck":
        raise FormcheckError(message)
    raise RuntimeError(message)


# --- the app's side -----------------------------------------------------------------------------


@dataclass
class _Worker:
    index: int
    process: Any  # multiprocessing.process.BaseProcess
    conn: Connection
    send_lock: threading.Lock = field(default_factory=threading.Lock)
    pending: dict[int, Future[Any]] = field(default_factory=dict)
    sets: int = 0
    alive: bool = True

    def send(self, request_id: int, session_id: str, op: str, args: tuple[Any, ...]) -> Future[Any]:
        """Send a request; its answer completes the returned future (from the reader thread)."""
        future: Future[Any] = Future()
        with self.send_lock:
            if not self.alive:
                raise WorkerGoneError("The worker running this set has stopped; start a new set.")
            self.pending[request_id] = future
            self.conn.send((request_id, session_id, op, args))
        return future

    def read_replies(self) -> None:
        """The worker's answers, each to the request waiting for it; on EOF, fail them all."""
        while True:
            try:
                request_id, ok, result = self.conn.recv()
            except (EOFError, OSError):
                break
            future = self.pending.pop(request_id, None)
            if future is None:
                continue
            if ok:
                future.set_result(result)
            else:
                future.set_exception(_ReplyError(result))
        with self.send_lock:
            self.alive = False
            pending, self.pending = self.pending, {}
        for future in pending.values():
            future.set_exception(WorkerGoneError("The worker running this set has stopped."))


class _ReplyError(Exception):
    """An error the worker reported, raised again as its own type by the caller."""

    def __init__(self, reply: tuple[str, str, str]) -> None:
        super().__init__(reply[2])
        self.reply = reply


class LiveWorkerPool:
    """Worker processes for browser-pose sets, started as sets need them."""

    def __init__(
        self, count: int, config: ServerConfig, settings: BrowserPoseSettings, model_source: str
    ) -> None:
        self.count = count
        self._args = (config.model_dump_json(), settings.model_dump_json(), model_source)
        self._workers: list[_Worker] = []
        self._lock = threading.Lock()
        self._ids = itertools.count()
        self._closed = False

    def _spawn(self) -> None:
        context = multiprocessing.get_context("spawn")  # no threads or locks copied by fork
        index = len(self._workers)
        here, there = context.Pipe()
        process = context.Process(
            target=_worker_main,
            args=(there, *self._args),
            name=f"formcheck-live-{index}",
            daemon=True,
        )
        process.start()
        there.close()
        worker = _Worker(index, process, here)
        threading.Thread(
            target=worker.read_replies, name=f"formcheck-live-{index}-replies", daemon=True
        ).start()
        self._workers.append(worker)

    def assign(self) -> _Worker | None:
        """The live worker with the fewest sets, or None when none can take one. Workers are
        started as sets need them (an idle one still costs a little), up to ``count``."""
        with self._lock:
            if self._closed:
                return None
            idle = [w for w in self._workers if w.alive and w.sets == 0]
            if not idle and len(self._workers) < self.count:
                self._spawn()
            alive = [w for w in self._workers if w.alive and w.process.is_alive()]
            if not alive:
                return None
            worker = min(alive, key=lambda w: w.sets)
            worker.sets += 1
            return worker

    def unassign(self, worker: _Worker) -> None:
        with self._lock:
            worker.sets = max(0, worker.sets - 1)

    def request(self, worker: _Worker, session_id: str, op: str, *args: Any) -> Any:
        """Ask and wait (a thread that may block)."""
        future = worker.send(next(self._ids), session_id, op, args)
        try:
            return future.result(timeout=REQUEST_TIMEOUT_S)
        except _ReplyError as exc:
            _raise_error(exc.reply)

    async def request_async(self, worker: _Worker, session_id: str, op: str, *args: Any) -> Any:
        """Ask and await on the event loop: no worker thread between the pipe and the socket."""
        future = worker.send(next(self._ids), session_id, op, args)
        try:
            return await asyncio.wait_for(asyncio.wrap_future(future), REQUEST_TIMEOUT_S)
        except _ReplyError as exc:
            _raise_error(exc.reply)

    @property
    def sets(self) -> int:
        with self._lock:
            return sum(w.sets for w in self._workers)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            workers, self._workers = self._workers, []
        for worker in workers:
            with contextlib.suppress(OSError, ValueError), worker.send_lock:
                worker.conn.send((0, "", QUIT_OP, ()))
            with contextlib.suppress(OSError):
                worker.conn.close()
            worker.process.join(WORKER_JOIN_TIMEOUT_S)
            if worker.process.is_alive():
                worker.process.terminate()
                worker.process.join(WORKER_JOIN_TIMEOUT_S)


class SessionDispatcher:
    """A connection's sets: browser-pose ones in a worker process, the rest in the app's
    own LiveSession. The same interface as LiveSession for the websocket loop."""

    def __init__(self, local: LiveSession, pool: LiveWorkerPool) -> None:
        self.session_id = local.session_id
        self._local = local
        self._pool = pool
        self._worker: _Worker | None = None

    @property
    def pose_mode(self) -> PoseMode:
        return "browser" if self._worker is not None else self._local.pose_mode

    def start(self, message: StartMessage, prescription: Prescription | None) -> StartedMessage:
        if message.pose != "browser":
            self._leave_worker()
            return self._local.start(message, prescription)
        if self._worker is None:
            self._worker = self._pool.assign()
            if self._worker is None:  # no worker can take it: run it here
                return self._local.start(message, prescription)
        self._local.close()  # releases a server-pose slot a previous set held
        started: StartedMessage = self._remote("start", message, prescription)
        return started

    def handle_frame_message(self, data: bytes) -> FrameResult:
        if self._worker is None:
            return self._local.handle_frame_message(data)
        result: FrameResult = self._remote("frame", data)
        return result

    @property
    def in_worker(self) -> bool:
        return self._worker is not None

    async def handle_frame_message_async(self, data: bytes) -> FrameResult:
        """A frame of a set in a worker, awaited on the event loop (see ``in_worker``)."""
        assert self._worker is not None
        try:
            result: FrameResult = await self._pool.request_async(
                self._worker, self.session_id, "frame", data
            )
        except WorkerGoneError:
            self._pool.unassign(self._worker)
            self._worker = None
            raise
        return result

    def finish(self) -> SummaryMessage:
        if self._worker is None:
            return self._local.finish()
        summary: SummaryMessage = self._remote("finish")
        return summary

    def close(self) -> None:
        self._leave_worker()
        self._local.close()

    def _remote(self, op: str, *args: Any) -> Any:
        assert self._worker is not None
        try:
            return self._pool.request(self._worker, self.session_id, op, *args)
        except WorkerGoneError:
            self._pool.unassign(self._worker)
            self._worker = None
            raise

    def _leave_worker(self) -> None:
        if self._worker is None:
            return
        worker, self._worker = self._worker, None
        with contextlib.suppress(WorkerGoneError, RuntimeError, FormcheckError):
            self._pool.request(worker, self.session_id, "close")
        self._pool.unassign(worker)
