"""`formcheck serve` (the web page and live websocket) and `formcheck live` (a local camera,
feedback in the terminal). Both run the same LiveSession as the page."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, TextIO

from pydantic import ValidationError

from formcheck.errors import FormcheckError
from formcheck.jobs.config import BYTES_PER_MB, JobsConfig, UploadLimits
from formcheck.report.terminal import finding_lines, summary_line
from formcheck.server.config import DEFAULT_HOST, ServerConfig
from formcheck.server.messages import FrameResult, SummaryMessage
from formcheck.settings import AnalysisSettings

DEFAULT_EXERCISE = AnalysisSettings.model_fields["exercise"].default


def jobs_config_from_args(args: argparse.Namespace) -> JobsConfig:
    """`formcheck serve`'s --data-dir, --workers, --max-upload-mb, --max-duration-s and
    --retention-days (flags not given keep JobsConfig's defaults)."""
    try:
        return _jobs_config(args)
    except ValidationError as error:
        first = error.errors()[0]
        where = str(first["loc"][-1]) if first["loc"] else "settings"
        raise FormcheckError(
            f"The serve option {where} is not valid: {first['msg'].lower()}."
        ) from error


def _jobs_config(args: argparse.Namespace) -> JobsConfig:
    limits: dict[str, Any] = {}
    if args.max_upload_mb is not None:
        limits["max_upload_bytes"] = max(1, round(args.max_upload_mb * BYTES_PER_MB))
    if args.max_duration_s is not None:
        limits["max_duration_s"] = args.max_duration_s
    fields: dict[str, Any] = {"data_dir": Path(args.data_dir), "limits": UploadLimits(**limits)}
    if args.workers is not None:
        fields["workers"] = args.workers
    if args.retention_days is not None:
        fields["retention_days"] = args.retention_days
    return JobsConfig(**fields)


def serve_main(host: str = DEFAULT_HOST, port: int = 8000, jobs: JobsConfig | None = None) -> int:
    """Serve the page, the live websocket and (with ``jobs``) uploads until interrupted."""
    import uvicorn

    from formcheck.jobs.datadir import DataDir
    from formcheck.server.app import create_app

    config = ServerConfig(jobs=jobs)
    if jobs is not None:
        DataDir(jobs.data_dir).acquire().release()  # busy: a plain error now, not at startup
    app = create_app(config)
    shown_host = f"[{host}]" if ":" in host else host
    print(f"formcheck: open http://{shown_host}:{port}/ in a browser (Ctrl+C to stop)", flush=True)
    if jobs is not None:
        print(
            f"formcheck: uploads, jobs and reports in {jobs.data_dir} ({jobs.workers} "
            f"worker{'s' if jobs.workers != 1 else ''}, kept {jobs.retention_days:g} days)",
            flush=True,
        )
    if host not in (DEFAULT_HOST, "localhost", "::1"):
        print(
            "formcheck: the page is reachable from other machines; browsers only allow the "
            "camera on localhost or over https.",
            flush=True,
        )
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level="warning",
        ws_max_size=config.ws_max_message_bytes,
    )
    return 0


class TerminalFeedback:
    """Prints what changed from one frame's answer to the next: setup, state, reps, cues."""

    def __init__(self, out: TextIO = sys.stdout) -> None:
        self._out = out
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
