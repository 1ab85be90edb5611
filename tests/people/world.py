"""A server with two clinicians, each with a person, a programme, sessions and a suggestion:
the world the route tests act in (the app with a real job pool and the people database)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from pydantic import SecretStr

from formcheck.jobs.config import JobsConfig
from formcheck.people.accounts import create_account
from formcheck.people.db import Database
from formcheck.people.routes import COOKIE_NAME
from formcheck.server.config import ClientLimits, ServerConfig
from tests.conftest import REPO_ROOT
from tests.people.synthetic_reports import set_report

FAKE_JOB = "tests.people.fake_job:report_job"
CLIP = REPO_ROOT / "sample_videos" / "hip_hinge_hips_rise_first.mp4"
PASSWORD = "correct horse battery"
BASE_URL = "http://127.0.0.1"
WAIT_LIMIT_S = 120.0
POLL_S = 0.1
BRIDGE_ITEM = {
    "exercise": "glute_bridge",
    "prescription": {"reps": 10, "tempo": "2-1-2"},
    "rules": {"sessions_required": 3, "steps": [{"kind": "tempo_down", "step": 2, "limit": 4}]},
}
HINGE_ITEM = {"exercise": "hip_hinge", "prescription": {"reps": 8}, "rules": {}}


# The tests make hundreds of requests from one client in seconds: above the per-client rate
# limit (its own tests are in tests/server), which is not what these tests are about.
TEST_CLIENT_LIMITS = ClientLimits(requests_per_s=10_000, request_burst=10_000)


def server_config(data_dir: Path, database_url: str | None, **changes: Any) -> ServerConfig:
    return ServerConfig(
        clients=TEST_CLIENT_LIMITS,
        jobs=JobsConfig(data_dir=data_dir, workers=1, poll_interval_s=0.1,
                        progress_interval_s=0.1, min_free_disk_bytes=0),
        database_url=SecretStr(database_url) if database_url else None,
        **changes,
    )  # fmt: skip


def signed_set(client: TestClient, *args: Any, **kwargs: Any) -> dict[str, Any]:
    """A live set's report (``set_report``'s arguments) with the running app's signature, as
    the page sends it after the summary message."""
    report = set_report(*args, **kwargs)
    return {"report": report, "signature": client.app.state.context.signer.sign(report)}  # type: ignore[attr-defined]


@contextmanager
def running_app(config: ServerConfig) -> Iterator[TestClient]:
    from formcheck.server.app import create_app

    app = create_app(config, job_fn=FAKE_JOB)
    with TestClient(app, base_url=BASE_URL) as client:
        yield client


def add_clinician(database_url: str, username: str) -> None:
    database = Database(database_url)
    try:
        with database.session() as session:
            create_account(session, username, PASSWORD, "clinician", username.title())
    finally:
        database.close()


def sign_in(client: TestClient, username: str, password: str = PASSWORD) -> dict[str, str]:
    """The Cookie header of a fresh sign-in (the client's own cookie jar stays empty)."""
    answer = client.post("/api/account/login", json={"username": username, "password": password})
    assert answer.status_code == 200, answer.text
    secret = answer.cookies[COOKIE_NAME]
    client.cookies.clear()
    return {"Cookie": f"{COOKIE_NAME}={secret}"}


def ok(answer: Any, status: int = 200) -> Any:
    assert answer.status_code == status, f"{answer.status_code}: {answer.text}"
    return answer.json()


def wait_for_job(client: TestClient, job_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + WAIT_LIMIT_S
    while True:
        job: dict[str, Any] = client.get(f"/api/jobs/{job_id}").json()
        if job["state"] in ("done", "failed"):
            return job
        assert time.monotonic() < deadline, f"job still {job['state']}"
        time.sleep(POLL_S)


def upload(client: TestClient, exercise: str) -> str:
    with CLIP.open("rb") as handle:
        answer = client.post(
            "/api/jobs", files={"file": ("clip.mp4", handle, "video/mp4")},
            data={"exercise": exercise},
        )  # fmt: skip
    return str(ok(answer, 201)["id"])


@dataclass
class Side:
    """One clinician's corner of the world: their person and that person's records."""

    clinician: dict[str, str]
    person: dict[str, str]
    person_id: int = 0
    item_id: int = 0
    session_id: int = 0
    suggestion_id: int = 0
    job_id: str = ""
    token_id: int = 0  # the person's API token
    extra: dict[str, Any] = field(default_factory=dict)


def build_side(client: TestClient, database_url: str, name: str) -> Side:
    """Clinician ``name``, person ``name-p`` with a bridge programme, three live sets meeting
    their targets (so a suggestion is open), and an uploaded hinge set."""
    add_clinician(database_url, name)
    clinician = sign_in(client, name)
    person = ok(client.post("/api/people", headers=clinician, json={
        "username": f"{name}-p", "display_name": f"{name.title()}'s person",
        "password": PASSWORD}), 201)  # fmt: skip
    programme = ok(client.post(f"/api/people/{person['id']}/programmes", headers=clinician,
                               json={"name": "Back basics", "items": [BRIDGE_ITEM, HINGE_ITEM]}),
                   201)  # fmt: skip
    bridge, hinge = (item["id"] for item in programme["items"])
    person_headers = sign_in(client, f"{name}-p")
    side = Side(clinician, person_headers, person_id=person["id"], item_id=bridge)
    for _ in range(3):
        record = ok(client.post(f"/api/people/{person['id']}/sessions", headers=person_headers,
                                json={"item_id": bridge, "source": "live",
                                      **signed_set(client), "pain": 2, "effort": 5}),
                    201)  # fmt: skip
        side.session_id = record["id"]
    suggestions = ok(client.get(f"/api/people/{person['id']}/suggestions", headers=clinician))
    assert len(suggestions) == 1, suggestions
    side.suggestion_id = suggestions[0]["id"]
    side.job_id = upload(client, "hip_hinge")
    upload_session = {"item_id": hinge, "source": "job", "job_id": side.job_id}
    ok(client.post(f"/api/people/{person['id']}/sessions", headers=person_headers,
                   json=upload_session), 201)  # fmt: skip
    side.extra["hinge_item"] = hinge
    token = ok(client.post("/api/account/tokens", headers=person_headers, json={"label": "phone"}))
    side.token_id, side.extra["token"] = token["id"], token["token"]
    return side
