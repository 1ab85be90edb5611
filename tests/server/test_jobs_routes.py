"""Uploads and jobs through the HTTP API: real app, real worker pool, real MediaPipe, real
SQLite in tmp_path.

- a rendered clip and a real one go through POST /api/jobs; the API's report.json equals the
  command line's (analyze_video + write_outputs in-process) once ``video.path`` is dropped
  (the API shows the uploaded file's name there, the command line the path it was given);
  nothing else differs (the report holds no timings or creation times);
- a corpus of bad files gets one plain sentence each (and the right status), and the server
  stays healthy; a video without a person fails as a job with its plain reason;
- `formcheck serve` killed (SIGKILL, server and its job process) mid-job and started again on
  the same data directory finishes the job exactly once.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import av
import cv2
import httpx
import numpy as np
import pytest
from fastapi.testclient import TestClient

from formcheck.jobs.config import JobsConfig, UploadLimits
from formcheck.server.config import ServerConfig
from formcheck.server.jobs_routes import UploadFormError, parse_upload_form
from formcheck.server.upload_stream import FormError, StreamingForm
from tests.conftest import REPO_ROOT, SHARED_VIDEOS, write_test_video
from tests.reports import assert_valid_report

RENDERED_CLIP = REPO_ROOT / "sample_videos" / "hip_hinge_hips_rise_first.mp4"
REAL_CLIP = "hinge/yfgd_good_000002.mp4"  # 121 frames, one rep: the shortest real hinge clip
EXERCISE = "hip_hinge"
MAX_UPLOAD_BYTES = 3_000_000  # above the real clip (2.4 MB), far below the default
MAX_DURATION_S = 30.0
WAIT_LIMIT_S = 180.0  # only stops a broken test from hanging
POLL_S = 0.2
SERVE_START_WAIT_S = 60.0
KILL_CLIP_FRAMES = 150  # 5 s of the rendered clip: enough to be killed in the middle of
REPORT_FILES = ("report.html", "report.json", "measures.csv", "annotated.mp4")
DROPPED_FIELDS = (("video", "path"),)  # legitimately differ between the API and the CLI


def jobs_config(data_dir: Path, **limits: Any) -> ServerConfig:
    return ServerConfig(
        jobs=JobsConfig(
            data_dir=data_dir,
            workers=1,
            poll_interval_s=0.1,
            progress_interval_s=0.2,
            limits=UploadLimits(
                max_upload_bytes=MAX_UPLOAD_BYTES, max_duration_s=MAX_DURATION_S, **limits
            ),
        )
    )


def upload(client: TestClient | httpx.Client, path: Path, name: str | None = None,
           **fields: str) -> Any:  # fmt: skip
    data = {"exercise": EXERCISE, **fields}
    with path.open("rb") as handle:
        return client.post(
            "/api/jobs", files={"file": (name or path.name, handle, "video/mp4")}, data=data
        )


def wait_for_job(client: TestClient | httpx.Client, job_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + WAIT_LIMIT_S
    while True:
        job: dict[str, Any] = client.get(f"/api/jobs/{job_id}").json()
        if job["state"] in ("done", "failed"):
            return job
        assert time.monotonic() < deadline, f"job still {job['state']}: {job}"
        time.sleep(POLL_S)


def comparable(report: dict[str, Any]) -> dict[str, Any]:
    for block, key in DROPPED_FIELDS:
        report[block].pop(key)
    report.pop("source")  # job or file
    return report


def cli_report(video: Path, out_dir: Path) -> dict[str, Any]:
    """The report.json of `formcheck analyze VIDEO --exercise hip_hinge`, in-process (the
    command line's write_outputs adds report.html and annotated.mp4, not report.json)."""
    from formcheck.offline import analyze_video

    analyze_video(video, out_dir, exercise=EXERCISE)
    return dict(json.loads((out_dir / "report.json").read_text(encoding="utf-8")))


def one_sentence(text: str) -> bool:
    return text.endswith(".") and ". " not in text and "\n" not in text


# --- the form, without a server ----------------------------------------------------------


def test_streaming_form_splits_the_file_from_the_fields_in_any_chunking() -> None:
    boundary = "xYz123"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="exercise"\r\n\r\nhip_hinge\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a b.mp4"\r\n'
            "Content-Type: video/mp4\r\n\r\n"
        ).encode()
        + bytes(range(256)) * 40
        + (
            f'\r\n--{boundary}\r\nContent-Disposition: form-data; name="tempo"\r\n\r\n3-1-2\r\n'
            f"--{boundary}--\r\n"
        ).encode()
    )
    for chunk_bytes in (1, 7, 4096, len(body)):
        form = StreamingForm(f"multipart/form-data; boundary={boundary}")
        file_bytes = b"".join(
            piece
            for start in range(0, len(body), chunk_bytes)
            for piece in form.feed(body[start : start + chunk_bytes])
        )
        assert file_bytes == bytes(range(256)) * 40
        assert form.fields == {"exercise": ["hip_hinge"], "tempo": ["3-1-2"]}
        assert form.filename == "a b.mp4" and form.file_seen and form.ended


def test_streaming_form_refuses_what_is_not_a_form() -> None:
    with pytest.raises(FormError, match="multipart/form-data"):
        StreamingForm("video/mp4")
    form = StreamingForm("multipart/form-data; boundary=b")
    with pytest.raises(FormError, match="longer than"):
        form.feed(b'--b\r\nContent-Disposition: form-data; name="tempo"\r\n\r\n' + b"1" * 5000)


def test_upload_form_fields_are_checked_with_plain_reasons() -> None:
    exercises = {"hip_hinge", "plank"}
    form = parse_upload_form(
        {"exercise": ["hip_hinge"], "tempo": ["3-1-2"], "height_cm": ["180"], "reps": [""]},
        exercises,
    )
    assert form.settings() == {"exercise": "hip_hinge", "tempo": "3-1-2"}
    assert form.height_cm == 180.0
    cases = {
        "Choose the exercise": {},
        "no exercise called 'squat'": {"exercise": ["squat"]},
        "unknown field 'prescription'": {"exercise": ["plank"], "prescription": ["/etc/passwd"]},
        "height_cm": {"exercise": ["plank"], "height_cm": ["20"]},
        "Tempo 'fast' is not valid": {"exercise": ["hip_hinge"], "tempo": ["fast"]},
    }
    for words, fields in cases.items():
        with pytest.raises(UploadFormError, match=words):
            parse_upload_form(fields, exercises)


def test_serve_flags_make_the_jobs_config(tmp_path: Path) -> None:
    from formcheck.cli import build_parser
    from formcheck.errors import FormcheckError
    from formcheck.live_cli import jobs_config_from_args

    args = build_parser().parse_args(
        ["serve", "--data-dir", str(tmp_path), "--workers", "2", "--max-upload-mb", "50",
         "--max-duration-s", "120", "--retention-days", "7"]
    )  # fmt: skip
    config = jobs_config_from_args(args)
    assert config.data_dir == tmp_path and config.workers == 2 and config.retention_days == 7
    assert config.limits == UploadLimits(max_upload_bytes=50_000_000, max_duration_s=120.0)
    defaults = jobs_config_from_args(build_parser().parse_args(["serve"]))
    assert defaults.limits == UploadLimits() and defaults.data_dir == Path("out/server")
    with pytest.raises(FormcheckError, match="workers"):
        jobs_config_from_args(build_parser().parse_args(["serve", "--workers", "0"]))


# --- good uploads: the API's report is the command line's --------------------------------


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory, model_path: Path) -> Iterator[TestClient]:
    from formcheck.server.app import create_app

    data_dir = tmp_path_factory.mktemp("server_jobs") / "data"
    with TestClient(
        create_app(jobs_config(data_dir), model=model_path), base_url="http://127.0.0.1"
    ) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def good_runs(
    client: TestClient, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, tuple[Path, dict[str, Any], Path]]:
    """clip kind -> (source, finished job, the CLI's output folder); both jobs are queued
    first so the worker analyses them while the CLI runs here."""
    clips = {"rendered": RENDERED_CLIP}
    real = SHARED_VIDEOS / REAL_CLIP
    if real.is_file():
        clips["real"] = real
    created = {}
    for kind, clip in clips.items():
        response = upload(client, clip, name=f"my {kind} set.mp4")
        assert response.status_code == 201, response.text
        created[kind] = response.json()
    out = tmp_path_factory.mktemp("cli")
    runs = {}
    for kind, clip in clips.items():
        cli_report(clip, out / kind)
        runs[kind] = (clip, wait_for_job(client, created[kind]["id"]), out / kind)
    return runs


def check_same_report_as_cli(
    client: TestClient, clip: Path, job: dict[str, Any], cli_dir: Path, name: str
) -> dict[str, Any]:
    assert job["state"] == "done", job
    assert job["attempts"] == 1 and job["error"] is None and job["progress"] == 1.0
    assert job["name"] == name and job["exercise"] == EXERCISE
    response = client.get(job["links"]["files"]["report_json"])
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    api = response.json()
    assert assert_valid_report(api).source.value == "job"
    assert api["video"]["path"] == name  # the upload's name, never the stored one
    cli = json.loads((cli_dir / "report.json").read_text(encoding="utf-8"))
    assert cli["video"]["path"] == str(clip) and cli["source"] == "file"
    assert comparable(api) == comparable(cli)
    assert job["result"]["reps"] == api["summary"]["reps"] and job["result"]["frames"] > 0
    return dict(api)


@pytest.mark.slow
def test_rendered_clip_through_the_api_gives_the_command_lines_report(
    client: TestClient, good_runs: dict[str, tuple[Path, dict[str, Any], Path]], tmp_path: Path
) -> None:
    clip, job, cli_dir = good_runs["rendered"]
    api = check_same_report_as_cli(client, clip, job, cli_dir, "my rendered set.mp4")
    assert api["summary"]["reps"] == 2
    assert "hips_rise_first" in {f["code"] for f in api["findings"]}
    files = job["links"]["files"]
    media = {
        "report_html": "text/html; charset=utf-8",
        "measures_csv": "text/csv; charset=utf-8",
        "annotated_mp4": "video/mp4",
    }
    for key, media_type in media.items():
        response = client.get(files[key])
        assert response.status_code == 200 and response.headers["content-type"] == media_type
    page = client.get(files["report_html"])
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert "my rendered set.mp4" in page.text and "<script" not in page.text.lower()
    saved = client.get(files["report_json"], params={"download": 1})
    assert 'filename="my_rendered_set-report.json"' in saved.headers["content-disposition"]
    # the annotated video, as downloaded, has every frame of the source
    video = tmp_path / "annotated.mp4"
    video.write_bytes(client.get(files["annotated_mp4"]).content)
    with av.open(str(clip)) as source, av.open(str(video)) as annotated:
        assert annotated.streams.video[0].codec_context.name == "h264"
        assert sum(1 for _ in annotated.decode(video=0)) == sum(1 for _ in source.decode(video=0))
    # the job's page, and nothing else of the job's folder or the upload is served
    assert client.get(job["links"]["page"]).status_code == 200
    for name in ("x.upload", "jobs.sqlite3", ".outcome.json", "report.pdf"):
        response = client.get(f"/api/jobs/{job['id']}/files/{name}")
        assert response.status_code == 404 and one_sentence(response.json()["detail"])
    assert client.get(f"/api/jobs/{job['id']}/files/..%2F..%2Fjobs.sqlite3").status_code == 404
    stored = list((Path(client.app.state.context.config.jobs.data_dir) / "uploads").iterdir())  # type: ignore[attr-defined]
    assert stored and all(p.name not in client.get(files["report_html"]).text for p in stored)
    # the verdict the job page shows first: the report's, in plain words
    verdict = client.get(f"/api/jobs/{job['id']}/verdict").json()
    assert verdict["headline"] == "1 thing to work on"
    assert [f["name"] for f in verdict["findings"]] == ["Hips rising first"]
    assert verdict["counted"] == "2 reps counted."
    for path in (
        "/api/jobs/0123abcd",
        "/jobs/0123abcd",
        "/api/jobs/0123abcd/files/report.json",
        "/api/jobs/0123abcd/verdict",
    ):
        assert client.get(path).status_code == 404


@pytest.mark.slow
def test_real_clip_through_the_api_gives_the_command_lines_report(
    client: TestClient, good_runs: dict[str, tuple[Path, dict[str, Any], Path]]
) -> None:
    if "real" not in good_runs:
        pytest.skip(f"real clip {REAL_CLIP} not available: ../shared/videos is absent")
    clip, job, cli_dir = good_runs["real"]
    api = check_same_report_as_cli(client, clip, job, cli_dir, "my real set.mp4")
    assert api["video"]["frames"] == job["result"]["frames"] == 121
    assert api["summary"]["reps"] >= 1


# --- bad files ----------------------------------------------------------------------------


def bad_files(folder: Path) -> dict[str, tuple[bytes, int, str]]:
    """file name -> (content, HTTP status, words the one-sentence reason must contain)."""
    whole = RENDERED_CLIP.read_bytes()
    ok, jpeg = cv2.imencode(".jpg", np.full((48, 64, 3), 200, np.uint8))
    assert ok
    zero = folder / "zero.mp4"
    with av.open(str(zero), "w") as container:  # a header and a video track, no frame
        stream = container.add_stream("libx264", rate=30)
        stream.width = stream.height = 64
        stream.pix_fmt = "yuv420p"
        container.start_encoding()
        container.mux(stream.encode(None))
    slow_fps = 2  # a long video in few frames
    long_frames = [np.full((64, 64, 3), i % 255, np.uint8) for i in range(70)]
    long_video = write_test_video(folder / "long.mp4", long_frames, fps=slow_fps)
    return {
        "empty.mp4": (b"", 422, "empty"),
        "truncated.mp4": (whole[: len(whole) // 2], 422, "cut short"),  # a faststart MP4
        "photo.mp4": (jpeg.tobytes(), 422, "single picture"),
        "notes.txt": (b"this is not a video\n" * 50, 422, "not a video that can be read"),
        "zero_frames.mp4": (zero.read_bytes(), 422, "no video"),
        "too_long.mp4": (long_video.read_bytes(), 422, "the limit is 30 seconds"),
        # refused while streaming in, and (far over) from its Content-Length before reading
        "too_big.mp4": (b"\0" * (MAX_UPLOAD_BYTES + 1), 413, "larger than the 3 MB limit"),
        "far_too_big.mp4": (b"\0" * (2 * MAX_UPLOAD_BYTES), 413, "larger than the 3 MB limit"),
    }


def no_person_video(path: Path) -> Path:
    """Two seconds of an empty room: a wall, a floor and a little sensor noise."""
    rng = np.random.default_rng(1)
    room = np.zeros((240, 320, 3), np.uint8)
    room[:160] = (180, 170, 150)
    room[160:] = (90, 70, 50)
    frames = [
        np.clip(room + rng.integers(-3, 4, room.shape), 0, 255).astype(np.uint8) for _ in range(60)
    ]
    return write_test_video(path, frames)


def multipart_chunks(boundary: str, content: bytes, chunk_bytes: int) -> Iterator[bytes]:
    """A multipart body sent in chunks without a Content-Length (chunked transfer)."""
    yield (
        f'--{boundary}\r\nContent-Disposition: form-data; name="exercise"\r\n\r\n{EXERCISE}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.mp4"\r\n'
        "\r\n"
    ).encode()
    for start in range(0, len(content), chunk_bytes):
        yield content[start : start + chunk_bytes]
    yield f"\r\n--{boundary}--\r\n".encode()


@pytest.mark.slow
def test_bad_files_get_a_plain_reason_and_the_server_stays_healthy(
    client: TestClient, tmp_path: Path
) -> None:
    data_dir = Path(client.app.state.context.config.jobs.data_dir)  # type: ignore[attr-defined]
    uploads_before = set((data_dir / "uploads").iterdir())
    for name, (content, status, words) in bad_files(tmp_path).items():
        response = client.post(
            "/api/jobs", files={"file": (name, content, "video/mp4")}, data={"exercise": EXERCISE}
        )
        assert response.status_code == status, (name, response.text)
        detail = response.json()["detail"]
        assert words in detail and one_sentence(detail), (name, detail)
        assert ".upload" not in detail and str(data_dir) not in detail, detail
        assert client.get("/api/health").json()["status"] == "ok"
    # over the limit without a Content-Length: refused while streaming in
    boundary = "limitTest"
    response = client.post(
        "/api/jobs",
        content=multipart_chunks(boundary, b"\0" * (2 * MAX_UPLOAD_BYTES), 64_000),
        headers={"content-type": f"multipart/form-data; boundary={boundary}"},
    )
    assert response.status_code == 413 and "larger than" in response.json()["detail"]
    # requests that are not an upload form
    not_forms = {
        "no file": client.post("/api/jobs", data={"exercise": EXERCISE}),
        "raw body": client.post("/api/jobs", content=b"\0" * 100),
    }
    for what, response in not_forms.items():
        assert response.status_code == 400, what
        assert one_sentence(response.json()["detail"]) and response.json()["code"] == "bad_form"
    wrong_field = upload(client, RENDERED_CLIP, exercise="squat_jump")
    assert wrong_field.status_code == 422 and "squat_jump" in wrong_field.json()["detail"]
    # nothing refused was kept
    assert set((data_dir / "uploads").iterdir()) == uploads_before
    assert list((data_dir / "incoming").iterdir()) == []

    # a video without a person is accepted, and its job fails with the plain reason
    accepted = upload(client, no_person_video(tmp_path / "empty room.mp4"))
    assert accepted.status_code == 201, accepted.text
    failed = wait_for_job(client, accepted.json()["id"])
    assert failed["state"] == "failed" and failed["links"]["files"] is None
    assert failed["error"].startswith("No person was found in any of the 60 frames of empty room")
    assert one_sentence(failed["error"]) and ".upload" not in failed["error"]
    missing = client.get(f"/api/jobs/{failed['id']}/files/report.json")
    assert missing.status_code == 404

    # and the server still works
    health = client.get("/api/health").json()
    assert health["status"] == "ok" and health["jobs"]["max_upload_bytes"] == MAX_UPLOAD_BYTES
    good = upload(client, RENDERED_CLIP)
    assert good.status_code == 201 and good.json()["frames"] == 312
    assert client.get(good.json()["status_url"]).json()["state"] in ("queued", "running")


# --- kill -9 and restart ------------------------------------------------------------------


def first_seconds(video: Path, out: Path, frames: int) -> Path:
    """The first ``frames`` frames of ``video``, encoded again."""
    with av.open(str(video)) as container:
        decoded = zip(range(frames), container.decode(video=0), strict=False)
        rgb = [frame.to_ndarray(format="rgb24") for _, frame in decoded]
    return write_test_video(out, rgb)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class ServeProcess:
    """`formcheck serve` in its own process group (with the job processes it starts)."""

    def __init__(self, data_dir: Path) -> None:
        self.port = free_port()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "formcheck.cli", "serve", "--port", str(self.port),
             "--data-dir", str(data_dir), "--workers", "1"],
            stdout=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip
        self.client = httpx.Client(base_url=f"http://127.0.0.1:{self.port}", timeout=30.0)
        deadline = time.monotonic() + SERVE_START_WAIT_S
        while True:
            assert self.process.poll() is None, "formcheck serve exited"
            try:
                if self.client.get("/api/health").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "formcheck serve did not answer"
            time.sleep(POLL_S)

    def kill(self) -> None:
        """SIGKILL the server and its job process at once (a power cut, an OOM kill)."""
        self.client.close()
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(SERVE_START_WAIT_S)

    def stop(self) -> None:
        self.client.close()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(SERVE_START_WAIT_S)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


@pytest.mark.slow
def test_killed_server_finishes_the_job_exactly_once_after_restart(
    tmp_path: Path, model_path: Path
) -> None:
    assert model_path.is_file()  # the server finds the same model by itself
    clip = first_seconds(RENDERED_CLIP, tmp_path / "short.mp4", KILL_CLIP_FRAMES)
    data_dir = tmp_path / "data"
    first = ServeProcess(data_dir)
    try:
        created = upload(first.client, clip)
        assert created.status_code == 201, created.text
        job_id = created.json()["id"]
        deadline = time.monotonic() + WAIT_LIMIT_S
        while True:  # kill it mid-analysis
            job = first.client.get(f"/api/jobs/{job_id}").json()
            if job["state"] == "running" and job["progress"] >= 0.2:
                break
            assert job["state"] in ("queued", "running"), job
            assert time.monotonic() < deadline, job
            time.sleep(POLL_S)
        first.kill()
    finally:
        first.kill()
    assert list((data_dir / "reports").glob(f"{job_id}.part-*"))  # the interrupted run's files

    second = ServeProcess(data_dir)
    try:
        done = wait_for_job(second.client, job_id)
        assert done["state"] == "done" and done["attempts"] == 2, done
        report = second.client.get(done["links"]["files"]["report_json"]).json()
        assert report["video"]["frames"] == KILL_CLIP_FRAMES and "summary" in report
    finally:
        second.stop()
    assert [p.name for p in (data_dir / "reports").iterdir()] == [job_id]  # one report
    from formcheck.jobs.store import JobStore

    with JobStore(data_dir / "jobs.sqlite3") as store:
        stored = store.get(job_id)
        assert stored is not None and stored.state.value == "done" and stored.attempts == 2
        assert store.counts() == {"queued": 0, "running": 0, "done": 1, "failed": 0}


# --- the jobs API: idempotency, quota, delete (issue 15, finding 8) ------------------------


@pytest.fixture
def fresh_client(tmp_path: Path, model_path: Path) -> Iterator[TestClient]:
    """An app of its own (its own per-client counters), default limits, one worker."""
    from formcheck.server.app import create_app

    jobs = JobsConfig(
        data_dir=tmp_path / "data", workers=1, poll_interval_s=0.1, progress_interval_s=0.2
    )
    config = ServerConfig(jobs=jobs)
    with TestClient(create_app(config, model=model_path), base_url="http://127.0.0.1") as client:
        yield client


def stored_jobs(client: TestClient) -> dict[str, int]:
    from formcheck.jobs.store import JobStore

    data_dir = Path(client.app.state.context.config.jobs.data_dir)  # type: ignore[attr-defined]
    with JobStore(data_dir / "jobs.sqlite3") as store:
        return store.counts()


REPEATS = 20  # the finding: 20 uploads of one file in 1.4 s made 20 jobs


@pytest.mark.slow
def test_a_repeated_upload_with_one_idempotency_key_makes_one_job(
    fresh_client: TestClient,
) -> None:
    key = {"Idempotency-Key": "3f1c2a9e-upload-of-monday"}
    answers = []
    for _ in range(REPEATS):
        with RENDERED_CLIP.open("rb") as handle:
            answers.append(fresh_client.post(
                "/api/jobs", files={"file": ("set.mp4", handle, "video/mp4")},
                data={"exercise": EXERCISE}, headers=key,
            ))  # fmt: skip
    assert [a.status_code for a in answers] == [201] + [200] * (REPEATS - 1)
    assert len({a.json()["id"] for a in answers}) == 1
    assert all(a.json()["frames"] == 312 for a in answers)
    assert all(a.headers.get("idempotent-replayed") == "true" for a in answers[1:])
    assert sum(stored_jobs(fresh_client).values()) == 1
    bad_key = fresh_client.post("/api/jobs", files={"file": ("a.mp4", b"x")},
                                headers={"Idempotency-Key": "x" * 300})  # fmt: skip
    assert bad_key.status_code == 400 and bad_key.json()["code"] == "bad_header"


@pytest.mark.slow
def test_a_burst_of_uploads_meets_the_quota(fresh_client: TestClient) -> None:
    answers = [upload(fresh_client, RENDERED_CLIP) for _ in range(REPEATS)]
    created = [a for a in answers if a.status_code == 201]
    refused = [a for a in answers if a.status_code == 429]
    assert len(created) + len(refused) == REPEATS, [a.text for a in answers]
    assert refused, f"{REPEATS} uploads in a burst made {len(created)} jobs"
    quota = JobsConfig(data_dir=Path("x")).max_active_jobs_per_owner
    finished = stored_jobs(fresh_client)["done"] + stored_jobs(fresh_client)["failed"]
    assert quota <= len(created) <= quota + finished
    assert all(int(a.headers["retry-after"]) >= 1 for a in refused)
    assert all(a.json()["code"] == "quota" and "wait" in a.json()["detail"] for a in refused)


@pytest.mark.slow
def test_a_running_job_can_be_deleted_with_its_files(
    fresh_client: TestClient, tmp_path: Path
) -> None:
    created = upload(fresh_client, RENDERED_CLIP)
    assert created.status_code == 201, created.text
    job_id = created.json()["id"]
    deadline = time.monotonic() + WAIT_LIMIT_S
    while fresh_client.get(f"/api/jobs/{job_id}").json()["state"] != "running":
        assert time.monotonic() < deadline
        time.sleep(POLL_S)
    deleted = fresh_client.delete(f"/api/jobs/{job_id}")
    assert deleted.status_code == 204, deleted.text
    assert fresh_client.get(f"/api/jobs/{job_id}").status_code == 404
    assert fresh_client.delete(f"/api/jobs/{job_id}").status_code == 404
    data_dir = tmp_path / "data"
    deadline = time.monotonic() + WAIT_LIMIT_S
    while list((data_dir / "reports").iterdir()):  # the run's folder goes with its process
        assert time.monotonic() < deadline, list((data_dir / "reports").iterdir())
        time.sleep(POLL_S)
    assert list((data_dir / "uploads").iterdir()) == []
    assert sum(stored_jobs(fresh_client).values()) == 0


# --- a full disk (issue 15, finding 3) ----------------------------------------------------

SMALL_DISK_BYTES = 16_000_000
FILL_CHUNK_BYTES = 64_000


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 16 MB tmpfs of its own (needs root with CAP_SYS_ADMIN, as in a CI container)."""
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={SMALL_DISK_BYTES},mode=0700", "tmpfs",
         str(mount_point)], capture_output=True, text=True, check=False,
    ) if os.geteuid() == 0 else None  # fmt: skip
    if mounted is None or mounted.returncode != 0:
        reason = mounted.stderr.strip() if mounted is not None else "not root"
        pytest.skip(f"a small tmpfs cannot be mounted here ({reason}): needs root")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def fill(disk: Path) -> Path:
    filler = disk / "filler"
    with filler.open("wb") as handle:
        try:
            while True:
                handle.write(b"\0" * FILL_CHUNK_BYTES)
                handle.flush()
        except OSError:
            pass
    return filler


def wait_until(predicate: Any, what: str) -> None:
    deadline = time.monotonic() + WAIT_LIMIT_S
    while not predicate():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(POLL_S)


@pytest.mark.slow
def test_a_full_disk_is_refused_reported_and_survived(
    small_disk: Path, model_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from formcheck.server.app import create_app

    for name, value in (("MIN_FREE_DISK_BYTES", "1000000"), ("RECORD_RETRY_MAX_S", "0.5"),
                        ("SUPERVISE_INTERVAL_S", "0.2")):  # fmt: skip
        monkeypatch.setenv(f"FORMCHECK_JOBS__{name}", value)
    config = ServerConfig(jobs={"data_dir": small_disk / "data", "workers": 1,
                                "poll_interval_s": 0.1, "progress_interval_s": 0.1})  # fmt: skip
    app = create_app(config, model=model_path)
    with TestClient(app, base_url="http://127.0.0.1", raise_server_exceptions=False) as client:
        created = upload(client, RENDERED_CLIP)
        assert created.status_code == 201, created.text
        job_id = created.json()["id"]
        wait_until(lambda: client.get(f"/api/jobs/{job_id}").json()["progress"] > 0,
                   "the analysis to be under way")  # fmt: skip
        filler = fill(small_disk)  # the disk fills up while the job runs

        health = client.get("/api/health")
        assert health.status_code == 503 and health.json()["status"] == "degraded", health.text
        refused = upload(client, RENDERED_CLIP)
        assert refused.status_code == 507, refused.text
        assert refused.json()["code"] == "disk_full" and "disk space" in refused.json()["detail"]
        wait_until(lambda: "cannot be written" in client.get("/api/health").text
                   or client.get(f"/api/jobs/{job_id}").json()["state"] != "running",
                   "the run to hit the full disk")  # fmt: skip

        filler.unlink()  # space comes back
        wait_until(lambda: client.get(f"/api/jobs/{job_id}").json()["state"] == "failed",
                   "the job's failure to be recorded")  # fmt: skip
        assert "disk space" in client.get(f"/api/jobs/{job_id}").json()["error"]
        wait_until(lambda: client.get("/api/health").status_code == 200, "health to be ok")
        jobs = client.get("/api/health").json()["jobs"]
        assert jobs["workers_alive"] == jobs["workers"] == 1 and jobs["running"] == 0

        short = first_seconds(RENDERED_CLIP, small_disk / "short.mp4", KILL_CLIP_FRAMES)
        again = upload(client, short)  # and new uploads run
        short.unlink()
        assert again.status_code == 201, again.text
        assert wait_for_job(client, again.json()["id"])["state"] == "done"
