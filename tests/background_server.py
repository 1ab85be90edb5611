"""The real app under uvicorn on 127.0.0.1 (a free port) in a thread, for browser tests."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

from formcheck.server.config import ServerConfig

SERVER_START_TIMEOUT_S = 30.0
POLL_INTERVAL_S = 0.05

Message = MutableMapping[str, Any]


class WebSocketRecorder:
    """ASGI middleware keeping every websocket message the app receives, as it arrives."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.received: list[Message] = []

    async def __call__(
        self,
        scope: Message,
        receive: Callable[[], Awaitable[Message]],
        send: Callable[[Message], Awaitable[None]],
    ) -> None:
        if scope["type"] != "websocket":
            await self.app(scope, receive, send)
            return

        async def recording_receive() -> Message:
            message = await receive()
            if message["type"] == "websocket.receive":
                self.received.append(message)
            return message

        await self.app(scope, recording_receive, send)

    @property
    def binary(self) -> list[bytes]:
        return [m["bytes"] for m in self.received if m.get("bytes") is not None]

    @property
    def text(self) -> list[str]:
        return [m["text"] for m in self.received if m.get("text") is not None]


class BackgroundServer:
    """``create_app(config)`` served until the ``with`` block ends; ``url`` has no
    trailing slash."""

    def __init__(
        self,
        model_path: Path,
        config: ServerConfig | None = None,
        job_fn: str | None = None,
        *,
        record: bool = False,
    ) -> None:
        import uvicorn

        from formcheck.server.app import create_app, uvicorn_settings

        config = config or ServerConfig()
        if job_fn is None:
            self.app = create_app(config, model=model_path)
        else:
            self.app = create_app(config, model=model_path, job_fn=job_fn)
        # With ``record``, every websocket message the app receives is kept in ``recorder``.
        self.recorder = WebSocketRecorder(self.app) if record else None
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.bind(("127.0.0.1", 0))
        self.port = self._socket.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        server_config = uvicorn.Config(self.recorder or self.app, **uvicorn_settings(config))
        self._server = uvicorn.Server(server_config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )

    def __enter__(self) -> BackgroundServer:
        self._thread.start()
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while not self._server.started and self._thread.is_alive():
            if time.monotonic() > deadline:
                break
            time.sleep(POLL_INTERVAL_S)
        if not self._server.started:
            raise RuntimeError("the test server did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(SERVER_START_TIMEOUT_S)
        self._socket.close()
