"""Shared fixtures: where the real clips and the model are, and small generated videos."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest

if TYPE_CHECKING:
    from formcheck.jobs.config import JobsConfig
    from tests.queue_services import RedisServer, WorkerProcess

REPO_ROOT = Path(__file__).resolve().parents[1]
# ../shared/videos beside the checkout; FORMCHECK_SHARED_VIDEOS points elsewhere (a git
# worktree kept away from the main checkout).
SHARED_VIDEOS = Path(
    os.environ.get("FORMCHECK_SHARED_VIDEOS", str(REPO_ROOT.parent / "shared" / "videos"))
)


def shared_clip(relative: str) -> Path:
    """A real clip from ../shared/videos, or skip the test with the reason."""
    path = SHARED_VIDEOS / relative
    if not path.is_file():
        pytest.skip(f"real clip {relative} not available: ../shared/videos is absent")
    return path


@pytest.fixture(scope="session")
def model_path() -> Path:
    """The real pose model bundle (built from the mediapipe wheel on first use)."""
    from formcheck.errors import ModelUnavailableError
    from formcheck.pose.model import ensure_model

    try:
        return ensure_model().path
    except ModelUnavailableError as exc:
        pytest.skip(f"no pose model could be had: {exc}")


def write_test_video(path: Path, frames: list[np.ndarray], fps: int = 30) -> Path:
    """Encode RGB frames as an H.264 MP4 with PyAV."""
    import av

    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.height, stream.width = frames[0].shape[:2]
        stream.pix_fmt = "yuv420p"
        for rgb in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A real redis-server on loopback for the session (skips when it is not installed)."""
    from tests.queue_services import RedisServer

    server = RedisServer(tmp_path_factory.mktemp("redis"))
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """The session's Redis, emptied for this test."""
    redis_server.flush()
    return redis_server.url


@pytest.fixture
def celery_workers(tmp_path: Path) -> Iterator[Callable[[JobsConfig, str, str], WorkerProcess]]:
    """Starts real Celery worker processes (config, name, job function); all are stopped
    when the test ends."""
    from tests.queue_services import WorkerProcess

    started: list[WorkerProcess] = []

    def start(config: JobsConfig, name: str, job_fn: str) -> WorkerProcess:
        worker = WorkerProcess(config, name, job_fn, tmp_path)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


def first_frames(video: Path, out: Path, frames: int) -> Path:
    """The first ``frames`` frames of ``video``, encoded again (a short clip for job tests)."""
    import av

    with av.open(str(video)) as container:
        decoded = zip(range(frames), container.decode(video=0), strict=False)
        rgb = [frame.to_ndarray(format="rgb24") for _, frame in decoded]
    return write_test_video(out, rgb)
