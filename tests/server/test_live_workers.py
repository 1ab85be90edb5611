"""Browser-pose sets in worker processes answer exactly as in the app's own process."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from typing import Any

import pytest

from formcheck.errors import FormcheckError
from formcheck.pose.remote import PosePayloadError, encode_payload
from formcheck.server.browser_pose import browser_pose_settings
from formcheck.server.config import ServerConfig
from formcheck.server.frames import FrameError
from formcheck.server.live import LiveSession, NotStartedError, ServerPoseSlots
from formcheck.server.live_workers import LiveWorkerPool, SessionDispatcher, WorkerGoneError
from formcheck.server.messages import FrameResult, StartMessage
from tests.pose.test_remote import person

CONFIG = ServerConfig()
SETTINGS = browser_pose_settings(CONFIG.pipeline, CONFIG.max_pose_payload_bytes, "test")
FRAME_PERIOD_MS = 33.0
FRAMES = 90
WORKER_EXIT_WAIT_S = 10.0


def no_estimator() -> Any:
    raise AssertionError("a browser-pose set must not load the model")


def local_session(session_id: str) -> LiveSession:
    return LiveSession(
        session_id,
        no_estimator,
        CONFIG,
        "test",
        browser_pose=SETTINGS,
        server_pose_slots=ServerPoseSlots(CONFIG.max_server_pose_sessions),
    )


@pytest.fixture(scope="module")
def pool() -> Iterator[LiveWorkerPool]:
    workers = LiveWorkerPool(2, CONFIG, SETTINGS, "test")
    yield workers
    workers.close()


def payloads() -> list[bytes]:
    """A person bending over three seconds, as the page would send it."""
    out = []
    for i in range(FRAMES):
        pose = person(i * FRAME_PERIOD_MS, hip_flexion_deg=10.0 + i)
        out.append(encode_payload(pose, seq=i, t_ms=i * FRAME_PERIOD_MS, mean_luma=120.0))
    return out


def comparable(result: FrameResult) -> dict[str, Any]:
    return result.model_dump(exclude={"server_ms"})


def test_a_worker_set_answers_as_the_apps_own(pool: LiveWorkerPool) -> None:
    here = local_session("here")
    there = SessionDispatcher(local_session("there"), pool)
    start = StartMessage(exercise="hip_hinge", pose="browser")
    assert there.start(start, None).model_dump() == {
        **here.start(start, None).model_dump(),
        "session_id": "there",
    }
    assert there.pose_mode == "browser" and pool.sets == 1
    for data in payloads():
        assert comparable(there.handle_frame_message(data)) == comparable(
            here.handle_frame_message(data)
        )
    assert there.finish().report == here.finish().report
    there.close()
    assert pool.sets == 0


def test_worker_errors_are_raised_as_their_own_types(pool: LiveWorkerPool) -> None:
    there = SessionDispatcher(local_session("errors"), pool)
    with pytest.raises(FormcheckError, match="Unknown exercise"):
        there.start(StartMessage(exercise="juggling", pose="browser"), None)
    there.start(StartMessage(exercise="hip_hinge", pose="browser"), None)
    with pytest.raises(FrameError) as frame_error:
        there.handle_frame_message(b"\x00\x00\x00\x00" + bytes(8) + b"\xff\xd8\xff")
    assert frame_error.value.code == "wrong_pose_mode"
    with pytest.raises(PosePayloadError) as payload_error:
        there.handle_frame_message(payloads()[0][:40])
    assert payload_error.value.code == "bad_pose"
    there.handle_frame_message(payloads()[1])
    with pytest.raises(PosePayloadError) as late:
        there.handle_frame_message(payloads()[0])
    assert late.value.code == "time_not_increasing"
    there.finish()
    with pytest.raises(NotStartedError):
        there.finish()
    there.close()


def test_a_set_with_pose_on_the_server_stays_in_the_apps_process(pool: LiveWorkerPool) -> None:
    local = local_session("local")
    there = SessionDispatcher(local, pool)
    local.start = lambda message, prescription: "started here"  # type: ignore[method-assign,assignment,return-value]
    assert there.start(StartMessage(exercise="hip_hinge", pose="server"), None) == "started here"
    assert pool.sets == 0


def test_a_dead_worker_ends_its_sets_and_the_pool_goes_on() -> None:
    pool = LiveWorkerPool(1, CONFIG, SETTINGS, "test")
    try:
        first = SessionDispatcher(local_session("first"), pool)
        first.start(StartMessage(exercise="hip_hinge", pose="browser"), None)
        (worker,) = pool._workers
        os.kill(worker.process.pid, signal.SIGKILL)
        worker.process.join(WORKER_EXIT_WAIT_S)
        deadline = time.monotonic() + WORKER_EXIT_WAIT_S
        while worker.alive and time.monotonic() < deadline:
            time.sleep(0.05)
        with pytest.raises(WorkerGoneError):
            first.handle_frame_message(payloads()[0])
        assert first.pose_mode == "server" and pool.sets == 0
        # No worker left: a new browser set runs in the app's own process instead.
        second = SessionDispatcher(local_session("second"), pool)
        started = second.start(StartMessage(exercise="hip_hinge", pose="browser"), None)
        assert started.pose == "browser"
        result = second.handle_frame_message(payloads()[0])
        assert result.seq == 0
    finally:
        pool.close()


def test_a_live_set_reports_how_its_own_frames_were_filmed() -> None:
    """The live report's filming block: the set's frames once it started (walking into place
    is not the set); for a set that never started, the setup's frames and what kept it."""
    from formcheck.pose.remote import encode_payload as encode
    from formcheck.report.model import FilmingProblem
    from formcheck.types import PoseFrame

    started = local_session("started")
    started.start(StartMessage(exercise="hip_hinge", pose="browser"), None)
    for i in range(FRAMES):
        t_ms = i * FRAME_PERIOD_MS
        pose = PoseFrame(t_ms, 640, 480) if i < 30 else person(t_ms, hip_flexion_deg=10.0 + i)
        started.handle_frame_message(encode(pose, seq=i, t_ms=t_ms, mean_luma=120.0))
    report = started.finish().report
    assert report.set_started and report.filming is not None
    # the 30 empty frames before the person stepped in are the setup's, not the set's
    assert report.filming.frames == report.filming.frames_with_pose < FRAMES - 30
    assert report.filming.issues == []

    never = local_session("never")
    never.start(StartMessage(exercise="hip_hinge", pose="browser"), None)
    for i in range(30):
        t_ms = i * FRAME_PERIOD_MS
        nobody = PoseFrame(t_ms, 640, 480)
        never.handle_frame_message(encode(nobody, seq=i, t_ms=t_ms, mean_luma=10.0))
    summary = never.finish()
    assert summary.report.set_started is False and summary.report.filming is not None
    problems = [i.problem for i in summary.report.filming.issues]
    assert problems == [FilmingProblem.TOO_DARK, FilmingProblem.TRACKING_LOST]
    assert [t.problem for t in summary.verdict.filming][:2] == problems


def test_closing_the_pool_ends_its_workers_without_killing_them() -> None:
    # The app's reader thread keeps reading each worker's pipe, so closing the pipe alone
    # never reached the worker: it was terminated after a 5 s wait (exit code -15).
    pool = LiveWorkerPool(2, CONFIG, SETTINGS, "test")
    assert pool.assign() is not None and pool.assign() is not None  # started on demand
    processes = [w.process for w in pool._workers]
    assert len(processes) == 2 and all(p.is_alive() for p in processes)
    pool.close()
    assert [p.exitcode for p in processes] == [0, 0]
