"""The live socket's limits (issue 15, findings 4 and 9).

Finding 4: four connected sockets that never started kept everyone else out (``busy``) for
as long as they stayed open. Finding 9: an invalid prescription override was answered
``started`` and then every frame ``bad_start``; a ``t_ms`` jump to 1e300 made every later
frame ``internal`` with a full traceback logged each time; a deeply nested JSON prescription
raised RecursionError.

The app-level tests set their limits through FORMCHECK_* variables, as an operator would.

Names that are new with the fix are imported inside the tests using them, so that the
tests of the findings also run, and fail, against the code before it (0189bef).
"""

from __future__ import annotations

import logging
import struct
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np
import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from formcheck.server.config import ServerConfig
from formcheck.server.frames import FrameError

if TYPE_CHECKING:
    from formcheck.server.live_guard import LiveGuard

LOOPBACK = "http://127.0.0.1"
WS_URL = "ws://127.0.0.1/ws/live"
START = {"type": "start", "exercise": "hip_hinge"}
STEP_MS = 33.0
DEEP = 20_000  # far beyond Python's recursion limit (1000), within a prescription's 64 kB


def frame(seq: int, t_ms: float) -> bytes:
    ok, jpeg = cv2.imencode(".jpg", np.full((48, 64, 3), 128, np.uint8))
    assert ok
    return struct.pack("<Id", seq, t_ms) + jpeg.tobytes()


class Clock:
    def __init__(self) -> None:
        self.now_s = 100.0

    def __call__(self) -> float:
        return self.now_s


def guard(clock: Clock, **settings: object) -> LiveGuard:
    from formcheck.jobs.throttle import ThrottledLogger
    from formcheck.server.live_guard import LiveGuard

    config = ServerConfig(**settings)  # type: ignore[arg-type]
    return LiveGuard(config, "s1", ThrottledLogger(logging.getLogger("test"), 60.0), clock)


# --- without a server --------------------------------------------------------------------


def test_nesting_is_measured_outside_strings_and_comments() -> None:
    from formcheck.server.live_guard import MessageTooDeepError, check_nesting, nesting_depth

    assert nesting_depth('{"a": [1, {"b": 2}]}') == 3
    assert nesting_depth('{"a": "[[[[[[", "b": "\\"[[["}') == 1
    assert nesting_depth("x = 1 # [[[[[[\n[t]\ny = '[[[['", toml=True) == 1
    assert nesting_depth("[" * DEEP + "]" * DEEP) == DEEP
    with pytest.raises(MessageTooDeepError, match="more than 32 levels"):
        check_nesting("[" * 33 + "]" * 33, 32, "The message")
    check_nesting("[" * 32 + "]" * 32, 32, "The message")


def test_frame_times_may_not_go_back_or_run_ahead_of_the_server() -> None:
    clock = Clock()
    live = guard(clock, max_clock_lead_ms=2_000.0)
    live.check_frame(frame(1, 5_000.0))  # the first frame sets the clock
    clock.now_s += 0.033
    live.check_frame(frame(2, 5_033.0))
    live.check_frame(frame(3, 5_033.0))  # the same capture time again: allowed
    for t_ms, words in ((5_000.0, "before the previous"), (1e300, "not a usable"),
                        (5_033.0 + 2_100.0, "jumped")):  # fmt: skip
        with pytest.raises(FrameError, match=words) as refused:
            live.check_frame(frame(4, t_ms))
        assert refused.value.code == "bad_timestamp"
    clock.now_s += 60.0  # a minute later (a paused camera): the gap is real
    live.check_frame(frame(5, 5_033.0 + 60_000.0))
    live.check_frame(b"\x01\x02")  # too short for a header: the session's parser says so


def test_pose_payload_times_are_held_to_the_same_clock() -> None:
    """A browser's pose payload carries its capture time after its magic and seq: the guard
    reads it there, so a payload's t_ms cannot leap or go back either (issue 18)."""
    from formcheck.pose.remote import encode_payload
    from formcheck.server.live_guard import frame_time_ms
    from formcheck.types import PoseFrame

    def payload(seq: int, t_ms: float) -> bytes:
        nobody = PoseFrame(t_ms=0.0, image_width_px=640, image_height_px=480)
        return encode_payload(nobody, seq=seq, t_ms=t_ms, mean_luma=100.0)

    assert frame_time_ms(payload(7, 1_234.5)) == 1_234.5
    assert frame_time_ms(frame(7, 1_234.5)) == 1_234.5
    assert frame_time_ms(payload(7, 1.0)[:12]) is None  # too short: the session says why
    clock = Clock()
    live = guard(clock, max_clock_lead_ms=2_000.0)
    live.check_frame(payload(1, 5_000.0))
    clock.now_s += 0.033
    live.check_frame(payload(2, 5_033.0))
    for t_ms in (4_000.0, 1e300, 5_033.0 + 2_100.0):
        with pytest.raises(FrameError) as refused:
            live.check_frame(payload(3, t_ms))
        assert refused.value.code == "bad_timestamp"


def test_a_socket_must_start_in_time_and_then_keep_sending() -> None:
    clock = Clock()
    live = guard(clock, ws_start_timeout_s=30.0, ws_idle_timeout_s=60.0)
    clock.now_s += 29.0
    assert live.seconds_left() == pytest.approx(1.0)  # messages do not extend the start
    live.started()
    assert live.seconds_left() == pytest.approx(60.0)
    clock.now_s += 59.0
    live.check_frame(frame(1, 0.0))
    assert live.seconds_left() == pytest.approx(60.0)  # a frame does
    assert "Nothing arrived for 60 s" in live.timeout_message()


def test_internal_errors_in_a_row_close_the_session() -> None:
    live = guard(Clock(), max_internal_errors=3)
    for failed in (True, True, False, True, True):
        live.answered(failed)
    assert not live.should_close
    live.answered(True)
    assert live.should_close


def test_tracebacks_are_throttled_per_key(caplog: pytest.LogCaptureFixture) -> None:
    from formcheck.jobs.throttle import ThrottledLogger

    clock = Clock()
    errors = ThrottledLogger(logging.getLogger("formcheck.test"), 60.0, clock)
    with caplog.at_level(logging.ERROR):
        for _ in range(50):
            try:
                raise RuntimeError("same fault")
            except RuntimeError:
                errors.error("s1:RuntimeError", "session %s failed", "s1")
        clock.now_s += 61.0
        try:
            raise RuntimeError("same fault")
        except RuntimeError:
            assert errors.error("s1:RuntimeError", "session %s failed", "s1")
    assert len(caplog.records) == 2 and (errors.logged, errors.suppressed) == (2, 49)
    assert "49 more like it" in caplog.records[1].getMessage()


# --- the app ------------------------------------------------------------------------------


@pytest.fixture
def live_client(model_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    from formcheck.server.app import create_app

    monkeypatch.setenv("FORMCHECK_WS_START_TIMEOUT_S", "1")
    monkeypatch.setenv("FORMCHECK_MAX_SESSIONS_PER_CLIENT", "4")  # the test is one client
    with TestClient(create_app(ServerConfig(max_sessions=4), model=model_path),
                    base_url=LOOPBACK) as client:  # fmt: skip
        yield client


@pytest.mark.slow  # needs the pose model
def test_sockets_that_never_start_do_not_keep_others_out(live_client: TestClient) -> None:
    with ExitStack() as stack:
        idle = [stack.enter_context(live_client.websocket_connect(WS_URL)) for _ in range(4)]
        time.sleep(1.5)  # past FORMCHECK_WS_START_TIMEOUT_S
        with live_client.websocket_connect(WS_URL) as fifth:
            fifth.send_json(START)
            assert fifth.receive_json()["type"] == "started"
        for ws in idle:
            told = ws.receive_json()
            assert told["code"] == "timeout" and "within 1 s of connecting" in told["message"]
            with pytest.raises(WebSocketDisconnect):
                ws.receive_json()


@pytest.mark.slow  # needs the pose model
def test_a_prescription_that_does_not_fit_is_refused_at_start(live_client: TestClient) -> None:
    bad_override = 'reps = 8\n[overrides]\n"checks.no_such_setting_mm" = 4.0\n'
    deep_json = "[" * DEEP + "]" * DEEP
    with live_client.websocket_connect(WS_URL) as ws:
        for name, text, words in (
            ("rx.toml", bad_override, "names no setting of hip_hinge"),
            ("rx.json", deep_json, "nested more than"),
            ("rx.toml", "a = " + "[" * DEEP + "]" * DEEP, "nested more than"),
        ):
            ws.send_json({**START, "prescription": {"name": name, "text": text}})
            reply = ws.receive_json()
            assert (reply["type"], reply.get("code")) == ("error", "bad_start"), reply
            assert words in reply["message"]
        deep_message = '{"type": "start", "exercise": ' + "[" * DEEP + "]" * DEEP + "}"
        ws.send_text(deep_message)
        reply = ws.receive_json()
        assert reply["code"] == "bad_message" and "nested more than" in reply["message"]
        ws.send_json(START)  # the socket goes on
        assert ws.receive_json()["type"] == "started"


@pytest.mark.slow  # needs the pose model
def test_a_jump_in_frame_time_is_refused_once_and_the_session_goes_on(
    live_client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR), live_client.websocket_connect(WS_URL) as ws:
        ws.send_json(START)
        assert ws.receive_json()["type"] == "started"
        t_ms = 1_000.0
        ws.send_bytes(frame(1, t_ms))
        assert ws.receive_json()["type"] == "frame"
        ws.send_bytes(frame(2, 1e300))
        refused = ws.receive_json()
        assert (refused["code"], refused["seq"]) == ("bad_timestamp", 2)
        for seq in range(3, 8):
            t_ms += STEP_MS
            ws.send_bytes(frame(seq, t_ms))
            reply = ws.receive_json()
            assert (reply["type"], reply["seq"]) == ("frame", seq), reply
    assert [r for r in caplog.records if r.exc_info] == []


@pytest.mark.slow  # needs the pose model
def test_a_failing_session_logs_one_traceback_and_is_closed(
    live_client: TestClient, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    from formcheck.server.live import LiveSession

    def broken(self: LiveSession, data: bytes) -> None:
        raise RuntimeError("a fault in the pipeline")

    monkeypatch.setattr(LiveSession, "handle_frame_message", broken)
    answers: list[str] = []
    with caplog.at_level(logging.ERROR), live_client.websocket_connect(WS_URL) as ws:
        ws.send_json(START)
        assert ws.receive_json()["type"] == "started"
        with pytest.raises(WebSocketDisconnect) as closed:
            for seq in range(1, 31):
                ws.send_bytes(frame(seq, seq * STEP_MS))
                answers.append(ws.receive_json()["code"])
    assert closed.value.code == 1011
    assert answers == ["internal"] * ServerConfig().max_internal_errors
    assert len([r for r in caplog.records if r.exc_info]) == 1
