"""The worker pool: threads that claim jobs and run each in its own process.

A separate process per run keeps the server responsive (the analysis holds the GIL for
long stretches), lets a stuck or crashed run be stopped without harming the server, and
frees the model's memory after each job. The run (formcheck.jobs.child) writes progress
straight into the database with its lease token and its files into a ``.part-<token>``
folder, which the worker renames to the job's report folder before marking it done. A run
whose parent died (the server was killed) notices at its next progress report and exits;
its job is requeued by the next start (see JobStore.recover).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import subprocess
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any

from formcheck.jobs.child import INTERNAL_ERROR, OUTCOME_NAME, SPEC_NAME
from formcheck.jobs.config import JobsConfig
from formcheck.jobs.datadir import DataDir
from formcheck.jobs.store import Claim, JobStore

log = logging.getLogger(__name__)

DEFAULT_JOB_FN = "formcheck.jobs.analysis:run_analysis_job"
STOP_GRACE_S = 5.0  # a run asked to stop is killed after this
SECONDS_PER_MINUTE = 60.0


class WorkerPool:
    """``config.workers`` threads, each running one job at a time in a subprocess."""

    def __init__(
        self,
        store: JobStore,
        data: DataDir,
        config: JobsConfig,
        *,
        job_fn: str = DEFAULT_JOB_FN,
    ) -> None:
        self._store = store
        self._data = data
        self._config = config
        self._job_fn = job_fn
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        self._stop.clear()
        for i in range(self._config.workers):
            thread = threading.Thread(target=self._loop, name=f"formcheck-job-{i}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def wake(self) -> None:
        """A job was queued: look now instead of at the next poll."""
        self._wake.set()

    def stop(self, timeout_s: float = STOP_GRACE_S * 2) -> None:
        """Stop taking jobs; runs in progress are stopped and their jobs queued again."""
        self._stop.set()
        self._wake.set()
        for thread in self._threads:
            thread.join(timeout_s)
        self._threads.clear()

    def _loop(self) -> None:
        while not self._stop.is_set():
            claim = self._store.claim()
            if claim is None:
                self._wake.wait(self._config.poll_interval_s)
                self._wake.clear()
                continue
            try:
                self._run(claim)
            except Exception:
                log.error("worker failed on job %s:\n%s", claim.job.id, traceback.format_exc())
                self._store.fail(claim.job.id, claim.token, INTERNAL_ERROR)

    def _spec(self, claim: Claim, part: Path) -> dict[str, Any]:
        job = claim.job
        return {
            "db_path": str(self._store.path),
            "job_id": job.id,
            "token": claim.token,
            "job_fn": self._job_fn,
            "upload": str(self._data.upload_path(job.upload_name)),
            "out_dir": str(part),
            "options": {**job.options, "display_name": job.display_name},
            "parent_pid": os.getpid(),
            "progress_interval_s": self._config.progress_interval_s,
            "sys_path": [p for p in sys.path if p],
        }

    def _run(self, claim: Claim) -> None:
        job, token = claim.job, claim.token
        part = self._data.part_dir(job.id, token)
        shutil.rmtree(part, ignore_errors=True)
        part.mkdir(parents=True)
        spec_path = part / SPEC_NAME
        spec_path.write_text(json.dumps(self._spec(claim, part)), encoding="utf-8")
        process = subprocess.Popen(
            [sys.executable, "-m", "formcheck.jobs.child", str(spec_path)], stdin=subprocess.DEVNULL
        )
        deadline = time.monotonic() + self._config.job_timeout_s
        timed_out = False
        while process.poll() is None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(self._config.poll_interval_s)
            if self._stop.is_set():
                _end(process)
                self._store.release(job.id, token)
                shutil.rmtree(part, ignore_errors=True)
                return
            if time.monotonic() > deadline:
                _end(process)
                timed_out = True
        self._finish(claim, part, process.returncode, timed_out)

    def _finish(self, claim: Claim, part: Path, exit_code: int | None, timed_out: bool) -> None:
        job, token = claim.job, claim.token
        outcome_path = part / OUTCOME_NAME
        outcome: dict[str, Any] = {}
        if outcome_path.exists():
            outcome = json.loads(outcome_path.read_text(encoding="utf-8"))
            outcome_path.unlink()
        if outcome.get("ok") and exit_code == 0 and not timed_out:
            final = self._data.report_dir(job.id)
            shutil.rmtree(final, ignore_errors=True)
            part.rename(final)
            self._store.complete(job.id, token, outcome.get("result") or {})
            return
        shutil.rmtree(part, ignore_errors=True)
        if timed_out:
            minutes = self._config.job_timeout_s / SECONDS_PER_MINUTE
            reason = f"The analysis took longer than {minutes:.0f} minutes and was stopped."
        elif "error" in outcome:
            reason = str(outcome["error"])
        else:
            reason = f"The analysis stopped unexpectedly (exit code {exit_code}); try again."
        self._store.fail(job.id, token, reason)


def _end(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(STOP_GRACE_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
