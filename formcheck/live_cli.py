"""`formcheck serve` (the web page and live websocket) and `formcheck live` (a local camera,
feedback in the terminal). Both run the same LiveSession as the page."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any, TextIO

from pydantic import ValidationError

from formcheck.errors import FormcheckError
from formcheck.jobs.config import BYTES_PER_MB, JobsConfig
from formcheck.jobs.durable import PRIVATE_UMASK
from formcheck.report.terminal import finding_lines, summary_line
from formcheck.server.config import ServerConfig, is_loopback
from formcheck.server.messages import FrameResult, SummaryMessage
from formcheck.settings import AnalysisSettings

DEFAULT_EXERCISE = AnalysisSettings.model_fields["exercise"].default


def server_config_from_args(args: argparse.Namespace) -> ServerConfig:
    """`formcheck serve`'s options over the FORMCHECK_* environment over the defaults."""
    try:
        return ServerConfig(**_server_fields(args))
    except ValidationError as error:
        first = error.errors()[0]
        where = str(first["loc"][-1]) if first["loc"] else "settings"
        message = str(first["msg"]).removeprefix("Value error, ")  # a validator's own words
        raise FormcheckError(
            f"The serve option {where} is not valid: {message[:1].lower()}{message[1:]}."
        ) from error


def jobs_config_from_args(args: argparse.Namespace) -> JobsConfig:
    """The uploads and jobs part of `formcheck serve`'s settings."""
    jobs = server_config_from_args(args).jobs
    assert jobs is not None
    return jobs


def _server_fields(args: argparse.Namespace) -> dict[str, Any]:
    limits: dict[str, Any] = {}
    if args.max_upload_mb is not None:
        limits["max_upload_bytes"] = max(1, round(args.max_upload_mb * BYTES_PER_MB))
    if args.max_duration_s is not None:
        limits["max_duration_s"] = args.max_duration_s
    jobs: dict[str, Any] = {"limits": limits}
    if args.data_dir is not None:
        jobs["data_dir"] = Path(args.data_dir)
    if args.workers is not None:
        jobs["workers"] = args.workers
    if args.retention_days is not None:
        jobs["retention_days"] = args.retention_days
    if getattr(args, "queue", None) is not None:
        jobs["queue"] = {"url": queue_option(args.queue)}
    fields: dict[str, Any] = {"jobs": jobs}
    for name in ("host", "port", "require_token", "max_sessions"):
        if getattr(args, name, None) is not None:
            fields[name] = getattr(args, name)
    if args.allowed_origin:
        fields["allowed_origins"] = args.allowed_origin
    if getattr(args, "database", None) is not None:
        fields["database_url"] = queue_option(args.database, "FORMCHECK_DATABASE_URL")
    return fields


def queue_option(url: str, variable: str = "FORMCHECK_JOBS__QUEUE__URL") -> str:
    """``--queue URL`` (or ``--database URL``), refused with a password in it (it would show
    in the process list: the environment ``variable`` carries one instead)."""
    from urllib.parse import urlsplit

    if urlsplit(url).password is not None:
        kind = "queue" if "QUEUE" in variable else "database"
        raise FormcheckError(
            f"A {kind} URL with a password must not be a command-line option (it would show "
            f"in the process list); set {variable} instead."
        )
    return url


def serve_main(config: ServerConfig | None = None) -> int:
    """Serve the page, the live websocket and (with ``config.jobs``) uploads until
    interrupted. Files it creates are private (umask 077); the access token is resolved (and
    generated at the first start that needs one) before anything listens."""
    import uvicorn
    from pydantic import SecretStr

    from formcheck.jobs.datadir import DataDir
    from formcheck.server.access import resolve_token
    from formcheck.server.app import create_app, uvicorn_settings

    config = config or ServerConfig()
    os.umask(PRIVATE_UMASK)
    jobs = config.jobs
    if jobs is not None and jobs.queue.url is None:
        DataDir(jobs.data_dir).acquire().release()  # busy: a plain error now, not at startup
    token = resolve_token(config)
    if token.value is not None:
        config = config.model_copy(update={"token": SecretStr(token.value)})
    app = create_app(config)
    host = config.host
    shown_host = f"[{host}]" if ":" in host else host
    address = f"http://{shown_host}:{config.port}/"
    if token.source == "generated":
        print(f"formcheck: open {address}#token={token.value} in a browser (Ctrl+C to stop)",
              flush=True)  # fmt: skip
        print(f"formcheck: a new access token was generated and kept in {token.path}; keep "
              "that link private", flush=True)  # fmt: skip
    else:
        print(f"formcheck: open {address} in a browser (Ctrl+C to stop)", flush=True)
    if token.source == "data dir":
        print(f"formcheck: clients need the access token in {token.path} (the page: "
              f"{address}#token=<token>)", flush=True)  # fmt: skip
    elif token.source == "setting":
        print("formcheck: clients need the access token from FORMCHECK_TOKEN", flush=True)
    if jobs is not None and jobs.queue.url is None:
        print(
            f"formcheck: uploads, jobs and reports in {jobs.data_dir} (readable by this user "
            f"only; {jobs.workers} worker{'s' if jobs.workers != 1 else ''}, kept "
            f"{jobs.retention_days:g} days)",
            flush=True,
        )
    elif jobs is not None:
        print(
            f"formcheck: uploads and reports in {jobs.data_dir.resolve()} (kept "
            f"{jobs.retention_days:g} days); jobs go to the queue at "
            f"{jobs.queue.redacted_url}: start workers with `formcheck worker --queue URL "
            "--data-dir DIR` on machines that share that directory",
            flush=True,
        )
    if not is_loopback(host):
        print(
            "formcheck: the page is reachable from other machines; browsers only allow the "
            "camera on localhost or over https (put it behind an https reverse proxy).",
            flush=True,
        )
    uvicorn.run(app, host=host, port=config.port, **uvicorn_settings(config))
    return 0


class TerminalFeedback:
    """Prints what changed from one frame's answer to the next: setup, state, reps, cues."""

    def __init__(self, out: TextIO | None = None) -> None:
        # The stdout of when it prints, not of when this module was imported (a caller, or
        # a test capturing output, may have replaced sys.stdout since).
        self._out = out if out is not None else sys.stdout
        self._setup: list[str] = []
        self._state = ""
        self._reps = 0

    def frame(self, result: FrameResult) -> None:
        messages = [p.message for p in result.setup]
        if messages != self._setup and (result.state == "setup" or messages):
            for message in messages:
                self._say(f"setup: {message}")
        self._setup = messages
        if result.state != self._state:
            self._say(
                {
                    "setup": "checking the camera view",
                    "calibrating": "stand still for a moment: measuring your start position",
                    "active": "go: counting reps",
                }[result.state]
            )
            self._state = result.state
        for hint in result.hints:
            self._say(f"setup: {hint.message}")
        if result.reps != self._reps and result.tempo is not None:
            tempo = result.tempo
            self._say(
                f"rep {result.reps}: down {_s(tempo.down_s)} s, pause {_s(tempo.pause_s)} s, "
                f"up {_s(tempo.up_s)} s, score {_s(tempo.score, 0)}"
            )
        self._reps = result.reps
        for cue in result.cues:
            marker = "!" if cue.spoken else "-"
            self._say(f"  {marker} {cue.message}")

    def summary(self, message: SummaryMessage) -> None:
        self._say(summary_line(message.report))
        for line in finding_lines(message.report):
            self._say(line)

    def _say(self, line: str) -> None:
        print(line, file=self._out, flush=True)


def _s(value: float | None, digits: int = 1) -> str:
    return "?" if value is None else f"{value:.{digits}f}"


def live_main(camera: str, exercise: str | None, height_cm: float | None) -> int:
    """Run a live set on a local camera (or a video file), printing feedback; Ctrl+C ends it."""
    from formcheck.pose.estimator import PoseEstimator
    from formcheck.pose.model import ensure_model
    from formcheck.server.live import LiveSession
    from formcheck.server.messages import StartMessage
    from formcheck.video import open_source

    config = ServerConfig()
    model = ensure_model()
    pipeline = config.pipeline
    session = LiveSession(
        "terminal",
        lambda: PoseEstimator(
            model.path, segmentation=pipeline.segmentation, max_people=pipeline.max_people
        ),
        config,
        model.source,
    )
    feedback = TerminalFeedback()
    try:
        with open_source(camera, max_side_px=pipeline.max_inference_side_px) as source:
            started = session.start(
                StartMessage(exercise=exercise or DEFAULT_EXERCISE, height_cm=height_cm), None
            )
            print(f"formcheck: {started.exercise}. {started.camera_placement}", flush=True)
            print("formcheck: press Ctrl+C to end the set", flush=True)
            try:
                for frame in source:
                    feedback.frame(session.push(frame.rgb, frame.t_ms))
            except KeyboardInterrupt:
                pass
        feedback.summary(session.finish())
    finally:
        session.close()
    return 0
