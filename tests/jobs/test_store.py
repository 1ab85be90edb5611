"""The job table: durable commits, the version-1 schema migrated, idempotency keys, quotas,
deletes, and a full database reported instead of lost (issue 15, findings 3, 7, 8).

Names that are new with the fix are imported inside the tests using them, so that the
tests of the findings also run, and fail, against the code before it (0189bef).
"""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path

import pytest

from formcheck.jobs.store import JobState, JobStore

SQLITE_SYNCHRONOUS_FULL = 2  # PRAGMA synchronous: 0 OFF, 1 NORMAL, 2 FULL, 3 EXTRA
V1_SCHEMA = """
CREATE TABLE jobs (
    id TEXT PRIMARY KEY,
    state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed')),
    upload_name TEXT NOT NULL, display_name TEXT NOT NULL, options_json TEXT NOT NULL,
    created_s REAL NOT NULL, updated_s REAL NOT NULL, started_s REAL, finished_s REAL,
    progress REAL NOT NULL DEFAULT 0, stage TEXT NOT NULL DEFAULT '',
    attempts INTEGER NOT NULL DEFAULT 0, lease_token TEXT, error TEXT, result_json TEXT
);
CREATE INDEX jobs_state_created ON jobs (state, created_s);
INSERT INTO jobs (id, state, upload_name, display_name, options_json, created_s, updated_s)
    VALUES ('0123abcd', 'queued', 'a.upload', 'old.mp4', '{}', 1.0, 1.0);
PRAGMA user_version = 1;
"""


def test_a_commit_is_on_the_disk_before_it_returns(tmp_path: Path) -> None:
    """Finding 7: WAL with synchronous=NORMAL could lose an upload already answered 201."""
    with JobStore(tmp_path / "jobs.sqlite3") as store:
        store.enqueue("a.upload", "a.mp4")
        db = sqlite3.connect(tmp_path / "jobs.sqlite3")
        try:
            assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        finally:
            db.close()
        synchronous = store._db.execute("PRAGMA synchronous").fetchone()[0]
        assert synchronous == SQLITE_SYNCHRONOUS_FULL


def test_the_database_is_private(tmp_path: Path) -> None:
    """Finding 10: the database was readable by every user of the machine."""
    db_path = tmp_path / "jobs.sqlite3"
    with JobStore(db_path) as store:
        store.enqueue("a.upload", "a.mp4")
        for path in (db_path, db_path.with_name("jobs.sqlite3-wal")):
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_a_version_1_database_gets_the_new_columns(tmp_path: Path) -> None:
    db_path = tmp_path / "jobs.sqlite3"
    db = sqlite3.connect(db_path)
    db.executescript(V1_SCHEMA)
    db.close()
    with JobStore(db_path) as store:
        old = store.get("0123abcd")
        assert old is not None and old.display_name == "old.mp4" and old.owner == ""
        made = store.enqueue_checked("b.upload", "b.mp4", owner="ip:1", idempotency_key="k")
        assert made.created and store.find_by_key("ip:1", "k") == made.job
    with JobStore(db_path) as again:  # opening a current database changes nothing
        assert again.counts()["queued"] == 2


def test_an_idempotency_key_makes_one_job_per_owner(tmp_path: Path) -> None:
    with JobStore(tmp_path / "jobs.sqlite3") as store:
        first = store.enqueue_checked("a.upload", "a.mp4", owner="ip:1", idempotency_key="k1")
        again = store.enqueue_checked("b.upload", "a.mp4", owner="ip:1", idempotency_key="k1")
        assert first.created and not again.created and again.job.id == first.job.id
        other = store.enqueue_checked("c.upload", "a.mp4", owner="ip:2", idempotency_key="k1")
        assert other.created and other.job.id != first.job.id
        assert store.counts()["queued"] == 2


def test_the_quota_counts_queued_and_running_jobs_of_one_owner(tmp_path: Path) -> None:
    from formcheck.jobs.errors import QuotaExceededError

    with JobStore(tmp_path / "jobs.sqlite3") as store:
        for name in ("a", "b"):
            store.enqueue_checked(f"{name}.upload", "x.mp4", owner="ip:1", max_active=2)
        with pytest.raises(QuotaExceededError, match="2 videos waiting"):
            store.enqueue_checked("c.upload", "x.mp4", owner="ip:1", max_active=2)
        store.enqueue_checked("d.upload", "x.mp4", owner="ip:2", max_active=2)  # someone else
        claim = store.claim()
        assert claim is not None and store.complete(claim.job.id, claim.token)
        assert store.count_active("ip:1") == 1
        store.enqueue_checked("c.upload", "x.mp4", owner="ip:1", max_active=2)


def test_deleting_a_running_job_takes_it_from_its_run(tmp_path: Path) -> None:
    with JobStore(tmp_path / "jobs.sqlite3") as store:
        job = store.enqueue("a.upload", "a.mp4")
        claim = store.claim()
        assert claim is not None and store.holds(job.id, claim.token)
        deleted = store.delete(job.id)
        assert deleted is not None and deleted.state is JobState.RUNNING
        assert not store.holds(job.id, claim.token)
        assert not store.set_progress(job.id, claim.token, 0.5)  # the run stops at this
        assert store.delete(job.id) is None


def test_a_full_database_is_reported_until_a_write_succeeds(tmp_path: Path) -> None:
    """Finding 3: "database or disk is full" killed the worker; now it is known and shown."""
    with JobStore(tmp_path / "jobs.sqlite3") as store:
        pages = store._db.execute("PRAGMA page_count").fetchone()[0]
        store._db.execute(f"PRAGMA max_page_count = {pages}")  # a real SQLITE_FULL
        with pytest.raises(sqlite3.OperationalError, match="full"):
            for i in range(1000):
                store.enqueue(f"{i}.upload", "x" * 1000)
        assert store.last_write_error is not None and "full" in store.last_write_error[1]
        store._db.execute(f"PRAGMA max_page_count = {pages * 100}")
        store.enqueue("z.upload", "z.mp4")
        assert store.last_write_error is None


def test_requeue_lost_spares_the_held_jobs(tmp_path: Path) -> None:
    with JobStore(tmp_path / "jobs.sqlite3") as store:
        held_job = store.enqueue("a.upload", "a.mp4")
        lost_job = store.enqueue("b.upload", "b.mp4")
        held, lost = store.claim(), store.claim()
        assert held is not None and lost is not None
        assert store.requeue_lost({held.token, lost.token}, max_attempts=3) == ([], [])
        assert store.requeue_lost({held.token}, max_attempts=3) == ([lost_job.id], [])
        assert store.holds(held_job.id, held.token)
