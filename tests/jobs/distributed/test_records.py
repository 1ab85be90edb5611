"""The job records in a real Redis: queueing with quota and idempotency key, runs taking a
job with a lease, exactly-once finish, requeueing lost runs, deleting."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from formcheck.jobs.config import QueueConfig
from formcheck.jobs.distributed.records import INTERRUPTED_REASON, RedisJobStore
from formcheck.jobs.errors import QuotaExceededError
from formcheck.jobs.store import JobState

LEASE_S = 0.3  # lapses within a test
HEARTBEAT_S = 0.05


@pytest.fixture
def records(redis_url: str) -> Iterator[RedisJobStore]:
    store = RedisJobStore(
        QueueConfig(url=redis_url, lease_s=LEASE_S, heartbeat_interval_s=HEARTBEAT_S)
    )
    yield store
    store.close()


def new_job(records: RedisJobStore, **kwargs: object) -> str:
    return records.enqueue_checked("a.upload", "set.mp4", {"x": 1}, **kwargs).job.id  # type: ignore[arg-type]


def lapse() -> None:
    time.sleep(LEASE_S * 1.5)


def test_a_queued_job_reads_back_as_queued_with_its_fields(records: RedisJobStore) -> None:
    job = records.enqueue_checked("a.upload", "set.mp4", {"x": 1}, owner="1.2.3.4").job
    again = records.get(job.id)
    assert again == job
    assert job.state is JobState.QUEUED and job.options == {"x": 1} and job.attempts == 0
    assert job.owner == "1.2.3.4" and job.display_name == "set.mp4"
    assert records.counts() == {"queued": 1, "running": 0}
    assert records.upload_names() == {"a.upload"} and records.get("nothing") is None


def test_the_idempotency_key_and_the_quota_are_checked_with_the_enqueue(
    records: RedisJobStore,
) -> None:
    first = records.enqueue_checked("a.upload", "a.mp4", owner="o", idempotency_key="k")
    again = records.enqueue_checked("b.upload", "b.mp4", owner="o", idempotency_key="k")
    assert first.created and not again.created and again.job.id == first.job.id
    assert records.find_by_key("o", "k") == first.job and records.find_by_key("p", "k") is None
    other = records.enqueue_checked("c.upload", "c.mp4", owner="p", idempotency_key="k")
    assert other.created  # keys are per owner
    with pytest.raises(QuotaExceededError):
        records.enqueue_checked("d.upload", "d.mp4", owner="o", max_active=1)
    assert records.count_active("o") == 1
    records.delete(first.job.id)  # a deleted job's key makes a new job
    assert records.enqueue_checked("e.upload", "e.mp4", owner="o", idempotency_key="k").created


def test_a_run_takes_a_job_once_and_a_live_lease_keeps_others_out(
    records: RedisJobStore,
) -> None:
    job_id = new_job(records)
    first = records.claim(job_id, "A", max_attempts=3)
    assert first.status == "claimed" and first.job is not None
    assert first.job.state is JobState.RUNNING and first.job.attempts == 1
    assert records.claim(job_id, "B", max_attempts=3).status == "held"
    assert records.set_progress(job_id, "A", 0.5, "analysing")
    assert not records.set_progress(job_id, "B", 0.5, "analysing")
    assert records.heartbeat(job_id, "A") and not records.heartbeat(job_id, "B")
    job = records.get(job_id)
    assert job is not None and job.progress == 0.5 and job.stage == "analysing"


def test_a_run_whose_lease_ran_out_is_taken_over_and_can_change_nothing(
    records: RedisJobStore,
) -> None:
    job_id = new_job(records)
    records.claim(job_id, "A", max_attempts=3)
    lapse()
    second = records.claim(job_id, "B", max_attempts=3)
    assert second.status == "claimed" and second.job is not None and second.job.attempts == 2
    assert not records.set_progress(job_id, "A", 0.9)
    assert not records.begin_finish(job_id, "A")  # the old run cannot save its outputs
    assert not records.fail(job_id, "A", "late")
    assert records.begin_finish(job_id, "B") and records.complete(job_id, "B", {"reps": 2})
    job = records.get(job_id)
    assert job is not None and job.state is JobState.DONE and job.result == {"reps": 2}


def test_a_job_is_finished_once_and_nobody_takes_it_while_it_finishes(
    records: RedisJobStore,
) -> None:
    job_id = new_job(records)
    records.claim(job_id, "A", max_attempts=3)
    assert records.begin_finish(job_id, "A")
    assert not records.begin_finish(job_id, "A")  # once
    job = records.get(job_id)
    assert job is not None and job.state is JobState.RUNNING and job.stage == "saving the report"
    lapse()  # even with its lease gone, a finishing job is not run again
    assert records.claim(job_id, "B", max_attempts=3).status == "finishing"
    assert records.requeue_lost(job_id, 3) == "finishing"
    assert records.complete(job_id, "A", {}) and not records.complete(job_id, "A", {})
    assert records.claim(job_id, "C", max_attempts=3).status == "done"
    assert records.counts() == {"queued": 0, "running": 0} and records.count_active("") == 0


def test_lost_runs_are_queued_again_until_out_of_attempts(records: RedisJobStore) -> None:
    job_id = new_job(records)
    records.claim(job_id, "A", max_attempts=2)
    assert records.requeue_lost(job_id, 2) == "held"
    lapse()
    assert records.requeue_lost(job_id, 2) == "queued"
    job = records.get(job_id)
    assert job is not None and job.state is JobState.QUEUED and job.attempts == 1
    assert records.take_unsent(job_id) is False  # within its grace period
    records.claim(job_id, "B", max_attempts=2)
    lapse()
    assert records.requeue_lost(job_id, 2) == "failed"
    job = records.get(job_id)
    assert job is not None and job.state is JobState.FAILED
    assert job.error == INTERRUPTED_REASON % 2
    assert records.claim(job_id, "C", max_attempts=2).status == "failed"


def test_a_lapsed_run_out_of_attempts_fails_when_a_task_finds_it(records: RedisJobStore) -> None:
    job_id = new_job(records)
    records.claim(job_id, "A", max_attempts=1)
    lapse()
    assert records.claim(job_id, "B", max_attempts=1).status == "failed"
    job = records.get(job_id)
    assert job is not None and job.error == INTERRUPTED_REASON % 1


def test_a_job_whose_task_was_never_sent_is_found_after_the_grace_period(
    redis_url: str,
) -> None:
    records = RedisJobStore(QueueConfig(url=redis_url, unsent_grace_s=0.2))
    try:
        job_id = new_job(records)
        sent_id = new_job(records)
        records.mark_sent(sent_id)
        assert not records.take_unsent(job_id)
        time.sleep(0.3)
        assert records.take_unsent(job_id) and not records.take_unsent(job_id)  # once a period
        assert not records.take_unsent(sent_id)
    finally:
        records.close()


def test_delete_removes_the_record_and_the_run_loses_its_job(records: RedisJobStore) -> None:
    job_id = new_job(records, owner="o", idempotency_key="k")
    records.claim(job_id, "A", max_attempts=3)
    deleted = records.delete(job_id)
    assert deleted is not None and deleted.id == job_id and deleted.state is JobState.RUNNING
    assert records.get(job_id) is None and records.delete(job_id) is None
    assert not records.set_progress(job_id, "A", 0.5) and not records.heartbeat(job_id, "A")
    assert records.claim(job_id, "B", max_attempts=3).status == "gone"
    assert records.counts() == {"queued": 0, "running": 0} and records.count_active("o") == 0
    assert records.find_by_key("o", "k") is None and records.upload_names() == set()


def test_finished_jobs_are_listed_for_retention_by_their_finish_time(
    records: RedisJobStore,
) -> None:
    job_id = new_job(records)
    records.claim(job_id, "A", max_attempts=3)
    records.fail(job_id, "A", "It could not be read.")
    now = records.now_s()
    assert [job.id for job in records.finished_before(now + 1)] == [job_id]
    assert records.finished_before(now - 60) == []


def test_workers_announce_themselves_until_their_presence_expires(
    records: RedisJobStore,
) -> None:
    records.announce_worker("w1", {"name": "w1", "concurrency": 2}, ttl_s=0.2)
    records.announce_worker("w2", {"name": "w2", "concurrency": 1}, ttl_s=5)
    assert sorted(w["name"] for w in records.workers()) == ["w1", "w2"]
    time.sleep(0.3)
    assert [w["name"] for w in records.workers()] == ["w2"]
    records.forget_worker("w2")
    assert records.workers() == []
