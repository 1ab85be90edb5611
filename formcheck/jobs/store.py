"""The job table in SQLite: queued -> running (progress) -> done | failed (plain reason).

Exactly-once completion: claiming a job gives the worker a fresh *lease token*; progress,
completion and failure are conditional updates on (id, token, state='running'), so a run
that lost its job (the process was killed, the job was requeued and claimed again) can no
longer change it. When the owning process starts (``recover``), every job still marked
running was interrupted: it is queued again, or failed once it has used ``max_attempts``.

One process owns a data directory at a time (``DataDir.acquire`` takes an exclusive
``flock``); job subprocesses open the same database without owning it, to write progress.

Durability: WAL with ``synchronous=FULL``, so a committed job (an upload answered 201, a
job marked done) survives a power cut. The database and its WAL are 0600.

Each job records its ``owner`` (who uploaded it: a client address today, an account once
there are accounts) for per-owner quotas, and an optional ``idempotency_key`` unique per
owner, so a retried upload finds the job the first attempt made.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

from formcheck.jobs.durable import PRIVATE_FILE_MODE
from formcheck.jobs.errors import QuotaExceededError

DB_NAME = "jobs.sqlite3"
DB_SIDE_FILES = ("-wal", "-shm", "-journal")
SCHEMA_VERSION = 2
BUSY_TIMEOUT_S = 10.0  # how long a write waits for another process's transaction
JOB_ID_BYTES = 16  # 128 random bits: job ids are also the report's unguessable address

SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed')),
    upload_name TEXT NOT NULL,
    display_name TEXT NOT NULL,
    options_json TEXT NOT NULL,
    created_s REAL NOT NULL,
    updated_s REAL NOT NULL,
    started_s REAL,
    finished_s REAL,
    progress REAL NOT NULL DEFAULT 0,
    stage TEXT NOT NULL DEFAULT '',
    attempts INTEGER NOT NULL DEFAULT 0,
    lease_token TEXT,
    error TEXT,
    result_json TEXT,
    owner TEXT NOT NULL DEFAULT '',
    idempotency_key TEXT
);
CREATE INDEX IF NOT EXISTS jobs_state_created ON jobs (state, created_s);
"""
# Added in version 2 (after the table, so that a version-1 table gets its columns first).
INDEXES_V2 = """
CREATE UNIQUE INDEX IF NOT EXISTS jobs_owner_key ON jobs (owner, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
CREATE INDEX IF NOT EXISTS jobs_owner_state ON jobs (owner, state);
"""
MIGRATE_V1_TO_V2 = """
ALTER TABLE jobs ADD COLUMN owner TEXT NOT NULL DEFAULT '';
ALTER TABLE jobs ADD COLUMN idempotency_key TEXT;
"""
ACTIVE_STATES_SQL = "('queued', 'running')"


class JobState(Enum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


TERMINAL_STATES = (JobState.DONE, JobState.FAILED)
ACTIVE_STATES = (JobState.QUEUED, JobState.RUNNING)


@dataclass(frozen=True, slots=True)
class Job:
    id: str
    state: JobState
    upload_name: str  # random file name under uploads/
    display_name: str  # the name the user gave the file (shown, never used as a path)
    options: dict[str, Any]
    created_s: float
    updated_s: float
    started_s: float | None = None
    finished_s: float | None = None
    progress: float = 0.0  # 0..1 within the current run
    stage: str = ""
    attempts: int = 0
    error: str | None = None
    result: dict[str, Any] = field(default_factory=dict)
    owner: str = ""
    idempotency_key: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The job as the API shows it (no file names on disk)."""
        return {
            "id": self.id,
            "state": self.state.value,
            "name": self.display_name,
            "created_s": self.created_s,
            "started_s": self.started_s,
            "finished_s": self.finished_s,
            "progress": round(self.progress, 4),
            "stage": self.stage,
            "attempts": self.attempts,
            "error": self.error,
            "result": self.result,
        }


@dataclass(frozen=True, slots=True)
class Claim:
    """A job taken by a worker, with the token that proves it still holds it."""

    job: Job
    token: str


def _job(row: sqlite3.Row) -> Job:
    return Job(
        id=row["id"],
        state=JobState(row["state"]),
        upload_name=row["upload_name"],
        display_name=row["display_name"],
        options=json.loads(row["options_json"]),
        created_s=row["created_s"],
        updated_s=row["updated_s"],
        started_s=row["started_s"],
        finished_s=row["finished_s"],
        progress=row["progress"],
        stage=row["stage"],
        attempts=row["attempts"],
        error=row["error"],
        result=json.loads(row["result_json"]) if row["result_json"] else {},
        owner=row["owner"],
        idempotency_key=row["idempotency_key"],
    )


@dataclass(frozen=True, slots=True)
class Enqueued:
    """The job an upload made, or (``created`` False) the one its idempotency key made."""

    job: Job
    created: bool


def _private_db_files(db_path: Path) -> None:
    """Make the database and its WAL 0600 (their folder is 0700 already).

    Only ``chmod`` by name: opening and closing the database file in a process that has a
    connection to it would drop SQLite's POSIX locks (the "close() cancels locks" trap) and
    let another connection read a stale snapshot.
    """
    for path in (db_path, *(db_path.with_name(db_path.name + s) for s in DB_SIDE_FILES)):
        if path.exists() and path.stat().st_mode & 0o777 != PRIVATE_FILE_MODE:
            path.chmod(PRIVATE_FILE_MODE)


class JobStore:
    """Thread-safe access to the job table of one database file."""

    def __init__(self, db_path: Path, *, clock: Any = time.time) -> None:
        db_path.parent.mkdir(parents=True, exist_ok=True)
        self.path = db_path
        self._clock = clock
        self._lock = threading.RLock()
        self._db = sqlite3.connect(
            str(db_path), timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
        )
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")  # a commit is on the disk when it returns
        self.last_write_error: tuple[float, str] | None = None  # (epoch s, why); None: fine
        with self._transaction() as db:
            version = db.execute("PRAGMA user_version").fetchone()[0]
            exists = db.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'jobs'"
            ).fetchone()
            if exists and version < SCHEMA_VERSION:
                _run_script(db, MIGRATE_V1_TO_V2)
            _run_script(db, SCHEMA)
            _run_script(db, INDEXES_V2)
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        _private_db_files(db_path)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> JobStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE ... COMMIT (rolled back on error); one at a time per store.

        A failed write (a full disk: "database or disk is full") is remembered in
        ``last_write_error`` until a later write succeeds, for the health check.
        """
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    yield self._db
                except BaseException:
                    if self._db.in_transaction:
                        self._db.execute("ROLLBACK")
                    raise
                self._db.execute("COMMIT")
            except sqlite3.OperationalError as error:
                self.last_write_error = (self.now_s(), str(error))
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise
            self.last_write_error = None

    def now_s(self) -> float:
        return float(self._clock())

    # --- creating and reading -------------------------------------------------------------

    def enqueue(
        self, upload_name: str, display_name: str, options: dict[str, Any] | None = None
    ) -> Job:
        """Queue a job (no owner, key or quota)."""
        return self.enqueue_checked(upload_name, display_name, options).job

    def enqueue_checked(
        self,
        upload_name: str,
        display_name: str,
        options: dict[str, Any] | None = None,
        *,
        owner: str = "",
        idempotency_key: str | None = None,
        max_active: int | None = None,
    ) -> Enqueued:
        """Queue a job, in one transaction with its checks: when ``idempotency_key`` already
        made a job for ``owner`` that job is returned (``created`` False, nothing written);
        when ``owner`` has ``max_active`` queued or running jobs, QuotaExceededError."""
        job_id = secrets.token_hex(JOB_ID_BYTES)
        now = self.now_s()
        with self._transaction() as db:
            if idempotency_key is not None:
                row = db.execute(
                    "SELECT * FROM jobs WHERE owner = ? AND idempotency_key = ?",
                    (owner, idempotency_key),
                ).fetchone()
                if row is not None:
                    return Enqueued(_job(row), created=False)
            if max_active is not None and self._count_active(db, owner) >= max_active:
                raise QuotaExceededError(max_active)
            db.execute(
                "INSERT INTO jobs (id, state, upload_name, display_name, options_json, "
                "created_s, updated_s, owner, idempotency_key) "
                "VALUES (?, 'queued', ?, ?, ?, ?, ?, ?, ?)",
                (job_id, upload_name, display_name, json.dumps(options or {}), now, now, owner,
                 idempotency_key),
            )  # fmt: skip
        job = self.get(job_id)
        assert job is not None
        return Enqueued(job, created=True)

    def find_by_key(self, owner: str, idempotency_key: str) -> Job | None:
        with self._lock:
            row = self._db.execute(
                "SELECT * FROM jobs WHERE owner = ? AND idempotency_key = ?",
                (owner, idempotency_key),
            ).fetchone()
        return _job(row) if row is not None else None

    def count_active(self, owner: str) -> int:
        """Queued and running jobs of ``owner``."""
        with self._lock:
            return self._count_active(self._db, owner)

    @staticmethod
    def _count_active(db: sqlite3.Connection, owner: str) -> int:
        row = db.execute(
            f"SELECT COUNT(*) FROM jobs WHERE owner = ? AND state IN {ACTIVE_STATES_SQL}",
            (owner,),
        ).fetchone()
        return int(row[0])

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            row = self._db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return _job(row) if row is not None else None

    def jobs(self, *, state: JobState | None = None, limit: int = 100) -> list[Job]:
        """Newest first."""
        query = "SELECT * FROM jobs"
        params: tuple[Any, ...] = ()
        if state is not None:
            query += " WHERE state = ?"
            params = (state.value,)
        query += " ORDER BY created_s DESC LIMIT ?"
        with self._lock:
            rows = self._db.execute(query, (*params, limit)).fetchall()
        return [_job(r) for r in rows]

    def counts(self) -> dict[str, int]:
        with self._lock:
            rows = self._db.execute("SELECT state, COUNT(*) FROM jobs GROUP BY state").fetchall()
        out = {s.value: 0 for s in JobState}
        out.update({state: n for state, n in rows})
        return out

    # --- running --------------------------------------------------------------------------

    def claim(self) -> Claim | None:
        """Take the oldest queued job (None when there is none)."""
        token = secrets.token_hex(JOB_ID_BYTES)
        now = self.now_s()
        with self._transaction() as db:
            row = db.execute(
                "SELECT id FROM jobs WHERE state = 'queued' ORDER BY created_s, rowid LIMIT 1"
            ).fetchone()
            if row is None:
                return None
            db.execute(
                "UPDATE jobs SET state = 'running', attempts = attempts + 1, lease_token = ?, "
                "started_s = ?, updated_s = ?, progress = 0, stage = 'starting', error = NULL "
                "WHERE id = ?",
                (token, now, now, row["id"]),
            )
        job = self.get(row["id"])
        assert job is not None
        return Claim(job, token)

    def _update_running(self, job_id: str, token: str, sets: str, params: tuple[Any, ...]) -> bool:
        with self._transaction() as db:
            cursor = db.execute(
                f"UPDATE jobs SET {sets}, updated_s = ? "
                "WHERE id = ? AND lease_token = ? AND state = 'running'",
                (*params, self.now_s(), job_id, token),
            )
            return cursor.rowcount == 1

    def set_progress(self, job_id: str, token: str, fraction: float, stage: str = "") -> bool:
        """Record progress; False when this token no longer holds the job."""
        fraction = min(1.0, max(0.0, fraction))
        return self._update_running(job_id, token, "progress = ?, stage = ?", (fraction, stage))

    def complete(self, job_id: str, token: str, result: dict[str, Any] | None = None) -> bool:
        """running -> done, once: False when this token no longer holds the job."""
        return self._update_running(
            job_id,
            token,
            "state = 'done', progress = 1, stage = 'done', lease_token = NULL, finished_s = ?, "
            "result_json = ?",
            (self.now_s(), json.dumps(result or {})),
        )

    def complete_recovered(self, job_id: str, result: dict[str, Any]) -> bool:
        """running -> done for a run that finished before the server stopped, but was not
        recorded (the owning process, at start, before any worker runs)."""
        now = self.now_s()
        with self._transaction() as db:
            cursor = db.execute(
                "UPDATE jobs SET state = 'done', progress = 1, stage = 'done', lease_token = NULL, "
                "finished_s = ?, updated_s = ?, result_json = ? WHERE id = ? AND state = 'running'",
                (now, now, json.dumps(result), job_id),
            )
            return cursor.rowcount == 1

    def fail(self, job_id: str, token: str, reason: str) -> bool:
        """running -> failed with a plain reason; False when this token lost the job."""
        return self._update_running(
            job_id,
            token,
            "state = 'failed', stage = 'failed', lease_token = NULL, finished_s = ?, error = ?",
            (self.now_s(), reason),
        )

    def holds(self, job_id: str, token: str) -> bool:
        """Whether ``token`` still holds the running job (False once deleted or requeued)."""
        with self._lock:
            row = self._db.execute(
                "SELECT 1 FROM jobs WHERE id = ? AND lease_token = ? AND state = 'running'",
                (job_id, token),
            ).fetchone()
        return row is not None

    def release(self, job_id: str, token: str) -> bool:
        """running -> queued without counting the attempt (a graceful shutdown)."""
        return self._update_running(
            job_id,
            token,
            "state = 'queued', stage = 'queued', lease_token = NULL, progress = 0, "
            "attempts = MAX(0, attempts - 1)",
            (),
        )

    def recover(self, max_attempts: int) -> tuple[list[str], list[str]]:
        """Requeue jobs left running by a previous process; fail those out of attempts.

        Call only from the process that owns the data directory, before its workers start.
        Returns (requeued ids, failed ids).
        """
        return self.requeue_lost(set(), max_attempts)

    def requeue_lost(self, held_tokens: set[str], max_attempts: int) -> tuple[list[str], list[str]]:
        """Requeue running jobs whose lease is not in ``held_tokens`` (their run is gone:
        a previous process, or a worker that could not record the outcome); fail those out
        of attempts. Only the process owning the data directory may call this."""
        with self._lock:
            rows = self._db.execute(
                "SELECT lease_token FROM jobs WHERE state = 'running'"
            ).fetchall()
        if all(row["lease_token"] in held_tokens for row in rows):
            return [], []  # the usual case: no write at all
        now = self.now_s()
        requeued: list[str] = []
        failed: list[str] = []
        with self._transaction() as db:
            rows = db.execute(
                "SELECT id, attempts, lease_token FROM jobs WHERE state = 'running'"
            ).fetchall()
            for row in rows:
                if row["lease_token"] in held_tokens:
                    continue
                if row["attempts"] >= max_attempts:
                    db.execute(
                        "UPDATE jobs SET state = 'failed', stage = 'failed', lease_token = NULL, "
                        "finished_s = ?, updated_s = ?, error = ? WHERE id = ?",
                        (
                            now,
                            now,
                            f"The analysis was interrupted {row['attempts']} times (the server "
                            "stopped, or could not record it); upload the video again to retry.",
                            row["id"],
                        ),
                    )
                    failed.append(row["id"])
                else:
                    db.execute(
                        "UPDATE jobs SET state = 'queued', stage = 'queued', lease_token = NULL, "
                        "progress = 0, updated_s = ? WHERE id = ?",
                        (now, row["id"]),
                    )
                    requeued.append(row["id"])
        return requeued, failed

    # --- retention ------------------------------------------------------------------------

    def finished_before(self, cutoff_s: float) -> list[Job]:
        """Done or failed jobs that finished before ``cutoff_s`` (epoch seconds)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT * FROM jobs WHERE state IN ('done', 'failed') AND finished_s < ?",
                (cutoff_s,),
            ).fetchall()
        return [_job(r) for r in rows]

    def delete(self, job_id: str) -> Job | None:
        """Remove the job's row; returns the job as it was (None when there was none). A run
        holding it loses its lease: its next update fails and it stops."""
        with self._transaction() as db:
            row = db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
            if row is None:
                return None
            db.execute("DELETE FROM jobs WHERE id = ?", (job_id,))
        return _job(row)

    def upload_names(self) -> set[str]:
        with self._lock:
            rows = self._db.execute("SELECT upload_name FROM jobs").fetchall()
        return {r[0] for r in rows}


def _run_script(db: sqlite3.Connection, script: str) -> None:
    for statement in script.split(";"):
        if statement.strip():
            db.execute(statement)
