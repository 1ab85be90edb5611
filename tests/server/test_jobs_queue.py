"""The jobs API on the Celery backend (``formcheck serve --queue``): the same routes and
answers as on the local one, with a real Redis and real Celery workers.

- with no worker connected: idempotency keys, the per-client quota and delete behave as
  locally; /api/health says no worker is connected;
- with Redis out of reach: 503 with a plain reason, not a hanging request or a 500;
- an upload finishes on a worker with the command line's report, and a video without a
  person fails there with its plain reason.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from formcheck.jobs.config import JobsConfig
from formcheck.server.config import ServerConfig
from tests.conftest import REPO_ROOT, first_frames, write_test_video
from tests.queue_services import WorkerProcess, free_port, queue_config, wait_for
from tests.reports import assert_valid_report

Start = Callable[[JobsConfig, str, str], WorkerProcess]
CLIP = REPO_ROOT / "sample_videos" / "hip_hinge_hips_rise_first.mp4"
SHORT_FRAMES = 90
EXERCISE = "hip_hinge"
DEFAULT_JOB = "formcheck.jobs.analysis:run_analysis_job"


def app_client(config: JobsConfig, model_path: Path) -> TestClient:
    from formcheck.server.app import create_app

    app = create_app(ServerConfig(jobs=config), model=model_path)
    return TestClient(app, base_url="http://127.0.0.1")


def upload(client: TestClient, path: Path, name: str = "set.mp4", **headers: str) -> Any:
    with path.open("rb") as handle:
        return client.post(
            "/api/jobs", files={"file": (name, handle, "video/mp4")},
            data={"exercise": EXERCISE}, headers=headers,
        )  # fmt: skip


def wait_done(client: TestClient, job_id: str, worker: WorkerProcess) -> dict[str, Any]:
    answers: list[dict[str, Any]] = []

    def finished() -> bool:
        answers.append(client.get(f"/api/jobs/{job_id}").json())
        return answers[-1]["state"] in ("done", "failed")

    wait_for(finished, f"the job:\n{worker.log_tail()}")
    return answers[-1]


@pytest.fixture
def idle_client(redis_url: str, tmp_path: Path, model_path: Path) -> Iterator[TestClient]:
    """A server on the queue with no worker: its jobs stay queued."""
    config = queue_config(redis_url, tmp_path / "data", max_active_jobs_per_owner=2)
    with app_client(config, model_path) as client:
        yield client


@pytest.mark.slow
def test_keys_quota_and_delete_answer_as_on_the_local_backend(idle_client: TestClient) -> None:
    client = idle_client
    key = {"Idempotency-Key": "monday-set"}
    first = upload(client, CLIP, **key)
    again = upload(client, CLIP, **key)
    assert first.status_code == 201 and again.status_code == 200, (first.text, again.text)
    assert again.json()["id"] == first.json()["id"] and again.headers["idempotent-replayed"]
    job_id = first.json()["id"]
    job = client.get(f"/api/jobs/{job_id}").json()
    assert job["state"] == "queued" and job["progress"] == 0 and job["name"] == "set.mp4"
    assert job["links"]["files"] is None and client.get(f"/jobs/{job_id}").status_code == 200

    second = upload(client, CLIP)
    refused = upload(client, CLIP)  # two queued already: the quota
    assert second.status_code == 201
    assert refused.status_code == 429 and refused.json()["code"] == "quota"
    assert int(refused.headers["retry-after"]) >= 1

    data = client.app.state.context.jobs.data  # type: ignore[attr-defined]
    assert len(list(data.uploads.iterdir())) == 2
    assert client.delete(f"/api/jobs/{job_id}").status_code == 204
    assert client.get(f"/api/jobs/{job_id}").status_code == 404
    assert client.delete(f"/api/jobs/{job_id}").status_code == 404
    assert len(list(data.uploads.iterdir())) == 1  # its upload went with it
    assert upload(client, CLIP).status_code == 201  # room again under the quota

    health = client.get("/api/health")
    assert health.status_code == 503 and health.json()["status"] == "degraded"
    assert any("no job worker" in problem for problem in health.json()["problems"])
    assert health.json()["jobs"]["queued"] == 2


@pytest.mark.slow
def test_a_queue_out_of_reach_answers_503_with_the_reason(
    tmp_path: Path, model_path: Path
) -> None:
    nowhere = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    with app_client(queue_config(nowhere, tmp_path / "data"), model_path) as client:
        job = client.get("/api/jobs/0123456789abcdef0123456789abcdef")
        assert job.status_code == 503 and job.json()["code"] == "queue_unavailable"
        assert "cannot be reached" in job.json()["detail"] and job.headers["retry-after"]
        posted = upload(client, CLIP)
        assert posted.status_code == 503 and posted.json()["code"] == "queue_unavailable"
        health = client.get("/api/health")
        assert health.status_code == 503
        assert any("cannot be reached" in p for p in health.json()["problems"])
        assert len(list((tmp_path / "data" / "uploads").iterdir())) == 0


@pytest.mark.slow
def test_an_upload_finishes_on_a_worker_with_the_command_lines_report(
    redis_url: str, tmp_path: Path, model_path: Path, celery_workers: Start
) -> None:
    config = queue_config(redis_url, tmp_path / "data")
    worker = celery_workers(config, "api", DEFAULT_JOB)
    clip = first_frames(CLIP, tmp_path / "short.mp4", SHORT_FRAMES)
    empty = write_test_video(
        tmp_path / "empty.mp4", [np.full((240, 320, 3), 90, np.uint8)] * 30
    )
    with app_client(config, model_path) as client:
        created = upload(client, clip, name="my set.mp4")
        nobody = upload(client, empty, name="empty room.mp4")
        assert created.status_code == 201 and nobody.status_code == 201
        worker.wait_ready()
        from formcheck.offline import analyze_video

        analyze_video(clip, tmp_path / "cli", exercise=EXERCISE)  # while the worker works
        job = wait_done(client, created.json()["id"], worker)
        assert job["state"] == "done" and job["attempts"] == 1 and job["progress"] == 1.0, job
        assert job["result"]["frames"] == SHORT_FRAMES and job["exercise"] == EXERCISE
        api = client.get(job["links"]["files"]["report_json"]).json()
        assert assert_valid_report(api).source.value == "job"
        assert api["video"]["path"] == "my set.mp4"
        cli = json.loads((tmp_path / "cli" / "report.json").read_text(encoding="utf-8"))
        for report in (api, cli):
            report["video"].pop("path")
            report.pop("source")
        assert api == cli
        for name in ("report_html", "measures_csv", "annotated_mp4"):
            assert client.get(job["links"]["files"][name]).status_code == 200

        failed = wait_done(client, nobody.json()["id"], worker)
        assert failed["state"] == "failed" and failed["links"]["files"] is None
        assert failed["error"].startswith("No person was found in any of the 30 frames of "
                                          "empty room.mp4")  # fmt: skip
        health = client.get("/api/health").json()
        assert health["status"] == "ok" and health["jobs"]["workers"] == 1
