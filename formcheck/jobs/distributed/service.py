"""``CeleryJobService``: the job backend of ``formcheck serve --queue redis://...``.

The same methods and promises as the local JobService (formcheck.jobs.backend), with the
job records in Redis (formcheck.jobs.distributed.records), the analyses on ``formcheck
worker`` processes, and uploads and reports in the data directory that every worker shares.
Several servers may use the same queue and data directory at once (nothing here owns them);
each runs the sweep (lost runs, unsent tasks) and the retention purge.

When Redis cannot be reached, the methods raise QueueUnavailableError (HTTP 503) and
``health`` says so.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import threading
from pathlib import Path
from typing import Any, BinaryIO

from kombu.exceptions import OperationalError

from formcheck.jobs.backend import JobsHealth
from formcheck.jobs.config import BYTES_PER_MB, JobsConfig
from formcheck.jobs.datadir import DataDir, remove_old_incoming
from formcheck.jobs.distributed.celery_app import make_celery_app
from formcheck.jobs.distributed.records import REDIS_ERRORS, RedisJobStore
from formcheck.jobs.distributed.sweeper import Sweeper
from formcheck.jobs.durable import disk_free_bytes, fsync_path
from formcheck.jobs.errors import QuotaExceededError
from formcheck.jobs.retention import PurgeResult, purge_expired
from formcheck.jobs.service import INCOMING_STALE_S, REPORT_FILES, _safe_name
from formcheck.jobs.store import Enqueued, Job, JobState
from formcheck.jobs.uploads import StoredUpload, discard_upload, ensure_free_disk, receive_upload

log = logging.getLogger(__name__)
SEND_ERRORS = (*REDIS_ERRORS, OperationalError)


class CeleryJobService:
    def __init__(self, config: JobsConfig) -> None:
        self.config = config
        self.data = DataDir(config.data_dir).create()
        self.records = RedisJobStore(config.queue)
        self.app = make_celery_app(config)
        self._sweeper = Sweeper(config, self.records, self.data, self.app)
        self._stop_purging = threading.Event()
        self._purger: threading.Thread | None = None
        self._started = False

    @property
    def queue_url(self) -> str:
        return self.config.queue.redacted_url

    def start(self) -> tuple[list[str], list[str]]:
        """Start the sweep and the retention purge (threads). Returns ([], []): jobs left by
        a stopped server need no recovery here, the sweep finds lost runs."""
        self._sweeper.start()
        self._stop_purging.clear()
        self._purger = threading.Thread(
            target=self._purge_loop, name="formcheck-purge", daemon=True
        )
        self._purger.start()
        self._started = True
        return [], []

    def _purge_loop(self) -> None:
        while True:
            try:
                self.purge()
            except Exception:
                log.exception("retention purge failed")
            if self._stop_purging.wait(self.config.purge_interval_s):
                return

    def stop(self) -> None:
        if self._started:
            self._stop_purging.set()
            if self._purger is not None:
                self._purger.join()
            self._sweeper.stop()
            self._started = False

    def close(self) -> None:
        self.stop()
        self.records.close()
        self.app.close()

    # --- uploads --------------------------------------------------------------------------

    def check_quota(self, owner: str) -> None:
        limit = self.config.max_active_jobs_per_owner
        if self.records.guarded(lambda: self.records.count_active(owner)) >= limit:
            raise QuotaExceededError(limit)

    def check_disk(self, incoming_bytes: int = 0) -> None:
        ensure_free_disk(self.data, self.config.min_free_disk_bytes, incoming_bytes)

    def find(self, owner: str, idempotency_key: str) -> Job | None:
        return self.records.guarded(lambda: self.records.find_by_key(owner, idempotency_key))

    def receive(self, source: BinaryIO) -> StoredUpload:
        return receive_upload(
            source, self.data, self.config.limits, min_free_bytes=self.config.min_free_disk_bytes
        )

    def submit(
        self, source: BinaryIO, display_name: str, options: dict[str, Any] | None = None
    ) -> Job:
        return self.enqueue(self.receive(source), display_name, options).job

    def enqueue(
        self,
        upload: StoredUpload,
        display_name: str,
        options: dict[str, Any] | None = None,
        *,
        owner: str = "",
        idempotency_key: str | None = None,
    ) -> Enqueued:
        """Record the job (quota and key checked atomically), then send its task. A task
        that cannot be sent now is sent by the sweep (the record says it was not)."""
        max_active = self.config.max_active_jobs_per_owner if owner else None
        try:
            enqueued = self.records.guarded(
                lambda: self.records.enqueue_checked(
                    upload.upload_name, _safe_name(display_name), options, owner=owner,
                    idempotency_key=idempotency_key, max_active=max_active,
                )
            )  # fmt: skip
        except BaseException:
            discard_upload(self.data, upload.upload_name)
            raise
        if not enqueued.created:
            discard_upload(self.data, upload.upload_name)
            return enqueued
        try:
            self._sweeper.send(enqueued.job.id)
        except SEND_ERRORS as error:
            log.warning("job %s: its task will be sent later (%s)", enqueued.job.id, error)
        return enqueued

    # --- jobs -----------------------------------------------------------------------------

    def get(self, job_id: str) -> Job | None:
        return self.records.guarded(lambda: self.records.get(job_id))

    def delete(self, job_id: str) -> Job | None:
        """Delete a job whatever its state: the worker running it notices at its next
        progress report or heartbeat and stops; its upload and files are removed."""
        try:
            self.data.report_dir(job_id)
        except ValueError:
            return None
        job = self.records.guarded(lambda: self.records.delete(job_id))
        if job is None:
            return None
        discard_upload(self.data, job.upload_name)
        for folder in (self.data.report_dir(job_id), *self.data.part_dirs(job_id)):
            shutil.rmtree(folder, ignore_errors=True)
        with contextlib.suppress(OSError):
            fsync_path(self.data.reports)
        return job

    def report_file(self, job_id: str, name: str) -> Path | None:
        job = self.get(job_id)
        if job is None or job.state is not JobState.DONE or name not in REPORT_FILES:
            return None
        path = self.data.report_dir(job_id) / name
        return path if path.is_file() else None

    def purge(self) -> PurgeResult:
        """Old jobs (retention), and half-received uploads long abandoned (any server's)."""
        remove_old_incoming(self.data, INCOMING_STALE_S)
        return purge_expired(
            self.records, self.data, self.config.retention_days, now_s=self.records.now_s()
        )

    def health(self) -> JobsHealth:
        """The queue, the workers connected to it and the disk."""
        problems: list[str] = []
        counts = {JobState.QUEUED.value: 0, JobState.RUNNING.value: 0}
        workers: list[dict[str, Any]] = []
        try:
            counts = self.records.counts()
            workers = self.records.workers()
        except REDIS_ERRORS as error:
            problems.append(f"the job queue at {self.queue_url} cannot be reached: {error}")
        else:
            if not workers:
                problems.append(
                    f"no job worker is connected to the queue at {self.queue_url} (start one: "
                    "formcheck worker --queue URL --data-dir DIR)"
                )
        if self._sweeper.last_error is not None:
            problems.append(f"the job queue's sweep is failing: {self._sweeper.last_error}")
        free = disk_free_bytes(self.data.root)
        if free < self.config.min_free_disk_bytes:
            problems.append(
                f"only {free / BYTES_PER_MB:.0f} MB free on the data directory's disk (uploads "
                f"need {self.config.min_free_disk_bytes / BYTES_PER_MB:.0f} MB)"
            )
        slots = sum(int(worker.get("concurrency", 1)) for worker in workers)
        return JobsHealth(
            workers=slots,
            workers_alive=slots,
            worker_restarts=0,
            queued=counts[JobState.QUEUED.value],
            running=counts[JobState.RUNNING.value],
            disk_free_bytes=free,
            problems=problems,
        )
