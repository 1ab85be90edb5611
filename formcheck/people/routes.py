"""The people API and pages (every route but sign-in needs a signed-in account).

    POST   /api/account/login            {username, password} -> cookie (HttpOnly, SameSite=Strict)
    POST   /api/account/logout           ends this browser's sign-in
    GET    /api/account/me               who is signed in
    POST   /api/account/tokens           an API token for scripts (shown once)
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
or thing this account may not see answers 404, whoever it belongs to.
"""

from __future__ import annotations

import csv
import html
import io
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session
from starlette.datastructures import Headers

from formcheck.people import service
from formcheck.people.accounts import (
    MAX_PASSWORD_CHARS,
    AccountError,
    SignInError,
    account_for,
    create_account,
    issue,
    revoke,
    verify,
)
from formcheck.people.db import Database
from formcheck.people.models import Account, Programme, ProgrammeItem, utc_now
from formcheck.people.programmes import ProgrammeError
from formcheck.server.attest import ReportSigner

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


class People:
    """The database, the job backend whose uploads sessions attach to, and the key that
    live sets' reports are signed with (a report sent to the routes must carry its signature:
    formcheck/server/attest.py)."""

    def __init__(
        self,
        database: Database,
        jobs: service.JobSource | None = None,
        signer: ReportSigner | None = None,
    ) -> None:
        self.db = database
        self.jobs = jobs
        self.signer = signer or ReportSigner.for_data_dir(None)

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
            return account_for(session, *found) is not None


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


def session_json(record: Any, exercise: str) -> dict[str, Any]:
    return {
        "id": record.id, "item_id": record.item_id, "exercise": exercise,
        "source": record.source, "job_id": record.job_id, "state": record.state,
        "recorded_at": service._aware(record.recorded_at).isoformat(),
        "prescription": record.prescription, "measures": record.measures,
        "effort": record.effort, "pain": record.pain, "note": record.note,
        "share_url": f"/jobs/{record.share_job_id}" if record.share_job_id else None,
    }  # fmt: skip


def suggestion_json(suggestion: Any, exercise: str) -> dict[str, Any]:
    return {
        "id": suggestion.id, "item_id": suggestion.item_id, "exercise": exercise,
        "kind": suggestion.kind, "reason": suggestion.reason, "basis": suggestion.basis,
        "before": suggestion.before, "proposed": suggestion.proposed,
        "status": suggestion.status, "applied": suggestion.applied,
        "created_at": service._aware(suggestion.created_at).isoformat(),
        "decided_at": service._aware(suggestion.decided_at).isoformat()
        if suggestion.decided_at else None,
    }  # fmt: skip


CSV_COLUMNS = ("session_id", "recorded_at", "exercise", "source", "state", "reps", "hold_s",
               "form_frays_at_rep", "back_change_mm_mean", "tempo_kept_share", "spine_findings",
               "effort", "pain", "prescription")  # fmt: skip


def csv_row(record: Any, exercise: str) -> list[Any]:
    measures = record.measures or {}
    back = [v for v in measures.get("rep_back_change_mm") or [] if v is not None]
    tempo = [v for v in measures.get("rep_on_tempo") or [] if v is not None]
    return [
        record.id, service._aware(record.recorded_at).isoformat(), exercise, record.source,
        record.state, measures.get("reps"), measures.get("hold_s"),
        measures.get("form_frays_at_rep"), round(sum(back) / len(back), 2) if back else None,
        round(sum(tempo) / len(tempo), 3) if tempo else None, measures.get("spine_findings"),
        record.effort, record.pain, json.dumps(record.prescription, sort_keys=True),
    ]  # fmt: skip


# --- the router -----------------------------------------------------------------------------


def people_router(people: People) -> APIRouter:
    async def limit_body(request: Request) -> None:
        if request.method not in BODY_METHODS:
            return
        length = request.headers.get("content-length")
        if length is None or not length.isdigit():
            raise BodyRefusedError(HTTP_LENGTH_REQUIRED, "Send the body with a Content-Length.")
        if int(length) > MAX_JSON_BODY_BYTES:
            raise BodyRefusedError(
                HTTP_TOO_LARGE, f"The body is larger than {MAX_JSON_BODY_BYTES} bytes."
            )

    router = APIRouter(dependencies=[Depends(limit_body)], tags=["people"])

    def signed_in(request: Request) -> Iterator[tuple[Session, Account]]:
        found = people.secret_of(request.headers)
        with people.db.session() as session:
            account = account_for(session, *found) if found is not None else None
            if account is None:
                raise NotSignedInError
            yield session, account

    # scope="function": the session's transaction is committed (or rolled back) when the route
    # returns, before the answer is sent: a client's next request sees what this one did.
    signed = Depends(signed_in, scope="function")

    @router.post("/api/account/login", summary="Sign in: a session cookie (HttpOnly, Strict)")
    def login(body: LoginIn, request: Request) -> Any:
        with people.db.session() as session:
            account = verify(session, body.username, body.password)
            issued = issue(session, account, "cookie", request.headers.get("user-agent", ""))
            out = account_json(account)
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
        issued = issue(session, account, "api", body.label)
        return {"id": issued.credential_id, "token": issued.secret,
                "expires_at": issued.expires_at.isoformat()}  # fmt: skip

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
        exercise = session.get(ProgrammeItem, record.item_id)
        assert exercise is not None
        return JSONResponse(session_json(record, exercise.exercise), status_code=201)

    @router.patch("/api/sessions/{session_id}", summary="Rate effort and pain (0-10)")
    def rate(session_id: RowId, body: RatingIn, who: Who = signed) -> Any:
        session, account = who
        record = service.rate_session(
            session, account, session_id, body.effort, body.pain, body.note
        )
        item = session.get(ProgrammeItem, record.item_id)
        assert item is not None
        return session_json(record, item.exercise)

    @router.post(
        "/api/sessions/{session_id}/share",
        summary="A de-identified copy of an uploaded set (skeleton and outline only)",
    )
    def share(session_id: RowId, who: Who = signed) -> Any:
        session, account = who
        record = service.share_session(session, account, session_id, people.jobs)
        item = session.get(ProgrammeItem, record.item_id)
        assert item is not None
        return session_json(record, item.exercise)

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
        item = session.get(ProgrammeItem, suggestion.item_id)
        assert item is not None
        return suggestion_json(suggestion, item.exercise)

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


class BodyRefusedError(Exception):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


REFUSALS: tuple[tuple[type[Exception], int, str], ...] = (
    (service.NotFoundError, HTTP_NOT_FOUND, "not_found"),
    (service.ForbiddenError, HTTP_FORBIDDEN, "forbidden"),
    (SignInError, HTTP_UNAUTHORIZED, "sign_in_failed"),
    (ProgrammeError, HTTP_UNPROCESSABLE, "not_valid"),
    (AccountError, HTTP_UNPROCESSABLE, "not_valid"),
)


def install_handlers(app: Any) -> None:
    """The app-level answers for the people routes' refusals. A route's error passes through
    its database session first, so nothing it did is committed."""
    for kind, status, code in REFUSALS:
        app.add_exception_handler(kind, _refusal_handler(status, code))

    @app.exception_handler(NotSignedInError)
    async def not_signed_in(_: Request, __: NotSignedInError) -> JSONResponse:
        return _error(HTTP_UNAUTHORIZED, "not_signed_in", NOT_SIGNED_IN)

    @app.exception_handler(BodyRefusedError)
    async def body_refused(_: Request, error: BodyRefusedError) -> JSONResponse:
        return _error(error.status, "bad_body", error.detail)


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
