"""The job service: a finished report survives an interrupted rename (finding 7), reports
are private (finding 10), a job can be deleted while it runs (finding 8), and health says
what is wrong (finding 3) of issue 15. Real worker processes, the fake job of
tests/fake_jobs.py."""

from __future__ import annotations

import json
import os
import stat
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from formcheck.jobs.config import JobsConfig
from formcheck.jobs.service import JobService
from formcheck.jobs.store import JobState
from tests.conftest import REPO_ROOT

FAKE_JOB = "tests.fake_jobs:slow_job"
CLIP = REPO_ROOT / "sample_videos" / "hip_hinge_hips_rise_first.mp4"
WAIT_LIMIT_S = 60.0  # only stops a broken test from hanging
OUTCOME = {"ok": True, "result": {"bytes": 7, "pid": 0}}


def wait_for(predicate: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_LIMIT_S
    while not predicate():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.02)


def config(data_dir: Path, **changes: object) -> JobsConfig:
    return JobsConfig(
        data_dir=data_dir, workers=1, poll_interval_s=0.05, progress_interval_s=0.01,
        **changes,  # type: ignore[arg-type]
    )  # fmt: skip


def submit(service: JobService, **options: object) -> str:
    with CLIP.open("rb") as handle:
        return service.submit(handle, "set.mp4", dict(options)).id


@pytest.fixture
def service(tmp_path: Path) -> Iterator[JobService]:
    svc = JobService(config(tmp_path / "data"), job_fn=FAKE_JOB)
    svc.start()
    yield svc
    svc.close()


@pytest.mark.parametrize("renamed", [False, True], ids=["before the rename", "after it"])
def test_a_run_that_finished_before_the_server_died_keeps_its_report(
    tmp_path: Path, renamed: bool
) -> None:
    markers = tmp_path / "markers"
    markers.mkdir()
    first = JobService(config(tmp_path / "data"), job_fn=FAKE_JOB)  # never started: no worker
    job_id = submit(first, marker_dir=str(markers))
    claim = first.store.claim()  # the run that finished ...
    assert claim is not None
    folder = first.data.part_dir(job_id, claim.token)
    folder.mkdir()
    (folder / "report.html").write_text("<p>the finished report</p>", encoding="utf-8")
    (folder / ".outcome.json").write_text(json.dumps(OUTCOME), encoding="utf-8")
    if renamed:
        folder.rename(first.data.report_dir(job_id))
    first.close()  # ... and the server died before recording it

    again = JobService(config(tmp_path / "data"), job_fn=FAKE_JOB)
    again.start()
    try:
        job = again.get(job_id)
        assert job is not None and job.state is JobState.DONE, job
        assert job.attempts == 1 and job.result == OUTCOME["result"]  # kept, not run again
        report = again.report_file(job_id, "report.html")
        assert report is not None and "finished report" in report.read_text(encoding="utf-8")
        time.sleep(0.3)  # a wrongly requeued run would start now
        assert list(markers.iterdir()) == []
    finally:
        again.close()


def test_reports_are_private(service: JobService) -> None:
    job_id = submit(service)
    wait_for(lambda: service.get(job_id).state is JobState.DONE, "the job")  # type: ignore[union-attr]
    report = service.report_file(job_id, "report.html")
    assert report is not None
    assert stat.S_IMODE(report.stat().st_mode) == 0o600
    assert stat.S_IMODE(report.parent.stat().st_mode) == 0o700


def test_deleting_a_running_job_stops_its_run_and_removes_everything(
    service: JobService, tmp_path: Path
) -> None:
    markers = tmp_path / "markers"
    markers.mkdir()
    job_id = submit(service, marker_dir=str(markers), steps=400, step_s=0.05)
    wait_for(lambda: any(markers.glob("started-*")), "the run to start")
    run_pid = int(next(markers.glob("started-*")).name.split("-")[1])
    upload = service.data.upload_path(service.get(job_id).upload_name)  # type: ignore[union-attr]
    deleted = service.delete(job_id)
    assert deleted is not None and deleted.state is JobState.RUNNING
    assert service.get(job_id) is None and not upload.exists()
    wait_for(lambda: not _alive(run_pid), "the run's process to end")
    wait_for(lambda: not service.data.part_dirs(job_id), "the run's folder to go")
    assert not service.data.report_dir(job_id).exists() and not (markers / "finished").exists()
    assert service.delete(job_id) is None and service.delete("../etc") is None
    after = submit(service)  # the worker is free again
    wait_for(lambda: service.get(after).state is JobState.DONE, "the next job")  # type: ignore[union-attr]
    assert service.delete(after) is not None and not service.data.report_dir(after).exists()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat", encoding="ascii") as handle:  # a zombie is gone too
        return handle.read().split()[2] != "Z"


def test_health_names_a_short_disk(tmp_path: Path) -> None:
    svc = JobService(config(tmp_path / "data", min_free_disk_bytes=10**18), job_fn=FAKE_JOB)
    svc.start()
    try:
        health = svc.health()
        assert health.workers == health.workers_alive == 1
        assert [p for p in health.problems if "MB free on the data directory's disk" in p]
    finally:
        svc.close()
