"""Everything the server needs for uploads and jobs, behind one object.

Example::

    service = JobService(JobsConfig(data_dir=Path("data")))
    service.start()                       # owns the dir, requeues interrupted jobs, workers
    job = service.submit(file_obj, "my set.mp4", {"settings": {"exercise": "hip_hinge"}})
    service.get(job.id).state             # queued -> running -> done | failed
    service.report_file(job.id, "report.html")
    service.stop()
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any, BinaryIO

from formcheck.jobs.config import JobsConfig
from formcheck.jobs.datadir import DataDir, DataDirLock, remove_old_incoming
from formcheck.jobs.retention import PurgeResult, purge_expired
from formcheck.jobs.store import Job, JobState, JobStore
from formcheck.jobs.uploads import StoredUpload, discard_upload, receive_upload
from formcheck.jobs.worker import DEFAULT_JOB_FN, WorkerPool

log = logging.getLogger(__name__)

REPORT_FILES = ("report.html", "report.json", "measures.csv", "annotated.mp4")
INCOMING_STALE_S = 3600.0  # half-received uploads older than this are debris


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
        """Own the data directory, requeue jobs a previous process left running, clean up
        and start the workers. Returns (requeued, failed) job ids."""
        self._lock = self.data.acquire()
        requeued, failed = self.store.recover(self.config.max_attempts)
        if requeued or failed:
            log.info("requeued %d interrupted jobs, failed %d", len(requeued), len(failed))
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

    def _purge_loop(self) -> None:
        while not self._stop_purging.wait(self.config.purge_interval_s):
            try:
                self.purge()
            except OSError:
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

    def submit(
        self, source: BinaryIO, display_name: str, options: dict[str, Any] | None = None
    ) -> Job:
        """Receive, check and queue an upload; raises UploadRejectedError with the reason."""
        upload = self.receive(source)
        return self.enqueue(upload, display_name, options)

    def receive(self, source: BinaryIO) -> StoredUpload:
        return receive_upload(source, self.data, self.config.limits)

    def enqueue(
        self, upload: StoredUpload, display_name: str, options: dict[str, Any] | None = None
    ) -> Job:
        try:
            job = self.store.enqueue(upload.upload_name, _safe_name(display_name), options)
        except BaseException:
            discard_upload(self.data, upload.upload_name)
            raise
        self._pool.wake()
        return job

    def get(self, job_id: str) -> Job | None:
        return self.store.get(job_id)

    def report_file(self, job_id: str, name: str) -> Path | None:
        """A finished job's output file (only the four known names), else None."""
        job = self.store.get(job_id)
        if job is None or job.state is not JobState.DONE or name not in REPORT_FILES:
            return None
        path = self.data.report_dir(job_id) / name
        return path if path.is_file() else None

    def purge(self) -> PurgeResult:
        return purge_expired(self.store, self.data, self.config.retention_days)


def _safe_name(name: str) -> str:
    """The user's file name, for display only: no folders, no control characters."""
    base = Path(name.replace("\\", "/")).name
    cleaned = "".join(ch for ch in base if ch.isprintable())[:200]
    return cleaned or "video"
