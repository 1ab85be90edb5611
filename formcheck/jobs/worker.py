"""The worker pool: threads that claim jobs and run each in its own process, supervised.

A separate process per run keeps the server responsive (the analysis holds the GIL for
long stretches), lets a stuck or crashed run be stopped without harming the server, and
frees the model's memory after each job. The run (formcheck.jobs.child) writes progress
straight into the database with its lease token and its files into a ``.part-<token>``
folder, which the worker renames to the job's report folder before marking it done. A run
whose parent died (the server was killed) notices at its next progress report and exits;
its job is requeued by the next start (see JobStore.recover).

Nothing that goes wrong while finishing a job may stop the pool: an outcome that cannot be
read counts as a crash, an outcome that cannot be recorded (a full disk: "database or disk
is full") is retried with growing pauses, and any other error is logged (throttled) and the
worker carries on. A supervisor thread restarts a worker thread that died anyway, and
requeues running jobs no worker holds (a worker gave up recording them). ``health()``
reports all of it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from formcheck.jobs.child import DISK_FULL_ERROR, INTERNAL_ERROR, OUTCOME_NAME, SPEC_NAME
from formcheck.jobs.config import JobsConfig
from formcheck.jobs.datadir import DataDir
from formcheck.jobs.durable import disk_free_bytes, private_dir, rename_durably
from formcheck.jobs.store import Claim, JobStore
from formcheck.jobs.throttle import ThrottledLogger

log = logging.getLogger(__name__)

DEFAULT_JOB_FN = "formcheck.jobs.analysis:run_analysis_job"
STOP_GRACE_S = 5.0  # a run asked to stop is killed after this
SECONDS_PER_MINUTE = 60.0
ERROR_LOG_INTERVAL_S = 60.0  # one traceback per kind of worker error per minute at most
RECORD_ERRORS = (sqlite3.Error, OSError)  # what a full or failing disk raises


@dataclass(frozen=True, slots=True)
class PoolHealth:
    workers: int
    alive: int
    restarts: int
    last_error: str | None  # the latest error a worker met, None once work succeeds again


class WorkerPool:
    """``config.workers`` threads, each running one job at a time in a subprocess, and a
    supervisor thread."""

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
        self._lock = threading.Lock()  # claims, the active runs and the lost-job sweep
        self._active: dict[int, Claim] = {}  # slot -> the job it runs
        self._cancelled: set[str] = set()  # job ids whose run must stop now
        self._threads: dict[int, threading.Thread] = {}
        self._supervisor: threading.Thread | None = None
        self._errors = ThrottledLogger(log, ERROR_LOG_INTERVAL_S)
        self.restarts = 0
        self._failing: dict[str, str] = {}  # where -> its latest error, until it succeeds

    # --- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        self._stop.clear()
        for slot in range(self._config.workers):
            self._spawn(slot)
        self._supervisor = threading.Thread(
            target=self._supervise, name="formcheck-job-supervisor", daemon=True
        )
        self._supervisor.start()

    def _spawn(self, slot: int) -> None:
        thread = threading.Thread(
            target=self._slot_loop, args=(slot,), name=f"formcheck-job-{slot}", daemon=True
        )
        self._threads[slot] = thread
        thread.start()

    def wake(self) -> None:
        """A job was queued: look now instead of at the next poll."""
        self._wake.set()

    def stop(self, timeout_s: float = STOP_GRACE_S * 2) -> None:
        """Stop taking jobs; runs in progress are stopped and their jobs queued again."""
        self._stop.set()
        self._wake.set()
        if self._supervisor is not None:
            self._supervisor.join(timeout_s)
            self._supervisor = None
        for thread in self._threads.values():
            thread.join(timeout_s)
        self._threads.clear()

    def cancel(self, job_id: str) -> bool:
        """Stop the run of ``job_id`` now, if one runs here (its row is already deleted)."""
        with self._lock:
            running = any(c.job.id == job_id for c in self._active.values())
            if running:
                self._cancelled.add(job_id)
        return running

    def health(self) -> PoolHealth:
        alive = sum(1 for thread in self._threads.values() if thread.is_alive())
        return PoolHealth(
            workers=self._config.workers,
            alive=alive,
            restarts=self.restarts,
            last_error="; ".join(dict(self._failing).values()) or None,
        )

    # --- supervision ----------------------------------------------------------------------

    def _supervise(self) -> None:
        while not self._stop.wait(self._config.supervise_interval_s):
            try:
                self.supervise_once()
            except Exception as error:
                self._note_error("supervisor", error)
            else:
                self._failing.pop("supervisor", None)

    def supervise_once(self) -> None:
        """Restart dead worker threads; requeue running jobs that no worker holds."""
        for slot, thread in list(self._threads.items()):
            if not thread.is_alive() and not self._stop.is_set():
                self.restarts += 1
                log.error("job worker %d had stopped; started it again", slot)
                self._spawn(slot)
        with self._lock:
            held = {claim.token for claim in self._active.values()}
            requeued, failed = self._store.requeue_lost(held, self._config.max_attempts)
        if requeued or failed:
            log.warning("requeued %d jobs no worker held, failed %d", len(requeued), len(failed))
            self.wake()

    # --- one worker -----------------------------------------------------------------------

    def _slot_loop(self, slot: int) -> None:
        where = f"worker {slot}"
        pause_s = self._config.poll_interval_s
        while not self._stop.is_set():
            try:
                worked = self._step(slot)
            except Exception as error:
                self._note_error(where, error)
                self._stop.wait(pause_s)
                pause_s = min(pause_s * 2, self._config.record_retry_max_s)
                continue
            self._failing.pop(where, None)
            pause_s = self._config.poll_interval_s
            if not worked:
                self._wake.wait(self._config.poll_interval_s)
                self._wake.clear()

    def _step(self, slot: int) -> bool:
        """Claim and run one job; False when there was none."""
        with self._lock:
            claim = self._store.claim()
            if claim is None:
                return False
            self._active[slot] = claim
        try:
            self._run(claim)
        finally:
            with self._lock:
                self._active.pop(slot, None)
                self._cancelled.discard(claim.job.id)
        return True

    def _note_error(self, where: str, error: BaseException) -> None:
        self._failing[where] = f"{where}: {error}"
        self._errors.error(where, "%s failed: %s", where, error)

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
        private_dir(part)
        spec_path = part / SPEC_NAME
        spec_path.write_text(json.dumps(self._spec(claim, part)), encoding="utf-8")
        process = subprocess.Popen(
            [sys.executable, "-m", "formcheck.jobs.child", str(spec_path)], stdin=subprocess.DEVNULL
        )
        deadline = time.monotonic() + self._config.job_timeout_s
        timed_out = False
        try:
            while process.poll() is None:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(self._config.poll_interval_s)
                if self._stop.is_set():
                    _end(process)
                    self._store.release(job.id, token)
                    shutil.rmtree(part, ignore_errors=True)
                    return
                if self._lost(job.id, token):  # deleted through the API
                    _end(process)
                    shutil.rmtree(part, ignore_errors=True)
                    return
                if time.monotonic() > deadline:
                    _end(process)
                    timed_out = True
        finally:
            if process.poll() is None:
                _end(process)
        self._finish(claim, part, process.returncode, timed_out)

    def _lost(self, job_id: str, token: str) -> bool:
        with self._lock:
            if job_id in self._cancelled:
                return True
        return not self._store.holds(job_id, token)

    def _finish(self, claim: Claim, part: Path, exit_code: int | None, timed_out: bool) -> None:
        job, token = claim.job, claim.token
        outcome = read_outcome(part)
        if outcome.get("ok") and exit_code == 0 and not timed_out:
            final = self._data.report_dir(job.id)
            shutil.rmtree(final, ignore_errors=True)
            rename_durably(part, final)  # the outcome goes with it: see JobService.start
            result = outcome.get("result") or {}
            if not self._record(lambda: self._store.complete(job.id, token, result)):
                shutil.rmtree(final, ignore_errors=True)  # deleted meanwhile
            return
        shutil.rmtree(part, ignore_errors=True)
        if timed_out:
            minutes = self._config.job_timeout_s / SECONDS_PER_MINUTE
            reason = f"The analysis took longer than {minutes:.0f} minutes and was stopped."
        elif "error" in outcome:
            reason = str(outcome["error"])
        elif disk_free_bytes(self._data.root) < self._config.min_free_disk_bytes:
            reason = DISK_FULL_ERROR  # it could not even write its outcome
        elif exit_code == 0:
            reason = INTERNAL_ERROR  # it ended without a readable outcome
        else:
            reason = f"The analysis stopped unexpectedly (exit code {exit_code}); try again."
        self._record(lambda: self._store.fail(job.id, token, reason))

    def _record(self, write: Callable[[], bool]) -> bool:
        """Write a job's outcome, retrying while the database cannot be written; returns
        what ``write`` returned (False: the job was no longer this run's), or False when the
        pool stops first (the next start finishes or requeues the job)."""
        where = "recording a job's outcome"
        pause_s = self._config.poll_interval_s
        while True:
            try:
                written = write()
            except RECORD_ERRORS as error:
                self._note_error(where, error)
            else:
                self._failing.pop(where, None)
                return written
            if self._stop.wait(pause_s):
                return False
            pause_s = min(pause_s * 2, self._config.record_retry_max_s)


def read_outcome(folder: Path) -> dict[str, Any]:
    """A run's outcome file ({} when missing, empty or unreadable: a crash)."""
    try:
        outcome = json.loads((folder / OUTCOME_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return outcome if isinstance(outcome, dict) else {}


def _end(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(STOP_GRACE_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
