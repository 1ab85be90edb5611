"""A real PostgreSQL server on loopback for the people database's tests.

``PostgresServer`` runs Debian's PostgreSQL 15 (``initdb`` and ``postgres`` from
/usr/lib/postgresql/<version>/bin) on a free 127.0.0.1 port, its data and socket in a fresh
folder, trust authentication for the one test user (nothing but loopback can reach it),
and stops it (and removes the folder) at the end. PostgreSQL refuses to run as root: as
root, it runs as the ``postgres`` system user the Debian package creates.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import stat
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.queue_services import free_port, wait_for

PG_BIN_GLOB = "/usr/lib/postgresql/*/bin"
START_WAIT_S = 60.0
STOP_WAIT_S = 30.0
TEST_USER = "formcheck"
SYSTEM_USER = "postgres"


def postgres_bin_dir() -> Path:
    """The newest installed PostgreSQL's programs, or skip with the reason."""
    found = sorted(glob.glob(PG_BIN_GLOB), key=lambda p: int(Path(p).parent.name))
    for folder in reversed(found):
        if (Path(folder) / "initdb").is_file() and (Path(folder) / "postgres").is_file():
            return Path(folder)
    pytest.skip(
        "PostgreSQL is not installed (Debian's postgresql package; scripts/ci_system_deps.sh "
        "installs it in CI)"
    )


def _traversable_tmp() -> str:
    """A temporary folder's parent the ``postgres`` user can reach (this machine's /tmp may
    be root's alone)."""
    for candidate in (tempfile.gettempdir(), "/var/tmp", "/dev/shm"):
        if os.path.isdir(candidate) and os.stat(candidate).st_mode & stat.S_IXOTH:
            return candidate
    pytest.skip("no temporary folder the postgres user can reach for a test server")


class PostgresServer:
    """``postgres`` on 127.0.0.1:<free port>; ``url()`` names a database on it."""

    def __init__(self) -> None:
        self.bin = postgres_bin_dir()
        self.folder = Path(tempfile.mkdtemp(prefix="formcheck-pg-", dir=_traversable_tmp()))
        self.port = free_port()
        self._as_user: list[str] = []
        if os.geteuid() == 0:
            try:
                user = pwd.getpwnam(SYSTEM_USER)
            except KeyError:
                pytest.skip("running as root and there is no 'postgres' user to run PostgreSQL")
            os.chown(self.folder, user.pw_uid, user.pw_gid)
            self._as_user = ["runuser", "-u", SYSTEM_USER, "--"]
        self.data = self.folder / "data"
        self._run([str(self.bin / "initdb"), "-D", str(self.data), "-U", TEST_USER,
                   "--auth=trust", "--encoding=UTF8", "--no-sync"])  # fmt: skip
        log = (self.folder / "postgres.log").open("wb")
        self.process = subprocess.Popen(
            [*self._as_user, str(self.bin / "postgres"), "-D", str(self.data),
             "-p", str(self.port), "-c", "listen_addresses=127.0.0.1",
             "-c", f"unix_socket_directories={self.folder}", "-c", "fsync=off"],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        log.close()
        wait_for(self._ready, "PostgreSQL to accept connections", START_WAIT_S)

    def _run(self, argv: list[str]) -> None:
        done = subprocess.run([*self._as_user, *argv], capture_output=True, text=True, check=False)
        assert done.returncode == 0, f"{argv[0]} failed:\n{done.stdout}\n{done.stderr}"

    def _ready(self) -> bool:
        import psycopg

        assert self.process.poll() is None, f"postgres exited:\n{self.log_tail()}"
        try:
            with psycopg.connect(self._dsn("postgres"), connect_timeout=1):
                return True
        except psycopg.OperationalError:
            return False

    def _dsn(self, database: str) -> str:
        return f"postgresql://{TEST_USER}@127.0.0.1:{self.port}/{database}"

    def log_tail(self, chars: int = 3000) -> str:
        path = self.folder / "postgres.log"
        return path.read_text(encoding="utf-8", errors="replace")[-chars:] if path.is_file() else ""

    def create_database(self, name: str) -> str:
        """A new, empty database; its SQLAlchemy URL."""
        import psycopg

        with psycopg.connect(self._dsn("postgres"), autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return self._dsn(name)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # fast shutdown: open connections end
            try:
                self.process.wait(STOP_WAIT_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        with contextlib.suppress(OSError):
            shutil.rmtree(self.folder)
