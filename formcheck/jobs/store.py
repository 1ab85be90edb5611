"""The job table in SQLite: queued -> running (progress) -> done | failed (plain reason).

Exactly-once completion: claiming a job gives the worker a fresh *lease token*; progress,
completion and failure are conditional updates on (id, token, state='running'), so a run
that lost its job (the process was killed, the job was requeued and claimed again) can no
longer change it. When the owning process starts (``recover``), every job still marked
running was interrupted: it is queued again, or failed once it has used ``max_attempts``.

One process owns a data directory at a time (``DataDir.acquire`` takes an exclusive
``flock``); job subprocesses open the same database without owning it, to write progress.
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

DB_NAME = "jobs.sqlite3"
SCHEMA_VERSION = 1
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
    result_json TEXT
);
CREATE INDEX IF NOT EXISTS jobs_state_created ON jobs (state, created_s);
"""


class JobState(Enum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


TERMINAL_STATES = (JobState.DONE, JobState.FAILED)


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
    )


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
        self._db.execute("PRAGMA synchronous=NORMAL")
        with self._transaction() as db:
            for statement in SCHEMA.split(";"):
                if statement.strip():
                    db.execute(statement)
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> JobStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE ... COMMIT (rolled back on error); one at a time per store."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def now_s(self) -> float:
        return float(self._clock())

    # --- creating and reading -------------------------------------------------------------

    def enqueue(
        self, upload_name: str, display_name: str, options: dict[str, Any] | None = None
    ) -> Job:
        job_id = secrets.token_hex(JOB_ID_BYTES)
        now = self.now_s()
        with self._transaction() as db:
            db.execute(
                "INSERT INTO jobs (id, state, upload_name, display_name, options_json, "
                "created_s, updated_s) VALUES (?, 'queued', ?, ?, ?, ?, ?)",
                (job_id, upload_name, display_name, json.dumps(options or {}), now, now),
            )
        job = self.get(job_id)
        assert job is not None
        return job

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

    def fail(self, job_id: str, token: str, reason: str) -> bool:
        """running -> failed with a plain reason; False when this token lost the job."""
        return self._update_running(
            job_id,
            token,
            "state = 'failed', stage = 'failed', lease_token = NULL, finished_s = ?, error = ?",
            (self.now_s(), reason),
        )

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
        now = self.now_s()
        requeued: list[str] = []
        failed: list[str] = []
        with self._transaction() as db:
            rows = db.execute("SELECT id, attempts FROM jobs WHERE state = 'running'").fetchall()
            for row in rows:
                if row["attempts"] >= max_attempts:
                    db.execute(
                        "UPDATE jobs SET state = 'failed', stage = 'failed', lease_token = NULL, "
                        "finished_s = ?, updated_s = ?, error = ? WHERE id = ?",
                        (
                            now,
                            now,
                            f"The analysis was interrupted {row['attempts']} times (the server "
                            "stopped while it ran); upload the video again to retry.",
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

    def delete(self, job_id: str) -> bool:
        with self._transaction() as db:
            return db.execute("DELETE FROM jobs WHERE id = ?", (job_id,)).rowcount == 1

    def upload_names(self) -> set[str]:
        with self._lock:
            rows = self._db.execute("SELECT upload_name FROM jobs").fetchall()
        return {r[0] for r in rows}
