"""The job backend: what the HTTP routes (and ``formcheck batch --queue``) need from a job
system, and the choice between its two implementations.

- ``local`` (:class:`formcheck.jobs.service.JobService`, the default): a SQLite queue and
  worker processes on this machine, owned by the one server process.
- ``celery`` (:class:`formcheck.jobs.distributed.service.CeleryJobService`, when
  ``JobsConfig.queue.url`` is set): job records and tasks in Redis, analyses on
  ``formcheck worker`` processes on any machine that shares the data directory.

Both keep the same promises: an upload is stored durably before it is answered; the quota
and the idempotency key are checked in the same atomic step that queues the job; progress
and a plain failure reason reach ``get``; a job's outputs appear once, in
``reports/<job id>/``, however often its run was interrupted, retried or redelivered;
``delete`` stops a running analysis and removes the upload and the report.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from formcheck.errors import FormcheckError
from formcheck.jobs.config import JobsConfig
from formcheck.jobs.datadir import DataDir
from formcheck.jobs.store import Enqueued, Job
from formcheck.jobs.uploads import StoredUpload
from formcheck.jobs.worker import DEFAULT_JOB_FN


class QueueUnavailableError(FormcheckError):
    """The job queue (Redis) cannot be reached now (HTTP 503)."""

    exit_code = 8


@dataclass(frozen=True, slots=True)
class JobsHealth:
    """The job system's state for /api/health; ``problems`` empty means healthy."""

    workers: int
    workers_alive: int
    worker_restarts: int
    queued: int
    running: int
    disk_free_bytes: int
    problems: list[str]


class JobBackend(Protocol):
    """What the routes call; both backends implement it (see the module docstring)."""

    config: JobsConfig
    data: DataDir

    def start(self) -> object:
        """Begin serving: recover interrupted jobs, start what runs or watches them."""

    def close(self) -> None:
        """Stop what ``start`` started and release the backend's resources."""

    def check_quota(self, owner: str) -> None:
        """Raise QuotaExceededError when ``owner`` may not queue another job now."""

    def check_disk(self, incoming_bytes: int = 0) -> None:
        """Raise DiskFullError when an upload of ``incoming_bytes`` would leave too little."""

    def find(self, owner: str, idempotency_key: str) -> Job | None:
        """The job ``owner`` made with this idempotency key, if any."""

    def receive(self, source: BinaryIO) -> StoredUpload:
        """Store and check an upload (UploadRejectedError, DiskFullError)."""

    def enqueue(
        self,
        upload: StoredUpload,
        display_name: str,
        options: dict[str, Any] | None = None,
        *,
        owner: str = "",
        idempotency_key: str | None = None,
    ) -> Enqueued:
        """Queue a received upload (quota and key checked atomically with it)."""

    def submit(
        self, source: BinaryIO, display_name: str, options: dict[str, Any] | None = None
    ) -> Job:
        """``receive`` and ``enqueue`` in one call (no owner, no key)."""

    def get(self, job_id: str) -> Job | None:
        """The job, or None when there is none."""

    def delete(self, job_id: str) -> Job | None:
        """Delete a job whatever its state (a running analysis is stopped)."""

    def report_file(self, job_id: str, name: str) -> Path | None:
        """A finished job's output file (only the known names), else None."""

    def health(self) -> JobsHealth:
        """Workers, queue and disk, with the problems in plain words."""


def open_job_backend(config: JobsConfig, *, job_fn: str = DEFAULT_JOB_FN) -> JobBackend:
    """The backend ``config`` asks for (not started). ``job_fn`` runs each job of the local
    backend; Celery workers choose their own (``formcheck worker``)."""
    if config.queue.url is None:
        from formcheck.jobs.service import JobService

        return JobService(config, job_fn=job_fn)
    from formcheck.jobs.distributed.service import CeleryJobService

    return CeleryJobService(config)
