"""Slow uploads (finding 2 of issue 15: 40 slow uploads froze the whole server).

Against the real app under uvicorn on loopback: 45 clients (more than anyio's 40 shared
threads) each send an upload's first 100 bytes and then one byte a second. The server must
go on answering /api/health and live starts meanwhile, refuse the uploads beyond its caps at
once (429 with Retry-After), and cut off a stalled or trickling upload (408) keeping nothing.

Names that are new with the fix are imported inside the tests using them, so that the
tests of the findings also run, and fail, against the code before it (0189bef).
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import websockets.sync.client

from formcheck.jobs.config import JobsConfig
from formcheck.server.config import ServerConfig
from formcheck.server.upload_stream import StreamingForm
from tests.background_server import BackgroundServer

SLOW_CLIENTS = 45  # more than the 40 threads every sync route and the uploads used to share
TRICKLE_S = 12.0  # the slow clients keep sending this long while the server is asked things
TRICKLE_INTERVAL_S = 1.0
ANSWER_WITHIN_S = 10.0  # a server that answers at all answers in milliseconds
DECLARED_BYTES = 10_000_000
BOUNDARY = "slowpoke"
HEAD_BYTES = 100
MAX_UPLOADS_IN_PROGRESS_PER_CLIENT = 2  # ClientLimits' default


def test_form_headers_in_utf8_are_read() -> None:
    """Found by the OpenAPI fuzz test: a field name beyond latin-1 raised a 500."""
    body = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; '
        f'filename="Übung ä 🏋.mp4"\r\n\r\nabc\r\n'
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="Ā"\r\n\r\nx\r\n'
        f"--{BOUNDARY}--\r\n"
    ).encode()
    form = StreamingForm(f"multipart/form-data; boundary={BOUNDARY}")
    assert b"".join(form.feed(body)) == b"abc"
    assert form.filename == "Übung ä 🏋.mp4" and form.fields == {"Ā": ["x"]}


def upload_head(port: int) -> bytes:
    part = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="a.mp4"\r\n'
        "Content-Type: video/mp4\r\n\r\n"
    ).encode()
    request = (
        f"POST /api/jobs HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
        f"Content-Length: {DECLARED_BYTES}\r\n\r\n"
    ).encode()
    return request + part + b"\0" * HEAD_BYTES  # the form's headers, then 100 bytes of file


class SlowClient:
    """One upload that trickles; ``answer`` is what the server said (if it did)."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5.0)
        self.sock.sendall(upload_head(port))
        self.answer = b""
        self.closed = False

    def trickle(self) -> None:
        if self.closed:
            return
        try:
            self.sock.sendall(b"\0")
        except OSError:
            self.closed = True

    def read_answer(self) -> str:
        self.sock.settimeout(0.05)
        try:
            while chunk := self.sock.recv(4096):
                self.answer += chunk
        except (TimeoutError, OSError):
            pass
        return self.answer.decode("latin-1")

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def server(tmp_path: Path, model_path: Path) -> Iterator[BackgroundServer]:
    config = ServerConfig(jobs=JobsConfig(data_dir=tmp_path / "data", workers=1))
    with BackgroundServer(model_path, config) as background:
        yield background


def live_start_answers(url: str) -> str:
    with websockets.sync.client.connect(
        url.replace("http://", "ws://") + "/ws/live", open_timeout=ANSWER_WITHIN_S
    ) as ws:
        ws.send(json.dumps({"type": "start", "exercise": "hip_hinge"}))
        return str(json.loads(ws.recv(timeout=ANSWER_WITHIN_S))["type"])


@pytest.mark.slow  # the app needs the pose model
def test_slow_uploads_do_not_freeze_the_server(server: BackgroundServer) -> None:
    clients = [SlowClient(server.port) for _ in range(SLOW_CLIENTS)]
    stop = threading.Event()

    def trickle() -> None:
        while not stop.wait(TRICKLE_INTERVAL_S):
            for client in clients:
                client.trickle()

    trickler = threading.Thread(target=trickle, daemon=True)
    trickler.start()
    try:
        deadline = time.monotonic() + TRICKLE_S
        with httpx.Client(base_url=server.url, timeout=ANSWER_WITHIN_S) as http:
            while time.monotonic() < deadline:
                assert http.get("/api/health").status_code == 200
                time.sleep(TRICKLE_INTERVAL_S)
        assert live_start_answers(server.url) == "started"
        answers = [client.read_answer() for client in clients]
    finally:
        stop.set()
        trickler.join()
        for client in clients:
            client.close()
    refused = [a for a in answers if a.startswith("HTTP/1.1 429")]
    assert len(refused) >= SLOW_CLIENTS - MAX_UPLOADS_IN_PROGRESS_PER_CLIENT
    assert all("retry-after: " in a.lower() for a in refused)
    assert all('"code":"busy"' in a.replace(" ", "") for a in refused)


@pytest.fixture
def impatient(tmp_path: Path, model_path: Path) -> Iterator[BackgroundServer]:
    from formcheck.server.config import ClientLimits

    clients = ClientLimits(upload_idle_timeout_s=1.0, upload_min_bytes_per_s=1_000,
                           upload_rate_grace_s=2.0)  # fmt: skip
    config = ServerConfig(clients=clients, jobs=JobsConfig(data_dir=tmp_path / "data"))
    with BackgroundServer(model_path, config) as background:
        yield background


@pytest.mark.slow  # the app needs the pose model
def test_stalled_and_trickling_uploads_are_cut_off_keeping_nothing(
    impatient: BackgroundServer, tmp_path: Path
) -> None:
    stalled = SlowClient(impatient.port)
    trickling = SlowClient(impatient.port)
    try:
        deadline = time.monotonic() + ANSWER_WITHIN_S
        while time.monotonic() < deadline and not (stalled.answer and trickling.answer):
            trickling.trickle()
            time.sleep(0.2)
            stalled.read_answer()
            trickling.read_answer()
        for client, words in ((stalled, "sent nothing for 1 s"), (trickling, "too slow")):
            answer = client.answer.decode("latin-1")
            assert answer.startswith("HTTP/1.1 408"), answer
            assert words in answer and '"code":"too_slow"' in answer.replace(" ", "")
    finally:
        stalled.close()
        trickling.close()
    data = tmp_path / "data"
    assert list((data / "incoming").iterdir()) == [] and list((data / "uploads").iterdir()) == []
    with httpx.Client(base_url=impatient.url, timeout=ANSWER_WITHIN_S) as http:
        health = http.get("/api/health")
        assert health.status_code == 200 and health.json()["status"] == "ok"
