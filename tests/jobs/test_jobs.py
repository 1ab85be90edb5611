"""The job store, uploads, retention and the worker pool (with a fake job function)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from formcheck.jobs.config import JobsConfig, UploadLimits
from formcheck.jobs.datadir import DataDir
from formcheck.jobs.errors import DataDirBusyError, UploadRejectedError
from formcheck.jobs.retention import purge_expired
from formcheck.jobs.service import JobService
from formcheck.jobs.store import JobState, JobStore
from formcheck.jobs.uploads import receive_upload
from tests.conftest import REPO_ROOT, write_test_video
from tests.reports import assert_valid_report

FAKE_JOB = "tests.fake_jobs:slow_job"
WAIT_LIMIT_S = 60.0  # generous: only stops a broken test from hanging
DAY_S = 86_400.0


def _frames(n: int = 12, size_px: int = 64) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    return [rng.integers(0, 255, (size_px, size_px, 3), dtype=np.uint8) for _ in range(n)]


def _faststart_video(path: Path, n: int = 30) -> Path:
    with av.open(str(path), "w", options={"movflags": "+faststart"}) as container:
        stream = container.add_stream("libx264", rate=30)
        stream.width = stream.height = 64
        stream.pix_fmt = "yuv420p"
        for rgb in _frames(n):
            container.mux(stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")))
        container.mux(stream.encode(None))
    return path


@pytest.fixture
def good_video(tmp_path: Path) -> Path:
    return write_test_video(tmp_path / "good.mp4", _frames())


def _wait_for(predicate, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + WAIT_LIMIT_S
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.05)


# --- the store --------------------------------------------------------------------------


def test_job_lifecycle_queued_running_done(tmp_path: Path) -> None:
    with JobStore(tmp_path / "jobs.sqlite3") as store:
        job = store.enqueue("a.upload", "my set.mp4", {"settings": {"exercise": "hip_hinge"}})
        assert job.state is JobState.QUEUED and job.attempts == 0
        claim = store.claim()
        assert claim is not None and claim.job.id == job.id
        assert claim.job.state is JobState.RUNNING and claim.job.attempts == 1
        assert store.claim() is None  # nothing else queued
        assert store.set_progress(job.id, claim.token, 0.5, "analysing")
        running = store.get(job.id)
        assert running is not None and running.progress == 0.5 and running.stage == "analysing"
        assert store.complete(job.id, claim.token, {"reps": 3})
        assert not store.complete(job.id, claim.token, {"reps": 4})  # only once
        done = store.get(job.id)
        assert done is not None and done.state is JobState.DONE
        assert done.result == {"reps": 3} and done.options["settings"]["exercise"] == "hip_hinge"
        assert done.to_dict()["name"] == "my set.mp4" and "a.upload" not in str(done.to_dict())


def test_failed_job_keeps_its_plain_reason(tmp_path: Path) -> None:
    with JobStore(tmp_path / "jobs.sqlite3") as store:
        job = store.enqueue("a.upload", "x.mp4")
        claim = store.claim()
        assert claim is not None
        assert store.fail(job.id, claim.token, "No person was found in the video.")
        failed = store.get(job.id)
        assert failed is not None and failed.state is JobState.FAILED
        assert failed.error == "No person was found in the video."


def test_jobs_are_claimed_oldest_first(tmp_path: Path) -> None:
    clock = iter(float(t) for t in range(100))
    with JobStore(tmp_path / "jobs.sqlite3", clock=lambda: next(clock)) as store:
        ids = [store.enqueue(f"{i}.upload", f"{i}.mp4").id for i in range(3)]
        claimed = [store.claim() for _ in range(3)]
        assert [c.job.id for c in claimed if c is not None] == ids


def test_crash_mid_run_requeues_the_job_and_it_completes_exactly_once(tmp_path: Path) -> None:
    db = tmp_path / "jobs.sqlite3"
    first = JobStore(db)
    job = first.enqueue("a.upload", "x.mp4")
    lost = first.claim()
    assert lost is not None
    first.set_progress(job.id, lost.token, 0.4, "analysing")
    first.close()  # the process "dies": no complete, no fail

    second = JobStore(db)
    requeued, failed = second.recover(max_attempts=3)
    assert requeued == [job.id] and failed == []
    again = second.claim()
    assert again is not None and again.job.id == job.id and again.job.attempts == 2
    assert not second.set_progress(job.id, lost.token, 0.9)  # the old run lost the job
    assert not second.complete(job.id, lost.token)
    assert second.complete(job.id, again.token, {"ok": True})
    assert not second.complete(job.id, again.token)
    assert second.recover(max_attempts=3) == ([], [])  # nothing left running
    assert second.counts() == {"queued": 0, "running": 0, "done": 1, "failed": 0}
    second.close()


def test_a_job_interrupted_too_often_fails_with_a_reason(tmp_path: Path) -> None:
    with JobStore(tmp_path / "jobs.sqlite3") as store:
        job = store.enqueue("a.upload", "x.mp4")
        assert store.claim() is not None
        assert store.recover(max_attempts=1) == ([], [job.id])
        failed = store.get(job.id)
        assert failed is not None and failed.state is JobState.FAILED
        assert failed.error is not None and "interrupted" in failed.error


def test_one_process_owns_a_data_directory(tmp_path: Path) -> None:
    lock = DataDir(tmp_path).acquire()
    with pytest.raises(DataDirBusyError, match="Another formcheck process"):
        DataDir(tmp_path).acquire()
    lock.release()
    DataDir(tmp_path).acquire().release()


# --- retention ----------------------------------------------------------------------------


def test_retention_deletes_old_uploads_and_reports_only(tmp_path: Path) -> None:
    data = DataDir(tmp_path).create()
    now = [1_000 * DAY_S]
    with JobStore(data.db_path, clock=lambda: now[0]) as store:

        def finished_job(name: str) -> str:
            job = store.enqueue(name, name)
            data.upload_path(name).write_bytes(b"video")
            claim = store.claim()
            assert claim is not None
            data.report_dir(job.id).mkdir()
            (data.report_dir(job.id) / "report.html").write_text("<p>", encoding="utf-8")
            store.complete(job.id, claim.token)
            return job.id

        old = finished_job("old.upload")
        now[0] += 10 * DAY_S
        recent = finished_job("recent.upload")
        waiting = store.enqueue("waiting.upload", "w.mp4")
        data.upload_path("waiting.upload").write_bytes(b"video")
        orphan = data.upload_path("orphan.upload")
        orphan.write_bytes(b"video")
        os.utime(orphan, (now[0] - 20 * DAY_S, now[0] - 20 * DAY_S))

        result = purge_expired(store, data, retention_days=5, now_s=now[0])
        assert (result.jobs, result.orphan_uploads) == (1, 1)
        assert store.get(old) is None and not data.report_dir(old).exists()
        assert not data.upload_path("old.upload").exists() and not orphan.exists()
        assert store.get(recent) is not None and data.report_dir(recent).exists()
        assert data.upload_path("recent.upload").exists()
        assert store.get(waiting.id) is not None and data.upload_path("waiting.upload").exists()


# --- uploads ------------------------------------------------------------------------------


def _bad_files(tmp_path: Path) -> dict[str, tuple[bytes, str]]:
    """name -> (content, words the reason must contain)."""
    whole = write_test_video(tmp_path / "whole.mp4", _frames(30)).read_bytes()
    fast = _faststart_video(tmp_path / "fast.mp4").read_bytes()
    ok, jpeg = cv2.imencode(".jpg", _frames(1)[0])
    assert ok
    zero = tmp_path / "zero.mp4"
    with av.open(str(zero), "w") as container:  # header, a video track, no frame
        stream = container.add_stream("libx264", rate=30)
        stream.width = stream.height = 64
        stream.pix_fmt = "yuv420p"
        container.start_encoding()  # writes the header even though no frame follows
        container.mux(stream.encode(None))
    return {
        "empty.mp4": (b"", "empty"),
        "truncated.mp4": (whole[: len(whole) // 2], "not a video that can be read"),
        "truncated_faststart.mp4": (fast[: len(fast) // 2], "cut short"),
        "photo.mp4": (jpeg.tobytes(), "single picture"),
        "notes.mp4": (b"this is not a video\n" * 100, "not a video that can be read"),
        "zero_frames.mp4": (zero.read_bytes(), "no video"),
        "too_big.mp4": (whole + b"\0" * 2000, "larger than"),
    }


def test_bad_uploads_are_rejected_with_a_plain_reason(tmp_path: Path) -> None:
    data = DataDir(tmp_path / "data").create()
    cases = _bad_files(tmp_path)
    whole_bytes = len(cases["truncated.mp4"][0]) * 2 + 1000
    limits = UploadLimits(max_upload_bytes=whole_bytes)
    for name, (content, words) in cases.items():
        source = tmp_path / name
        source.write_bytes(content)
        with source.open("rb") as handle, pytest.raises(UploadRejectedError) as caught:
            receive_upload(handle, data, limits)
        message = str(caught.value)
        assert words in message, (name, message)
        assert str(data.root) not in message and ".upload" not in message, message
        assert list(data.incoming.iterdir()) == [] and list(data.uploads.iterdir()) == []


def test_too_long_videos_are_rejected(tmp_path: Path, good_video: Path) -> None:
    data = DataDir(tmp_path / "data").create()
    with good_video.open("rb") as handle, pytest.raises(UploadRejectedError, match="limit is"):
        receive_upload(handle, data, UploadLimits(max_duration_s=0.1))


def test_a_good_upload_is_kept_under_a_random_name(tmp_path: Path, good_video: Path) -> None:
    data = DataDir(tmp_path / "data").create()
    with good_video.open("rb") as handle:
        stored = receive_upload(handle, data, UploadLimits())
    assert stored.path.parent == data.uploads and stored.path.is_file()
    assert "good" not in stored.upload_name and stored.size_bytes == good_video.stat().st_size
    assert stored.info.width_px == 64


# --- the worker pool ------------------------------------------------------------------------


@pytest.fixture
def service(tmp_path: Path) -> Iterator[JobService]:
    config = JobsConfig(
        data_dir=tmp_path / "data", workers=1, poll_interval_s=0.05, progress_interval_s=0.01
    )
    svc = JobService(config, job_fn=FAKE_JOB)
    svc.start()
    yield svc
    svc.close()


def test_worker_runs_jobs_to_done_or_failed(
    service: JobService, good_video: Path, tmp_path: Path
) -> None:
    with good_video.open("rb") as handle:
        ok = service.submit(handle, "../../etc/my set.mp4", {"marker_dir": str(tmp_path)})
    with good_video.open("rb") as handle:
        bad = service.submit(handle, "b.mp4", {"fail": "No person was found in the video."})
    with good_video.open("rb") as handle:
        crash = service.submit(handle, "c.mp4", {"crash": True})
    for job_id in (ok.id, bad.id, crash.id):
        _wait_for(
            lambda j=job_id: service.get(j).state in (JobState.DONE, JobState.FAILED),
            f"job {job_id}",
        )
    done = service.get(ok.id)
    assert done is not None and done.state is JobState.DONE and done.display_name == "my set.mp4"
    assert done.result["bytes"] == good_video.stat().st_size and done.progress == 1.0
    report = service.report_file(ok.id, "report.html")
    assert report is not None and report.parent.name == ok.id
    assert service.report_file(ok.id, "../jobs.sqlite3") is None
    failed = service.get(bad.id)
    assert failed is not None and failed.error == "No person was found in the video."
    crashed = service.get(crash.id)
    assert crashed is not None and crashed.error is not None and "internal error" in crashed.error
    assert service.report_file(bad.id, "report.html") is None
    assert not list(service.data.reports.glob("*.part-*"))


KILLABLE_SERVER = """
import sys, time
from pathlib import Path
from formcheck.jobs.config import JobsConfig
from formcheck.jobs.service import JobService
svc = JobService(JobsConfig(data_dir=Path(sys.argv[1]), workers=1, poll_interval_s=0.05,
                            progress_interval_s=0.01), job_fn=sys.argv[2])
svc.start()
while True:
    time.sleep(1)
"""


def test_server_killed_mid_job_resumes_it_exactly_once(tmp_path: Path, good_video: Path) -> None:
    data_dir = tmp_path / "data"
    markers = tmp_path / "markers"
    markers.mkdir()
    config = JobsConfig(
        data_dir=data_dir, workers=1, poll_interval_s=0.05, progress_interval_s=0.01
    )
    queued = JobService(config, job_fn=FAKE_JOB)  # enqueue only: not started
    with good_video.open("rb") as handle:
        job = queued.submit(
            handle, "set.mp4", {"marker_dir": str(markers), "steps": 40, "step_s": 0.05}
        )
    queued.close()

    server = subprocess.Popen(
        [sys.executable, "-c", KILLABLE_SERVER, str(data_dir), FAKE_JOB], cwd=REPO_ROOT
    )
    try:
        _wait_for(lambda: any(markers.glob("started-*")), "the first run to start")
        store = JobStore(DataDir(data_dir).db_path)
        _wait_for(lambda: store.get(job.id).progress > 0, "progress from the first run")
        store.close()
    finally:
        os.kill(server.pid, signal.SIGKILL)
        server.wait()

    restarted = JobService(config, job_fn=FAKE_JOB)
    requeued, failed = restarted.start()
    try:
        assert requeued == [job.id] and failed == []
        _wait_for(lambda: restarted.get(job.id).state is JobState.DONE, "the resumed job")
        done = restarted.get(job.id)
        assert done is not None and done.attempts == 2
        assert len(list(markers.glob("started-*"))) == 2
        _wait_for(lambda: (markers / "finished").exists(), "the finish marker")
        time.sleep(0.3)  # give an orphaned first run the chance to (wrongly) finish too
        assert (markers / "finished").read_text().split() == [str(done.result["pid"])]
        assert restarted.report_file(job.id, "report.html") is not None
        assert not list(restarted.data.reports.glob("*.part-*"))
    finally:
        restarted.close()


@pytest.mark.slow
def test_real_upload_job_writes_the_same_report_as_the_command_line(
    tmp_path: Path, model_path: Path
) -> None:
    import json

    from formcheck.offline import analyze_video

    clip = REPO_ROOT / "sample_videos" / "hip_hinge_rounded_back.mp4"
    if not clip.is_file():
        pytest.skip(f"{clip.name} is not in sample_videos")
    cli_out = tmp_path / "cli"
    assert model_path.is_file()  # the job finds the same model by itself
    analyze_video(clip, cli_out, exercise="hip_hinge")
    config = JobsConfig(data_dir=tmp_path / "data", workers=1, poll_interval_s=0.05)
    svc = JobService(config)
    svc.start()
    try:
        with clip.open("rb") as handle:
            job = svc.submit(handle, "rounded.mp4", {"settings": {"exercise": "hip_hinge"}})
        _wait_for(
            lambda: svc.get(job.id).state in (JobState.DONE, JobState.FAILED),  # type: ignore[union-attr]
            "the analysis job",
        )
        done = svc.get(job.id)
        assert done is not None and done.state is JobState.DONE, done
        files = {
            name: svc.report_file(job.id, name)
            for name in ("report.html", "report.json", "measures.csv", "annotated.mp4")
        }
        assert all(path is not None for path in files.values())
        api = json.loads(files["report.json"].read_text(encoding="utf-8"))  # type: ignore[union-attr]
        cli = json.loads((cli_out / "report.json").read_text(encoding="utf-8"))
        assert assert_valid_report(api).source.value == "job"
        assert api["video"].pop("path") == "rounded.mp4"  # never the stored name
        assert (api.pop("source"), cli.pop("source")) == ("job", "file")
        cli["video"].pop("path")
        assert api == cli
    finally:
        svc.close()
