"""A task on a worker, run in this process (real Redis, the fake jobs of tests/fake_jobs.py):
a job finishes once into its report folder, a second delivery does nothing, failures keep
their reason, a deleted or taken-over run stops and leaves nothing, and a run that died while
saving its report is completed from its files by the next task or the sweep."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from celery.exceptions import SoftTimeLimitExceeded

from formcheck.jobs.child import INTERNAL_ERROR, OUTCOME_NAME, load_job_fn
from formcheck.jobs.config import JobsConfig
from formcheck.jobs.distributed.celery_app import QUEUE_NAME
from formcheck.jobs.distributed.run import Runner, RunResult, recover_finishing
from formcheck.jobs.distributed.service import CeleryJobService
from formcheck.jobs.distributed.sweeper import Sweeper
from formcheck.jobs.store import JobState
from tests.conftest import REPO_ROOT
from tests.queue_services import queue_config, wait_for

CLIP = REPO_ROOT / "sample_videos" / "hip_hinge_hips_rise_first.mp4"
SLOW_JOB = "tests.fake_jobs:slow_job"
LAPSING = {"lease_s": 0.3, "heartbeat_interval_s": 0.05, "sweep_interval_s": 0.1}


@pytest.fixture
def config(redis_url: str, tmp_path: Path) -> JobsConfig:
    return queue_config(redis_url, tmp_path / "data")


@pytest.fixture
def service(config: JobsConfig) -> Iterator[CeleryJobService]:
    svc = CeleryJobService(config)  # not started: no sweep, tasks go to a queue nobody reads
    yield svc
    svc.close()


@pytest.fixture
def markers(tmp_path: Path) -> Path:
    folder = tmp_path / "markers"
    folder.mkdir()
    return folder


def runner_for(service: CeleryJobService, job_fn: str | Callable[..., Any] = SLOW_JOB) -> Runner:
    function = load_job_fn(job_fn) if isinstance(job_fn, str) else job_fn
    return Runner(service.config, service.records, service.data, function)


def submit(service: CeleryJobService, **options: object) -> str:
    with CLIP.open("rb") as handle:
        return service.submit(handle, "set.mp4", dict(options)).id


def folders(service: CeleryJobService) -> list[str]:
    return sorted(p.name for p in service.data.reports.iterdir())


def test_a_run_finishes_the_job_once_and_a_second_delivery_does_nothing(
    service: CeleryJobService, markers: Path
) -> None:
    job_id = submit(service, marker_dir=str(markers))
    runner = runner_for(service)
    assert runner.run(job_id) == RunResult(job_id, True, "done")
    report = service.report_file(job_id, "report.html")
    assert report is not None and folders(service) == [job_id]
    inode = report.stat().st_ino
    job = service.get(job_id)
    assert job is not None and job.state is JobState.DONE and job.attempts == 1
    assert job.result["bytes"] == CLIP.stat().st_size
    assert json.loads((report.parent / OUTCOME_NAME).read_text())["ok"] is True

    assert runner.run(job_id) == RunResult(job_id, False, "done")  # redelivered
    assert (markers / "finished").read_text().count("\n") == 1  # the job ran once
    assert report.stat().st_ino == inode and folders(service) == [job_id]


def test_a_failing_job_is_recorded_with_its_plain_reason_and_leaves_no_files(
    service: CeleryJobService,
) -> None:
    plain = submit(service, fail="The video is too dark to see the person.")
    crash = submit(service, crash=True)
    runner = runner_for(service)
    assert runner.run(plain).state == "failed" and runner.run(crash).state == "failed"
    assert (job := service.get(plain)) is not None
    assert job.error == "The video is too dark to see the person."
    assert (job := service.get(crash)) is not None and job.error == INTERNAL_ERROR
    assert folders(service) == [] and service.report_file(plain, "report.html") is None


def test_a_job_past_its_time_limit_fails_with_the_limit(service: CeleryJobService) -> None:
    def too_slow(*_: object) -> dict[str, Any]:
        raise SoftTimeLimitExceeded()  # what Celery raises at task_soft_time_limit

    job_id = submit(service)
    assert runner_for(service, too_slow).run(job_id).state == "failed"
    job = service.get(job_id)
    assert job is not None
    assert job.error == "The analysis took longer than 60 minutes and was stopped."


def test_an_upload_missing_on_the_worker_fails_saying_storage_must_be_shared(
    service: CeleryJobService,
) -> None:
    job_id = submit(service)
    job = service.get(job_id)
    assert job is not None
    service.data.upload_path(job.upload_name).unlink()  # a worker without the shared mount
    assert runner_for(service).run(job_id).state == "failed"
    job = service.get(job_id)
    assert job is not None and job.error is not None and "shared storage" in job.error


def run_in_thread(runner: Runner, job_id: str) -> tuple[threading.Thread, list[RunResult]]:
    results: list[RunResult] = []
    thread = threading.Thread(target=lambda: results.append(runner.run(job_id)), daemon=True)
    thread.start()
    return thread, results


def test_a_job_deleted_while_it_runs_stops_its_run_which_leaves_nothing(
    service: CeleryJobService, markers: Path
) -> None:
    job_id = submit(service, marker_dir=str(markers), steps=500, step_s=0.02)
    thread, results = run_in_thread(runner_for(service), job_id)
    wait_for(lambda: (job := service.get(job_id)) is not None and job.progress > 0, "progress")
    assert service.delete(job_id) is not None
    thread.join(10.0)
    assert not thread.is_alive() and results == [RunResult(job_id, True, "lost")]
    assert folders(service) == [] and not (markers / "finished").exists()


def test_a_run_taken_over_after_its_lease_ran_out_stops_and_cannot_finish(
    service: CeleryJobService, markers: Path
) -> None:
    """A worker paused past its lease (its job was given to another run) wakes up: its next
    progress report finds the job gone from it; it stops and deletes only its own files."""
    job_id = submit(service, marker_dir=str(markers), steps=500, step_s=0.02)
    thread, results = run_in_thread(runner_for(service), job_id)
    wait_for(lambda: (job := service.get(job_id)) is not None and job.progress > 0, "progress")
    records = service.records
    records.client.hset(records.key("job", job_id), "lease_expires_s", 0)  # as if paused
    taken = records.claim(job_id, "B", max_attempts=3)
    assert taken.status == "claimed"
    thread.join(10.0)
    assert results == [RunResult(job_id, True, "lost")]
    assert folders(service) == [] and not (markers / "finished").exists()
    job = service.get(job_id)
    assert job is not None and job.state is JobState.RUNNING and job.attempts == 2


def finishing_run(service: CeleryJobService, renamed: bool) -> str:
    """A job whose run wrote its outputs, began finishing and died (lease left to lapse)."""
    job_id = submit(service)
    claim = service.records.claim(job_id, "A", max_attempts=3)
    assert claim.status == "claimed"
    part = service.data.part_dir(job_id, "A")
    part.mkdir()
    (part / "report.html").write_text("<p>the finished report</p>", encoding="utf-8")
    outcome = {"ok": True, "result": {"bytes": 7}}
    (part / OUTCOME_NAME).write_text(json.dumps(outcome), encoding="utf-8")
    assert service.records.begin_finish(job_id, "A")
    if renamed:
        part.rename(service.data.report_dir(job_id))
    return job_id


@pytest.mark.parametrize("renamed", [False, True], ids=["before the rename", "after it"])
@pytest.mark.parametrize("finder", ["a redelivered task", "the sweep"])
def test_a_run_that_died_saving_its_report_is_completed_from_its_files(
    redis_url: str, tmp_path: Path, renamed: bool, finder: str
) -> None:
    config = queue_config(redis_url, tmp_path / "data", queue=LAPSING)
    service = CeleryJobService(config)
    try:
        job_id = finishing_run(service, renamed)
        time.sleep(0.5)  # the dead run's lease lapses
        if finder == "the sweep":
            sweeper = Sweeper(config, service.records, service.data, service.app)
            assert sweeper.sweep_once().recovered == [job_id]
        else:
            ran = runner_for(service, lambda *_: pytest.fail("the job ran again")).run(job_id)
            assert ran == RunResult(job_id, False, "done")
        job = service.get(job_id)
        assert job is not None and job.state is JobState.DONE and job.attempts == 1
        assert job.result == {"bytes": 7} and folders(service) == [job_id]
        report = service.report_file(job_id, "report.html")
        assert report is not None and "finished report" in report.read_text(encoding="utf-8")
    finally:
        service.close()


def test_a_finishing_run_whose_files_are_gone_is_queued_again(
    redis_url: str, tmp_path: Path
) -> None:
    service = CeleryJobService(queue_config(redis_url, tmp_path / "data", queue=LAPSING))
    try:
        job_id = finishing_run(service, renamed=False)
        for folder in service.data.part_dirs(job_id):
            for file in folder.iterdir():
                file.unlink()
            folder.rmdir()
        time.sleep(0.5)
        assert recover_finishing(service.records, service.data, job_id) == "queued"
        job = service.get(job_id)
        assert job is not None and job.state is JobState.QUEUED
    finally:
        service.close()


def test_the_sweep_queues_a_lost_run_again_and_sends_its_task(
    redis_url: str, tmp_path: Path
) -> None:
    config = queue_config(redis_url, tmp_path / "data", queue=LAPSING)
    service = CeleryJobService(config)
    try:
        job_id = submit(service)
        queue_length = service.records.client.llen(QUEUE_NAME)
        assert service.records.claim(job_id, "A", max_attempts=3).status == "claimed"
        time.sleep(0.5)  # its worker died: no heartbeat
        sweeper = Sweeper(config, service.records, service.data, service.app)
        assert sweeper.sweep_once().requeued == [job_id]
        assert service.records.client.llen(QUEUE_NAME) == queue_length + 1
        job = service.get(job_id)
        assert job is not None and job.state is JobState.QUEUED and job.attempts == 1
        assert not sweeper.sweep_once()  # nothing more to do
    finally:
        service.close()


def test_a_task_the_broker_could_not_take_is_sent_by_the_sweep(
    redis_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kombu.exceptions import OperationalError

    config = queue_config(redis_url, tmp_path / "data", queue={**LAPSING, "unsent_grace_s": 0.2})
    service = CeleryJobService(config)
    try:
        def broker_gone(job_id: str) -> None:
            raise OperationalError("Error 111 connecting to the broker")

        monkeypatch.setattr(service._sweeper, "send", broker_gone)
        job_id = submit(service)  # recorded; its task could not be sent
        assert service.records.client.llen(QUEUE_NAME) == 0
        monkeypatch.undo()
        time.sleep(0.3)
        sweeper = Sweeper(config, service.records, service.data, service.app)
        assert sweeper.sweep_once().resent == [job_id]
        assert service.records.client.llen(QUEUE_NAME) == 1
        assert not sweeper.sweep_once()  # sent once
    finally:
        service.close()


def test_recording_an_outcome_waits_for_redis_and_gives_up_in_the_end() -> None:
    import redis

    from formcheck.jobs.distributed.run import retry_redis

    calls: list[int] = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise redis.exceptions.ConnectionError("Connection refused")
        return "recorded"

    assert retry_redis(flaky, give_up_s=5.0) == "recorded" and len(calls) == 3

    def down() -> str:
        raise redis.exceptions.TimeoutError("Timeout reading from socket")

    started = time.monotonic()
    with pytest.raises(redis.exceptions.TimeoutError):
        retry_redis(down, give_up_s=0.5)
    assert time.monotonic() - started < 2.0


def test_a_run_that_lost_its_job_without_noticing_does_not_save_its_outputs(
    service: CeleryJobService,
) -> None:
    """The run's job function returns after the job was given to another run (no progress
    report in between to notice it): the finish refuses, and no report appears."""
    paused = threading.Event()
    resume = threading.Event()

    def pausing_job(upload: Path, out_dir: Path, *_: object) -> dict[str, Any]:
        (out_dir / "report.html").write_text("<p>stale</p>", encoding="utf-8")
        paused.set()
        resume.wait(30.0)
        return {"bytes": 1}

    job_id = submit(service)
    thread, results = run_in_thread(runner_for(service, pausing_job), job_id)
    assert paused.wait(30.0)
    records = service.records
    records.client.hset(records.key("job", job_id), "lease_expires_s", 0)
    assert records.claim(job_id, "B", max_attempts=3).status == "claimed"
    resume.set()
    thread.join(10.0)
    assert results == [RunResult(job_id, True, "lost")]
    assert folders(service) == [] and service.report_file(job_id, "report.html") is None
    job = service.get(job_id)
    assert job is not None and job.state is JobState.RUNNING and job.attempts == 2
