"""Upload a recording, get a report: the HTTP side of formcheck.jobs.

    POST /api/jobs                      multipart form: ``file`` (the video), ``exercise`` and
                                        optionally ``height_cm``, ``reps``, ``hold_s``,
                                        ``tempo``, ``depth_deg``, ``avoid`` (repeatable);
                                        header ``Idempotency-Key`` (optional)
                                        -> 201 JobCreated (200 when the key made it before);
                                        400 / 408 / 409 / 413 / 422 / 429 / 507 ApiError
    GET  /api/jobs/{id}                 JobOut: state, progress, plain failure reason, links
    DELETE /api/jobs/{id}               cancels a running job, deletes its upload and report
    GET  /api/jobs/{id}/files/{name}    report.html, report.json, measures.csv, annotated.mp4
                                        (``?download=1`` to save); never the upload itself
    GET  /jobs/{id}                     the job's page: progress, then the report

A job id (128 random bits) is the only key to a job and its report: there is no list of
jobs, so one person cannot see another's. The page remembers its own jobs in the browser.

Before an upload's body is read: its client's quota of queued and running jobs and its
hourly rate, the uploads in progress (in total and per client) and the free disk; each
refusal is immediate (429 with Retry-After, or 507). While it streams in: the body's pace
(408 when it stalls). A retried upload with the same ``Idempotency-Key`` gets the job the
first one made, without a second job.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import PurePath
from typing import Any

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.concurrency import run_in_threadpool

from formcheck.errors import FormcheckError
from formcheck.jobs.backend import JobBackend
from formcheck.jobs.config import BYTES_PER_MB
from formcheck.jobs.errors import DiskFullError, QuotaExceededError
from formcheck.jobs.service import REPORT_FILES
from formcheck.jobs.store import Job, JobState
from formcheck.jobs.uploads import discard_upload
from formcheck.report.model import Report
from formcheck.report.verdict import Verdict, build_verdict
from formcheck.server.client_limits import UploadGate, client_key, too_many
from formcheck.server.config import ClientLimits
from formcheck.server.jobs_models import (
    ApiError,
    JobCreated,
    JobFileLinks,
    JobLinks,
    JobOut,
    JobResultOut,
    JobsHealthOut,
)
from formcheck.server.upload_stream import (
    FILE_FIELD,
    BodyLimits,
    FormError,
    UploadTooSlowError,
    receive_form,
)
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
HTTP_OK = 200
HTTP_BAD_REQUEST = 400
HTTP_NOT_FOUND = 404
HTTP_REQUEST_TIMEOUT = 408
HTTP_CONFLICT = 409
HTTP_TOO_LARGE = 413
HTTP_UNPROCESSABLE = 422
HTTP_TOO_MANY_REQUESTS = 429
HTTP_INTERNAL_ERROR = 500
HTTP_INSUFFICIENT_STORAGE = 507
IDEMPOTENCY_HEADER = "Idempotency-Key"
MAX_IDEMPOTENCY_KEY_CHARS = 255
# Retry-After for a full disk: space comes back when old reports expire or someone frees it.
DISK_FULL_RETRY_AFTER_S = 600


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


def _error(
    status: int, code: str, detail: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(
        ApiError(detail=detail, code=code).model_dump(), status_code=status, headers=headers
    )


def _refused_early(status: int, code: str, detail: str, retry_after_s: int) -> JSONResponse:
    """A refusal sent before the body was read: the connection is closed after it."""
    return _error(
        status,
        code,
        detail,
        {"Retry-After": str(retry_after_s), "Connection": "close"},
    )


def idempotency_key(request: Request) -> str | None:
    """The request's Idempotency-Key (FormError when it is not 1-255 visible ASCII)."""
    key = request.headers.get(IDEMPOTENCY_HEADER)
    if key is None:
        return None
    if not 0 < len(key) <= MAX_IDEMPOTENCY_KEY_CHARS or not all(33 <= ord(c) < 127 for c in key):
        raise FormError(
            f"The {IDEMPOTENCY_HEADER} header must be 1 to {MAX_IDEMPOTENCY_KEY_CHARS} visible "
            "ASCII characters (a UUID is a good choice)."
        )
    return key


def job_out(job: Job, service: JobBackend) -> JobOut:
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


def jobs_health(service: JobBackend) -> tuple[JobsHealthOut, list[str]]:
    """The jobs' part of /api/health, and its problems (empty when healthy)."""
    health = service.health()
    config = service.config
    out = JobsHealthOut(
        workers=health.workers,
        workers_alive=health.workers_alive,
        worker_restarts=health.worker_restarts,
        queued=health.queued,
        running=health.running,
        disk_free_bytes=health.disk_free_bytes,
        max_upload_bytes=config.limits.max_upload_bytes,
        max_duration_s=config.limits.max_duration_s,
        max_pixels=config.limits.max_pixels,
        max_active_jobs=config.max_active_jobs_per_owner,
        retention_days=config.retention_days,
    )
    return out, health.problems


def _download_name(job: Job, name: str) -> str:
    stem = PurePath(job.display_name).stem
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in stem)[:80] or "video"
    return f"{safe}-{name}"


def _created(job: Job, status: int) -> JSONResponse:
    created = JobCreated(
        id=job.id,
        state=job.state.value,
        url=f"/jobs/{job.id}",
        status_url=f"/api/jobs/{job.id}",
        frames=int(job.options.get("frames", 0)),
        duration_s=float(job.options.get("duration_s", 0.0)),
    )
    headers = {"Location": created.status_url}
    if status == HTTP_OK:
        headers["Idempotent-Replayed"] = "true"
    return JSONResponse(created.model_dump(), status_code=status, headers=headers)


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


def jobs_router(
    service: JobBackend, exercises: Callable[[], set[str]], clients: ClientLimits | None = None
) -> APIRouter:
    """The routes of uploads and jobs, on ``service`` (started and stopped by the app)."""
    router = APIRouter()
    limits = service.config.limits
    clients = clients or ClientLimits()
    gate = UploadGate(clients)
    body_limits = BodyLimits(
        idle_timeout_s=clients.upload_idle_timeout_s,
        min_bytes_per_s=clients.upload_min_bytes_per_s,
        rate_grace_s=clients.upload_rate_grace_s,
    )
    upload_threads: list[anyio.CapacityLimiter] = []  # made on first use, in the event loop
    errors: dict[int | str, dict[str, Any]] = {
        code: {"model": ApiError}
        for code in (
            HTTP_BAD_REQUEST, HTTP_REQUEST_TIMEOUT, HTTP_CONFLICT, HTTP_TOO_LARGE,
            HTTP_UNPROCESSABLE, HTTP_TOO_MANY_REQUESTS, HTTP_INSUFFICIENT_STORAGE,
        )
    }  # fmt: skip
    errors[HTTP_OK] = {"model": JobCreated, "description": "the job this Idempotency-Key made"}
    key_parameter = {
        "name": IDEMPOTENCY_HEADER,
        "in": "header",
        "required": False,
        "description": "any unique string (a UUID): a retried upload with the same key gets "
        "the job the first one made",
        "schema": {"type": "string", "minLength": 1, "maxLength": MAX_IDEMPOTENCY_KEY_CHARS},
    }

    def limiter() -> anyio.CapacityLimiter:
        if not upload_threads:
            upload_threads.append(anyio.CapacityLimiter(clients.max_uploads_in_progress))
        return upload_threads[0]

    @router.post(
        "/api/jobs",
        status_code=201,
        summary="Upload a video to analyse (multipart: file, exercise, optional settings)",
        responses=errors,
        response_model=JobCreated,
        openapi_extra={"requestBody": upload_form_schema(), "parameters": [key_parameter]},
    )
    async def create_job(request: Request) -> Response:
        owner = client_key(request.scope)
        try:
            key = idempotency_key(request)
        except FormError as error:
            return _error(HTTP_BAD_REQUEST, "bad_header", str(error))
        if key is not None:
            earlier = await run_in_threadpool(service.find, owner, key)
            if earlier is not None:
                return _created(earlier, HTTP_OK)
            if not gate.claim_key(owner, key):
                return _error(
                    HTTP_CONFLICT,
                    "in_progress",
                    f"An upload with this {IDEMPOTENCY_HEADER} is still being received; wait "
                    "for its answer.",
                )
        try:
            return await _receive_job(request, owner, key)
        finally:
            if key is not None:
                gate.release_key(owner, key)

    async def _receive_job(request: Request, owner: str, key: str | None) -> Response:
        refusal = await _refuse_before_body(request, owner)
        if refusal is not None:
            return refusal
        with gate.in_progress.entered(owner):
            try:
                received = await receive_form(
                    request.headers.get("content-type", ""),
                    request.stream(),
                    service.receive,
                    limits.max_upload_bytes,
                    body_limits=body_limits,
                    limiter=limiter(),
                )
            except FormError as error:
                return _error(HTTP_BAD_REQUEST, "bad_form", str(error))
        upload = received.upload
        if received.form_error is not None:
            if upload is not None:
                discard_upload(service.data, upload.upload_name)
            if isinstance(received.form_error, UploadTooSlowError):
                return _error(
                    HTTP_REQUEST_TIMEOUT, "too_slow", str(received.form_error),
                    {"Connection": "close"},
                )  # fmt: skip
            return _error(HTTP_BAD_REQUEST, "bad_form", str(received.form_error))
        if received.disk_full is not None:
            return _error(
                HTTP_INSUFFICIENT_STORAGE, "disk_full", str(received.disk_full),
                {"Retry-After": str(DISK_FULL_RETRY_AFTER_S)},
            )  # fmt: skip
        if received.failed:
            return _error(
                HTTP_INTERNAL_ERROR, "internal",
                "The server could not store the upload; try again later.",
            )  # fmt: skip
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
        options = {
            "settings": form.settings(),
            "height_cm": form.height_cm,
            "frames": upload.info.frame_count,
            "duration_s": upload.info.duration_s,
        }
        try:
            enqueued = await run_in_threadpool(
                lambda: service.enqueue(
                    upload, received.filename or "video", options, owner=owner,
                    idempotency_key=key,
                )
            )  # fmt: skip
        except QuotaExceededError as error:
            return too_many(str(error), clients.retry_after_s, "quota")
        return _created(enqueued.job, 201 if enqueued.created else HTTP_OK)

    async def _refuse_before_body(request: Request, owner: str) -> Response | None:
        """The checks that need no body, or None when the upload may be received."""
        length = request.headers.get("content-length", "")
        declared = int(length) if length.isdigit() else 0
        if declared > limits.max_upload_bytes + FORM_OVERHEAD_BYTES:
            limit_mb = limits.max_upload_bytes / BYTES_PER_MB
            return _error(
                HTTP_TOO_LARGE,
                "too_large",
                f"The file is larger than the {limit_mb:.0f} MB limit; trim the clip to the set "
                "itself or record at a lower resolution.",
                {"Connection": "close"},
            )
        try:
            await run_in_threadpool(service.check_quota, owner)
            await run_in_threadpool(service.check_disk, declared)
        except QuotaExceededError as error:
            return _refused_early(
                HTTP_TOO_MANY_REQUESTS, "quota", str(error), clients.retry_after_s
            )
        except DiskFullError as error:
            return _refused_early(
                HTTP_INSUFFICIENT_STORAGE, "disk_full", str(error), DISK_FULL_RETRY_AFTER_S
            )
        if not gate.in_progress.try_enter(owner):
            return _refused_early(
                HTTP_TOO_MANY_REQUESTS,
                "busy",
                "The server is receiving as many uploads as it can (or as many of yours as it "
                f"takes at once); try again in {clients.retry_after_s} s.",
                clients.retry_after_s,
            )
        wait_s = gate.hourly.acquire(owner)
        if wait_s > 0:
            gate.in_progress.leave(owner)
            return _refused_early(
                HTTP_TOO_MANY_REQUESTS,
                "rate_limited",
                f"You have started {clients.uploads_per_hour} uploads in the last hour, the "
                f"most allowed; try again in {math.ceil(wait_s)} s.",
                math.ceil(wait_s),
            )
        return None

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
        "/api/jobs/{job_id}/verdict",
        summary="A finished job's verdict in plain words (what the job page shows first)",
        responses={HTTP_NOT_FOUND: {"model": ApiError}},
        response_model=Verdict,
    )
    def job_verdict(job_id: str) -> Response:
        path = service.report_file(job_id, "report.json") if service.get(job_id) else None
        if path is None:
            return _error(HTTP_NOT_FOUND, "no_report", "There is no finished report for this job.")
        report = Report.model_validate_json(path.read_bytes())
        return JSONResponse(build_verdict(report).model_dump(mode="json"))

    @router.delete(
        "/api/jobs/{job_id}",
        status_code=204,
        summary="Delete a job: a running analysis is stopped; its upload and report are deleted",
        responses={HTTP_NOT_FOUND: {"model": ApiError}},
        response_class=Response,
    )
    def delete_job(job_id: str) -> Response:
        if service.delete(job_id) is None:
            return _error(HTTP_NOT_FOUND, "no_job", NOT_FOUND)
        return Response(status_code=204)

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
