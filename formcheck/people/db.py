"""The people database: open it, migrate it, hand out sessions.

``database_url`` None means SQLite at ``<data dir>/people.db`` (the embedded default: the
folder 0700, the file and its journal 0600). ``postgresql://USER@HOST/DB`` (psycopg 3 is
the driver) serves a clinic. Opening a database brings its schema to the newest Alembic
migration shipped with the package (``formcheck/people/migrations``), inside one
transaction on PostgreSQL.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.engine import URL
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from formcheck.errors import FormcheckError
from formcheck.jobs.durable import PRIVATE_FILE_MODE, private_dir

DB_FILE_NAME = "people.db"
MIGRATIONS_DIR = Path(__file__).parent / "migrations"
SQLITE_BUSY_TIMEOUT_S = 30.0  # writers wait for each other this long, not fail at once
SUPPORTED_BACKENDS = ("sqlite", "postgresql")


class DatabaseError(FormcheckError):
    """The people database cannot be opened or migrated."""

    exit_code = 2


def default_url(data_dir: Path) -> str:
    return f"sqlite:///{data_dir / DB_FILE_NAME}"


def normalized_url(url: str) -> URL:
    """``postgresql://`` means psycopg 3; anything but SQLite and PostgreSQL is refused."""
    try:
        parsed = make_url(url)
    except Exception as error:  # sqlalchemy raises ArgumentError, and ValueError for ports
        raise DatabaseError(f"The database URL is not valid: {error}.") from error
    backend = parsed.get_backend_name()
    if backend not in SUPPORTED_BACKENDS:
        raise DatabaseError(
            f"The database must be SQLite or PostgreSQL (sqlite:///PATH or "
            f"postgresql://USER@HOST/DB), not {backend}."
        )
    if backend == "postgresql" and parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def _prepare_sqlite_file(url: URL) -> None:
    """The folder 0700 and the file 0600 before SQLite creates it (its journal and WAL
    files take the database file's permissions)."""
    if not url.database or url.database == ":memory:":
        return
    path = Path(url.database)
    private_dir(path.parent)
    if not path.exists():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, PRIVATE_FILE_MODE))
    if path.stat().st_mode & 0o777 != PRIVATE_FILE_MODE:
        path.chmod(PRIVATE_FILE_MODE)


def create_db_engine(url: str) -> Engine:
    parsed = normalized_url(url)
    if parsed.get_backend_name() == "sqlite":
        _prepare_sqlite_file(parsed)
        engine = create_engine(parsed, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S})

        @event.listens_for(engine, "connect")
        def _pragmas(connection: Any, _record: Any) -> None:
            cursor = connection.cursor()
            cursor.execute("PRAGMA foreign_keys = ON")  # SQLite leaves them off by default
            cursor.execute("PRAGMA journal_mode = WAL")  # readers never block the writer
            cursor.execute("PRAGMA synchronous = FULL")  # a commit survives a power cut
            cursor.close()

        return engine
    return create_engine(parsed, pool_pre_ping=True)


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


def head_revision() -> str:
    """The newest migration shipped with the package."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    head = ScriptDirectory.from_config(config).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    command.upgrade(alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str = "base") -> None:
    command.downgrade(alembic_config(engine), revision)


class Database:
    """An engine on a migrated database and a session factory."""

    def __init__(self, url: str, *, migrate: bool = True) -> None:
        self.url = url
        self.engine = create_db_engine(url)
        try:
            if migrate:
                upgrade(self.engine)
        except SQLAlchemyError as error:
            self.engine.dispose()
            where = normalized_url(url).render_as_string(hide_password=True)
            raise DatabaseError(f"The database {where} cannot be opened: {error}") from error
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def backend(self) -> str:
        return self.engine.url.get_backend_name()

    @contextlib.contextmanager
    def session(self) -> Iterator[Session]:
        """A session whose work is committed when the block ends, rolled back on an error."""
        with self._sessions() as session, session.begin():
            yield session

    def close(self) -> None:
        self.engine.dispose()
