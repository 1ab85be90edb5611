"""The worker pool under faults (issue 15, finding 3: a full disk killed the only worker
thread, its job stayed "running" for ever and /api/health said ok).

Real worker threads and job processes (with the fake job of tests/fake_jobs.py); the faults
are injected where a full disk strikes: the database write that records an outcome, a run
that leaves no outcome, a worker thread that dies, a job nobody holds.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from formcheck.jobs.child import INTERNAL_ERROR
from formcheck.jobs.config import JobsConfig
from formcheck.jobs.service import JobService
from formcheck.jobs.store import JobState
from formcheck.jobs.worker import read_outcome
from tests.conftest import REPO_ROOT

FAKE_JOB = "tests.fake_jobs:slow_job"
CLIP = REPO_ROOT / "sample_videos" / "hip_hinge_hips_rise_first.mp4"
WAIT_LIMIT_S = 60.0  # only stops a broken test from hanging
FULL = "database or disk is full"


def wait_for(predicate: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_LIMIT_S
    while not predicate():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.02)


@pytest.fixture
def service(tmp_path: Path) -> Iterator[JobService]:
    config = JobsConfig(
        data_dir=tmp_path / "data", workers=1, poll_interval_s=0.02, progress_interval_s=0.01,
        supervise_interval_s=0.05, record_retry_max_s=0.1, min_free_disk_bytes=0,
    )  # fmt: skip
    svc = JobService(config, job_fn=FAKE_JOB)
    svc.start()
    yield svc
    svc.close()


def submit(service: JobService, **options: object) -> str:
    with CLIP.open("rb") as handle:
        return service.submit(handle, "set.mp4", dict(options)).id


def finished(service: JobService, job_id: str) -> bool:
    job = service.get(job_id)
    return job is not None and job.state in (JobState.DONE, JobState.FAILED)


def test_an_outcome_the_full_database_refuses_is_recorded_once_it_can_be(
    service: JobService, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_fail = service.store.fail
    refusals = [3]
    seen_degraded: list[list[str]] = []

    def full_then_fine(job_id: str, token: str, reason: str) -> bool:
        if refusals[0] > 0:
            refusals[0] -= 1
            seen_degraded.append(service.health().problems)
            raise sqlite3.OperationalError(FULL)
        return real_fail(job_id, token, reason)

    monkeypatch.setattr(service.store, "fail", full_then_fine)
    job_id = submit(service, fail="No person was found in the video.")
    wait_for(lambda: finished(service, job_id), "the failed job to be recorded")
    job = service.get(job_id)
    assert job is not None and job.error == "No person was found in the video."
    assert any(FULL in " ".join(problems) for problems in seen_degraded[1:])
    health = service.health()
    assert health.workers_alive == 1 and health.worker_restarts == 0 and health.problems == []
    after = submit(service)  # the worker goes on
    wait_for(lambda: finished(service, after), "the next job")
    assert service.get(after).state is JobState.DONE  # type: ignore[union-attr]


def test_a_run_that_leaves_no_outcome_fails_with_a_reason(service: JobService) -> None:
    job_id = submit(service, vanish=True)
    wait_for(lambda: finished(service, job_id), "the vanished run's job")
    job = service.get(job_id)
    assert job is not None and job.state is JobState.FAILED and job.error == INTERNAL_ERROR


def test_an_unreadable_outcome_counts_as_none(tmp_path: Path) -> None:
    for content in ("", "{trunc", "[1, 2]"):
        (tmp_path / ".outcome.json").write_text(content, encoding="utf-8")
        assert read_outcome(tmp_path) == {}


class WorkerKilled(BaseException):
    """Not an Exception: nothing in the worker loop catches it, so its thread dies."""


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_a_dead_worker_thread_is_restarted_and_shows_in_health(
    service: JobService, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_claim = service.store.claim
    kills = [1]

    def claim_once_fatally() -> object:
        if kills[0]:
            kills[0] -= 1
            raise WorkerKilled
        return real_claim()

    monkeypatch.setattr(service.store, "claim", claim_once_fatally)
    wait_for(lambda: service.health().worker_restarts == 1, "the supervisor's restart")
    assert service.health().workers_alive == 1
    job_id = submit(service)
    wait_for(lambda: finished(service, job_id), "a job on the restarted worker")
    assert service.get(job_id).state is JobState.DONE  # type: ignore[union-attr]


def test_a_running_job_no_worker_holds_is_run_again(
    service: JobService, monkeypatch: pytest.MonkeyPatch
) -> None:
    service.stop()  # no worker while the job is claimed by hand (a worker that gave up)
    job_id = submit(service)
    claim = service.store.claim()
    assert claim is not None and claim.job.id == job_id
    monkeypatch.setattr(service.store, "recover", lambda max_attempts: ([], []))
    service.start()  # only the supervisor can find the job now
    wait_for(lambda: finished(service, job_id), "the requeued job")
    job = service.get(job_id)
    assert job is not None and job.state is JobState.DONE and job.attempts == 2
