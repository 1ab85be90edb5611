"""Real Redis servers and real Celery worker processes on loopback, for the job queue's tests.

``RedisServer`` runs Debian's ``redis-server`` on a free 127.0.0.1 port with its data in a
test folder (append-only file, fsynced on every write, as the README asks of production), and
can be killed and started again on the same port and data. ``WorkerProcess`` runs
``python -m formcheck.jobs.distributed.worker`` in its own process group (so SIGKILL takes
its pool processes too), with a test job function and short leases.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import redis

from formcheck.jobs.config import JobsConfig, QueueConfig
from tests.conftest import REPO_ROOT

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
START_WAIT_S = 30.0
STOP_WAIT_S = 30.0
POLL_S = 0.05
WAIT_LIMIT_S = 180.0  # only stops a broken test from hanging
# Short enough for a lost worker's job to come back within seconds, long enough for a
# loaded two-core machine: several heartbeats per lease.
TEST_QUEUE = {
    "lease_s": 3.0,
    "heartbeat_interval_s": 0.5,
    "sweep_interval_s": 0.5,
    "unsent_grace_s": 2.0,
}


def require_redis_server() -> str:
    if not Path(REDIS_SERVER).is_file():
        pytest.skip(
            "redis-server is not installed (Debian's redis-server package; "
            "scripts/ci_system_deps.sh installs it in CI)"
        )
    return REDIS_SERVER


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(predicate: Callable[[], bool], what: str, limit_s: float = WAIT_LIMIT_S) -> None:
    deadline = time.monotonic() + limit_s
    while not predicate():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(POLL_S)


class RedisServer:
    """``redis-server`` on 127.0.0.1:<free port>, data (AOF) in ``folder``."""

    def __init__(self, folder: Path) -> None:
        self.binary = require_redis_server()
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1",
             "--dir", str(self.folder), "--appendonly", "yes", "--appendfsync", "always",
             "--save", "", "--daemonize", "no", "--logfile", str(self.folder / "redis.log")],
            stdin=subprocess.DEVNULL,
        )  # fmt: skip
        client = redis.Redis(port=self.port, socket_connect_timeout=1.0)
        try:
            wait_for(lambda: self._answers(client), "redis-server to answer", START_WAIT_S)
        finally:
            client.close()

    def _answers(self, client: redis.Redis) -> bool:
        assert self.process is not None and self.process.poll() is None, "redis-server exited"
        try:
            return bool(client.ping())
        except redis.exceptions.ConnectionError:
            return False

    def kill(self) -> None:
        """SIGKILL (a crash or a power cut: only what the AOF holds survives)."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(STOP_WAIT_S)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(STOP_WAIT_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def flush(self) -> None:
        client = redis.Redis(port=self.port)
        try:
            client.flushall()
        finally:
            client.close()


def queue_config(url: str, data_dir: Path, **changes: Any) -> JobsConfig:
    """Jobs settings for a test: this queue, short leases, quick progress."""
    queue = {**TEST_QUEUE, **changes.pop("queue", {}), "url": url}
    return JobsConfig(
        data_dir=data_dir,
        queue=QueueConfig.model_validate(queue),
        progress_interval_s=0.1,
        min_free_disk_bytes=0,
        **changes,
    )


def worker_environment(config: JobsConfig) -> dict[str, str]:
    """The environment of a worker process: this test's queue settings, no others."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FORMCHECK_")}
    for name, value in config.queue.model_dump().items():
        if name != "url" and value is not None:
            env[f"FORMCHECK_JOBS__QUEUE__{name.upper()}"] = str(value)
    env["FORMCHECK_JOBS__PROGRESS_INTERVAL_S"] = str(config.progress_interval_s)
    env["FORMCHECK_JOBS__MIN_FREE_DISK_BYTES"] = str(config.min_free_disk_bytes)
    env["FORMCHECK_JOBS__MAX_ATTEMPTS"] = str(config.max_attempts)
    return env


class WorkerProcess:
    """A real Celery worker (``--concurrency 1``) running ``job_fn``, its log in ``log``."""

    def __init__(self, config: JobsConfig, name: str, job_fn: str, log_dir: Path) -> None:
        assert config.queue.url is not None
        self.name = name
        self.log = log_dir / f"worker-{name}.log"
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "formcheck.jobs.distributed.worker",
                 "--queue", config.queue.url, "--data-dir", str(config.data_dir),
                 "--concurrency", "1", "--name", name, "--job-fn", job_fn],
                cwd=REPO_ROOT, env=worker_environment(config), stdin=subprocess.DEVNULL,
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip

    @property
    def pid(self) -> int:
        return self.process.pid

    def log_tail(self, chars: int = 3000) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")[-chars:]

    def wait_ready(self) -> None:
        """Until the worker has announced itself (its sweep runs: it takes tasks)."""
        client = redis.Redis.from_url(self._url(), decode_responses=True)
        try:
            wait_for(
                lambda: self._alive() and bool(client.keys(f"*:worker:*{self.name}*")),
                f"worker {self.name} to start:\n{self.log_tail()}",
            )
        finally:
            client.close()

    def _url(self) -> str:
        args = self.process.args
        assert isinstance(args, list)
        return str(args[args.index("--queue") + 1])

    def _alive(self) -> bool:
        assert self.process.poll() is None, f"worker {self.name} exited:\n{self.log_tail()}"
        return True

    def kill(self) -> None:
        """SIGKILL the worker and its pool processes at once (a machine lost mid-job)."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(STOP_WAIT_S)

    def stop(self) -> None:
        """A warm shutdown (SIGTERM: running tasks finish), SIGKILL when it takes too long."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(STOP_WAIT_S)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
