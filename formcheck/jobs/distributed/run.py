"""One task on a worker: take the job, analyse it, finish it exactly once.

    claim (lease token T)  ->  job function writes reports/<id>.part-T/, fsynced, outcome
    -> begin_finish (running -> finishing: from now on no other run can take the job)
    -> rename part-T to reports/<id>/ (durably)  ->  complete (finishing -> done)

The files are written and moved exactly as the local worker pool does (formcheck.jobs.worker,
formcheck.jobs.child): a report folder is only ever a whole run's outputs. While the job
runs, a heartbeat thread renews the run's lease; progress reports renew it too and notice
when the job was deleted or taken over, and the run stops. A run that died while finishing
(its lease ran out in ``finishing``) is completed from its files by whoever finds it
(``recover_finishing``): the same run's outputs, never a second report.
"""

from __future__ import annotations

import errno
import json
import logging
import secrets
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

from celery.exceptions import SoftTimeLimitExceeded

from formcheck.errors import FormcheckError
from formcheck.jobs.child import DISK_FULL_ERROR, INTERNAL_ERROR, OUTCOME_NAME, JobFn
from formcheck.jobs.config import JobsConfig
from formcheck.jobs.datadir import DataDir
from formcheck.jobs.distributed.records import REDIS_ERRORS, RedisJobStore
from formcheck.jobs.durable import (
    fsync_tree,
    is_disk_full,
    private_dir,
    rename_durably,
    write_durably,
)
from formcheck.jobs.store import JOB_ID_BYTES, Job
from formcheck.jobs.worker import SECONDS_PER_MINUTE, read_outcome

log = logging.getLogger(__name__)
T = TypeVar("T")
# A Redis restart or failover takes seconds to a minute or two; past this a run stops
# trying to record its outcome and the sweep's recovery (from the files) takes over.
RECORD_GIVE_UP_S = 600.0
FIRST_RETRY_PAUSE_S = 0.2
MISSING_UPLOAD = (
    "The uploaded video is not in this worker's data directory ({data_dir}): every worker "
    "must reach the same shared storage as the server; upload the video again once it does."
)


class JobLostError(Exception):
    """The run no longer holds its job (deleted, or taken over after its lease ran out)."""


@dataclass(frozen=True, slots=True)
class RunResult:
    """What a task did: ``state`` is the job's state after it (or what the claim found)."""

    job_id: str
    ran: bool
    state: str

    def to_dict(self) -> dict[str, Any]:
        return {"job_id": self.job_id, "ran": self.ran, "state": self.state}


def retry_redis(call: Callable[[], T], give_up_s: float = RECORD_GIVE_UP_S) -> T:
    """``call()``, retried with growing pauses while Redis cannot be reached."""
    deadline = time.monotonic() + give_up_s
    pause_s = FIRST_RETRY_PAUSE_S
    while True:
        try:
            return call()
        except REDIS_ERRORS:
            if time.monotonic() + pause_s > deadline:
                raise
        time.sleep(pause_s)
        pause_s = min(pause_s * 2, give_up_s / 10)


class Heartbeat:
    """Renews a run's lease every ``interval_s`` in a thread; ``lost`` is set once the job
    is no longer this run's."""

    def __init__(self, records: RedisJobStore, job_id: str, token: str) -> None:
        self._records = records
        self._job_id = job_id
        self._token = token
        self.lost = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="formcheck-heartbeat", daemon=True)

    def _loop(self) -> None:
        while not self._stop.wait(self._records.queue.heartbeat_interval_s):
            try:
                if not self._records.heartbeat(self._job_id, self._token):
                    self.lost.set()
                    return
            except REDIS_ERRORS as error:  # a Redis restart: the next beat tries again
                log.warning("job %s: heartbeat failed: %s", self._job_id, error)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join()


class ProgressReporter:
    """The job function's ``progress(fraction, stage)``: written at most every
    ``interval_s`` (renewing the lease); raises JobLostError once the job is lost."""

    def __init__(
        self, records: RedisJobStore, job_id: str, token: str, interval_s: float,
        lost: threading.Event,
    ) -> None:  # fmt: skip
        self._records = records
        self._job_id = job_id
        self._token = token
        self._interval_s = interval_s
        self._lost = lost
        self._last_s = 0.0

    def __call__(self, fraction: float, stage: str) -> None:
        if self._lost.is_set():
            raise JobLostError(self._job_id)
        now = time.monotonic()
        if now - self._last_s < self._interval_s:
            return
        self._last_s = now
        try:
            held = self._records.set_progress(self._job_id, self._token, fraction, stage)
        except REDIS_ERRORS:
            return  # progress is best effort; the heartbeat keeps the lease
        if not held:
            self._lost.set()
            raise JobLostError(self._job_id)


@dataclass(frozen=True, slots=True)
class _Analysed:
    result: dict[str, Any] | None = None  # set: the outputs are complete
    error: str | None = None  # set: the job failed with this reason
    # neither: the job was lost (deleted or taken over)


class Runner:
    """Runs the tasks of one worker process (a Celery pool process)."""

    def __init__(
        self, config: JobsConfig, records: RedisJobStore, data: DataDir, job_fn: JobFn
    ) -> None:
        self.config = config
        self.records = records
        self.data = data
        self.job_fn = job_fn

    def run(self, job_id: str) -> RunResult:
        """Take ``job_id`` and run it, or do nothing when it is not this run's to take
        (Redis errors while taking it propagate: the task is retried)."""
        self.data.report_dir(job_id)  # a malformed id fails here, before Redis
        token = secrets.token_hex(JOB_ID_BYTES)
        claim = self.records.claim(job_id, token, self.config.max_attempts)
        if claim.status == "finishing":  # its last run died saving the report
            state = recover_finishing(self.records, self.data, job_id)
            if state != "queued":
                return RunResult(job_id, False, state)
            claim = self.records.claim(job_id, token, self.config.max_attempts)
        if claim.status != "claimed" or claim.job is None:
            return RunResult(job_id, False, claim.status)
        job = claim.job
        part = self.data.part_dir(job_id, token)
        remove_other_runs(self.data, job_id)  # runs whose lease ran out: dead, or lost
        with Heartbeat(self.records, job_id, token) as heartbeat:
            analysed = self._analyse(job, token, part, heartbeat.lost)
            if analysed.result is not None:
                state = self._finish(job_id, token, part, analysed.result)
            else:
                shutil.rmtree(part, ignore_errors=True)
                state = "lost"
                reason = analysed.error
                if reason is not None:
                    recorded = retry_redis(lambda: self.records.fail(job_id, token, reason))
                    state = "failed" if recorded else "lost"
        return RunResult(job_id, True, state)

    def _analyse(self, job: Job, token: str, part: Path, lost: threading.Event) -> _Analysed:
        upload = self.data.upload_path(job.upload_name)
        if not upload.is_file():
            return _Analysed(error=MISSING_UPLOAD.format(data_dir=self.data.root.resolve()))
        shutil.rmtree(part, ignore_errors=True)
        private_dir(part)
        progress = ProgressReporter(
            self.records, job.id, token, self.config.progress_interval_s, lost
        )
        options = {**job.options, "display_name": job.display_name}
        try:
            result = self.job_fn(upload, part, options, progress)
            fsync_tree(part)
            write_durably(part / OUTCOME_NAME, json.dumps({"ok": True, "result": result}).encode())
            return _Analysed(result=result)
        except JobLostError:
            return _Analysed()
        except SoftTimeLimitExceeded:
            minutes = self.config.job_timeout_s / SECONDS_PER_MINUTE
            return _Analysed(
                error=f"The analysis took longer than {minutes:.0f} minutes and was stopped."
            )
        except FormcheckError as error:
            return _Analysed(error=str(error))
        except Exception as error:
            if is_disk_full(error):
                return _Analysed(error=DISK_FULL_ERROR)
            log.exception("job %s failed", job.id)
            return _Analysed(error=INTERNAL_ERROR)

    def _finish(self, job_id: str, token: str, part: Path, result: dict[str, Any]) -> str:
        if not retry_redis(lambda: self.records.begin_finish(job_id, token)):
            shutil.rmtree(part, ignore_errors=True)  # deleted, or taken over: not ours
            return "lost"
        move_into_place(self.data, job_id, part)
        if retry_redis(lambda: self.records.complete(job_id, token, result)):
            remove_other_runs(self.data, job_id, keep=part)
            return "done"
        state = retry_redis(lambda: self.records.raw_state(job_id))
        if state is None:  # deleted while it was being saved
            shutil.rmtree(self.data.report_dir(job_id), ignore_errors=True)
            return "gone"
        return state  # completed by a recovery that found this run's files


def move_into_place(data: DataDir, job_id: str, part: Path) -> None:
    """Rename a finished run's folder to the job's report folder, durably. A report folder
    without a successful outcome is debris of an interrupted delete and is replaced; one
    with it was put there from this same run by a recovery, and is kept."""
    final = data.report_dir(job_id)
    if final.exists() and not read_outcome(final).get("ok"):
        shutil.rmtree(final, ignore_errors=True)
    try:
        rename_durably(part, final)
    except OSError as error:
        if error.errno not in (errno.ENOENT, errno.ENOTEMPTY, errno.EEXIST):
            raise
        if not read_outcome(final).get("ok"):
            raise
        shutil.rmtree(part, ignore_errors=True)


def remove_other_runs(data: DataDir, job_id: str, keep: Path | None = None) -> None:
    """Delete the run folders of ``job_id`` other than ``keep`` (runs that died)."""
    for folder in data.part_dirs(job_id):
        if folder != keep:
            shutil.rmtree(folder, ignore_errors=True)


def recover_finishing(records: RedisJobStore, data: DataDir, job_id: str) -> str:
    """A run died in ``finishing`` (its lease ran out): complete the job from its files,
    or queue it again when they are gone. Returns the job's state afterwards."""
    token = records.lease_token(job_id)
    final = data.report_dir(job_id)
    outcome = read_outcome(final)
    if not outcome.get("ok"):
        part = data.part_dir(job_id, token)
        if read_outcome(part).get("ok"):
            move_into_place(data, job_id, part)
            outcome = read_outcome(final)
    if outcome.get("ok"):
        if records.complete(job_id, token, outcome.get("result") or {}):
            remove_other_runs(data, job_id)
        return records.raw_state(job_id) or "gone"
    if records.requeue_finishing(job_id, token):
        return "queued"
    return records.raw_state(job_id) or "gone"
