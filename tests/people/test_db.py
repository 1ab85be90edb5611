"""The people database: migrations up and down on SQLite and PostgreSQL, the migrated schema
matches the models, private files, clear errors for bad URLs."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from formcheck.people import db as people_db
from formcheck.people.db import Database, DatabaseError, create_db_engine, normalized_url
from formcheck.people.models import Account, Base

TABLES = {"accounts", "credentials", "programmes", "programme_items", "training_sessions",
          "suggestions", "sign_in_throttles"}  # fmt: skip


def test_migrations_go_up_down_and_up_again(database_url: str) -> None:
    engine = create_db_engine(database_url)
    try:
        assert people_db.current_revision(engine) is None
        people_db.upgrade(engine)
        assert people_db.current_revision(engine) == people_db.head_revision()
        assert set(inspect(engine).get_table_names()) >= TABLES
        people_db.downgrade(engine)
        assert people_db.current_revision(engine) is None
        assert not TABLES & set(inspect(engine).get_table_names())
        people_db.upgrade(engine)
        assert set(inspect(engine).get_table_names()) >= TABLES
    finally:
        engine.dispose()


def test_a_database_at_0002_keeps_its_sign_ins_through_0003_and_back(database_url: str) -> None:
    """0003 adds a token's last use and the wrong-password throttles to a database in use."""
    from sqlalchemy import text

    engine = create_db_engine(database_url)
    try:
        people_db.upgrade(engine, "0002")
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO accounts (id, username, display_name, role, password_hash, "
                    "created_at) VALUES (1, 'ana', 'Ana', 'clinician', 'x', :t)"
                ),
                {"t": "2026-01-01"},
            )
            connection.execute(
                text(
                    "INSERT INTO credentials (account_id, kind, secret_sha256, label, created_at, "
                    "expires_at) VALUES (1, 'api', :h, 'cli', :t, :t)"
                ),
                {"h": "a" * 64, "t": "2026-01-01"},
            )
        people_db.upgrade(engine)
        assert {c["name"] for c in inspect(engine).get_columns("credentials")} >= {"last_used_at"}
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT label, last_used_at FROM credentials")).all()
        assert [tuple(r) for r in rows] == [("cli", None)]
        people_db.downgrade(engine, "0002")
        assert "sign_in_throttles" not in inspect(engine).get_table_names()
        with engine.connect() as connection:
            assert connection.execute(text("SELECT label FROM credentials")).scalar_one() == "cli"
    finally:
        engine.dispose()


def test_the_migrated_schema_is_what_the_models_say(database: Database) -> None:
    """A model changed without a migration (or the reverse) shows up as a difference."""
    with database.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []


def test_reopening_a_migrated_database_keeps_its_rows(database_url: str) -> None:
    first = Database(database_url)
    with first.session() as session:
        session.add(Account(username="ana", display_name="Ana", role="clinician",
                            password_hash="x"))  # fmt: skip
    first.close()
    second = Database(database_url)
    try:
        with second.session() as session:
            assert session.query(Account).one().username == "ana"
    finally:
        second.close()


def test_a_failed_transaction_leaves_nothing(database: Database) -> None:
    with pytest.raises(RuntimeError), database.session() as session:
        session.add(Account(username="ben", display_name="Ben", role="person", password_hash="x"))
        session.flush()
        raise RuntimeError("crash mid-transaction")
    with database.session() as session:
        assert session.query(Account).count() == 0


def test_sqlite_files_are_private(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    database = Database(people_db.default_url(folder))
    try:
        with database.session() as session:
            session.add(Account(username="c", display_name="C", role="person", password_hash="x"))
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
        files = [p for p in folder.iterdir() if p.name.startswith(people_db.DB_FILE_NAME)]
        assert files, "no database file was written"
        for path in files:  # the database and its WAL and shared-memory files
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name
    finally:
        database.close()


@pytest.mark.parametrize(
    ("url", "words"),
    [("mysql://u@h/db", "SQLite or PostgreSQL"), ("not a url", "not valid")],
)
def test_unsupported_or_bad_urls_are_refused_plainly(url: str, words: str) -> None:
    with pytest.raises(DatabaseError, match=words):
        normalized_url(url)


def test_postgresql_urls_use_psycopg_3() -> None:
    assert normalized_url("postgresql://u@h/db").drivername == "postgresql+psycopg"


def test_an_unreachable_server_is_a_plain_error() -> None:
    from tests.queue_services import free_port

    with pytest.raises(DatabaseError, match="cannot be opened"):
        Database(f"postgresql://nobody:secret@127.0.0.1:{free_port()}/nothing")
