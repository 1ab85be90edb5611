"""Who may talk to the server (finding 1 of issue 15: any web page could drive it).

Unit checks of the AccessPolicy, then the real app: a foreign page's upload and live socket
are refused, a server that needs its token refuses every private route without it and
accepts the header or the cookie the page trades it for, and a DNS-rebinding Host is refused.

Names that are new with the fix are imported inside the tests using them, so that the
tests of the findings also run, and fail, against the code before it (0189bef).
"""

from __future__ import annotations

import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import cv2
import httpx
import numpy as np
import pytest
from fastapi.testclient import TestClient
from starlette.datastructures import Headers
from starlette.websockets import WebSocketDisconnect

from formcheck.jobs.config import JobsConfig
from formcheck.server.config import ServerConfig

LOOPBACK = "http://127.0.0.1"
WS_URL = "ws://127.0.0.1/ws/live"
EVIL = "http://evil.example"
TOKEN = "a-long-enough-test-token-0123456789"
START = {"type": "start", "exercise": "hip_hinge"}
SERVE_START_WAIT_S = 60.0
POLL_S = 0.2


def scope(method: str = "GET", path: str = "/api/jobs/x", kind: str = "http",
          **headers: str) -> dict[str, object]:  # fmt: skip
    raw = [(k.replace("_", "-").lower().encode(), v.encode()) for k, v in headers.items()]
    return {"type": kind, "method": method, "path": path, "scheme": "http", "headers": raw}


def photo() -> bytes:
    ok, jpeg = cv2.imencode(".jpg", np.full((48, 64, 3), 200, np.uint8))
    assert ok
    return bytes(jpeg.tobytes())


# --- the policy ---------------------------------------------------------------------------


def test_loopback_names_only_while_bound_to_loopback() -> None:
    from formcheck.server.access import AccessPolicy
    from formcheck.server.config import is_loopback

    bound_here = AccessPolicy.from_config(ServerConfig(allowed_hosts=["box.lan"]), None)
    for host in ("127.0.0.1:8000", "localhost", "[::1]:8000", "box.lan:8000"):
        assert bound_here.host_allowed(host), host
    assert not bound_here.host_allowed("evil.example:8000")  # DNS rebinding
    anywhere = AccessPolicy.from_config(ServerConfig(host="0.0.0.0"), TOKEN)
    assert anywhere.host_allowed("evil.example:8000")  # the token guards it instead
    assert is_loopback("127.0.0.1") and is_loopback("::1") and not is_loopback("0.0.0.0")


def test_state_changes_and_sockets_need_the_servers_own_origin() -> None:
    from formcheck.server.access import AccessPolicy

    policy = AccessPolicy(None, allowed_origins=["https://app.example"])
    host = {"host": "127.0.0.1:8000"}
    assert policy.check(scope("POST", origin="http://127.0.0.1:8000", **host)) is None
    assert policy.check(scope("POST", origin="https://app.example", **host)) is None
    assert policy.check(scope("POST", **host)) is None  # not a browser (curl, scripts)
    assert policy.check(scope("GET", origin=EVIL, **host)) is None  # reading changes nothing
    for refused in (
        scope("POST", origin=EVIL, **host),
        scope("DELETE", origin=EVIL, **host),
        scope("POST", origin="null", **host),  # a sandboxed frame or a file:// page
        scope("POST", sec_fetch_site="cross-site", **host),
        scope("GET", path="/ws/live", kind="websocket", origin=EVIL, **host),
    ):
        refusal = policy.check(refused)
        assert refusal is not None and refusal[:2] == (403, "bad_origin"), refused


def test_the_token_comes_as_a_bearer_header_or_the_cookie() -> None:
    from formcheck.server.access import COOKIE_NAME, AccessPolicy

    policy = AccessPolicy(TOKEN)
    assert policy.authenticated(Headers({"authorization": f"Bearer {TOKEN}"}))
    assert policy.authenticated(Headers({"cookie": f"a=b; {COOKIE_NAME}={policy.cookie_value}"}))
    assert TOKEN not in policy.cookie_value  # the cookie is not the token itself
    for wrong in ({"authorization": "Bearer nope"}, {"cookie": f"{COOKIE_NAME}=nope"}, {}):
        assert not policy.authenticated(Headers(wrong))
    host = {"host": "127.0.0.1"}
    for private in ("/api/jobs/x", "/jobs/x", "/ws/live"):
        refusal = policy.check(scope("GET", path=private, **host))
        assert refusal is not None and refusal[:2] == (401, "unauthorized"), private
    for public in ("/", "/static/app.js", "/api/health", "/api/exercises", "/openapi.json"):
        assert policy.check(scope("GET", path=public, **host)) is None, public


def test_an_accounts_sign_in_is_looked_up_off_the_event_loop() -> None:
    """The account check is a database query (PostgreSQL: a network round trip); on the event
    loop it would stall every request and live socket while it waits."""
    import asyncio

    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    from formcheck.server.access import AccessMiddleware, AccessPolicy

    asked_on_loop: list[bool] = []

    def signed_in(headers: Headers) -> bool:
        try:
            asyncio.get_running_loop()
            asked_on_loop.append(True)
        except RuntimeError:
            asked_on_loop.append(False)
        return headers.get("authorization") == "Bearer fc_account"

    inner = Starlette(routes=[Route("/api/x", lambda _: PlainTextResponse("ok"))])
    app = AccessMiddleware(inner, AccessPolicy(TOKEN, signed_in=signed_in))
    client = TestClient(app, base_url="http://127.0.0.1")
    assert client.get("/api/x", headers={"authorization": "Bearer fc_account"}).text == "ok"
    assert client.get("/api/x", headers={"authorization": "Bearer fc_other"}).status_code == 401
    assert client.get("/api/x", headers={"authorization": f"Bearer {TOKEN}"}).text == "ok"
    assert asked_on_loop == [False, False]  # the server's own token needs no lookup


def test_a_token_is_generated_once_into_the_data_dir(tmp_path: Path) -> None:
    from formcheck.server.access import TokenMissingError, resolve_token

    config = ServerConfig(host="0.0.0.0", jobs=JobsConfig(data_dir=tmp_path / "data"))
    first = resolve_token(config)
    assert first.source == "generated" and first.value and len(first.value) >= 40
    assert first.path is not None and stat.S_IMODE(first.path.stat().st_mode) == 0o600
    again = resolve_token(config)
    assert (again.source, again.value) == ("data dir", first.value)
    assert resolve_token(ServerConfig()).value is None  # loopback: no token unless asked
    given = resolve_token(ServerConfig(host="0.0.0.0", token=TOKEN))
    assert (given.source, given.value) == ("setting", TOKEN)
    with pytest.raises(TokenMissingError, match="beyond this machine"):
        resolve_token(ServerConfig(host="0.0.0.0"))  # nowhere to keep one
    with pytest.raises(TokenMissingError, match="at least 16"):
        resolve_token(ServerConfig(token="short"))


# --- the app ------------------------------------------------------------------------------


def app_client(config: ServerConfig, model_path: Path) -> TestClient:
    from formcheck.server.app import create_app

    return TestClient(create_app(config, model=model_path), base_url=LOOPBACK)


@pytest.mark.slow  # needs the pose model
def test_a_foreign_page_can_neither_upload_nor_open_the_live_socket(
    tmp_path: Path, model_path: Path
) -> None:
    config = ServerConfig(jobs=JobsConfig(data_dir=tmp_path / "data", workers=1))
    files = {"file": ("photo.mp4", photo(), "video/mp4")}
    form = {"exercise": "hip_hinge"}
    with app_client(config, model_path) as client:
        foreign = client.post("/api/jobs", files=files, data=form, headers={"Origin": EVIL})
        assert foreign.status_code == 403, foreign.text
        assert foreign.json()["code"] == "bad_origin"
        assert list((tmp_path / "data" / "incoming").iterdir()) == []
        # the same upload from the server's own page, or from a script, is looked at
        for headers in ({"Origin": LOOPBACK}, {}):
            looked_at = client.post("/api/jobs", files=files, data=form, headers=headers)
            assert looked_at.status_code == 422 and "single picture" in looked_at.text
        with (
            pytest.raises(WebSocketDisconnect) as refused,
            client.websocket_connect(WS_URL, headers={"Origin": EVIL}) as ws,
        ):
            ws.receive_json()
        assert refused.value.code == 1008
        with client.websocket_connect(WS_URL, headers={"Origin": LOOPBACK}) as ws:
            ws.send_json(START)
            assert ws.receive_json()["type"] == "started"


@pytest.fixture
def guarded(tmp_path: Path, model_path: Path) -> Iterator[tuple[TestClient, str]]:
    """An app that needs its token (as beyond loopback), with its generated token."""
    config = ServerConfig(require_token=True, jobs=JobsConfig(data_dir=tmp_path / "data"))
    with app_client(config, model_path) as client:
        token = (tmp_path / "data" / "token").read_text(encoding="utf-8").strip()
        yield client, token


@pytest.mark.slow  # needs the pose model
def test_without_the_token_only_the_page_and_public_descriptions_answer(
    guarded: tuple[TestClient, str],
) -> None:
    client, token = guarded
    for public in ("/", "/static/app.js", "/api/health", "/api/exercises", "/api/messages"):
        assert client.get(public).status_code == 200, public
    assert client.get("/api/auth").json() == {"token_required": True, "authenticated": False}
    refused = client.get("/api/jobs/0123abcd")
    assert refused.status_code == 401 and refused.headers["www-authenticate"] == "Bearer"
    assert "#token=" in refused.json()["detail"]
    assert client.post("/api/jobs", files={"file": ("a.mp4", b"x")}).status_code == 401
    assert client.delete("/api/jobs/0123abcd").status_code == 401
    assert client.get("/jobs/0123abcd").status_code == 401
    with pytest.raises(WebSocketDisconnect) as closed, client.websocket_connect(WS_URL) as ws:
        ws.receive_json()
    assert closed.value.code == 1008
    wrong = client.post("/api/auth", headers={"Authorization": "Bearer not-the-token"})
    assert wrong.status_code == 401
    bearer = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/jobs/0123abcd", headers=bearer).status_code == 404  # let in
    with client.websocket_connect(WS_URL, headers=bearer) as ws:
        ws.send_json(START)
        assert ws.receive_json()["type"] == "started"


@pytest.mark.slow  # needs the pose model
def test_the_page_trades_the_token_for_a_private_cookie(guarded: tuple[TestClient, str]) -> None:
    from formcheck.server.access import COOKIE_NAME

    client, token = guarded
    signed_in = client.post("/api/auth", headers={"Authorization": f"Bearer {token}"})
    assert signed_in.status_code == 204
    cookie = signed_in.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE_NAME}=") and token not in cookie
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert client.get("/api/auth").json()["authenticated"] is True  # the client keeps it
    assert client.get("/api/jobs/0123abcd").status_code == 404
    with client.websocket_connect(WS_URL) as ws:
        ws.send_json(START)
        assert ws.receive_json()["type"] == "started"
    assert (
        client.post(
            "/api/auth", headers={"Authorization": f"Bearer {token}", "Origin": EVIL}
        ).status_code
        == 403
    )  # no signing in from another page
    assert client.delete("/api/auth").status_code == 204
    client.cookies.clear()
    assert client.get("/api/jobs/0123abcd").status_code == 401


@pytest.mark.slow  # needs the pose model
def test_a_rebound_name_is_refused_on_loopback(model_path: Path) -> None:
    with app_client(ServerConfig(), model_path) as client:
        refused = client.get("/api/health", headers={"Host": "evil.example:8000"})
        assert refused.status_code == 400 and refused.json()["code"] == "bad_host"
        assert client.get("/api/health", headers={"Host": "localhost:8000"}).status_code == 200


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.slow
def test_formcheck_serve_generates_prints_and_requires_its_token(
    tmp_path: Path, model_path: Path
) -> None:
    assert model_path.is_file()  # the server finds the same model by itself
    port = free_port()
    data_dir = tmp_path / "data"
    command = [sys.executable, "-m", "formcheck.cli", "serve", "--port", str(port),
               "--data-dir", str(data_dir), "--require-token", "--workers", "1"]  # fmt: skip
    server = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        first_line = server.stdout.readline()
        token = (data_dir / "token").read_text(encoding="utf-8").strip()
        assert f"http://127.0.0.1:{port}/#token={token}" in first_line
        assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
        assert stat.S_IMODE((data_dir / "token").stat().st_mode) == 0o600
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30.0) as client:
            deadline = time.monotonic() + SERVE_START_WAIT_S
            while True:
                try:
                    if client.get("/api/health").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert server.poll() is None and time.monotonic() < deadline
                time.sleep(POLL_S)
            assert client.get("/api/jobs/0123abcd").status_code == 401
            bearer = {"Authorization": f"Bearer {token}"}
            assert client.get("/api/jobs/0123abcd", headers=bearer).status_code == 404
    finally:
        server.terminate()
        server.wait(SERVE_START_WAIT_S)
        if server.stdout is not None:
            server.stdout.close()
