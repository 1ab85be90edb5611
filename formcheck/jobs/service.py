"""Everything the server needs for uploads and jobs, behind one object.

Example::

    service = JobService(JobsConfig(data_dir=Path("data")))
    service.start()                       # owns the dir, requeues interrupted jobs, workers
    job = service.submit(file_obj, "my set.mp4", {"settings": {"exercise": "hip_hinge"}})
    service.get(job.id).state             # queued -> running -> done | failed
    service.report_file(job.id, "report.html")
    service.delete(job.id)                # cancels a running job, deletes its files
    service.stop()

This is the ``local`` job backend (formcheck.jobs.backend). The HTTP routes use only these
methods, so another backend (Celery over Redis, accounts) can stand behind the same
interface: ``check_quota`` / ``find`` before an upload is received,
``receive`` + ``enqueue`` (with the owner, an idempotency key and the quota, checked again
atomically), ``get``, ``report_file``, ``delete`` and ``health``.
"""

from __future__ import annotations

import logging
import shutil
import threading
from pathlib import Path
from typing import Any, BinaryIO

from formcheck.jobs.backend import JobsHealth
from formcheck.jobs.config import JobsConfig
from formcheck.jobs.datadir import DataDir, DataDirLock, remove_old_incoming
from formcheck.jobs.durable import disk_free_bytes, fsync_path, rename_durably
from formcheck.jobs.errors import QuotaExceededError
from formcheck.jobs.retention import PurgeResult, purge_expired
from formcheck.jobs.store import Enqueued, Job, JobState, JobStore
from formcheck.jobs.uploads import (
    StoredUpload,
    discard_upload,
    ensure_free_disk,
    receive_upload,
)
from formcheck.jobs.worker import DEFAULT_JOB_FN, WorkerPool, read_outcome

log = logging.getLogger(__name__)

REPORT_FILES = ("report.html", "report.json", "measures.csv", "annotated.mp4")
INCOMING_STALE_S = 3600.0  # half-received uploads older than this are debris
BYTES_PER_MB = 1_000_000


class JobService:
    def __init__(self, config: JobsConfig, *, job_fn: str = DEFAULT_JOB_FN) -> None:
        self.config = config
        self.data = DataDir(config.data_dir).create()
        self._lock: DataDirLock | None = None
        self.store = JobStore(self.data.db_path)
        self._pool = WorkerPool(self.store, self.data, config, job_fn=job_fn)
        self._started = False
        self._stop_purging = threading.Event()
        self._purger: threading.Thread | None = None

    def start(self) -> tuple[list[str], list[str]]:
        """Own the data directory, record runs that finished but were not recorded, requeue
        the jobs a previous process left running, clean up and start the workers. Returns
        (requeued, failed) job ids."""
        self._lock = self.data.acquire()
        finished = self._record_finished_runs()
        requeued, failed = self.store.recover(self.config.max_attempts)
        if requeued or failed or finished:
            log.info(
                "recorded %d finished runs, requeued %d interrupted jobs, failed %d",
                finished, len(requeued), len(failed),
            )  # fmt: skip
        self.data.remove_parts()
        remove_old_incoming(self.data, INCOMING_STALE_S)
        self.purge()
        self._pool.start()
        self._stop_purging.clear()
        self._purger = threading.Thread(
            target=self._purge_loop, name="formcheck-purge", daemon=True
        )
        self._purger.start()
        self._started = True
        return requeued, failed

    def _record_finished_runs(self) -> int:
        """Jobs still marked running whose run had finished: their report (renamed, or
        still in its run folder when the rename was interrupted) is kept, not redone."""
        recorded = 0
        for job in self.store.jobs(state=JobState.RUNNING, limit=1_000_000):
            final = self.data.report_dir(job.id)
            if not read_outcome(final).get("ok"):
                done_parts = [p for p in self.data.part_dirs(job.id) if read_outcome(p).get("ok")]
                if not done_parts:
                    continue
                shutil.rmtree(final, ignore_errors=True)
                rename_durably(done_parts[-1], final)
            outcome = read_outcome(final)
            recorded += self.store.complete_recovered(job.id, outcome.get("result") or {})
        return recorded

    def _purge_loop(self) -> None:
        while not self._stop_purging.wait(self.config.purge_interval_s):
            try:
                self.purge()
            except Exception:
                log.exception("retention purge failed")

    def stop(self) -> None:
        if self._started:
            self._stop_purging.set()
            if self._purger is not None:
                self._purger.join()
            self._pool.stop()
            self._started = False
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def close(self) -> None:
        self.stop()
        self.store.close()

    # --- uploads --------------------------------------------------------------------------

    def check_quota(self, owner: str) -> None:
        """Raise QuotaExceededError when ``owner`` may not queue another job now."""
        limit = self.config.max_active_jobs_per_owner
        if self.store.count_active(owner) >= limit:
            raise QuotaExceededError(limit)

    def check_disk(self, incoming_bytes: int = 0) -> None:
        """Raise DiskFullError when an upload of ``incoming_bytes`` would leave too little."""
        ensure_free_disk(self.data, self.config.min_free_disk_bytes, incoming_bytes)

    def find(self, owner: str, idempotency_key: str) -> Job | None:
        """The job ``owner`` made with this idempotency key, if any."""
        return self.store.find_by_key(owner, idempotency_key)

    def submit(
        self, source: BinaryIO, display_name: str, options: dict[str, Any] | None = None
    ) -> Job:
        """Receive, check and queue an upload; raises UploadRejectedError with the reason."""
        upload = self.receive(source)
        return self.enqueue(upload, display_name, options).job

    def receive(self, source: BinaryIO) -> StoredUpload:
        """Store and check an upload (UploadRejectedError, DiskFullError)."""
        return receive_upload(
            source, self.data, self.config.limits, min_free_bytes=self.config.min_free_disk_bytes
        )

    def enqueue(
        self,
        upload: StoredUpload,
        display_name: str,
        options: dict[str, Any] | None = None,
        *,
        owner: str = "",
        idempotency_key: str | None = None,
    ) -> Enqueued:
        """Queue a received upload for ``owner`` (the quota checked in the same transaction).
        When ``idempotency_key`` already made a job, that job is returned (``created``
        False) and this upload is discarded."""
        try:
            enqueued = self.store.enqueue_checked(
                upload.upload_name,
                _safe_name(display_name),
                options,
                owner=owner,
                idempotency_key=idempotency_key,
                max_active=self.config.max_active_jobs_per_owner if owner else None,
            )
        except BaseException:
            discard_upload(self.data, upload.upload_name)
            raise
        if not enqueued.created:
            discard_upload(self.data, upload.upload_name)
        self._pool.wake()
        return enqueued

    # --- jobs -----------------------------------------------------------------------------

    def get(self, job_id: str) -> Job | None:
        return self.store.get(job_id)

    def delete(self, job_id: str) -> Job | None:
        """Delete a job whatever its state: its run is stopped, its upload, report and run
        folders are removed. Returns the job as it was, None when there was none."""
        try:
            self.data.report_dir(job_id)
        except ValueError:
            return None
        job = self.store.delete(job_id)
        if job is None:
            return None
        self._pool.cancel(job_id)
        discard_upload(self.data, job.upload_name)
        for folder in (self.data.report_dir(job_id), *self.data.part_dirs(job_id)):
            shutil.rmtree(folder, ignore_errors=True)
        fsync_path(self.data.reports)
        return job

    def report_file(self, job_id: str, name: str) -> Path | None:
        """A finished job's output file (only the four known names), else None."""
        job = self.store.get(job_id)
        if job is None or job.state is not JobState.DONE or name not in REPORT_FILES:
            return None
        path = self.data.report_dir(job_id) / name
        return path if path.is_file() else None

    def purge(self) -> PurgeResult:
        return purge_expired(self.store, self.data, self.config.retention_days)

    def health(self) -> JobsHealth:
        """Workers, queue and disk; ``problems`` says in plain words what is wrong."""
        pool = self._pool.health()
        counts = self.store.counts()
        free = disk_free_bytes(self.data.root)
        problems: list[str] = []
        if self._started and pool.alive < pool.workers:
            problems.append(f"{pool.workers - pool.alive} of {pool.workers} job workers stopped")
        if pool.last_error is not None:
            problems.append(f"a job worker is failing: {pool.last_error}")
        if self.store.last_write_error is not None:
            problems.append(f"the job database cannot be written: {self.store.last_write_error[1]}")
        if free < self.config.min_free_disk_bytes:
            problems.append(
                f"only {free / BYTES_PER_MB:.0f} MB free on the data directory's disk (uploads "
                f"need {self.config.min_free_disk_bytes / BYTES_PER_MB:.0f} MB)"
            )
        return JobsHealth(
            workers=pool.workers,
            workers_alive=pool.alive,
            worker_restarts=pool.restarts,
            queued=counts[JobState.QUEUED.value],
            running=counts[JobState.RUNNING.value],
            disk_free_bytes=free,
            problems=problems,
        )


def _safe_name(name: str) -> str:
    """The user's file name, for display only: no folders, no control characters."""
    base = Path(name.replace("\\", "/")).name
    cleaned = "".join(ch for ch in base if ch.isprintable())[:200]
    return cleaned or "video"
