"""Every people test runs on SQLite and on a real PostgreSQL server started on loopback."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

from formcheck.people.db import Database
from tests.db_services import PostgresServer

_database_numbers = itertools.count(1)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A real PostgreSQL for the session (skips when it is not installed)."""
    server = PostgresServer()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database: a SQLite file in a fresh folder, or a new PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'data' / 'people.db'}"
    server: PostgresServer = request.getfixturevalue("postgres_server")
    return server.create_database(f"people_test_{next(_database_numbers)}")


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    db = Database(database_url)
    yield db
    db.close()


# argon2 at its real cost (64 MiB, 3 passes) takes about a second a sign-in on a loaded
# two-core machine; the route tests sign in dozens of times. test_accounts checks the
# production parameters and that hashes made with other ones still verify and get rehashed.
CHEAP_ARGON2 = {"time_cost": 1, "memory_cost": 1024, "parallelism": 1}


@pytest.fixture(autouse=True)
def _cheap_password_hashing() -> Iterator[None]:
    from argon2 import PasswordHasher

    from formcheck.people.accounts import use_hasher

    previous = use_hasher(PasswordHasher(**CHEAP_ARGON2))
    yield
    use_hasher(previous)
