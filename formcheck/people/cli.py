"""``formcheck users add``, ``formcheck history`` and ``formcheck analyze --person``.

The database is ``--database URL`` (a URL with a password: FORMCHECK_DATABASE_URL instead,
as for ``formcheck serve``), else ``people.db`` in ``--data-dir`` (default the server's). A
password is never an option (it would show in the process list): it is asked for twice on
the terminal, or read from FORMCHECK_PASSWORD.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from formcheck.analyzers.personal_reference import PersonalReference
from formcheck.analyzers.spec import Prescription
from formcheck.errors import FormcheckError
from formcheck.jobs.config import DEFAULT_DATA_DIR
from formcheck.people.accounts import Account, create_account
from formcheck.people.db import Database, default_url
from formcheck.people.models import Programme, ProgrammeItem
from formcheck.people.programmes import parse_prescription
from formcheck.people.service import progress_of, record_session, sessions_of

PASSWORD_VARIABLE = "FORMCHECK_PASSWORD"
DATABASE_VARIABLE = "FORMCHECK_DATABASE_URL"


def open_database(args: argparse.Namespace) -> Database:
    from formcheck.live_cli import queue_option

    if args.database:
        queue_option(args.database, DATABASE_VARIABLE)  # no password on the command line
        url = args.database
    elif os.environ.get(DATABASE_VARIABLE):
        url = os.environ[DATABASE_VARIABLE]
    else:
        url = default_url(Path(args.data_dir) if args.data_dir else DEFAULT_DATA_DIR)
    return Database(url)


def read_password() -> str:
    given = os.environ.get(PASSWORD_VARIABLE)
    if given is not None:
        return given
    if not sys.stdin.isatty():
        raise FormcheckError(
            f"No terminal to ask for the password on: set {PASSWORD_VARIABLE} instead."
        )
    first = getpass.getpass("Password: ")
    if getpass.getpass("Again: ") != first:
        raise FormcheckError("The two passwords differ.")
    return first


def cmd_users_add(args: argparse.Namespace) -> int:
    database = open_database(args)
    try:
        with database.session() as session:
            clinician = None
            if args.role == "person":
                if not args.clinician:
                    raise FormcheckError("A person needs their clinician: --clinician NAME.")
                clinician = _account(session, args.clinician)
            account = create_account(
                session, args.username, read_password(), args.role, args.name or "", clinician
            )
            print(f"added {account.role} {account.username} (id {account.id}) to "
                  f"{database.engine.url.render_as_string(hide_password=True)}")  # fmt: skip
    finally:
        database.close()
    return 0


def cmd_history(args: argparse.Namespace) -> int:
    database = open_database(args)
    try:
        with database.session() as session:
            person = _account(session, args.name)
            rows = sessions_of(session, person.id, args.exercise)
            exercises = [args.exercise] if args.exercise else sorted({e for _, e in rows})
            if not exercises:
                print(f"{person.username}: no sessions yet")
            for exercise in exercises:
                for line in history_lines(progress_of(session, person.id, exercise)):
                    print(line)
    finally:
        database.close()
    return 0


def history_lines(result: dict[str, object]) -> list[str]:
    """The progress table of one exercise, as printed by ``formcheck history``."""
    metrics = result["metrics"]
    assert isinstance(metrics, dict)
    header = f"  {'measure':28} {'first':>8} {'latest':>8} {'change':>8} {'MDC95':>7}  verdict"
    lines = [f"{result['exercise']}: {result['sessions']} sessions", header]
    for metric in metrics.values():
        if not metric["points"]:
            continue
        unit = f" ({metric['unit']})" if metric["unit"] else ""
        lines.append(
            f"  {(metric['label'] + unit)[:28]:28} {_num(metric['baseline']):>8} "
            f"{_num(metric['latest']):>8} {_num(metric['change']):>8} {_num(metric['mdc']):>7}  "
            f"{metric['verdict']}"
        )
    return lines


def programme_settings(
    args: argparse.Namespace, exercise: str
) -> tuple[Prescription, PersonalReference | None]:
    """The prescription and reference rep of ``args.person``'s programme item (``--item``,
    else the newest item of the exercise), for ``formcheck analyze --person``."""
    from formcheck.analyzers.personal_reference import reference_from_mapping

    database = open_database(args)
    try:
        with database.session() as session:
            person = _account(session, args.person)
            item = session.get(ProgrammeItem, args.item or _item_for(session, person, exercise))
            if item is None or item.programme.person_id != person.id:
                raise FormcheckError(f"{person.username}'s programme has no item {args.item}.")
            if item.exercise != exercise:
                raise FormcheckError(
                    f"Programme item {item.id} is {item.exercise}, not {exercise}."
                )
            prescription = parse_prescription(item.exercise, dict(item.prescription))
            reference = (
                reference_from_mapping(item.reference, "of the programme item", exercise)
                if item.reference is not None
                else None
            )
            return prescription, reference
    finally:
        database.close()


def record_analysis(args: argparse.Namespace, report_path: Path, exercise: str | None) -> str:
    """Record an analysed file as a session of ``args.person``'s programme item (``--item``,
    else the newest item of that exercise). Returns a line for the terminal."""
    database = open_database(args)
    try:
        with database.session() as session:
            person = _account(session, args.person)
            item_id = args.item or _item_for(session, person, exercise)
            report = json.loads(report_path.read_text(encoding="utf-8"))
            record = record_session(
                session, person, person.id, item_id, source="file", report=report,
                effort=args.effort, pain=args.pain,
            )  # fmt: skip
            return f"recorded as session {record.id} of {person.username}'s programme"
    finally:
        database.close()


def _item_for(session: Session, person: Account, exercise: str | None) -> int:
    item = session.scalar(
        select(ProgrammeItem)
        .join(Programme)
        .where(Programme.person_id == person.id, ProgrammeItem.exercise == exercise)
        .order_by(Programme.id.desc(), ProgrammeItem.position)
    )
    if item is None:
        raise FormcheckError(f"{person.username}'s programme has no {exercise} item.")
    return item.id


def _account(session: Session, username: str) -> Account:
    name = username.strip().lower()  # as accounts are named (formcheck.people.accounts)
    account = session.scalar(select(Account).where(Account.username == name))
    if account is None:
        raise FormcheckError(f"There is no account called '{username}'.")
    return account


def _num(value: float | None) -> str:
    return "–" if value is None else f"{value:.3g}"
