"""Settings of uploads and jobs, with units in every name."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

BYTES_PER_MB = 1_000_000
CORES_PER_WORKER = 2  # one analysis keeps about two cores busy (decode + pose + drawing)
MAX_DEFAULT_WORKERS = 4


def default_workers() -> int:
    """Workers for this machine: one per two cores, at least one (2 cores -> 1)."""
    cores = os.cpu_count() or 1
    return max(1, min(MAX_DEFAULT_WORKERS, cores // CORES_PER_WORKER))


class UploadLimits(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    max_upload_bytes: int = Field(
        500 * BYTES_PER_MB, ge=1, description="larger uploads are refused while being received"
    )
    max_duration_s: float = Field(600.0, gt=0, description="longer videos are refused")


class JobsConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    data_dir: Path = Field(Path("data"), description="jobs database, uploads and reports")
    limits: UploadLimits = UploadLimits()
    workers: int = Field(default_factory=default_workers, ge=1, description="jobs at once")
    retention_days: float = Field(
        30.0, gt=0, description="uploads and reports of finished jobs are deleted after this"
    )
    purge_interval_s: float = Field(
        3600.0, gt=0, description="how often old uploads and reports are looked for"
    )
    max_attempts: int = Field(
        3, ge=1, description="a job interrupted this many times (restarts, crashes) fails"
    )
    job_timeout_s: float = Field(
        3600.0, gt=0, description="a run taking longer is stopped and the job fails"
    )
    poll_interval_s: float = Field(0.5, gt=0, description="idle workers look for jobs this often")
    progress_interval_s: float = Field(
        0.5, gt=0, description="progress is written to the database at most this often"
    )
