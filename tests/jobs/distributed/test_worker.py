"""Real Celery workers (``python -m formcheck.jobs.distributed.worker``) over a real Redis:

- a worker killed with SIGKILL mid-job (held at a known point by a test hook: the real
  analysis waits at 30% until released) leaves its job to finish once on another worker;
  the report equals the command line's, and a redelivered task leaves it untouched;
- a pool process killed mid-job gives its task back (reject on worker lost): the job
  finishes on the worker's new process;
- Redis killed and restarted (append-only file) while one job runs and two wait loses no
  job and runs none twice.
"""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from formcheck.jobs.config import JobsConfig
from formcheck.jobs.distributed.celery_app import TASK_NAME
from formcheck.jobs.distributed.service import CeleryJobService
from formcheck.jobs.store import JobState
from tests.conftest import REPO_ROOT, first_frames
from tests.queue_services import RedisServer, WorkerProcess, queue_config, wait_for

Start = Callable[[JobsConfig, str, str], WorkerProcess]
CLIP = REPO_ROOT / "sample_videos" / "hip_hinge_hips_rise_first.mp4"
SHORT_FRAMES = 90  # 3 s of the rendered clip
HELD_ANALYSIS = "tests.held_analysis:held_analysis"
HELD_JOB = "tests.fake_jobs:held_job"
HOLD_AT = 0.3  # of the progress bar: well inside the pose analysis
RESULT_WAIT_S = 60.0
EXERCISE = "hip_hinge"
UNACKED_KEY = "unacked"  # kombu's Redis hash of delivered, unacknowledged messages


def held_pids(markers: Path) -> list[tuple[int, int]]:
    """(pool process, worker) of each run waiting at the hook."""
    pids = []
    for marker in sorted(markers.glob("held-*")):
        child, worker, *_ = marker.read_text(encoding="utf-8").split()
        pids.append((int(child), int(worker)))
    return pids


def task_outcomes(service: CeleryJobService) -> list[str]:
    """Every task's stored outcome (the result store), as "STATUS state"."""
    client = service.records.client
    outcomes = []
    for key in client.scan_iter(match="celery-task-meta-*"):
        meta = json.loads(str(client.get(key)))
        result = meta["result"] if isinstance(meta["result"], dict) else {}
        outcomes.append(f"{meta['status']} {result.get('state', meta['result'])}")
    return outcomes


def wait_job(service: CeleryJobService, job_id: str, workers: list[WorkerProcess]) -> Any:
    def finished() -> bool:
        job = service.get(job_id)
        return job is not None and job.state in (JobState.DONE, JobState.FAILED)

    wait_for(finished, "the job:\n" + "\n".join(w.log_tail() for w in workers))
    return service.get(job_id)


def comparable(report: dict[str, Any]) -> dict[str, Any]:
    report["video"].pop("path")
    report.pop("source")
    return report


@pytest.mark.slow
def test_a_worker_killed_mid_job_leaves_the_job_to_finish_once_on_another(
    redis_url: str, tmp_path: Path, model_path: Path, celery_workers: Start
) -> None:
    config = queue_config(redis_url, tmp_path / "data")
    markers = tmp_path / "markers"
    markers.mkdir()
    clip = first_frames(CLIP, tmp_path / "short.mp4", SHORT_FRAMES)
    workers = [celery_workers(config, name, HELD_ANALYSIS) for name in ("first", "second")]
    for worker in workers:
        worker.wait_ready()
    service = CeleryJobService(config)
    try:
        options = {"settings": {"exercise": EXERCISE}, "marker_dir": str(markers),
                   "hold_at": HOLD_AT}  # fmt: skip
        with clip.open("rb") as handle:
            job_id = service.submit(handle, "set.mp4", options).id
        wait_for(lambda: bool(held_pids(markers)), "a worker to reach the hook")
        [(_, holder_pid)] = held_pids(markers)
        [holder] = [w for w in workers if w.pid == holder_pid]
        [other] = [w for w in workers if w is not holder]
        running = service.get(job_id)
        assert running is not None and running.state is JobState.RUNNING
        # mid-run: the progress written last (throttled) is at most the step that reached the
        # hook, which may pass HOLD_AT by a frame's share (0.3022 seen)
        assert 0 < running.progress < 1 and running.attempts == 1
        holder.kill()  # the worker and its pool process, at once
        (markers / "release").touch()

        job = wait_job(service, job_id, [other])
        assert job.state is JobState.DONE and job.attempts == 2, job
        [finisher] = (markers / "finished").read_text(encoding="utf-8").split()
        assert int(finisher) != holder_pid  # the run finished on the other worker, once
        assert sorted(p.name for p in service.data.reports.iterdir()) == [job_id]
        report_json = service.report_file(job_id, "report.json")
        assert report_json is not None
        for name in ("report.html", "measures.csv", "annotated.mp4"):
            assert service.report_file(job_id, name) is not None
        report = json.loads(report_json.read_text(encoding="utf-8"))
        assert report["video"]["frames"] == SHORT_FRAMES and report["source"] == "job"

        from formcheck.offline import analyze_video  # the command line's analysis

        analyze_video(clip, tmp_path / "cli", exercise=EXERCISE)
        expected = json.loads((tmp_path / "cli" / "report.json").read_text(encoding="utf-8"))
        assert comparable(report) == comparable(expected)

        # The killed worker's message is delivered again one day: nothing happens.
        stamp = report_json.stat().st_mtime_ns
        redelivered = service.app.send_task(TASK_NAME, args=[job_id])
        assert redelivered.get(timeout=RESULT_WAIT_S) == {
            "job_id": job_id, "ran": False, "state": "done",
        }  # fmt: skip
        assert report_json.stat().st_mtime_ns == stamp
        assert (markers / "finished").read_text(encoding="utf-8").split() == [finisher]
        done = service.get(job_id)
        assert done is not None and done.state is JobState.DONE and done.attempts == 2
        # Acknowledged late: the killed worker's message is still Redis's, to be delivered
        # again after the visibility timeout (what the send above stood in for). A task that has
        # just returned may not be acknowledged yet, so more than one may be there.
        assert service.records.client.hlen(UNACKED_KEY) >= 1
    finally:
        service.close()


def test_a_pool_process_killed_mid_job_gives_the_task_back_to_the_queue(
    redis_url: str, tmp_path: Path, celery_workers: Start
) -> None:
    config = queue_config(redis_url, tmp_path / "data")
    markers = tmp_path / "markers"
    markers.mkdir()
    worker = celery_workers(config, "only", HELD_JOB)
    worker.wait_ready()
    service = CeleryJobService(config)
    try:
        with CLIP.open("rb") as handle:
            options = {"marker_dir": str(markers), "hold": True}
            job_id = service.submit(handle, "set.mp4", options).id
        wait_for(lambda: bool(held_pids(markers)), "the job to reach the hook")
        [(child_pid, worker_pid)] = held_pids(markers)
        assert worker_pid == worker.pid and child_pid != worker.pid
        os.kill(child_pid, signal.SIGKILL)  # out of memory, a crash in a decoder
        (markers / "release").touch()
        job = wait_job(service, job_id, [worker])
        assert job.state is JobState.DONE and job.attempts == 2, job
        assert (markers / "ran").read_text(encoding="utf-8").count("\n") == 1
        # Rejected on the lost worker: the task went back to the queue instead of being
        # recorded as failed; every delivery's stored outcome is a success.
        outcomes = task_outcomes(service)
        assert outcomes and all(o.startswith("SUCCESS ") for o in outcomes), outcomes
        assert sorted(p.name for p in service.data.reports.iterdir()) == [job_id]
    finally:
        service.close()


def test_redis_restarted_mid_queue_loses_no_job_and_runs_none_twice(
    tmp_path: Path, celery_workers: Start
) -> None:
    server = RedisServer(tmp_path / "redis")
    try:
        # A lease far longer than the restart: no run is presumed lost meanwhile.
        config = queue_config(
            server.url, tmp_path / "data", queue={"lease_s": 30.0, "heartbeat_interval_s": 1.0}
        )
        markers = tmp_path / "markers"
        markers.mkdir()
        worker = celery_workers(config, "only", HELD_JOB)
        worker.wait_ready()
        service = CeleryJobService(config)
        try:
            ids = []
            for index in range(3):
                with CLIP.open("rb") as handle:
                    options = {"marker_dir": str(markers), "hold": index == 0,
                               "name": f"job{index}", "steps": 2}  # fmt: skip
                    ids.append(service.submit(handle, f"set{index}.mp4", options).id)
            wait_for(lambda: bool(held_pids(markers)), "the first job to reach the hook")
            counts = service.records.counts()
            assert counts == {"queued": 2, "running": 1}, counts

            server.kill()  # a crash: only what the append-only file holds survives
            server.start()
            (markers / "release").touch()

            for job_id in ids:
                job = wait_job(service, job_id, [worker])
                assert job.state is JobState.DONE and job.attempts == 1, job
            ran = sorted((markers / "ran").read_text(encoding="utf-8").split())
            assert ran == ["job0", "job1", "job2"]  # each once
            assert sorted(p.name for p in service.data.reports.iterdir()) == sorted(ids)
        finally:
            service.close()
    finally:
        server.stop()


def test_a_worker_without_a_queue_says_how_to_give_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from formcheck.cli import main
    from formcheck.jobs.distributed.worker import main as worker_main

    monkeypatch.delenv("FORMCHECK_JOBS__QUEUE__URL", raising=False)
    assert main(["worker"]) == 1
    assert "--queue redis://HOST:PORT/DB" in capsys.readouterr().err
    assert worker_main(["--data-dir", "x"]) == 1
    with pytest.raises(SystemExit):
        main(["worker", "--queue", "redis://h:1/0", "--concurrency", "0"])
