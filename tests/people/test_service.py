"""The service on the database: the dashboard's missed sessions, pending uploads whose job
went away, and suggestions across decisions (no repeat on the same history; a step back
restores the prescription before the last progression)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from formcheck.jobs.store import Job
from formcheck.people.accounts import create_account
from formcheck.people.db import Database
from formcheck.people.models import Programme, Suggestion, TrainingSession, utc_now
from formcheck.people.service import (
    create_programme,
    dashboard_row,
    decide,
    record_session,
    refresh_pending,
    suggestions_of,
)
from tests.people.synthetic_reports import set_report

PASSWORD = "correct horse battery"
RULES = {"sessions_required": 2, "steps": [{"kind": "reps", "step": 2, "limit": 14}]}
ITEM = {"exercise": "glute_bridge", "prescription": {"reps": 10}, "rules": RULES}


def setup(database: Database) -> tuple[int, int, int]:
    with database.session() as session:
        clinician = create_account(session, "ana", PASSWORD, "clinician")
        person = create_account(session, "pat", PASSWORD, "person", "Pat", clinician)
        programme = create_programme(session, clinician, person.id, "Bridges", 3, [ITEM])
        return clinician.id, person.id, programme.items[0].id


def live(database: Database, person_id: int, item_id: int, pain: int, **report: Any) -> int:
    with database.session() as session:
        from formcheck.people.models import Account

        person = session.get(Account, person_id)
        assert person is not None
        record = record_session(session, person, person_id, item_id, source="live",
                                report=set_report(**report), pain=pain)  # fmt: skip
        return record.id


def test_missed_sessions_are_flagged_against_the_programmes_week(database: Database) -> None:
    _, person_id, item_id = setup(database)
    with database.session() as session:
        programme = session.query(Programme).one()
        programme.created_at = utc_now() - dt.timedelta(days=10)
    live(database, person_id, item_id, pain=2)
    with database.session() as session:
        from formcheck.people.models import Account

        person = session.get(Account, person_id)
        assert person is not None
        row = dashboard_row(session, person, utc_now())
        assert "sessions missed: 1 of 3 this week" in row["flags"]
        assert row["sessions_this_week"] == 1


def test_a_new_programme_is_not_flagged_as_missed(database: Database) -> None:
    _, person_id, _ = setup(database)
    with database.session() as session:
        from formcheck.people.models import Account

        person = session.get(Account, person_id)
        assert person is not None
        assert dashboard_row(session, person, utc_now())["flags"] == []


class _GoneJobs:
    """A job backend whose jobs were all deleted (retention, or by hand)."""

    data: Any = None

    def get(self, job_id: str) -> Job | None:
        return None

    def report_file(self, job_id: str, name: str) -> None:
        return None

    def submit(self, source: Any, display_name: str, options: Any = None) -> Job:
        raise AssertionError("not used")


def test_a_pending_upload_whose_job_is_gone_is_marked_failed(database: Database) -> None:
    _, person_id, item_id = setup(database)
    with database.session() as session:
        pending = TrainingSession(person_id=person_id, item_id=item_id, source="job",
                                  job_id="deadbeef", state="pending", prescription={})  # fmt: skip
        session.add(pending)
    with database.session() as session:
        refresh_pending(session, person_id, _GoneJobs())
    with database.session() as session:
        assert session.query(TrainingSession).one().state == "failed"


def test_decisions_and_a_step_back_to_the_previous_prescription(database: Database) -> None:
    clinician_id, person_id, item_id = setup(database)
    live(database, person_id, item_id, pain=2)
    live(database, person_id, item_id, pain=2)
    with database.session() as session:
        [(suggestion, _)] = suggestions_of(session, person_id)
        assert suggestion.kind == "progress" and suggestion.proposed == {"reps": 12}
        from formcheck.people.models import Account

        clinician = session.get(Account, clinician_id)
        assert clinician is not None
        decide(session, clinician, suggestion.id, "edit", {"reps": 11})
    with database.session() as session:
        [(decided, _)] = suggestions_of(session, person_id)
        assert decided.status == "edited" and decided.applied == {"reps": 11}
    # pain jumps at the new prescription: step back to where it was before the progression
    live(database, person_id, item_id, pain=5, back_mm=[6.0] * 11,
         on_tempo=[True] * 11)  # fmt: skip
    with database.session() as session:
        newest = session.query(Suggestion).order_by(Suggestion.id.desc()).first()
        assert newest is not None and newest.kind == "step_back"
        assert newest.before == {"reps": 11} and newest.proposed == {"reps": 10}
        assert "pain 5 is 3 above the baseline 2" in newest.reason


def test_a_dismissed_suggestion_does_not_come_back_on_the_same_history(
    database: Database,
) -> None:
    """Dismissed on this history, it waits for the next set like an accepted one: a note or
    a rating of the same set does not propose it again."""
    from formcheck.people.models import Account
    from formcheck.people.service import rate_session

    clinician_id, person_id, item_id = setup(database)
    live(database, person_id, item_id, pain=2)
    last = live(database, person_id, item_id, pain=2)
    with database.session() as session:
        [(suggestion, _)] = suggestions_of(session, person_id)
        clinician = session.get(Account, clinician_id)
        assert clinician is not None
        decide(session, clinician, suggestion.id, "dismiss")
    with database.session() as session:
        person = session.get(Account, person_id)
        assert person is not None
        rate_session(session, person, last, effort=4, pain=None, note="felt fine")
    with database.session() as session:
        assert [s.status for s, _ in suggestions_of(session, person_id)] == ["dismissed"]
    live(database, person_id, item_id, pain=2)  # a new set: a new look at the history
    with database.session() as session:
        assert [s.status for s, _ in suggestions_of(session, person_id)] == ["open", "dismissed"]


def test_of_two_decisions_at_once_the_second_finds_the_first(database: Database) -> None:
    """Two tabs: accept in one, dismiss in the other before the first has committed. The
    second must not overwrite the first (the item would keep the accepted prescription
    while the suggestion read "dismissed")."""
    import threading

    from formcheck.people.models import Account, ProgrammeItem
    from formcheck.people.programmes import ProgrammeError

    clinician_id, person_id, item_id = setup(database)
    live(database, person_id, item_id, pain=2)
    live(database, person_id, item_id, pain=2)
    with database.session() as session:
        [(suggestion, _)] = suggestions_of(session, person_id)
        suggestion_id = suggestion.id
    outcome: dict[str, str] = {}

    def second_tab() -> None:
        try:
            with database.session() as other:
                clinician = other.get(Account, clinician_id)
                assert clinician is not None
                outcome["second"] = decide(other, clinician, suggestion_id, "dismiss").status
        except ProgrammeError as error:
            outcome["second"] = str(error)

    with database.session() as first:
        clinician = first.get(Account, clinician_id)
        assert clinician is not None
        decide(first, clinician, suggestion_id, "accept")
        first.flush()
        tab = threading.Thread(target=second_tab)
        tab.start()
        tab.join(timeout=0.5)  # it reads, then waits for this transaction to end
    tab.join(timeout=60)
    assert not tab.is_alive()
    assert outcome["second"] == "The suggestion was already accepted."
    with database.session() as session:
        stored = session.get(Suggestion, suggestion_id)
        item = session.get(ProgrammeItem, item_id)
        assert stored is not None and item is not None
        assert (stored.status, item.prescription) == ("accepted", {"reps": 12})
