"""The people API and pages (every route but sign-in needs a signed-in account).

    POST   /api/account/login            {username, password} -> cookie (HttpOnly, SameSite=Strict)
    POST   /api/account/logout           ends this sign-in (the browser's cookie, or the API
                                         token the request is signed in with)
    GET    /api/account/me               who is signed in
    POST   /api/account/tokens           an API token for scripts (shown once)
    GET    /api/account/tokens           this account's API tokens (never their secrets)
    DELETE /api/account/tokens/{id}      revoke one of them (it stops working at once)
    GET    /api/people                   a clinician's people with dashboard flags; a person: self
    POST   /api/people                   a clinician adds a person
    GET    /api/people/{id}              the person, their programmes and items
    POST   /api/people/{id}/programmes   a clinician gives a programme
    PATCH  /api/items/{id}               a clinician changes a prescription, rules, reference
    GET    /api/people/{id}/sessions     the sets, with measures and ratings
    POST   /api/people/{id}/sessions     attach an upload (job id) or a finished set's report
    PATCH  /api/sessions/{id}            rate effort and pain (0-10)
    POST   /api/sessions/{id}/share      a de-identified copy of an upload (its own job)
    GET    /api/people/{id}/progress?exercise=X   series, MDC95 bands and verdicts
    GET    /api/people/{id}/suggestions  micro-progressions, open and decided
    POST   /api/suggestions/{id}/decision  a clinician accepts, edits or dismisses
    GET    /api/people/{id}/export.json, /export.csv   the whole history
    GET    /people                       the page (sign in, dashboard, programme, progress)
    GET    /people/{id}/report           a printable report

Scripts send ``Authorization: Bearer fc_...`` (an API token); browsers the cookie. A person
or thing this account may not see answers 404, whoever it belongs to. Too many wrong
passwords for one user name pause signing in with it (429 with Retry-After; the server's
``sign_in`` settings). A body (JSON) must declare its length, at most
``MAX_JSON_BODY_BYTES``, and is refused before any of it is read.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import html
import io
import json
import math
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from formcheck.people import service
from formcheck.people.accounts import (
    MAX_PASSWORD_CHARS,
    AccountError,
    SignInError,
    SignInPausedError,
    account_for,
    api_tokens,
    create_account,
    issue,
    revoke,
    revoke_token,
    verify,
)
from formcheck.people.db import Database
from formcheck.people.models import (
    Account,
    Credential,
    Programme,
    ProgrammeItem,
    Suggestion,
    TrainingSession,
    as_utc,
    utc_now,
)
from formcheck.people.programmes import ProgrammeError
from formcheck.server.attest import ReportSigner
from formcheck.server.config import SignInLimits

STATIC_DIR = Path(__file__).parent / "static"
COOKIE_NAME = "formcheck_session"
BEARER_PREFIX = "fc_"
SIGNATURE_MAX_CHARS = 64  # an HMAC-SHA256 in hex
MAX_JSON_BODY_BYTES = 2_000_000  # a live set's report with every rep's checks fits easily
MAX_ITEMS = 20
MAX_PROGRAMMES_SHOWN = 50
HTTP_UNAUTHORIZED = 401
HTTP_FORBIDDEN = 403
HTTP_NOT_FOUND = 404
HTTP_LENGTH_REQUIRED = 411
HTTP_TOO_LARGE = 413
HTTP_UNPROCESSABLE = 422
HTTP_TOO_MANY = 429
HTTP_UNAVAILABLE = 503
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
MAX_ROW_ID = 2**31 - 1  # PostgreSQL's integer: a larger id would be a database error
RowId = Annotated[int, PathParam(ge=1, le=MAX_ROW_ID)]
ExerciseName = Annotated[str, Query(min_length=1, max_length=40)]
NOT_SIGNED_IN = "Sign in first (POST /api/account/login, or an API token as a Bearer header)."
PAGE_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; frame-ancestors 'none'"
)
Who = tuple[Session, Account]  # the signed-in account and its database session
REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"


class PasswordsBusyError(Exception):
    """Every turn to hash a password stayed taken (a burst of sign-ins)."""

    def __init__(self, waited_s: float) -> None:
        super().__init__(
            f"The server is busy checking other passwords (waited {waited_s:g} s): try again "
            "in a moment."
        )
        self.retry_after_s = max(1, math.ceil(waited_s))


class People:
    """The database, the job backend whose uploads sessions attach to, the key that live
    sets' reports are signed with (a report sent to the routes must carry its signature:
    formcheck/server/attest.py), the wrong-password limits and the clock they are counted by
    (tests set their own)."""

    def __init__(
        self,
        database: Database,
        jobs: service.JobSource | None = None,
        signer: ReportSigner | None = None,
        sign_in_limits: SignInLimits | None = None,
        clock: Callable[[], dt.datetime] = utc_now,
    ) -> None:
        self.db = database
        self.jobs = jobs
        self.signer = signer or ReportSigner.for_data_dir(None)
        self.sign_in_limits = sign_in_limits or SignInLimits()
        self.clock = clock
        # argon2 takes 64 MiB a hashing: a burst of sign-ins must not take the memory of
        # one per request thread
        self._hashing_turns = threading.BoundedSemaphore(
            self.sign_in_limits.max_concurrent_password_checks
        )

    @contextlib.contextmanager
    def hashing_turn(self) -> Iterator[None]:
        """A turn to hash a password; PasswordsBusyError after waiting too long."""
        wait_s = self.sign_in_limits.password_check_wait_s
        if not self._hashing_turns.acquire(timeout=wait_s):
            raise PasswordsBusyError(wait_s)
        try:
            yield
        finally:
            self._hashing_turns.release()

    def secret_of(self, headers: Headers) -> tuple[str, Literal["cookie", "api"]] | None:
        scheme, _, given = headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and given.strip().startswith(BEARER_PREFIX):
            return given.strip(), "api"
        for part in headers.get("cookie", "").split(";"):
            key, _, value = part.strip().partition("=")
            if key == COOKIE_NAME and value:
                return value, "cookie"
        return None

    def signed_in(self, headers: Headers) -> bool:
        """Whether the request carries a live sign-in (the access policy asks this too)."""
        found = self.secret_of(headers)
        if found is None:
            return False
        with self.db.session() as session:
            return account_for(session, *found, now=self.clock()) is not None


# --- request bodies -------------------------------------------------------------------------


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LoginIn(_In):
    username: str = Field(max_length=64)
    password: str = Field(max_length=MAX_PASSWORD_CHARS)


class PersonIn(_In):
    username: str = Field(max_length=64)
    display_name: str = Field("", max_length=80)
    password: str = Field(max_length=MAX_PASSWORD_CHARS)


class ItemIn(_In):
    exercise: str = Field(max_length=40)
    prescription: dict[str, Any] = Field(default_factory=dict)
    rules: dict[str, Any] = Field(default_factory=dict)
    reference: dict[str, Any] | None = None


class ProgrammeIn(_In):
    name: str = Field(min_length=1, max_length=80)
    sessions_per_week: int = Field(3, ge=1, le=14)
    items: list[ItemIn] = Field(min_length=1, max_length=MAX_ITEMS)


class ItemPatch(_In):
    prescription: dict[str, Any] | None = None
    rules: dict[str, Any] | None = None
    reference: dict[str, Any] | None = None


class SessionIn(_In):
    item_id: int = Field(ge=1, le=MAX_ROW_ID)
    source: Literal["job", "live", "file"]
    job_id: str | None = Field(None, max_length=64)
    report: dict[str, Any] | None = None
    signature: str | None = Field(None, max_length=SIGNATURE_MAX_CHARS)
    effort: int | None = Field(None, ge=0, le=10)
    pain: int | None = Field(None, ge=0, le=10)


class RatingIn(_In):
    effort: int | None = Field(None, ge=0, le=10)
    pain: int | None = Field(None, ge=0, le=10)
    note: str | None = Field(None, max_length=service.MAX_NOTE_CHARS)


class DecisionIn(_In):
    action: Literal["accept", "edit", "dismiss"]
    prescription: dict[str, Any] | None = None


class TokenIn(_In):
    label: str = Field("", max_length=80)


# --- answers --------------------------------------------------------------------------------


def _error(status: int, code: str, detail: str) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if status == HTTP_UNAUTHORIZED else None
    return JSONResponse({"detail": detail, "code": code}, status, headers=headers)


class NotSignedInError(Exception):
    pass


def account_json(account: Account) -> dict[str, Any]:
    return {"id": account.id, "username": account.username, "role": account.role,
            "display_name": account.display_name, "clinician_id": account.clinician_id}  # fmt: skip


def item_json(item: ProgrammeItem) -> dict[str, Any]:
    return {"id": item.id, "exercise": item.exercise, "prescription": item.prescription,
            "rules": item.rules, "reference": item.reference}  # fmt: skip


def programme_json(programme: Programme) -> dict[str, Any]:
    return {"id": programme.id, "name": programme.name,
            "sessions_per_week": programme.sessions_per_week,
            "created_at": programme.created_at.isoformat(),
            "items": [item_json(i) for i in programme.items]}  # fmt: skip


def person_json(session: Session, person: Account) -> dict[str, Any]:
    programmes = (
        session.query(Programme)
        .filter(Programme.person_id == person.id)
        .order_by(Programme.id.desc())
        .limit(MAX_PROGRAMMES_SHOWN)
    )
    return account_json(person) | {"programmes": [programme_json(p) for p in programmes]}


def token_json(credential: Credential, now: dt.datetime) -> dict[str, Any]:
    """An API token as its owner sees it: never its secret (nor the secret's hash)."""
    last_used = credential.last_used_at
    return {"id": credential.id, "label": credential.label,
            "created_at": as_utc(credential.created_at).isoformat(),
            "expires_at": as_utc(credential.expires_at).isoformat(),
            "expired": as_utc(credential.expires_at) <= now,
            "last_used_at": as_utc(last_used).isoformat() if last_used else None}  # fmt: skip


def session_json(record: TrainingSession, exercise: str) -> dict[str, Any]:
    return {
        "id": record.id, "item_id": record.item_id, "exercise": exercise,
        "source": record.source, "job_id": record.job_id, "state": record.state,
        "recorded_at": as_utc(record.recorded_at).isoformat(),
        "prescription": record.prescription, "measures": record.measures,
        "effort": record.effort, "pain": record.pain, "note": record.note,
        "share_url": f"/jobs/{record.share_job_id}" if record.share_job_id else None,
    }  # fmt: skip


def record_json(session: Session, record: TrainingSession) -> dict[str, Any]:
    """A session (set) as the routes answer it, with its item's exercise."""
    return session_json(record, _exercise_of(session, record.item_id))


def _exercise_of(session: Session, item_id: int) -> str:
    item = session.get(ProgrammeItem, item_id)
    assert item is not None  # sessions and suggestions go with their item (ON DELETE CASCADE)
    return item.exercise


def suggestion_json(suggestion: Suggestion, exercise: str) -> dict[str, Any]:
    return {
        "id": suggestion.id, "item_id": suggestion.item_id, "exercise": exercise,
        "kind": suggestion.kind, "reason": suggestion.reason, "basis": suggestion.basis,
        "before": suggestion.before, "proposed": suggestion.proposed,
        "status": suggestion.status, "applied": suggestion.applied,
        "created_at": as_utc(suggestion.created_at).isoformat(),
        "decided_at": as_utc(suggestion.decided_at).isoformat()
        if suggestion.decided_at else None,
    }  # fmt: skip


CSV_COLUMNS = ("session_id", "recorded_at", "exercise", "source", "state", "reps", "hold_s",
               "form_frays_at_rep", "back_change_mm_mean", "tempo_kept_share", "spine_findings",
               "effort", "pain", "prescription")  # fmt: skip


def csv_row(record: TrainingSession, exercise: str) -> list[Any]:
    measures = record.measures or {}
    back = [v for v in measures.get("rep_back_change_mm") or [] if v is not None]
    tempo = [v for v in measures.get("rep_on_tempo") or [] if v is not None]
    return [
        record.id, as_utc(record.recorded_at).isoformat(), exercise, record.source,
        record.state, measures.get("reps"), measures.get("hold_s"),
        measures.get("form_frays_at_rep"), round(sum(back) / len(back), 2) if back else None,
        round(sum(tempo) / len(tempo), 3) if tempo else None, measures.get("spine_findings"),
        record.effort, record.pain, json.dumps(record.prescription, sort_keys=True),
    ]  # fmt: skip


# --- the router -----------------------------------------------------------------------------


def people_router(people: People) -> APIRouter:
    router = APIRouter(tags=["people"])

    def signed_in(request: Request) -> Iterator[tuple[Session, Account]]:
        found = people.secret_of(request.headers)
        with people.db.session() as session:
            account = account_for(session, *found, now=people.clock()) if found else None
            if account is None:
                raise NotSignedInError
            yield session, account

    # scope="function": the session's transaction is committed (or rolled back) when the route
    # returns, before the answer is sent: a client's next request sees what this one did.
    signed = Depends(signed_in, scope="function")

    @router.post("/api/account/login", summary="Sign in: a session cookie (HttpOnly, Strict)")
    def login(body: LoginIn, request: Request) -> Any:
        refused: Exception | None = None
        with people.hashing_turn(), people.db.session() as session:
            try:
                account = verify(session, body.username, body.password,
                                 limits=people.sign_in_limits, now=people.clock())  # fmt: skip
            except (SignInError, SignInPausedError) as error:
                refused = error  # raised once the wrong password's count is committed
            else:
                issued = issue(session, account, "cookie", request.headers.get("user-agent", ""),
                               now=people.clock())  # fmt: skip
                out = account_json(account)
        if refused is not None:
            raise refused
        response = JSONResponse(out)
        response.set_cookie(
            COOKIE_NAME, issued.secret, expires=issued.expires_at, httponly=True,
            samesite="strict", secure=request.url.scheme == "https", path="/",
        )  # fmt: skip
        return response

    @router.post("/api/account/logout", status_code=204, response_class=Response)
    def logout(request: Request) -> Response:
        found = people.secret_of(request.headers)
        if found is not None:
            with people.db.session() as session:
                revoke(session, found[0])
        response = Response(status_code=204)
        response.delete_cookie(COOKIE_NAME, httponly=True, samesite="strict", path="/")
        return response

    @router.get("/api/account/me", summary="The signed-in account")
    def me(who: Who = signed) -> dict[str, Any]:
        return account_json(who[1])

    @router.post("/api/account/tokens", summary="A new API token (shown once)")
    def new_token(body: TokenIn, who: Who = signed) -> dict[str, Any]:
        session, account = who
        issued = issue(session, account, "api", body.label, now=people.clock())
        return {"id": issued.credential_id, "token": issued.secret,
                "expires_at": issued.expires_at.isoformat()}  # fmt: skip

    @router.get("/api/account/tokens", summary="This account's API tokens (not their secrets)")
    def list_tokens(who: Who = signed) -> list[dict[str, Any]]:
        session, account = who
        now = people.clock()
        return [token_json(c, now) for c in api_tokens(session, account)]

    @router.delete(
        "/api/account/tokens/{token_id}", status_code=204, response_class=Response,
        summary="Revoke one of this account's API tokens (it stops working at once)",
    )  # fmt: skip
    def delete_token(token_id: RowId, who: Who = signed) -> Response:
        session, account = who
        if not revoke_token(session, account, token_id):
            raise service.NotFoundError("This account has no such API token.")
        return Response(status_code=204)

    @router.get("/api/people", summary="A clinician's people and flags; a person: themselves")
    def list_people(who: Who = signed) -> list[dict[str, Any]]:
        session, account = who
        now = utc_now()
        out = []
        for person in service.people_of(session, account):
            if person.role != "person":
                continue
            service.refresh_pending(session, person.id, people.jobs)
            out.append(service.dashboard_row(session, person, now))
        return out

    @router.post("/api/people", status_code=201, summary="A clinician adds a person")
    def add_person(body: PersonIn, who: Who = signed) -> Any:
        session, account = who
        if account.role != "clinician":
            raise service.ForbiddenError("Only a clinician adds people.")
        with people.hashing_turn():
            person = create_account(
                session, body.username, body.password, "person", body.display_name, account
            )
        return JSONResponse(account_json(person), status_code=201)

    @router.get("/api/people/{person_id}", summary="A person, their programmes and items")
    def get_person(person_id: RowId, who: Who = signed) -> Any:
        session, account = who
        return person_json(session, service.visible_person(session, account, person_id))

    @router.post("/api/people/{person_id}/programmes", status_code=201)
    def add_programme(person_id: RowId, body: ProgrammeIn, who: Who = signed) -> Any:
        session, account = who
        programme = service.create_programme(
            session, account, person_id, body.name, body.sessions_per_week,
            [i.model_dump() for i in body.items],
        )  # fmt: skip
        return JSONResponse(programme_json(programme), status_code=201)

    @router.patch("/api/items/{item_id}", summary="A clinician changes an item")
    def patch_item(item_id: RowId, body: ItemPatch, who: Who = signed) -> Any:
        session, account = who
        item = service.update_item(
            session, account, item_id, body.prescription, body.rules, body.reference
        )
        return item_json(item)

    @router.get("/api/people/{person_id}/sessions")
    def list_sessions(person_id: RowId, who: Who = signed) -> Any:
        session, account = who
        person = service.visible_person(session, account, person_id)
        service.refresh_pending(session, person.id, people.jobs)
        return [session_json(r, e) for r, e in service.sessions_of(session, person.id)]

    @router.post("/api/people/{person_id}/sessions", status_code=201)
    def add_session(person_id: RowId, body: SessionIn, who: Who = signed) -> Any:
        session, account = who
        record = service.record_session(
            session, account, person_id, body.item_id, source=body.source, jobs=people.jobs,
            job_id=body.job_id, report=body.report, effort=body.effort, pain=body.pain,
            report_attested=people.signer.verify(body.report, body.signature),
        )  # fmt: skip
        return JSONResponse(record_json(session, record), status_code=201)

    @router.patch("/api/sessions/{session_id}", summary="Rate effort and pain (0-10)")
    def rate(session_id: RowId, body: RatingIn, who: Who = signed) -> Any:
        session, account = who
        record = service.rate_session(
            session, account, session_id, body.effort, body.pain, body.note
        )
        return record_json(session, record)

    @router.post(
        "/api/sessions/{session_id}/share",
        summary="A de-identified copy of an uploaded set (skeleton and outline only)",
    )
    def share(session_id: RowId, who: Who = signed) -> Any:
        session, account = who
        record = service.share_session(session, account, session_id, people.jobs)
        return record_json(session, record)

    @router.get("/api/people/{person_id}/progress", summary="Series, MDC95 bands, verdicts")
    def get_progress(person_id: RowId, exercise: ExerciseName, who: Who = signed) -> Any:
        session, account = who
        person = service.visible_person(session, account, person_id)
        service.refresh_pending(session, person.id, people.jobs)
        return service.progress_of(session, person.id, exercise)

    @router.get("/api/people/{person_id}/suggestions")
    def list_suggestions(person_id: RowId, who: Who = signed) -> Any:
        session, account = who
        person = service.visible_person(session, account, person_id)
        service.refresh_pending(session, person.id, people.jobs)
        return [suggestion_json(s, e) for s, e in service.suggestions_of(session, person.id)]

    @router.post("/api/suggestions/{suggestion_id}/decision")
    def decide(suggestion_id: RowId, body: DecisionIn, who: Who = signed) -> Any:
        session, account = who
        suggestion = service.decide(session, account, suggestion_id, body.action, body.prescription)
        return suggestion_json(suggestion, _exercise_of(session, suggestion.item_id))

    @router.get("/api/people/{person_id}/export.json", summary="The whole history as JSON")
    def export_json(person_id: RowId, who: Who = signed) -> Any:
        session, account = who
        person = service.visible_person(session, account, person_id)
        body = person_json(session, person) | {
            "sessions": [session_json(r, e) for r, e in service.sessions_of(session, person.id)],
            "suggestions": [suggestion_json(s, e)
                            for s, e in service.suggestions_of(session, person.id)],
        }  # fmt: skip
        return JSONResponse(body, headers=_attachment(f"{person.username}-history.json"))

    @router.get("/api/people/{person_id}/export.csv", summary="One row per session")
    def export_csv(person_id: RowId, who: Who = signed) -> Any:
        session, account = who
        person = service.visible_person(session, account, person_id)
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(CSV_COLUMNS)
        for record, exercise in service.sessions_of(session, person.id):
            writer.writerow(csv_row(record, exercise))
        return Response(
            out.getvalue(), media_type="text/csv; charset=utf-8",
            headers=_attachment(f"{person.username}-history.csv"),
        )  # fmt: skip

    @router.get("/people", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(
            STATIC_DIR / "people.html", media_type="text/html",
            headers={"Content-Security-Policy": PAGE_CSP},
        )  # fmt: skip

    @router.get("/people/{person_id}/report", include_in_schema=False)
    def printable(person_id: RowId, who: Who = signed) -> Any:
        session, account = who
        person = service.visible_person(session, account, person_id)
        return HTMLResponse(
            printable_report(session, person), headers={"Content-Security-Policy": REPORT_CSP}
        )

    return router


def _attachment(name: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{name}"'}


@dataclass(frozen=True, slots=True)
class BodyRefusal:
    status: int
    detail: str


PEOPLE_PREFIXES = ("/api/account", "/api/people", "/api/items", "/api/sessions",
                   "/api/suggestions", "/people")  # fmt: skip


class BodyLimitMiddleware:
    """A body sent to a people route must declare its length (``Content-Length``, which the
    HTTP server holds the client to) and stay within ``MAX_JSON_BODY_BYTES``: refused before
    any of it is read (a route's own dependencies run only after FastAPI has read and parsed
    the whole body)."""

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_JSON_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        refusal = _body_refusal(scope, self.max_bytes) if scope["type"] == "http" else None
        if refusal is None:
            await self.app(scope, receive, send)
            return
        await _error(refusal.status, "bad_body", refusal.detail)(scope, receive, send)


def _body_refusal(scope: Scope, max_bytes: int) -> BodyRefusal | None:
    if scope.get("method") not in BODY_METHODS or not _is_people_path(scope.get("path", "")):
        return None
    length = Headers(scope=scope).get("content-length")
    if length is None or not length.isdigit():
        return BodyRefusal(HTTP_LENGTH_REQUIRED, "Send the body with a Content-Length.")
    if int(length) > max_bytes:
        return BodyRefusal(HTTP_TOO_LARGE, f"The body is larger than {max_bytes} bytes.")
    return None


def _is_people_path(path: str) -> bool:
    return any(path == p or path.startswith(p + "/") for p in PEOPLE_PREFIXES)


REFUSALS: tuple[tuple[type[Exception], int, str], ...] = (
    (service.NotFoundError, HTTP_NOT_FOUND, "not_found"),
    (service.ForbiddenError, HTTP_FORBIDDEN, "forbidden"),
    (SignInError, HTTP_UNAUTHORIZED, "sign_in_failed"),
    (ProgrammeError, HTTP_UNPROCESSABLE, "not_valid"),
    (AccountError, HTTP_UNPROCESSABLE, "not_valid"),
)


def install_handlers(app: Any) -> None:
    """The app-level answers for the people routes' refusals (a route's error passes through
    its database session first, so nothing it did is committed), and the body limit."""
    app.add_middleware(BodyLimitMiddleware)
    for kind, status, code in REFUSALS:
        app.add_exception_handler(kind, _refusal_handler(status, code))

    @app.exception_handler(NotSignedInError)
    async def not_signed_in(_: Request, __: NotSignedInError) -> JSONResponse:
        return _error(HTTP_UNAUTHORIZED, "not_signed_in", NOT_SIGNED_IN)

    @app.exception_handler(PasswordsBusyError)
    async def passwords_busy(_: Request, error: PasswordsBusyError) -> JSONResponse:
        answer = _error(HTTP_UNAVAILABLE, "busy", str(error))
        answer.headers["Retry-After"] = str(error.retry_after_s)
        return answer

    @app.exception_handler(SignInPausedError)
    async def sign_in_paused(_: Request, error: SignInPausedError) -> JSONResponse:
        answer = _error(HTTP_TOO_MANY, "sign_in_paused", str(error))
        answer.headers["Retry-After"] = str(error.retry_after_s)
        return answer


def _refusal_handler(status: int, code: str) -> Callable[[Request, Exception], Any]:
    async def handler(_: Request, error: Exception) -> JSONResponse:
        return _error(status, code, str(error))

    return handler


def printable_report(session: Session, person: Account) -> str:
    """A self-contained page (no script) to print: sessions and each exercise's progress."""
    rows = service.sessions_of(session, person.id)
    esc = html.escape
    parts = [
        "<!doctype html><html lang=en><meta charset=utf-8>",
        f"<title>formcheck: {esc(person.display_name)}</title>",
        "<style>body{font:14px system-ui,sans-serif;margin:2em}table{border-collapse:collapse}"
        "td,th{border:1px solid #999;padding:2px 6px;text-align:left}</style>",
        f"<h1>{esc(person.display_name)} ({esc(person.username)})</h1>",
    ]
    for exercise in sorted({e for _, e in rows}):
        result = service.progress_of(session, person.id, exercise)
        parts.append(f"<h2>{esc(exercise)}: {result['sessions']} sessions</h2><table>")
        parts.append("<tr><th>measure</th><th>first</th><th>latest</th><th>change</th>"
                     "<th>MDC95</th><th>verdict</th><th>noise</th></tr>")  # fmt: skip
        for metric in result["metrics"].values():
            if not metric["points"]:
                continue
            parts.append(
                f"<tr><td>{esc(metric['label'])}</td><td>{_num(metric['baseline'])}</td>"
                f"<td>{_num(metric['latest'])}</td><td>{_num(metric['change'])}</td>"
                f"<td>{_num(metric['mdc'])}</td><td>{esc(metric['verdict'])}</td>"
                f"<td>{esc(metric['basis'])}</td></tr>"
            )
        parts.append("</table>")
    parts.append("<h2>Sessions</h2><table><tr>" + "".join(f"<th>{c}</th>" for c in CSV_COLUMNS)
                 + "</tr>")  # fmt: skip
    for record, exercise in rows:
        cells = csv_row(record, exercise)
        parts.append("<tr>" + "".join(f"<td>{esc(str(c if c is not None else ''))}</td>"
                                      for c in cells) + "</tr>")  # fmt: skip
    parts.append("</table></html>")
    return "".join(parts)


def _num(value: float | None) -> str:
    return "" if value is None else f"{value:.3g}"
