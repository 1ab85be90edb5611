"""Upload a recording, get a report: the HTTP side of formcheck.jobs.

    POST /api/jobs                      multipart form: ``file`` (the video), ``exercise`` and
                                        optionally ``height_cm``, ``reps``, ``hold_s``,
                                        ``tempo``, ``depth_deg``, ``avoid`` (repeatable)
                                        -> 201 JobCreated; 400 / 413 / 422 ApiError
    GET  /api/jobs/{id}                 JobOut: state, progress, plain failure reason, links
    GET  /api/jobs/{id}/files/{name}    report.html, report.json, measures.csv, annotated.mp4
                                        (``?download=1`` to save); never the upload itself
    GET  /jobs/{id}                     the job's page: progress, then the report

A job id (128 random bits) is the only key to a job and its report: there is no list of
jobs, so one person cannot see another's. The page remembers its own jobs in the browser.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import PurePath
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.concurrency import run_in_threadpool

from formcheck.errors import FormcheckError
from formcheck.jobs.config import BYTES_PER_MB
from formcheck.jobs.service import REPORT_FILES, JobService
from formcheck.jobs.store import Job, JobState
from formcheck.jobs.uploads import discard_upload
from formcheck.server.jobs_models import (
    ApiError,
    JobCreated,
    JobFileLinks,
    JobLinks,
    JobOut,
    JobResultOut,
    JobsHealthOut,
)
from formcheck.server.upload_stream import FILE_FIELD, FormError, receive_form
from formcheck.server.web import STATIC_DIR
from formcheck.settings import AnalysisSettings

FORM_OVERHEAD_BYTES = 64_000  # multipart headers and text fields around the file
MEDIA_TYPES = {
    "report.html": "text/html; charset=utf-8",
    "report.json": "application/json",
    "measures.csv": "text/csv; charset=utf-8",
    "annotated.mp4": "video/mp4",
}
# The report page is self-contained: no script, styles inline, images as data: URLs.
REPORT_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; frame-ancestors 'self'"
NOT_FOUND = "There is no such job: the link is wrong, or the job was deleted after its retention."
HTTP_BAD_REQUEST = 400
HTTP_NOT_FOUND = 404
HTTP_TOO_LARGE = 413
HTTP_UNPROCESSABLE = 422


class UploadForm(BaseModel):
    """The form fields of an upload besides the file (empty fields count as not given)."""

    model_config = ConfigDict(extra="forbid")

    exercise: str = Field(description="exercise analyzer (GET /api/exercises)")
    height_cm: float | None = Field(None, ge=50, le=250, description="body height")
    reps: int | None = Field(None, ge=1, description="prescribed reps")
    hold_s: float | None = Field(None, gt=0, description="prescribed hold time")
    tempo: str | None = Field(None, description="down-pause-up seconds, e.g. 3-1-2")
    depth_deg: float | None = Field(None, description="target depth (trunk angle)")
    avoid: list[str] = Field(default_factory=list, description="movement directions to avoid")

    def settings(self) -> dict[str, Any]:
        """The job's AnalysisSettings fields (only what the user set)."""
        return self.model_dump(exclude={"height_cm"}, exclude_none=True, exclude_defaults=True) | {
            "exercise": self.exercise
        }


class UploadFormError(FormcheckError):
    """A form field is missing or not valid (HTTP 422)."""


def parse_upload_form(fields: dict[str, list[str]], exercises: set[str]) -> UploadForm:
    """Validate the text fields of an upload; raise UploadFormError with a plain reason."""
    data: dict[str, Any] = {}
    for name, values in fields.items():
        given = [v.strip() for v in values if v.strip()]
        if not given:
            continue
        data[name] = given if name == "avoid" else given[-1]
    try:
        form = UploadForm.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "form"
        if first["type"] == "missing" and where == "exercise":
            raise UploadFormError("Choose the exercise the video shows.") from error
        if first["type"] == "extra_forbidden":
            raise UploadFormError(f"The form has an unknown field '{where}'.") from error
        raise UploadFormError(f"The form field '{where}' is not valid: {first['msg']}.") from error
    if form.exercise not in exercises:
        raise UploadFormError(
            f"There is no exercise called '{form.exercise}'; choose one of "
            f"{', '.join(sorted(exercises))}."
        )
    try:
        AnalysisSettings.from_mapping(form.settings(), "The upload form").resolve()
    except FormcheckError as error:
        raise UploadFormError(str(error)) from error
    return form


def _error(status: int, code: str, detail: str) -> JSONResponse:
    return JSONResponse(ApiError(detail=detail, code=code).model_dump(), status_code=status)


def job_out(job: Job, service: JobService) -> JobOut:
    """The API's view of a job (no stored file names)."""
    base = f"/api/jobs/{job.id}"
    files = None
    if job.state is JobState.DONE:
        has_video = service.report_file(job.id, "annotated.mp4") is not None
        files = JobFileLinks(
            report_html=f"{base}/files/report.html",
            report_json=f"{base}/files/report.json",
            measures_csv=f"{base}/files/measures.csv",
            annotated_mp4=f"{base}/files/annotated.mp4" if has_video else None,
        )
    settings = job.options.get("settings") or {}
    result = JobResultOut.model_validate(job.result) if job.result else None
    return JobOut(
        id=job.id,
        state=job.state.value,
        name=job.display_name,
        exercise=settings.get("exercise"),
        progress=min(1.0, max(0.0, job.progress)),
        stage=job.stage,
        attempts=job.attempts,
        error=job.error,
        created_s=job.created_s,
        started_s=job.started_s,
        finished_s=job.finished_s,
        result=result,
        links=JobLinks(page=f"/jobs/{job.id}", status=base, files=files),
    )


def jobs_health(service: JobService) -> JobsHealthOut:
    counts = service.store.counts()
    config = service.config
    return JobsHealthOut(
        workers=config.workers,
        queued=counts[JobState.QUEUED.value],
        running=counts[JobState.RUNNING.value],
        max_upload_bytes=config.limits.max_upload_bytes,
        max_duration_s=config.limits.max_duration_s,
        retention_days=config.retention_days,
    )


def _download_name(job: Job, name: str) -> str:
    stem = PurePath(job.display_name).stem
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in stem)[:80] or "video"
    return f"{safe}-{name}"


def upload_form_schema() -> dict[str, Any]:
    """The OpenAPI request body of POST /api/jobs (the body is parsed as it streams in, so
    FastAPI cannot derive it)."""
    schema = UploadForm.model_json_schema()
    properties = {
        FILE_FIELD: {"type": "string", "format": "binary", "description": "the video"},
        **schema["properties"],
    }
    return {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": properties,
                    "required": [FILE_FIELD, *schema.get("required", [])],
                }
            }
        },
    }


def jobs_router(service: JobService, exercises: Callable[[], set[str]]) -> APIRouter:
    """The routes of uploads and jobs, on ``service`` (started and stopped by the app)."""
    router = APIRouter()
    limits = service.config.limits
    errors: dict[int | str, dict[str, Any]] = {
        code: {"model": ApiError} for code in (HTTP_BAD_REQUEST, HTTP_TOO_LARGE, HTTP_UNPROCESSABLE)
    }

    @router.post(
        "/api/jobs",
        status_code=201,
        summary="Upload a video to analyse (multipart: file, exercise, optional settings)",
        responses=errors,
        response_model=JobCreated,
        openapi_extra={"requestBody": upload_form_schema()},
    )
    async def create_job(request: Request) -> Response:
        length = request.headers.get("content-length", "")
        if length.isdigit() and int(length) > limits.max_upload_bytes + FORM_OVERHEAD_BYTES:
            limit_mb = limits.max_upload_bytes / BYTES_PER_MB
            return _error(
                HTTP_TOO_LARGE,
                "too_large",
                f"The file is larger than the {limit_mb:.0f} MB limit; trim the clip to the set "
                "itself or record at a lower resolution.",
            )
        try:
            received = await receive_form(
                request.headers.get("content-type", ""),
                request.stream(),
                service.receive,
                limits.max_upload_bytes,
            )
        except FormError as error:
            return _error(HTTP_BAD_REQUEST, "bad_form", str(error))
        upload = received.upload
        if received.form_error is not None:
            if upload is not None:
                discard_upload(service.data, upload.upload_name)
            return _error(HTTP_BAD_REQUEST, "bad_form", str(received.form_error))
        if received.rejected is not None or upload is None:
            status, code = (
                (HTTP_TOO_LARGE, "too_large")
                if received.over_limit
                else (HTTP_UNPROCESSABLE, "bad_video")
            )
            return _error(status, code, str(received.rejected))
        try:
            form = parse_upload_form(received.fields, exercises())
        except UploadFormError as error:
            discard_upload(service.data, upload.upload_name)
            return _error(HTTP_UNPROCESSABLE, "bad_field", str(error))
        options = {"settings": form.settings(), "height_cm": form.height_cm}
        job = await run_in_threadpool(
            service.enqueue, upload, received.filename or "video", options
        )
        created = JobCreated(
            id=job.id,
            state=job.state.value,
            url=f"/jobs/{job.id}",
            status_url=f"/api/jobs/{job.id}",
            frames=upload.info.frame_count,
            duration_s=upload.info.duration_s,
        )
        return JSONResponse(
            created.model_dump(), status_code=201, headers={"Location": created.status_url}
        )

    @router.get(
        "/api/jobs/{job_id}",
        summary="A job: state, progress, failure reason, links",
        responses={HTTP_NOT_FOUND: {"model": ApiError}},
        response_model=JobOut,
    )
    def get_job(job_id: str) -> Response:
        job = service.get(job_id)
        if job is None:
            return _error(HTTP_NOT_FOUND, "no_job", NOT_FOUND)
        return JSONResponse(job_out(job, service).model_dump())

    @router.get(
        "/api/jobs/{job_id}/files/{name}",
        summary="A finished job's report.html, report.json, measures.csv or annotated.mp4",
        responses={HTTP_NOT_FOUND: {"model": ApiError}},
        response_class=FileResponse,
    )
    def job_file(job_id: str, name: str, download: bool = False) -> Response:
        job = service.get(job_id)
        path = service.report_file(job_id, name) if job is not None else None
        if job is None or path is None or name not in REPORT_FILES:
            return _error(
                HTTP_NOT_FOUND,
                "no_file",
                f"There is no file '{name}' for this job (only "
                f"{', '.join(REPORT_FILES)} of a finished job).",
            )
        headers = {"X-Content-Type-Options": "nosniff", "Cache-Control": "private, max-age=3600"}
        if name == "report.html":
            headers["Content-Security-Policy"] = REPORT_CSP
        return FileResponse(
            path,
            media_type=MEDIA_TYPES[name],
            headers=headers,
            filename=_download_name(job, name) if download else None,
        )

    @router.get("/jobs/{job_id}", summary="The job's page", response_class=HTMLResponse)
    def job_page(job_id: str) -> Response:
        if service.get(job_id) is None:
            return HTMLResponse(_not_found_page(), status_code=HTTP_NOT_FOUND)
        return FileResponse(STATIC_DIR / "job.html", media_type="text/html")

    return router


def _not_found_page() -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<title>formcheck: no such job</title><link rel="stylesheet" href="/static/style.css">'
        f'</head><body><section class="card"><h1>No such job</h1><p>{NOT_FOUND}</p>'
        '<p><a href="/">Upload a recording</a></p></section></body></html>'
    )
