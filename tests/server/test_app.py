"""The live server: frame decoding, the setup check, the HTTP routes and bad clients.

Route and websocket tests run in-process (TestClient); they need the pose model (marked
slow) to create the app and, for a started session, one PoseEstimator.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from formcheck.analyzers import get_spec
from formcheck.config import QualityConfig
from formcheck.report.model import report_json_schema
from formcheck.server.config import ServerConfig
from formcheck.server.frames import (
    FRAME_HEADER_BYTES,
    FrameError,
    decode_image,
    fit_within,
    image_size_px,
    parse_frame_message,
)
from formcheck.server.setup_check import (
    MORE_LIGHT,
    MOVE_CLOSER,
    NO_PERSON,
    STEP_BACK_FEET,
    SetupChecker,
)
from formcheck.types import PoseFrame
from formcheck.video.luma import mean_luma
from tests.reports import assert_valid_report
from tests.stick_figure import StickPose, stick_frame

GREY_LUMA = 128
SERVE_START_WAIT_S = 30.0
# The test client speaks to the app as 127.0.0.1: the server answers loopback names only.
WS_URL = "ws://127.0.0.1/ws/live"


def jpeg(rgb: np.ndarray, quality: int = 80) -> bytes:
    bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
    ok, buf = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return bytes(buf.tobytes())


def frame_message(image: bytes, seq: int = 1, t_ms: float = 0.0) -> bytes:
    return struct.pack("<Id", seq, t_ms) + image


def grey(width_px: int = 64, height_px: int = 48, level: int = GREY_LUMA) -> np.ndarray:
    return np.full((height_px, width_px, 3), level, dtype=np.uint8)


# --- frames ------------------------------------------------------------------------------------


def test_image_size_from_headers() -> None:
    assert image_size_px(jpeg(grey(64, 48))) == (64, 48)
    _, png = cv2.imencode(".png", grey(30, 20))
    assert image_size_px(png.tobytes()) == (30, 20)
    assert image_size_px(b"GIF89a....") is None
    assert image_size_px(b"\xff\xd8\xff") is None  # truncated JPEG


def test_decompression_bomb_is_refused_before_decoding() -> None:
    real = jpeg(grey(64, 48))
    sof = next(i for i in range(2, len(real) - 1) if real[i] == 0xFF and real[i + 1] == 0xC0)
    bomb = bytearray(real)
    struct.pack_into(">HH", bomb, sof + 5, 60_000, 60_000)  # claims 60000 x 60000 px
    with pytest.raises(FrameError) as error:
        decode_image(bytes(bomb), max_side_px=4096)
    assert error.value.code == "frame_too_large"


def test_decode_rejects_non_images_and_corrupt_data() -> None:
    with pytest.raises(FrameError) as error:
        decode_image(b"hello, not an image", max_side_px=4096)
    assert error.value.code == "bad_frame"
    header_only = jpeg(grey())[:200]
    with pytest.raises(FrameError):
        decode_image(header_only + b"\x00" * 10, max_side_px=4096)


def test_decode_gives_rgb() -> None:
    rgb = grey()
    rgb[:, :, 0] = 200  # red
    decoded = decode_image(jpeg(rgb, quality=95), max_side_px=4096)
    assert decoded.shape == (48, 64, 3)
    assert decoded[..., 0].mean() > decoded[..., 2].mean() + 50


def test_parse_frame_message_checks() -> None:
    packet = parse_frame_message(frame_message(b"abc", seq=7, t_ms=12.5), max_frame_bytes=100)
    assert (packet.seq, packet.t_ms, packet.image) == (7, 12.5, b"abc")
    with pytest.raises(FrameError, match="too short"):
        parse_frame_message(b"\x00" * FRAME_HEADER_BYTES, max_frame_bytes=100)
    with pytest.raises(FrameError) as error:
        parse_frame_message(b"\x00" * 101, max_frame_bytes=100)
    assert error.value.code == "frame_too_large"
    with pytest.raises(FrameError, match="finite"):
        parse_frame_message(frame_message(b"abc", t_ms=float("nan")), max_frame_bytes=100)


def test_fit_within_and_luma() -> None:
    big = grey(2000, 1000)
    assert fit_within(big, 1280).shape == (640, 1280, 3)
    assert fit_within(grey(), 1280).shape == (48, 64, 3)
    assert mean_luma(grey(level=0)) == pytest.approx(0.0)
    assert mean_luma(grey(level=200)) == pytest.approx(200.0, abs=0.5)


# --- setup check --------------------------------------------------------------------------------


def checker(ok_hold_s: float = 0.3) -> SetupChecker:
    return SetupChecker(
        get_spec("hip_hinge").setup, QualityConfig(), ok_hold_s=ok_hold_s
    )


def test_setup_problems_each_get_one_instruction() -> None:
    check = checker()
    nobody = PoseFrame(t_ms=0.0, image_width_px=640, image_height_px=480)
    assert check.check(nobody, GREY_LUMA) == [NO_PERSON]
    assert check.check(nobody, 10.0) == [MORE_LIGHT, NO_PERSON]
    standing = stick_frame(StickPose(), t_ms=0.0)
    assert check.check(standing, GREY_LUMA) == []
    feet_out = stick_frame(StickPose(ankle_px=(320.0, 475.0)), t_ms=33.0)
    assert check.check(feet_out, GREY_LUMA) == [STEP_BACK_FEET]
    tiny = stick_frame(
        StickPose(shank_px=20.0, thigh_px=22.0, trunk_px=26.0, neck_px=7.0), t_ms=66.0
    )
    assert check.check(tiny, GREY_LUMA) == [MOVE_CLOSER]
    # over the pose model's pixel floor, but under a third of a 720 px phone picture: the
    # report's limit, the same here
    small_in_hd = StickPose(
        shank_px=55.0, thigh_px=60.0, trunk_px=70.0, neck_px=20.0, ankle_px=(640.0, 600.0)
    )
    assert check.check(
        stick_frame(small_in_hd, t_ms=99.0, width_px=1280, height_px=720), GREY_LUMA
    ) == [MOVE_CLOSER]


def test_front_view_asks_to_turn_sideways() -> None:
    check = checker()
    facing_camera = stick_frame(StickPose(), yaw_from_side_deg=85.0)
    problems = check.check(facing_camera, GREY_LUMA)
    assert [p.code for p in problems] == ["turn_sideways"]
    assert "sideways" in problems[0].message.lower()


def test_setup_must_hold_before_the_set_starts() -> None:
    check = checker(ok_hold_s=0.3)
    assert not check.update(0.0, [])
    assert not check.update(200.0, [])
    assert not check.update(250.0, [NO_PERSON])  # a problem restarts the wait
    assert not check.update(300.0, [])
    assert check.update(600.0, [])


# --- the app ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def app_client(model_path: Path) -> Iterator[TestClient]:
    from formcheck.server.app import create_app

    app = create_app(ServerConfig(max_sessions=2, max_frame_bytes=200_000), model=model_path)
    with TestClient(app, base_url="http://127.0.0.1") as client:
        yield client


def open_sessions(client: TestClient) -> int:
    return int(client.get("/api/health").json()["sessions"])


@pytest.mark.slow  # needs the pose model
def test_routes_and_openapi(app_client: TestClient) -> None:
    page = app_client.get("/")
    assert page.status_code == 200
    assert "text/html" in page.headers["content-type"]
    assert "/static/app.js" in page.text
    assert "http://" not in page.text and "https://" not in page.text  # nothing from a CDN
    for asset in ("/static/app.js", "/static/style.css"):
        assert app_client.get(asset).status_code == 200
    exercises = app_client.get("/api/exercises").json()
    assert "hip_hinge" in [e["name"] for e in exercises]
    health = app_client.get("/api/health").json()
    assert health["status"] == "ok" and health["sessions"] == 0
    paths = app_client.get("/openapi.json").json()["paths"]
    assert {"/", "/api/exercises", "/api/health", "/api/messages", "/api/schema/report"} <= set(
        paths
    )
    schemas = app_client.get("/api/messages").json()
    assert {"StartMessage", "FrameResult", "ErrorMessage", "SummaryMessage"} <= set(schemas)
    # every fault code of every exercise in plain words, as the report says them
    words = app_client.get("/api/words").json()
    for name in [e["name"] for e in exercises]:
        for code in get_spec(name).faults:
            assert words[code]["name"] and words[code]["explanation"].endswith("."), code
            assert "_" not in words[code]["name"]
    diagram = app_client.get("/api/filming-diagram.svg")
    assert diagram.headers["content-type"].startswith("image/svg+xml")
    assert diagram.text.startswith("<svg") and "3 m" in diagram.text
    # each exercise its own drawing; a name no analyzer has is refused
    side_plank = app_client.get("/api/filming-diagram.svg", params={"exercise": "side_plank"})
    assert side_plank.status_code == 200 and 'data-placement="floor_front"' in side_plank.text
    unknown = app_client.get("/api/filming-diagram.svg", params={"exercise": "<b>pushup</b>"})
    assert unknown.status_code == 422 and unknown.json()["code"] == "unknown_exercise"
    assert "squat" in unknown.json()["detail"]
    report_schema = app_client.get("/api/schema/report")
    assert report_schema.status_code == 200
    assert report_schema.json() == report_json_schema()  # what `formcheck schema report` prints


@pytest.mark.slow  # needs the pose model
def test_bad_client_gets_errors_and_the_session_goes_on(app_client: TestClient) -> None:
    with app_client.websocket_connect(WS_URL) as ws:
        assert open_sessions(app_client) == 1
        ws.send_text("{not json")
        assert ws.receive_json() == {
            "type": "error",
            "code": "bad_message",
            "message": ws_message_text(),
            "seq": None,
        }
        ws.send_text(json.dumps({"type": "dance"}))
        assert ws.receive_json()["code"] == "bad_message"
        ws.send_bytes(frame_message(jpeg(grey()), seq=3))
        reply = ws.receive_json()
        assert (reply["code"], reply["seq"]) == ("not_started", 3)
        ws.send_text(json.dumps({"type": "finish"}))
        assert ws.receive_json()["code"] == "not_started"
        ws.send_text(json.dumps({"type": "start", "exercise": "juggling"}))
        reply = ws.receive_json()
        assert reply["code"] == "bad_start" and "hip_hinge" in reply["message"]
        ws.send_text(json.dumps({"type": "start", "exercise": "hip_hinge", "height_cm": 9000}))
        assert ws.receive_json()["code"] == "bad_message"

        ws.send_text(json.dumps({"type": "start", "exercise": "hip_hinge"}))
        started = ws.receive_json()
        assert started["type"] == "started" and started["max_frame_bytes"] == 200_000
        ws.send_bytes(frame_message(b"\x00" * 300_000, seq=4))
        assert ws.receive_json()["code"] == "frame_too_large"
        ws.send_bytes(frame_message(b"GIF89a" + b"\x00" * 100, seq=5))
        assert ws.receive_json()["code"] == "bad_frame"
        ws.send_bytes(b"\x01\x02")
        assert ws.receive_json()["code"] == "bad_frame"
        ws.send_bytes(frame_message(jpeg(grey(64, 48, level=5)), seq=6, t_ms=1000.0))
        reply = ws.receive_json()
        assert reply["type"] == "frame" and reply["seq"] == 6
        assert reply["state"] == "setup" and reply["landmarks"] is None
        assert [p["code"] for p in reply["setup"]] == ["more_light", "no_person"]
        ws.send_text(json.dumps({"type": "finish"}))
        summary = ws.receive_json()
        assert summary["type"] == "summary"
        report = assert_valid_report(summary["report"])  # a set that never started, too
        assert report.summary is not None and report.summary.reps == 0
        assert report.set_started is False and report.source.value == "live"
        assert report.video.frames == 1 and report.calibration is None
        verdict = summary["verdict"]  # in plain words: no set, not "no faults"
        assert verdict["headline"].startswith("The set did not start")
        assert verdict["tone"] == "unknown" and verdict["counted"] == "0 reps counted."
        # the server's signature of the report as received: what a programme records
        signer = app_client.app.state.context.signer  # type: ignore[attr-defined]
        assert signer.verify(summary["report"], summary["signature"])
        assert not signer.verify({**summary["report"], "exercise": "squat"}, summary["signature"])
    assert open_sessions(app_client) == 0


def ws_message_text() -> str:
    return "The message is not JSON: send a start or finish message, or a binary frame."


@pytest.mark.slow  # needs the pose model
def test_abrupt_disconnects_leak_no_session(app_client: TestClient) -> None:
    for _ in range(3):
        with pytest.raises(RuntimeError), app_client.websocket_connect(WS_URL) as ws:
            ws.send_text(json.dumps({"type": "start", "exercise": "hip_hinge"}))
            assert ws.receive_json()["type"] == "started"
            ws.send_bytes(frame_message(jpeg(grey()), seq=1))
            raise RuntimeError("client crashed")  # leaves without reading the answer
    with app_client.websocket_connect(WS_URL) as ws:
        ws.close()
    assert open_sessions(app_client) == 0


@pytest.mark.slow  # needs the pose model
def test_too_many_sessions_are_refused_cleanly(app_client: TestClient) -> None:
    with app_client.websocket_connect(WS_URL), app_client.websocket_connect(WS_URL):
        assert open_sessions(app_client) == 2
        with app_client.websocket_connect(WS_URL) as third:
            busy = third.receive_json()
            assert busy["code"] == "busy"
            with pytest.raises(WebSocketDisconnect) as closed:
                third.receive_json()
            assert closed.value.code == 1013
    assert open_sessions(app_client) == 0


@pytest.mark.slow  # needs the pose model
def test_start_takes_a_prescription_file(app_client: TestClient) -> None:
    toml_text = 'reps = 8\ntempo = "3-1-2"\n'
    json_text = json.dumps({"exercise": "hip_hinge", "reps": 5})
    with app_client.websocket_connect(WS_URL) as ws:
        for name, text in (("rx.toml", toml_text), ("rx.json", json_text)):
            start = {"type": "start", "prescription": {"name": name, "text": text}}
            ws.send_text(json.dumps(start))
            assert ws.receive_json()["type"] == "started"
        for name, text in (("rx.json", "{oops"), ("rx.toml", "reps = 'many'")):
            start = {"type": "start", "prescription": {"name": name, "text": text}}
            ws.send_text(json.dumps(start))
            reply = ws.receive_json()
            assert reply["code"] == "bad_start" and name in reply["message"]
    assert open_sessions(app_client) == 0


def test_parse_prescription_fills_in_the_exercise() -> None:
    from formcheck.server.app import parse_prescription
    from formcheck.server.messages import PrescriptionText

    prescription = parse_prescription(PrescriptionText(name="a.toml", text="reps = 6"), "hip_hinge")
    assert (prescription.exercise, prescription.reps) == ("hip_hinge", 6)


@pytest.mark.slow
def test_formcheck_serve_prints_its_address_and_answers(model_path: Path) -> None:
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "formcheck.cli", "serve", "--port", str(port)]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        line = server.stdout.readline()
        assert f"http://127.0.0.1:{port}/" in line
        deadline = time.monotonic() + SERVE_START_WAIT_S
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health") as response:
                    assert json.loads(response.read())["status"] == "ok"
                break
            except OSError:
                assert time.monotonic() < deadline, "formcheck serve did not answer"
                time.sleep(0.1)
    finally:
        server.terminate()
        server.wait(SERVE_START_WAIT_S)
        if server.stdout is not None:
            server.stdout.close()


@pytest.mark.slow  # the app loads the model
def test_the_live_socket_does_not_deflate_messages(model_path: Path) -> None:
    """A pose payload's mask is deflated already and a picture is a JPEG: the server turns
    down permessage-deflate, which a browser (and this client) offers on every socket."""
    import asyncio

    from websockets.asyncio.client import connect

    from tests.background_server import BackgroundServer

    async def negotiated(port: int) -> tuple[str | None, str | None]:
        async with connect(f"ws://127.0.0.1:{port}/ws/live", compression="deflate") as ws:
            assert ws.request is not None and ws.response is not None
            offered = ws.request.headers.get("Sec-WebSocket-Extensions")
            return offered, ws.response.headers.get("Sec-WebSocket-Extensions")

    with BackgroundServer(model_path) as server:
        offered, accepted = asyncio.run(negotiated(server.port))
    assert offered is not None and "permessage-deflate" in offered
    assert accepted is None
