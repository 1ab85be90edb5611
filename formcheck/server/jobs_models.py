"""The typed answers of the upload and job routes (``/api/jobs``)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

JobStateName = Literal["queued", "running", "done", "failed"]


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class JobFileLinks(_Out):
    """Where a finished job's outputs are (only once the job is done)."""

    report_html: str = Field(description="the report page (self-contained HTML)")
    report_json: str = Field(description="the report as JSON (the command line's schema)")
    measures_csv: str = Field(description="every frame's measures")
    annotated_mp4: str | None = Field(description="the video with skeleton and cues (H.264)")


class JobLinks(_Out):
    page: str = Field(description="the job's page: progress, then the report")
    status: str = Field(description="this job as JSON")
    files: JobFileLinks | None = None


class JobResultOut(_Out):
    """A short summary of a finished analysis (the full one is in report.json)."""

    exercise: str | None = None
    frames: int | None = None
    reps: int | None = None
    findings: int | None = None
    form_frays_at_rep: int | None = None


class JobOut(_Out):
    """One job: state, progress within the current run, and a plain reason when it failed."""

    id: str
    state: JobStateName
    name: str = Field(description="the uploaded file's name (for display only)")
    exercise: str | None = None
    progress: float = Field(ge=0.0, le=1.0, description="fraction of the current run done")
    stage: str = Field(description="what the run is doing now")
    attempts: int = Field(description="runs started (more than 1 after an interrupted run)")
    error: str | None = Field(None, description="why the job failed, one plain sentence")
    created_s: float = Field(description="epoch seconds")
    started_s: float | None = None
    finished_s: float | None = None
    result: JobResultOut | None = None
    links: JobLinks


class JobCreated(_Out):
    """The answer to an accepted upload (HTTP 201)."""

    id: str
    state: JobStateName
    url: str = Field(description="the job's page")
    status_url: str = Field(description="GET this to follow the job")
    frames: int = Field(description="frames counted in the file")
    duration_s: float = Field(description="from the frames' timestamps")


class ApiError(_Out):
    """Every refused request: one plain sentence, and a short code for programs."""

    detail: str
    code: str


class JobsHealthOut(_Out):
    """Uploads and background jobs, as /api/health shows them."""

    workers: int
    workers_alive: int = Field(description="worker threads running now")
    worker_restarts: int = Field(description="worker threads restarted since the server started")
    queued: int
    running: int
    disk_free_bytes: int = Field(description="free space on the data directory's disk")
    max_upload_bytes: int
    max_duration_s: float
    max_pixels: int = Field(description="largest picture accepted, width x height")
    max_active_jobs: int = Field(description="queued and running jobs one client may have")
    retention_days: float
