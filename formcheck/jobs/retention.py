"""Retention: uploads and reports of finished jobs are deleted after N days."""

from __future__ import annotations

import contextlib
import shutil
import time
from dataclasses import dataclass
from typing import Protocol

from formcheck.jobs.datadir import SECONDS_PER_DAY, UPLOAD_SUFFIX, DataDir
from formcheck.jobs.store import Job


class RetentionStore(Protocol):
    """What the purge needs of a job store (SQLite or Redis records)."""

    def finished_before(self, cutoff_s: float) -> list[Job]: ...

    def delete(self, job_id: str) -> Job | None: ...

    def upload_names(self) -> set[str]: ...


@dataclass(frozen=True, slots=True)
class PurgeResult:
    jobs: int
    orphan_uploads: int


def purge_expired(
    store: RetentionStore, data: DataDir, retention_days: float, now_s: float | None = None
) -> PurgeResult:
    """Delete finished jobs older than ``retention_days`` with their upload and report, and
    uploads no job refers to that are as old (queued and running jobs are never touched)."""
    now = time.time() if now_s is None else now_s
    cutoff = now - retention_days * SECONDS_PER_DAY
    jobs = 0
    for job in store.finished_before(cutoff):
        with contextlib.suppress(FileNotFoundError, ValueError):
            data.upload_path(job.upload_name).unlink()
        shutil.rmtree(data.report_dir(job.id), ignore_errors=True)
        store.delete(job.id)
        jobs += 1
    known = store.upload_names()
    orphans = 0
    for path in data.uploads.glob(f"*{UPLOAD_SUFFIX}"):
        with contextlib.suppress(OSError):
            if path.name not in known and path.stat().st_mtime < cutoff:
                path.unlink()
                orphans += 1
    return PurgeResult(jobs=jobs, orphan_uploads=orphans)
