"""Settings of uploads and jobs, with units in every name (read by the server's settings,
``formcheck.server.config.ServerConfig``, from FORMCHECK_JOBS__* variables too)."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

BYTES_PER_MB = 1_000_000
CORES_PER_WORKER = 2  # one analysis keeps about two cores busy (decode + pose + drawing)
MAX_DEFAULT_WORKERS = 4
DEFAULT_DATA_DIR = Path("out/server")
# 4096 x 4096: any 4K recording in either orientation (3840 x 2160, 4096 x 2160); an 8K
# frame (33 MP) takes 100 MB per RGB copy and gains nothing (frames are shrunk to 1280 px
# before the pose model sees them).
DEFAULT_MAX_PIXELS = 4096 * 4096
# Ten minutes at 60 fps: the analysis costs per frame, so a slow-motion or lying file is
# bounded by its frames as well as its duration.
DEFAULT_MAX_FRAMES = 36_000
# FFmpeg's format names (InputContainer.format.name) of what phones, cameras and editors
# write: MP4/MOV/3GP, Matroska/WebM, AVI and MPEG-TS (camcorders' .mts). Raw elementary
# streams (.h264) carry no timestamps, images and everything else are refused.
DEFAULT_CONTAINERS = ("mov,mp4,m4a,3gp,3g2,mj2", "matroska,webm", "avi", "mpegts")
# Decoders (codec names) of camera and phone video; still-image codecs (png, gif, bmp...)
# and exotic ones are refused before anything is decoded.
DEFAULT_CODECS = ("h264", "hevc", "vp8", "vp9", "av1", "libdav1d", "mpeg4", "mjpeg", "prores")


def default_workers() -> int:
    """Workers for this machine: one per two cores, at least one (2 cores -> 1)."""
    cores = os.cpu_count() or 1
    return max(1, min(MAX_DEFAULT_WORKERS, cores // CORES_PER_WORKER))


class UploadLimits(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    max_upload_bytes: int = Field(
        500 * BYTES_PER_MB, ge=1, description="larger uploads are refused while being received"
    )
    max_duration_s: float = Field(
        600.0, gt=0, description="longer videos are refused (counted from the frames' timestamps)"
    )
    max_frames: int = Field(
        DEFAULT_MAX_FRAMES, ge=2, description="videos with more frames are refused"
    )
    max_pixels: int = Field(
        DEFAULT_MAX_PIXELS, ge=64 * 64, description="larger pictures (width x height) are refused"
    )
    allowed_containers: tuple[str, ...] = Field(
        DEFAULT_CONTAINERS, description="FFmpeg format names accepted"
    )
    allowed_codecs: tuple[str, ...] = Field(DEFAULT_CODECS, description="video codecs accepted")
    probe_timeout_s: float = Field(
        60.0, gt=0, description="the check of an upload (a child process) is stopped after this"
    )
    probe_memory_bytes: int = Field(
        2_000_000_000,
        ge=200 * BYTES_PER_MB,
        description="address space of the process checking an upload (a picture bomb fails "
        "there, not in the server)",
    )


QUEUE_SCHEMES = ("redis", "rediss", "unix")
# A run's lease must outlive a pause in its heartbeats (a busy machine, a Redis restart):
# several heartbeats fit in one lease.
MIN_HEARTBEATS_PER_LEASE = 3


def redact_url(url: str) -> str:
    """``url`` with any password replaced by ``***``."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return parts._replace(netloc=f"{user}:***@{host}").geturl()


class QueueConfig(BaseModel):
    """The Celery backend: jobs go to workers on any machine through Redis (``url`` set), or
    stay with the server's own SQLite queue and worker processes (``url`` None, the default).

    A run holds its job with a lease that its worker renews every ``heartbeat_interval_s``;
    a run not heard from for ``lease_s`` (its worker was killed, its machine lost) is queued
    again by the sweep any worker or server runs every ``sweep_interval_s``, so a lost worker
    delays a job by about a lease, not by Redis's visibility timeout (which only brings back
    messages whose worker died before it took the job: it is set longer than the longest job).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    url: str | None = Field(
        None,
        description="redis://HOST:PORT/DB (rediss:// with TLS) of the broker and result store; "
        "None runs jobs on this machine (SQLite queue, worker processes)",
    )
    key_prefix: str = Field(
        "formcheck", min_length=1, description="prefix of the job records' Redis keys"
    )
    lease_s: float = Field(
        60.0,
        gt=0,
        description="a run not heard from this long is presumed lost; its job is queued again",
    )
    heartbeat_interval_s: float = Field(
        10.0, gt=0, description="how often a worker renews the lease of each run it holds"
    )
    sweep_interval_s: float = Field(
        10.0,
        gt=0,
        description="how often workers and servers look for lost runs and for "
        "queued jobs whose task was never sent",
    )
    unsent_grace_s: float = Field(
        30.0,
        gt=0,
        description="a queued job whose task is not known to be sent after this "
        "long is sent again (a broker failure between recording and sending it)",
    )
    visibility_margin_s: float = Field(
        600.0, gt=0, description="Redis's visibility timeout is the job timeout plus this"
    )
    connect_timeout_s: float = Field(
        5.0,
        gt=0,
        description="a Redis connection or command that takes longer fails (the "
        "server answers 503 instead of hanging)",
    )
    task_max_retries: int = Field(
        5,
        ge=0,
        description="a task that cannot reach Redis to take its job is retried this "
        "many times (growing pauses) before it is given back to the queue",
    )

    @field_validator("url")
    @classmethod
    def _known_scheme(cls, url: str | None) -> str | None:
        if url is None:
            return None
        scheme = urlsplit(url).scheme
        if scheme not in QUEUE_SCHEMES:
            raise ValueError(
                f"the queue must be a Redis URL (redis://HOST:PORT/DB), not {scheme or url!r}"
            )
        return url

    @model_validator(mode="after")
    def _lease_spans_heartbeats(self) -> QueueConfig:
        if self.lease_s < MIN_HEARTBEATS_PER_LEASE * self.heartbeat_interval_s:
            raise ValueError(
                f"lease_s ({self.lease_s:g}) must be at least {MIN_HEARTBEATS_PER_LEASE} "
                f"heartbeat intervals ({self.heartbeat_interval_s:g} s)"
            )
        return self

    @property
    def redacted_url(self) -> str:
        """The URL without its password (for messages and logs)."""
        return redact_url(self.url or "")


class JobsConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    data_dir: Path = Field(DEFAULT_DATA_DIR, description="jobs database, uploads and reports")
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
    min_free_disk_bytes: int = Field(
        1_000 * BYTES_PER_MB,
        ge=0,
        description="uploads are refused (507) when they would leave less free space on the "
        "data directory's disk: room for running analyses' videos and the database",
    )
    max_active_jobs_per_owner: int = Field(
        5, ge=1, description="queued and running jobs one client may have at once (429 beyond)"
    )
    supervise_interval_s: float = Field(
        1.0, gt=0, description="dead worker threads are restarted and lost jobs requeued this often"
    )
    record_retry_max_s: float = Field(
        30.0,
        gt=0,
        description="a job's outcome that cannot be written (full disk) is retried with "
        "growing pauses up to this long each",
    )
    queue: QueueConfig = Field(
        QueueConfig(), description="where jobs run: this machine, or Celery workers over Redis"
    )

    @property
    def visibility_timeout_s(self) -> float:
        """Redis's visibility timeout: longer than the longest allowed job, so a message is
        only redelivered when its worker is gone, never while it still runs."""
        return self.job_timeout_s + self.queue.visibility_margin_s
