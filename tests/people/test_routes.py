"""The people API on the real app (real job pool, SQLite and a real PostgreSQL): the flow of
a programme, and access control over every route: another clinician, another person and
nobody at all try to read and change a person's data and are refused, changing nothing."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import select

from formcheck.people.db import Database
from formcheck.people.models import Base, Credential
from formcheck.people.routes import COOKIE_NAME, MAX_JSON_BODY_BYTES
from formcheck.server.config import SignInLimits
from tests.people.synthetic_reports import set_report
from tests.people.world import (
    BASE_URL,
    BRIDGE_ITEM,
    PASSWORD,
    Side,
    build_side,
    ok,
    running_app,
    server_config,
    sign_in,
    signed_set,
    wait_for_job,
)


@pytest.fixture
def client(database_url: str, tmp_path: Path) -> Iterator[TestClient]:
    with running_app(server_config(tmp_path / "server", database_url)) as test_client:
        yield test_client


@pytest.fixture
def world(client: TestClient, database_url: str) -> tuple[Side, Side]:
    return build_side(client, database_url, "ana"), build_side(client, database_url, "ben")


# --- the flow -------------------------------------------------------------------------------


def test_sets_progress_and_a_suggestion_the_clinician_accepts(
    client: TestClient, world: tuple[Side, Side]
) -> None:
    ana, _ = world
    pid = ana.person_id
    suggestion = ok(client.get(f"/api/people/{pid}/suggestions", headers=ana.person))[0]
    assert suggestion["kind"] == "progress" and suggestion["status"] == "open"
    assert "pain 2, 2, 2 not above the baseline 2" in suggestion["reason"]
    assert suggestion["proposed"]["tempo"] == "4-1-2"
    # a person cannot decide their own programme
    refused = client.post(f"/api/suggestions/{suggestion['id']}/decision", headers=ana.person,
                          json={"action": "accept"})  # fmt: skip
    assert refused.status_code == 403
    decided = ok(client.post(f"/api/suggestions/{suggestion['id']}/decision",
                             headers=ana.clinician, json={"action": "accept"}))  # fmt: skip
    assert decided["status"] == "accepted" and decided["applied"]["tempo"] == "4-1-2"
    person = ok(client.get(f"/api/people/{pid}", headers=ana.person))
    bridge = next(i for i in person["programmes"][0]["items"] if i["exercise"] == "glute_bridge")
    assert bridge["prescription"] == {"reps": 10, "tempo": "4-1-2"}
    seen = ok(client.get(f"/api/people/{pid}/suggestions", headers=ana.person))[0]
    assert seen["before"]["tempo"] == "2-1-2" and seen["applied"]["tempo"] == "4-1-2"
    again = client.post(f"/api/suggestions/{suggestion['id']}/decision", headers=ana.clinician,
                        json={"action": "accept"})  # fmt: skip
    assert again.status_code == 422
    progress = ok(client.get(f"/api/people/{pid}/progress", params={"exercise": "glute_bridge"},
                             headers=ana.person))  # fmt: skip
    assert progress["sessions"] == 3
    back = progress["metrics"]["back_change_mm"]
    assert len(back["points"]) == 3 and back["mdc"] > 0 and back["band"] is not None


def test_an_upload_becomes_a_session_once_its_job_is_done(
    client: TestClient, world: tuple[Side, Side]
) -> None:
    ana, _ = world
    assert wait_for_job(client, ana.job_id)["state"] == "done"
    sessions = ok(client.get(f"/api/people/{ana.person_id}/sessions", headers=ana.person))
    job_session = next(s for s in sessions if s["source"] == "job")
    assert job_session["state"] == "done" and job_session["exercise"] == "hip_hinge"
    assert job_session["measures"]["reps"] == 10
    rated = ok(client.patch(f"/api/sessions/{job_session['id']}", headers=ana.person,
                            json={"pain": 3, "effort": 6}))  # fmt: skip
    assert (rated["pain"], rated["effort"]) == (3, 6)
    assert client.patch(f"/api/sessions/{job_session['id']}", headers=ana.person,
                        json={"pain": 11}).status_code == 422  # fmt: skip
    twice = client.post(f"/api/people/{ana.person_id}/sessions", headers=ana.person,
                        json={"item_id": ana.extra["hinge_item"], "source": "job",
                              "job_id": ana.job_id})  # fmt: skip
    assert twice.status_code == 422 and "already" in twice.json()["detail"]


def test_an_upload_is_shared_as_a_deidentified_job_of_its_own(
    client: TestClient, world: tuple[Side, Side]
) -> None:
    ana, _ = world
    sessions = ok(client.get(f"/api/people/{ana.person_id}/sessions", headers=ana.person))
    upload_session = next(s for s in sessions if s["source"] == "job")
    live_session = next(s for s in sessions if s["source"] == "live")
    refused = client.post(f"/api/sessions/{live_session['id']}/share", headers=ana.person)
    assert refused.status_code == 422 and "uploaded" in refused.json()["detail"]
    shared = ok(client.post(f"/api/sessions/{upload_session['id']}/share", headers=ana.clinician))
    share_id = shared["share_url"].removeprefix("/jobs/")
    assert share_id != ana.job_id
    again = ok(client.post(f"/api/sessions/{upload_session['id']}/share", headers=ana.person))
    assert again["share_url"] == shared["share_url"]  # one share per set
    assert wait_for_job(client, share_id)["state"] == "done"
    page = client.get(f"/api/jobs/{share_id}/files/report.html").text
    assert "deidentified=True" in page and "a shared set" in page and "clip.mp4" not in page


def test_a_set_of_another_exercise_is_refused(client: TestClient, world: tuple[Side, Side]) -> None:
    ana, _ = world
    answer = client.post(f"/api/people/{ana.person_id}/sessions", headers=ana.person,
                         json={"item_id": ana.item_id, "source": "live",
                               **signed_set(client, "squat")})  # fmt: skip
    assert answer.status_code == 422 and "squat" in answer.json()["detail"]


def test_a_report_the_server_did_not_sign_is_refused(
    client: TestClient, world: tuple[Side, Side]
) -> None:
    """A person cannot record a made-up set: the report must be the server's own, unchanged."""
    ana, _ = world
    url = f"/api/people/{ana.person_id}/sessions"
    before = ok(client.get(url, headers=ana.person))
    forged = signed_set(client)
    forged["report"]["summary"]["reps"] = 30  # the count raised after the server signed it
    unsigned = {"report": set_report()}
    for body in (unsigned, forged, {**unsigned, "signature": "0" * 64}):
        answer = client.post(url, headers=ana.person,
                             json={"item_id": ana.item_id, "source": "live", **body})  # fmt: skip
        assert answer.status_code == 422 and "not made by this server" in answer.json()["detail"]
    assert ok(client.get(url, headers=ana.person)) == before
    good = {"item_id": ana.item_id, "source": "live", **signed_set(client)}
    ok(client.post(url, headers=ana.person, json=good), 201)


def test_exports_report_and_dashboard(client: TestClient, world: tuple[Side, Side]) -> None:
    ana, _ = world
    pid = ana.person_id
    ok(client.post(f"/api/people/{pid}/sessions", headers=ana.person,
                   json={"item_id": ana.item_id, "source": "live", "pain": 6,
                         **signed_set(client, spine_findings=1)}), 201)  # fmt: skip
    rows = client.get(f"/api/people/{pid}/export.csv", headers=ana.clinician)
    assert rows.status_code == 200 and "attachment" in rows.headers["content-disposition"]
    lines = rows.text.strip().splitlines()
    assert lines[0].startswith("session_id,recorded_at,exercise") and len(lines) == 1 + 5
    history = ok(client.get(f"/api/people/{pid}/export.json", headers=ana.person))
    assert len(history["sessions"]) == 5 and history["programmes"][0]["name"] == "Back basics"
    page = client.get(f"/people/{pid}/report", headers=ana.clinician)
    assert page.status_code == 200 and "Back change at depth" in page.text
    assert "script" not in page.headers["content-security-policy"]
    board = ok(client.get("/api/people", headers=ana.clinician))
    assert [row["username"] for row in board] == ["ana-p"]
    flags = board[0]["flags"]
    assert "spine findings this week" in flags and "pain up (glute_bridge)" in flags
    assert board[0]["open_suggestions"] >= 1 and board[0]["last_session_at"]


def test_a_programme_with_a_bad_item_leaves_nothing_behind(
    client: TestClient, world: tuple[Side, Side]
) -> None:
    ana, _ = world
    bad = {"name": "Broken", "items": [BRIDGE_ITEM, {"exercise": "cartwheel"}]}
    answer = client.post(f"/api/people/{ana.person_id}/programmes", headers=ana.clinician,
                         json=bad)  # fmt: skip
    assert answer.status_code == 422 and "cartwheel" in answer.json()["detail"]
    person = ok(client.get(f"/api/people/{ana.person_id}", headers=ana.clinician))
    assert [p["name"] for p in person["programmes"]] == ["Back basics"]


def test_a_change_is_committed_before_the_answer_is_sent(
    client: TestClient, world: tuple[Side, Side], database_url: str
) -> None:
    """The browser's next request must see what this one did: when the answer starts, the
    rating is already in the database (read over another connection)."""
    import asyncio
    import json as jsonlib

    from sqlalchemy import text

    ana, _ = world
    body = jsonlib.dumps({"pain": 7}).encode()
    cookie = ana.person["Cookie"].encode()
    seen: list[Any] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            seen.append(message["status"])
            other = Database(database_url, migrate=False)
            try:
                with other.engine.connect() as connection:
                    seen.append(connection.execute(
                        text("SELECT pain FROM training_sessions WHERE id = :id"),
                        {"id": ana.session_id}).scalar_one())  # fmt: skip
            finally:
                other.close()

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "PATCH",
        "scheme": "http", "path": f"/api/sessions/{ana.session_id}", "raw_path": b"",
        "query_string": b"", "root_path": "", "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 80),
        "headers": [(b"host", b"127.0.0.1"), (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()), (b"cookie", cookie)],
    }  # fmt: skip
    asyncio.run(client.app(scope, receive, send))  # type: ignore[arg-type]
    assert seen == [200, 7]


# --- signing in -----------------------------------------------------------------------------


def test_the_cookie_is_httponly_and_strict_and_logout_ends_it(
    client: TestClient, world: tuple[Side, Side]
) -> None:
    answer = client.post("/api/account/login", json={"username": "ana", "password": PASSWORD})
    set_cookie = answer.headers["set-cookie"].lower()
    assert "httponly" in set_cookie and "samesite=strict" in set_cookie and "path=/" in set_cookie
    secret = answer.cookies[COOKIE_NAME]
    client.cookies.clear()
    headers = {"Cookie": f"{COOKIE_NAME}={secret}"}
    assert ok(client.get("/api/account/me", headers=headers))["username"] == "ana"
    assert client.post("/api/account/logout", headers=headers).status_code == 204
    assert client.get("/api/account/me", headers=headers).status_code == 401


def test_wrong_passwords_and_unknown_names_get_the_same_answer(
    client: TestClient, world: tuple[Side, Side]
) -> None:
    wrong = client.post("/api/account/login", json={"username": "ana", "password": "x" * 12})
    nobody = client.post("/api/account/login", json={"username": "zed", "password": "x" * 12})
    assert wrong.status_code == nobody.status_code == 401
    assert wrong.json() == nobody.json()


def test_an_api_token_signs_a_script_in(client: TestClient, world: tuple[Side, Side]) -> None:
    ana, _ = world
    token = ok(client.post("/api/account/tokens", headers=ana.clinician, json={"label": "cli"}))
    bearer = {"Authorization": f"Bearer {token['token']}"}
    assert [r["username"] for r in ok(client.get("/api/people", headers=bearer))] == ["ana-p"]
    assert (
        client.get("/api/people", headers={"Authorization": "Bearer fc_forged"}).status_code == 401
    )


def test_accounts_pass_a_server_that_requires_its_token(database_url: str, tmp_path: Path) -> None:
    """issue 15's token check still guards the server; a signed-in account passes it."""
    from tests.people.world import add_clinician

    config = server_config(tmp_path / "server", database_url, require_token=True,
                           token="t" * 32)  # fmt: skip
    with running_app(config) as client:
        assert client.get("/api/people").json()["code"] == "unauthorized"  # the server's check
        assert client.get("/api/jobs/abc").status_code == 401
        add_clinician(database_url, "cleo")
        headers = sign_in(client, "cleo")  # the sign-in route is public
        assert client.get("/api/people", headers=headers).status_code == 200
        assert client.get("/people").status_code == 200
        assert client.get("/api/health", headers=headers).status_code == 200
        server_token = {"Authorization": f"Bearer {'t' * 32}"}
        # the server's token is not an account: the people routes still want one
        assert client.get("/api/people", headers=server_token).json()["code"] == "not_signed_in"


# --- access control over every route --------------------------------------------------------

Target = Callable[[Side, Side], tuple[str, Any]]  # (victim, attacker) -> (url, json body)

# Every people route that names a person or their records, acted on against a victim.
TARGETED: dict[tuple[str, str], Target] = {
    ("GET", "/api/people/{person_id}"): lambda v, a: (f"/api/people/{v.person_id}", None),
    ("POST", "/api/people/{person_id}/programmes"): lambda v, a: (
        f"/api/people/{v.person_id}/programmes", {"name": "x", "items": [BRIDGE_ITEM]}),
    ("PATCH", "/api/items/{item_id}"): lambda v, a: (
        f"/api/items/{v.item_id}", {"prescription": {"reps": 30}}),
    ("GET", "/api/people/{person_id}/sessions"): lambda v, a: (
        f"/api/people/{v.person_id}/sessions", None),
    ("POST", "/api/people/{person_id}/sessions"): lambda v, a: (
        f"/api/people/{v.person_id}/sessions",
        {"item_id": v.item_id, "source": "live", "report": set_report(), "pain": 9}),
    ("PATCH", "/api/sessions/{session_id}"): lambda v, a: (
        f"/api/sessions/{v.session_id}", {"pain": 9, "note": "changed"}),
    ("POST", "/api/sessions/{session_id}/share"): lambda v, a: (
        f"/api/sessions/{v.session_id}/share", None),
    ("GET", "/api/people/{person_id}/progress"): lambda v, a: (
        f"/api/people/{v.person_id}/progress?exercise=glute_bridge", None),
    ("GET", "/api/people/{person_id}/suggestions"): lambda v, a: (
        f"/api/people/{v.person_id}/suggestions", None),
    ("POST", "/api/suggestions/{suggestion_id}/decision"): lambda v, a: (
        f"/api/suggestions/{v.suggestion_id}/decision", {"action": "accept"}),
    ("GET", "/api/people/{person_id}/export.json"): lambda v, a: (
        f"/api/people/{v.person_id}/export.json", None),
    ("GET", "/api/people/{person_id}/export.csv"): lambda v, a: (
        f"/api/people/{v.person_id}/export.csv", None),
    ("GET", "/people/{person_id}/report"): lambda v, a: (f"/people/{v.person_id}/report", None),
    ("DELETE", "/api/account/tokens/{token_id}"): lambda v, a: (
        f"/api/account/tokens/{v.token_id}", None),
}  # fmt: skip
# Mixed targets: the attacker's own person id with the victim's programme item.
CROSSED: list[Target] = [
    lambda v, a: (f"/api/people/{a.person_id}/sessions",
                  {"item_id": v.item_id, "source": "live", "report": set_report()}),
]  # fmt: skip
# Routes about the signed-in account itself (nothing of anyone else's to name).
OWN = {("POST", "/api/account/login"), ("POST", "/api/account/logout"),
       ("GET", "/api/account/me"), ("POST", "/api/account/tokens"), ("GET", "/api/account/tokens"),
       ("GET", "/api/people"), ("POST", "/api/people"), ("GET", "/people")}  # fmt: skip
PEOPLE_PREFIXES = ("/api/account", "/api/people", "/api/items", "/api/sessions",
                   "/api/suggestions", "/people")  # fmt: skip
REFUSED = {401, 403, 404}


def people_routes(client: TestClient) -> set[tuple[str, str]]:
    """(method, path) of every people route the app serves (included routers opened up;
    they are included without a prefix)."""
    app: Any = client.app
    found: set[tuple[str, str]] = set()

    def walk(routes: list[Any]) -> None:
        for route in routes:
            if hasattr(route, "original_router"):
                walk(route.original_router.routes)
            elif isinstance(route, APIRoute) and route.path.startswith(PEOPLE_PREFIXES):
                found.update((method, route.path) for method in route.methods)

    walk(app.routes)
    assert found, "no people routes found in the app"
    return found


# Signing in adds cookies and wrong passwords are counted; a token's use is noted.
CHANGED_BY_SIGNING_IN = {"credentials", "sign_in_throttles"}


def snapshot(database_url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table but the sign-ins, and the API tokens (not their last use)."""
    database = Database(database_url, migrate=False)
    try:
        with database.engine.connect() as connection:
            rows = {
                table.name: sorted(tuple(map(repr, row)) for row in connection.execute(
                    select(table)))
                for table in Base.metadata.sorted_tables if table.name not in CHANGED_BY_SIGNING_IN
            }  # fmt: skip
            tokens = select(Credential.id, Credential.account_id, Credential.secret_sha256,
                            Credential.label).where(Credential.kind == "api")  # fmt: skip
            rows["api tokens"] = sorted(tuple(map(repr, r)) for r in connection.execute(tokens))
            return rows
    finally:
        database.close()


def test_every_people_route_is_in_the_access_matrix(client: TestClient) -> None:
    """A new route without an access case fails here."""
    assert people_routes(client) == set(TARGETED) | OWN


def test_nobody_reads_or_changes_another_persons_data(
    client: TestClient, world: tuple[Side, Side], database_url: str
) -> None:
    ana, ben = world
    nobody = Side(clinician={}, person={})
    before = snapshot(database_url)
    attempts: list[tuple[str, str, str, Any, dict[str, str]]] = []
    for (method, _), target in TARGETED.items():
        for victim, attacker in ((ana, ben), (ben, ana)):
            url, body = target(victim, attacker)
            attempts += [("other clinician", method, url, body, attacker.clinician),
                         ("other person", method, url, body, attacker.person),
                         ("nobody", method, url, body, nobody.person)]  # fmt: skip
    for target in CROSSED:
        url, body = target(ana, ben)
        attempts += [("other person", "POST", url, body, ben.person),
                     ("other clinician", "POST", url, body, ben.clinician)]  # fmt: skip
    for who, method, url, body, headers in attempts:
        answer = client.request(method, url, json=body, headers=headers)
        assert answer.status_code in REFUSED, f"{who} {method} {url}: {answer.status_code}"
        for name in ("ana-p", "ben-p"):
            if name not in str(headers):
                assert name not in answer.text, f"{who} {method} {url} leaked {name}"
    assert snapshot(database_url) == before, "a refused request changed the database"
    # lists show only one's own
    assert [r["username"] for r in ok(client.get("/api/people", headers=ben.clinician))] == [
        "ben-p"
    ]
    assert [r["username"] for r in ok(client.get("/api/people", headers=ana.person))] == ["ana-p"]
    sneaky = {"username": "sneaky", "password": PASSWORD}
    assert client.post("/api/people", headers=ana.person, json=sneaky).status_code == 403


def test_a_person_cannot_change_their_own_programme(
    client: TestClient, world: tuple[Side, Side], database_url: str
) -> None:
    ana, _ = world
    before = snapshot(database_url)
    for key in [("POST", "/api/people/{person_id}/programmes"), ("PATCH", "/api/items/{item_id}"),
                ("POST", "/api/suggestions/{suggestion_id}/decision")]:  # fmt: skip
        url, body = TARGETED[key](ana, ana)
        answer = client.request(key[0], url, json=body, headers=ana.person)
        assert answer.status_code == 403, f"{key}: {answer.status_code}"
    assert snapshot(database_url) == before


def test_an_items_reference_rep_must_be_a_reference_of_its_exercise(
    client: TestClient, world: tuple[Side, Side]
) -> None:
    ana, _ = world
    reference = {"exercise": "glute_bridge", "recorded_at": "2026-01-05T09:00:00Z",
                 "source": "best.mp4", "formcheck_version": "0.1.0",
                 "reps": [{"index": 1, "metrics": {"curve_bottom_mm": 3.0}}]}  # fmt: skip
    url = f"/api/items/{ana.item_id}"
    wrong = client.patch(url, headers=ana.clinician,
                         json={"reference": {**reference, "exercise": "squat"}})  # fmt: skip
    assert wrong.status_code == 422 and "squat" in wrong.json()["detail"]
    broken = client.patch(url, headers=ana.clinician, json={"reference": {"reps": []}})
    assert broken.status_code == 422
    stored = ok(client.patch(url, headers=ana.clinician, json={"reference": reference}))
    assert stored["reference"]["source"] == "best.mp4"


# --- API tokens -----------------------------------------------------------------------------


def test_tokens_are_listed_without_secrets_and_revoked_at_once(
    client: TestClient, world: tuple[Side, Side]
) -> None:
    ana, ben = world
    bearer = {"Authorization": f"Bearer {ana.extra['token']}"}
    assert ok(client.get("/api/account/me", headers=bearer))["username"] == "ana-p"
    listed = client.get("/api/account/tokens", headers=ana.person)
    tokens = ok(listed)
    assert [(t["id"], t["label"], t["expired"]) for t in tokens] == [(ana.token_id, "phone", False)]
    assert set(tokens[0]) == {"id", "label", "created_at", "expires_at", "expired", "last_used_at"}
    assert tokens[0]["last_used_at"] is not None  # the request above
    assert ana.extra["token"] not in listed.text and "sha256" not in listed.text
    # the person's clinician sees their own tokens only, and cannot revoke the person's
    assert ok(client.get("/api/account/tokens", headers=ana.clinician)) == []
    url = f"/api/account/tokens/{ana.token_id}"
    for other in (ana.clinician, ben.person, ben.clinician, {}):
        assert client.delete(url, headers=other).status_code in REFUSED
    assert client.get("/api/account/me", headers=bearer).status_code == 200
    # a token revokes itself too; from then on it signs nothing in
    assert client.delete(url, headers=bearer).status_code == 204
    gone = client.get("/api/account/me", headers=bearer)
    assert gone.status_code == 401 and gone.json()["code"] == "not_signed_in"
    assert ok(client.get("/api/account/tokens", headers=ana.person)) == []
    assert client.delete(url, headers=ana.person).status_code == 404


# --- wrong passwords ------------------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now


def test_wrong_passwords_pause_one_name_for_every_client_until_the_pause_ends(
    database_url: str, tmp_path: Path
) -> None:
    from tests.people.world import add_clinician

    limits = SignInLimits(max_wrong_passwords=3, window_s=300, pause_s=600)
    with running_app(server_config(tmp_path / "server", database_url, sign_in=limits)) as client:
        clock = FakeClock()
        client.app.state.people.clock = clock  # type: ignore[attr-defined]
        add_clinician(database_url, "ana")
        add_clinician(database_url, "ben")
        elsewhere = TestClient(client.app, base_url=BASE_URL, client=("192.0.2.7", 40000))

        def login(name: str, password: str, via: TestClient = client) -> Any:
            answer = via.post("/api/account/login", json={"username": name, "password": password})
            via.cookies.clear()
            return answer

        answers: dict[str, list[tuple[int, Any]]] = {"ana": [], "zed": []}
        third_wrong: dict[str, dt.datetime] = {}
        for name in answers:  # a known name and an unknown one, step by step
            for _ in range(3):
                clock.now += dt.timedelta(seconds=10)
                wrong = login(name, "wrong password")
                answers[name].append((wrong.status_code, wrong.json()))
            third_wrong[name] = clock.now
            clock.now += dt.timedelta(seconds=10)
            paused = login(name, PASSWORD, via=elsewhere)  # another client, the right password
            answers[name].append((paused.status_code, paused.json()))
            assert paused.headers["retry-after"] == "590"
        assert answers["ana"] == answers["zed"], "an unknown name is told apart from a known one"
        assert [status for status, _ in answers["ana"]] == [401, 401, 401, 429]
        assert "paused for 10 more minutes" in answers["ana"][3][1]["detail"]
        assert login("ben", PASSWORD).status_code == 200  # other names are not paused
        clock.now = third_wrong["ana"] + dt.timedelta(seconds=599)
        assert login("ana", PASSWORD).status_code == 429
        clock.now += dt.timedelta(seconds=1)  # 600 s after the third wrong password
        assert login("ana", PASSWORD).status_code == 200


def test_the_sign_in_limits_are_settings_with_units(monkeypatch: pytest.MonkeyPatch) -> None:
    from formcheck.server.config import ServerConfig

    monkeypatch.setenv("FORMCHECK_SIGN_IN__MAX_WRONG_PASSWORDS", "4")
    monkeypatch.setenv("FORMCHECK_SIGN_IN__PAUSE_S", "120")
    config = ServerConfig()
    assert (config.sign_in.max_wrong_passwords, config.sign_in.pause_s) == (4, 120.0)
    assert config.sign_in.window_s == SignInLimits().window_s


# --- bodies ---------------------------------------------------------------------------------


def test_a_body_without_its_length_or_too_large_is_refused_before_it_is_read(
    client: TestClient, world: tuple[Side, Side]
) -> None:
    """Refused unread: a body that is not even JSON gets 411/413, not FastAPI's 422 after
    reading and parsing it all."""
    ana, _ = world
    url = f"/api/people/{ana.person_id}/sessions"

    def chunks() -> Iterator[bytes]:
        yield b"{not json"

    chunked = client.post(url, headers={**ana.person, "Content-Type": "application/json"},
                          content=chunks())  # fmt: skip
    assert chunked.status_code == 411 and chunked.json()["code"] == "bad_body"
    huge = b"x" * (MAX_JSON_BODY_BYTES + 1)
    large = client.post(url, headers={**ana.person, "Content-Type": "application/json"},
                        content=huge)  # fmt: skip
    assert large.status_code == 413 and large.json()["code"] == "bad_body"
    login = client.post("/api/account/login", content=huge,
                        headers={"Content-Type": "application/json"})  # fmt: skip
    assert login.status_code == 413


class SlowCountingHasher:
    """Wraps the tests' cheap hasher: each check takes a while, and the most at once is kept."""

    def __init__(self, inner: Any, hold_s: float) -> None:
        self.inner, self.hold_s = inner, hold_s
        self.lock = threading.Lock()
        self.now = self.most = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def verify(self, stored: str, password: str) -> bool:
        with self.lock:
            self.now += 1
            self.most = max(self.most, self.now)
        try:
            time.sleep(self.hold_s)  # the argon2 work, long enough for the tries to overlap
            return bool(self.inner.verify(stored, password))
        finally:
            with self.lock:
                self.now -= 1


def test_a_burst_of_sign_ins_hashes_a_bounded_number_of_passwords_at_once(
    database_url: str, tmp_path: Path
) -> None:
    """argon2 takes 64 MiB a check: eight sign-ins at once must not take eight times that."""
    from concurrent.futures import ThreadPoolExecutor

    from argon2 import PasswordHasher

    from formcheck.people.accounts import use_hasher
    from tests.people.conftest import CHEAP_ARGON2
    from tests.people.world import add_clinician

    limits = SignInLimits(max_concurrent_password_checks=2, password_check_wait_s=30)
    with running_app(server_config(tmp_path / "server", database_url, sign_in=limits)) as client:
        add_clinician(database_url, "ana")
        hasher = SlowCountingHasher(PasswordHasher(**CHEAP_ARGON2), hold_s=0.2)
        previous = use_hasher(hasher)  # type: ignore[arg-type]
        try:
            body = {"username": "ana", "password": PASSWORD}
            with ThreadPoolExecutor(8) as pool:
                answers = list(
                    pool.map(
                        lambda _: client.post("/api/account/login", json=body).status_code, range(8)
                    )
                )
        finally:
            use_hasher(previous)
    assert answers == [200] * 8
    assert hasher.most == 2


def test_sign_ins_that_wait_too_long_for_their_turn_get_503(
    database_url: str, tmp_path: Path
) -> None:
    limits = SignInLimits(max_concurrent_password_checks=1, password_check_wait_s=0.01)
    with running_app(server_config(tmp_path / "server", database_url, sign_in=limits)) as client:
        people = client.app.state.people  # type: ignore[attr-defined]
        with people.hashing_turn():  # the only turn is taken
            answer = client.post("/api/account/login", json={"username": "a", "password": "b"})
    assert answer.status_code == 503 and answer.headers["retry-after"] == "1"
    assert "busy" in answer.json()["detail"]
