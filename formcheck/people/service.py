"""What the routes and the command line do with the people database, and who may do it.

Visibility: a clinician sees the people they look after (and themselves); a person sees only
themselves. Anything else reads as "not found" (no telling which ids exist). Changing a
programme or deciding a suggestion is a clinician's; recording a set and rating it is the
person's or their clinician's.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Sequence
from typing import Any, BinaryIO, Protocol

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from formcheck.errors import FormcheckError
from formcheck.jobs.datadir import DataDir
from formcheck.jobs.store import Job, JobState
from formcheck.people.accounts import Account
from formcheck.people.measures import report_from_json, set_measures
from formcheck.people.models import (
    Programme,
    ProgrammeItem,
    Suggestion,
    TrainingSession,
    as_utc,
    utc_now,
)
from formcheck.people.programmes import (
    ProgrammeError,
    parse_prescription,
    parse_rules,
    prescription_json,
)
from formcheck.people.progress import SessionPoint, progress
from formcheck.people.suggestions import HistoryEntry, suggest
from formcheck.report.model import Report, ReportSource

log = logging.getLogger("formcheck.people")
MAX_RATING = 10
DAYS_PER_WEEK = 7
RECENT_DAYS = 7  # the dashboard's "this week": the last seven days
MAX_NOTE_CHARS = 2_000


class NotFoundError(FormcheckError):
    """No such thing for this account (it may exist for someone else)."""


class ForbiddenError(FormcheckError):
    """This account may see it but not do that (a person deciding their own programme)."""


class JobSource(Protocol):
    """The part of the job backend sessions use: a job, its report file, its data directory
    (the stored upload) and submitting a new job."""

    data: DataDir

    def get(self, job_id: str) -> Job | None: ...
    def report_file(self, job_id: str, name: str) -> Any: ...
    def submit(
        self, source: BinaryIO, display_name: str, options: dict[str, Any] | None = None
    ) -> Job: ...


# --- who may see whom -----------------------------------------------------------------------


def visible_person(session: Session, account: Account, person_id: int) -> Account:
    """The person ``account`` may see with this id; NotFoundError otherwise."""
    person = session.get(Account, person_id)
    if person is None or person.role != "person":
        raise NotFoundError("There is no such person.")
    if account.id == person.id or (
        account.role == "clinician" and person.clinician_id == account.id
    ):
        return person
    raise NotFoundError("There is no such person.")


def require_clinician_of(session: Session, account: Account, person_id: int) -> Account:
    person = visible_person(session, account, person_id)
    if account.role != "clinician":
        raise ForbiddenError("Only the person's clinician may change their programme.")
    return person


def visible_item(session: Session, account: Account, item_id: int) -> ProgrammeItem:
    item = session.get(ProgrammeItem, item_id)
    if item is None:
        raise NotFoundError("There is no such programme item.")
    visible_person(session, account, item.programme.person_id)
    return item


def people_of(session: Session, account: Account) -> list[Account]:
    if account.role == "clinician":
        query = select(Account).where(Account.clinician_id == account.id).order_by(Account.id)
        return list(session.scalars(query))
    return [account]


# --- programmes -----------------------------------------------------------------------------


def create_programme(
    session: Session,
    clinician: Account,
    person_id: int,
    name: str,
    sessions_per_week: int,
    items: Sequence[dict[str, Any]],
) -> Programme:
    person = require_clinician_of(session, clinician, person_id)
    programme = Programme(
        person_id=person.id, clinician_id=clinician.id, name=name,
        sessions_per_week=sessions_per_week,
    )  # fmt: skip
    session.add(programme)
    session.flush()
    for position, data in enumerate(items):
        exercise = str(data.get("exercise", ""))
        _check_exercise(exercise)
        prescription = parse_prescription(exercise, dict(data.get("prescription") or {}))
        rules = parse_rules(dict(data.get("rules") or {}))
        session.add(
            ProgrammeItem(
                programme_id=programme.id, position=position, exercise=exercise,
                prescription=prescription_json(prescription), rules=rules.model_dump(),
                reference=checked_reference(data.get("reference"), exercise),
            )
        )  # fmt: skip
    session.flush()
    session.refresh(programme)
    return programme


def update_item(
    session: Session,
    clinician: Account,
    item_id: int,
    prescription: dict[str, Any] | None = None,
    rules: dict[str, Any] | None = None,
    reference: dict[str, Any] | None = None,
) -> ProgrammeItem:
    item = visible_item(session, clinician, item_id)
    require_clinician_of(session, clinician, item.programme.person_id)
    if prescription is not None:
        item.prescription = prescription_json(parse_prescription(item.exercise, prescription))
    if rules is not None:
        item.rules = parse_rules(rules).model_dump()
    if reference is not None:
        item.reference = checked_reference(reference, item.exercise)
    return item


def checked_reference(data: dict[str, Any] | None, exercise: str) -> dict[str, Any] | None:
    """A personal reference rep (``formcheck reference record``'s file) for this exercise."""
    from formcheck.analyzers.errors import PrescriptionError
    from formcheck.analyzers.personal_reference import reference_from_mapping

    if data is None:
        return None
    try:
        reference = reference_from_mapping(data, "of the programme item", exercise)
    except PrescriptionError as error:
        raise ProgrammeError(str(error)) from error
    return reference.model_dump(mode="json")


def _check_exercise(exercise: str) -> None:
    from formcheck.analyzers import exercise_names

    names = exercise_names()
    if exercise not in names:
        raise ProgrammeError(
            f"There is no exercise called '{exercise}'; choose one of {', '.join(sorted(names))}."
        )


# --- sessions -------------------------------------------------------------------------------


def record_session(
    session: Session,
    account: Account,
    person_id: int,
    item_id: int,
    *,
    source: str,
    jobs: JobSource | None = None,
    job_id: str | None = None,
    report: dict[str, Any] | None = None,
    report_attested: bool = True,
    effort: int | None = None,
    pain: int | None = None,
) -> TrainingSession:
    """A set attached to the person and one item of their programme: an upload (its job,
    whose report is read once it is done) or a finished set's report (live or file).
    ``report_attested``: the report is known to be the analysis' own (the routes: it carries
    this server's signature; the command line made it itself)."""
    person = visible_person(session, account, person_id)
    item = visible_item(session, account, item_id)
    if item.programme.person_id != person.id:
        raise NotFoundError("There is no such programme item for this person.")
    _check_ratings(effort, pain)
    record = TrainingSession(
        person_id=person.id, item_id=item.id, source=source, state="pending",
        prescription=dict(item.prescription), effort=effort, pain=pain,
    )  # fmt: skip
    if source == "job":
        job = jobs.get(job_id) if jobs is not None and job_id else None
        if job is None:
            raise NotFoundError("There is no such upload (job).")
        exercise = (job.options.get("settings") or {}).get("exercise")
        if exercise != item.exercise:
            raise ProgrammeError(
                f"The upload is of {exercise}, the programme item {item.exercise}."
            )
        taken = select(TrainingSession.id).where(TrainingSession.job_id == job.id)
        if session.scalar(taken) is not None:
            raise ProgrammeError("That upload is already recorded as a session.")
        record.job_id = job.id
    elif source in (ReportSource.LIVE.value, ReportSource.FILE.value):
        if not report_attested:
            raise ProgrammeError(
                "That report was not made by this server (its signature is missing or does "
                "not match): record a live set from the page that ran it, or a recording as "
                "an upload."
            )
        parsed = report_from_json(report or {})
        if parsed.source.value != source:
            raise ProgrammeError(f"The report is from a {parsed.source.value} set, not {source}.")
        if parsed.exercise != item.exercise:
            raise ProgrammeError(
                f"The set was of {parsed.exercise}, the programme item {item.exercise}."
            )
        _finish(record, parsed)
    else:
        raise ProgrammeError("A session's source is 'job', 'live' or 'file'.")
    session.add(record)
    session.flush()
    if record.state == "done":
        evaluate_item(session, item)
    return record


def rate_session(
    session: Session,
    account: Account,
    session_id: int,
    effort: int | None,
    pain: int | None,
    note: str | None = None,
) -> TrainingSession:
    record = session.get(TrainingSession, session_id)
    if record is None:
        raise NotFoundError("There is no such session.")
    visible_person(session, account, record.person_id)
    _check_ratings(effort, pain)
    if effort is not None:
        record.effort = effort
    if pain is not None:
        record.pain = pain
    if note is not None:
        record.note = note[:MAX_NOTE_CHARS]
    if record.state == "done":
        evaluate_item(session, session.get(ProgrammeItem, record.item_id))
    return record


SHARE_NAME = "a shared set"  # the name a shared copy's report shows (not the file's)


def share_session(
    session: Session, account: Account, session_id: int, jobs: JobSource | None
) -> TrainingSession:
    """A de-identified copy of an uploaded set: the same upload analysed again as a job of its
    own whose annotated video and key frames show only the skeleton and back outline (no
    camera pixels), and whose report does not name the file. Its job id is the link to give."""
    record = session.get(TrainingSession, session_id)
    if record is None:
        raise NotFoundError("There is no such session.")
    visible_person(session, account, record.person_id)
    if record.share_job_id is not None:
        return record
    job = jobs.get(record.job_id) if jobs is not None and record.job_id else None
    if jobs is None or job is None:
        raise ProgrammeError("Only an uploaded set that is still kept can be shared.")
    path = jobs.data.upload_path(job.upload_name)
    if not path.is_file():
        raise ProgrammeError("The upload is no longer kept (its retention ended).")
    options = {"settings": job.options.get("settings") or {}, "deidentified": True,
               "display_name": SHARE_NAME, "height_cm": job.options.get("height_cm")}  # fmt: skip
    with path.open("rb") as source:
        shared = jobs.submit(source, SHARE_NAME, options)
    record.share_job_id = shared.id
    return record


def _check_ratings(*ratings: int | None) -> None:
    if any(r is not None and not 0 <= r <= MAX_RATING for r in ratings):
        raise ProgrammeError(f"Effort and pain are rated from 0 to {MAX_RATING}.")


def _finish(record: TrainingSession, report: Report) -> None:
    record.measures = set_measures(report)
    record.state = "done"


def refresh_pending(session: Session, person_id: int, jobs: JobSource | None) -> None:
    """Sessions waiting on their upload's analysis: done ones read their report, failed or
    deleted ones are marked failed."""
    if jobs is None:
        return
    query = select(TrainingSession).where(
        TrainingSession.person_id == person_id, TrainingSession.state == "pending"
    )
    for record in session.scalars(query):
        job = jobs.get(record.job_id) if record.job_id else None
        if job is None or job.state is JobState.FAILED:
            record.state = "failed"
        elif job.state is JobState.DONE:
            path = jobs.report_file(job.id, "report.json")
            if path is None:
                record.state = "failed"
                continue
            try:
                _finish(record, report_from_json(json.loads(path.read_text(encoding="utf-8"))))
            except (OSError, ValueError, FormcheckError) as error:
                log.warning("session %s: report of job %s unreadable: %s", record.id, job.id, error)
                record.state = "failed"
                continue
            session.flush()
            evaluate_item(session, session.get(ProgrammeItem, record.item_id))


def sessions_of(session: Session, person_id: int, exercise: str | None = None) -> list[Any]:
    query = (
        select(TrainingSession, ProgrammeItem.exercise)
        .join(ProgrammeItem, ProgrammeItem.id == TrainingSession.item_id)
        .where(TrainingSession.person_id == person_id)
        .order_by(TrainingSession.recorded_at, TrainingSession.id)
    )
    if exercise is not None:
        query = query.where(ProgrammeItem.exercise == exercise)
    return list(session.execute(query).all())


def point_of(record: TrainingSession) -> SessionPoint:
    return SessionPoint(
        record.id, as_utc(record.recorded_at), record.measures or {}, record.pain, record.effort
    )


def progress_of(session: Session, person_id: int, exercise: str) -> dict[str, Any]:
    rows = sessions_of(session, person_id, exercise)
    points = [point_of(r) for r, _ in rows if r.state == "done"]
    return {
        "exercise": exercise,
        "sessions": len(points),
        "metrics": {k: s.to_dict() for k, s in progress(points).items()},
    }


# --- suggestions ----------------------------------------------------------------------------


def evaluate_item(session: Session, item: ProgrammeItem | None) -> Suggestion | None:
    """A new suggestion for this item when its history calls for one and none is open."""
    if item is None:
        return None
    open_one = select(Suggestion.id).where(
        Suggestion.item_id == item.id, Suggestion.status == "open"
    )
    if session.scalar(open_one) is not None:
        return None
    records = session.scalars(
        select(TrainingSession)
        .where(TrainingSession.item_id == item.id, TrainingSession.state == "done")
        .order_by(TrainingSession.recorded_at, TrainingSession.id)
    ).all()
    if not records:
        return None
    history = [HistoryEntry(point_of(r), dict(r.prescription)) for r in records]
    seen = select(Suggestion.id).where(
        Suggestion.item_id == item.id, Suggestion.last_session_id == records[-1].id
    )
    if session.scalar(seen) is not None:
        return None  # decided on this very history (accepted, edited or dismissed): wait
    last_decided = session.scalar(
        select(Suggestion)
        .where(Suggestion.item_id == item.id, Suggestion.status.in_(("accepted", "edited")))
        .order_by(Suggestion.decided_at.desc(), Suggestion.id.desc())
    )
    previous = (
        dict(last_decided.before)
        if last_decided is not None and last_decided.kind == "progress"
        else None
    )
    prescription = parse_prescription(item.exercise, dict(item.prescription))
    proposal = suggest(prescription, parse_rules(dict(item.rules)), history, previous)
    if proposal is None:
        return None
    suggestion = Suggestion(
        item_id=item.id, kind=proposal.kind, reason=proposal.reason, basis=proposal.basis,
        before=dict(item.prescription), proposed=prescription_json(proposal.proposed),
        last_session_id=records[-1].id,
    )  # fmt: skip
    session.add(suggestion)
    session.flush()
    return suggestion


def decide(
    session: Session,
    clinician: Account,
    suggestion_id: int,
    action: str,
    prescription: dict[str, Any] | None = None,
) -> Suggestion:
    """accept (apply the proposal), edit (apply the clinician's own) or dismiss."""
    suggestion = session.get(Suggestion, suggestion_id)
    if suggestion is None:
        raise NotFoundError("There is no such suggestion.")
    item = visible_item(session, clinician, suggestion.item_id)
    require_clinician_of(session, clinician, item.programme.person_id)
    if suggestion.status != "open":
        raise ProgrammeError(f"The suggestion was already {suggestion.status}.")
    if action == "accept":
        applied: dict[str, Any] | None = dict(suggestion.proposed)
        status = "accepted"
    elif action == "edit":
        if prescription is None:
            raise ProgrammeError("Editing a suggestion needs the prescription to apply.")
        applied = prescription_json(parse_prescription(item.exercise, prescription))
        status = "edited"
    elif action == "dismiss":
        applied, status = None, "dismissed"
    else:
        raise ProgrammeError("The action is accept, edit or dismiss.")
    # Decided only if still open when written: of two decisions at once (two tabs), the
    # second waits for the first's transaction and then finds it decided.
    decided = session.execute(
        update(Suggestion)
        .where(Suggestion.id == suggestion.id, Suggestion.status == "open")
        .values(status=status, applied=applied, decided_at=utc_now(), decided_by=clinician.id)
        .execution_options(synchronize_session=False)
    )
    session.refresh(suggestion)
    if getattr(decided, "rowcount", 0) != 1:
        raise ProgrammeError(f"The suggestion was already {suggestion.status}.")
    if applied is not None:
        item.prescription = applied
    return suggestion


def suggestions_of(session: Session, person_id: int) -> list[tuple[Suggestion, str]]:
    query = (
        select(Suggestion, ProgrammeItem.exercise)
        .join(ProgrammeItem, ProgrammeItem.id == Suggestion.item_id)
        .join(Programme, Programme.id == ProgrammeItem.programme_id)
        .where(Programme.person_id == person_id)
        .order_by(Suggestion.created_at.desc(), Suggestion.id.desc())
    )
    return [(s, e) for s, e in session.execute(query).all()]


# --- the clinician's dashboard --------------------------------------------------------------


def dashboard_row(session: Session, person: Account, now: dt.datetime) -> dict[str, Any]:
    rows = sessions_of(session, person.id)
    done = [r for r, _ in rows if r.state == "done"]
    last = done[-1] if done else None
    since = now - dt.timedelta(days=RECENT_DAYS)
    recent = [r for r in done if as_utc(r.recorded_at) >= since]
    flags: list[str] = []
    if any((r.measures or {}).get("spine_findings") for r in recent):
        flags.append("spine findings this week")
    exercises = sorted({e for _, e in rows})
    for exercise in exercises:
        pain = progress([point_of(r) for r, e in rows if e == exercise and r.state == "done"])
        if pain["pain"].verdict == "worse":
            flags.append(f"pain up ({exercise})")
    planned = session.scalar(
        select(func.coalesce(func.max(Programme.sessions_per_week), 0)).where(
            Programme.person_id == person.id, Programme.created_at <= since
        )
    )
    if planned and len(recent) < planned:
        flags.append(f"sessions missed: {len(recent)} of {planned} this week")
    open_count = sum(1 for s, _ in suggestions_of(session, person.id) if s.status == "open")
    return {
        "id": person.id, "username": person.username, "display_name": person.display_name,
        "last_session_at": as_utc(last.recorded_at).isoformat() if last else None,
        "sessions_this_week": len(recent), "flags": flags, "open_suggestions": open_count,
    }  # fmt: skip
