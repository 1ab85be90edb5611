"""The whole flow in real headless Chromium on the real server (real model, real analysis
of the upload, SQLite in the data directory): a clinician signs in, adds a person and gives a
programme; the person signs in, does a live set with the fake webcam and uploads a recording
from the programme item, rates effort and pain, and sees both sessions on the progress chart
with a suggestion; the clinician sees them on the dashboard, accepts the suggestion (the
person sees what changed) and shares the upload de-identified (no camera pixels).
Screenshots go to out/browser/people_*.png.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from formcheck.jobs.config import JobsConfig
from formcheck.people.accounts import create_account
from formcheck.people.db import Database, default_url
from formcheck.server.config import ServerConfig
from tests.background_server import BackgroundServer
from tests.server.test_browser_live import (
    CHROMIUM,
    CLIP,
    FAKE_WEBCAM_FLAGS,
    REPS_TIMEOUT_MS,
    SUMMARY_TIMEOUT_MS,
    VIEWPORT,
    write_y4m,
)

pytestmark = [pytest.mark.slow, pytest.mark.browser]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "out" / "browser"
PASSWORD = "correct horse battery"
EXERCISE = "hip_hinge"  # the webcam clip: two reps of a hinge whose hips rise first
JOB_WAIT_S = 300.0  # the real analysis of the uploaded clip on a busy two-core machine
POLL_S = 1.0
UI_TIMEOUT_MS = 30_000
SHARE_PAGE_SETTLE_MS = 1_500  # the job page loads its report into a frame


@pytest.fixture()
def flow_setup(tmp_path: Path, model_path: Path) -> Iterator[tuple[Any, BackgroundServer]]:
    if not CHROMIUM.is_file():
        pytest.skip(f"Chromium not found at {CHROMIUM} (CI installs it: scripts/ci_system_deps.sh)")
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="the playwright Python package is not installed"
    )
    data_dir = tmp_path / "server"
    database = Database(default_url(data_dir))  # `formcheck users add ana`, in-process
    with database.session() as session:
        create_account(session, "ana", PASSWORD, "clinician", "Ana Clinician")
    database.close()
    config = ServerConfig(jobs=JobsConfig(data_dir=data_dir, workers=1, poll_interval_s=0.2,
                                          min_free_disk_bytes=0))  # fmt: skip
    y4m = write_y4m(CLIP, tmp_path / "webcam.y4m")
    flags = [*FAKE_WEBCAM_FLAGS, f"--use-file-for-fake-video-capture={y4m}"]
    with BackgroundServer(model_path, config) as server, sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=flags)
        try:
            yield browser, server
        finally:
            browser.close()


def sign_in(page: Any, url: str, username: str) -> None:
    page.goto(url + "/people")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#signin-button")
    page.wait_for_selector("#who:not(:has-text('not signed in'))", timeout=UI_TIMEOUT_MS)


def rate(page: Any, effort: str, pain: str) -> None:
    page.wait_for_selector("#rate-save", timeout=UI_TIMEOUT_MS)
    page.select_option("#rate-effort", effort)
    page.select_option("#rate-pain", pain)
    page.click("#rate-save")
    page.wait_for_selector("#rate-done:has-text('Saved')", timeout=UI_TIMEOUT_MS)


def test_clinician_person_live_set_upload_progress_and_dashboard(
    flow_setup: tuple[Any, BackgroundServer], tmp_path: Path
) -> None:
    browser, server = flow_setup
    errors: list[str] = []
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    # the clinician: signs in, adds a person, gives a programme
    clinician = browser.new_context(viewport=VIEWPORT)
    page = clinician.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    sign_in(page, server.url, "ana")
    page.fill("#new-username", "pat")
    page.fill("#new-name", "Pat Person")
    page.fill("#new-password", PASSWORD)
    page.click("#add-person")
    page.click("button.open-person:has-text('Pat Person')", timeout=UI_TIMEOUT_MS)
    page.wait_for_selector("#programme-form:not([hidden])", timeout=UI_TIMEOUT_MS)
    page.select_option("#prog-exercise", EXERCISE)
    page.fill("#prog-reps", "2")
    page.select_option("#prog-step-kind", "reps")
    page.fill("#prog-step", "2")
    page.fill("#prog-limit", "10")
    page.fill("#prog-sessions", "2")
    page.click("#prog-save")
    page.wait_for_selector("#programme li[data-item-id]", timeout=UI_TIMEOUT_MS)
    assert "2 reps" in page.inner_text("#programme")

    # the person: signs in, opens the item on the live page, does a set, rates it
    person = browser.new_context(viewport=VIEWPORT)
    person.grant_permissions(["camera"], origin=server.url)
    mine = person.new_page()
    mine.on("pageerror", lambda error: errors.append(str(error)))
    sign_in(mine, server.url, "pat")
    mine.click("#programme a.do-set")
    mine.wait_for_selector("#programme-line", timeout=UI_TIMEOUT_MS)
    assert "hip hinge, 2 reps" in mine.inner_text("#programme-box")
    mine.wait_for_function(f"() => document.querySelector('#exercise').value === '{EXERCISE}'",
                           timeout=UI_TIMEOUT_MS)  # fmt: skip
    mine.click("#start")
    mine.wait_for_function("() => Number(document.querySelector('#reps').textContent) >= 2",
                           timeout=REPS_TIMEOUT_MS)  # fmt: skip
    mine.click("#finish")
    mine.wait_for_selector("#summary", state="visible", timeout=SUMMARY_TIMEOUT_MS)
    rate(mine, "5", "2")
    mine.screenshot(path=str(SCREENSHOTS / "people_live_set.png"), full_page=True)

    # ... then uploads a recording of the same exercise and rates it
    mine.set_input_files("#upload-file", str(CLIP))
    assert mine.input_value("#upload-exercise") == EXERCISE
    mine.click("#upload-start")
    mine.wait_for_selector("#programme-box:has-text('Upload recorded')", timeout=UI_TIMEOUT_MS)
    rate(mine, "6", "2")

    # ... and sees both sessions on the progress chart, with a suggestion, once analysed
    deadline = time.monotonic() + JOB_WAIT_S
    while True:
        mine.goto(server.url + "/people")
        mine.wait_for_selector("#sessions-table tbody tr", timeout=UI_TIMEOUT_MS)
        done = mine.locator("#sessions-table tbody tr:has-text('(done)')").count()
        if done == 2 or time.monotonic() > deadline:
            break
        time.sleep(POLL_S)
    assert done == 2, mine.inner_text("#sessions-table")
    mine.wait_for_selector(".chart[data-metric='reps'] circle.dot", timeout=UI_TIMEOUT_MS)
    assert mine.locator(".chart[data-metric='reps'] circle.dot").count() == 2
    assert mine.locator(".chart[data-metric='pain'] circle.dot").count() == 2
    suggestion = mine.inner_text("#suggestions")
    assert "reps 2 → 4" in suggestion and "Targets met in the last 2 sessions" in suggestion
    mine.screenshot(path=str(SCREENSHOTS / "people_progress.png"), full_page=True)

    # the clinician sees them on the dashboard, and accepts the suggestion
    page.goto(server.url + "/people")
    row = page.locator("#people-table tr[data-person-id]")
    row.wait_for(timeout=UI_TIMEOUT_MS)
    assert "2" in row.locator("td").nth(2).inner_text()  # two sessions this week
    assert row.locator("td").nth(4).inner_text() == "1"  # one open suggestion
    page.screenshot(path=str(SCREENSHOTS / "people_dashboard.png"), full_page=True)
    page.click("button.open-person")
    page.click("#suggestions button.accept", timeout=UI_TIMEOUT_MS)
    page.wait_for_selector("#suggestions li.accepted", timeout=UI_TIMEOUT_MS)
    assert "4 reps" in page.inner_text("#programme")
    page.screenshot(path=str(SCREENSHOTS / "people_clinician_person.png"), full_page=True)

    # the person sees what changed and why
    mine.goto(server.url + "/people")
    mine.wait_for_selector("#suggestions li.accepted", timeout=UI_TIMEOUT_MS)
    assert "2 reps → 4 reps (accepted)" in mine.inner_text("#suggestions")

    # the clinician shares the uploaded set de-identified: skeleton and outline, no pixels
    page.click("#sessions-table button.share-button")
    link = page.locator("#sessions-table a:has-text('shared copy')")
    link.wait_for(timeout=UI_TIMEOUT_MS)
    share_id = str(link.get_attribute("href")).removeprefix("/jobs/")
    shared = wait_for_job(page, server.url, share_id)
    assert shared["state"] == "done", shared
    video = page.request.get(f"{server.url}/api/jobs/{share_id}/files/annotated.mp4")
    assert video.ok
    (tmp_path / "shared.mp4").write_bytes(video.body())
    assert_no_camera_pixels(tmp_path / "shared.mp4", CLIP)
    page.goto(f"{server.url}/jobs/{share_id}")
    page.wait_for_timeout(SHARE_PAGE_SETTLE_MS)
    page.screenshot(path=str(SCREENSHOTS / "people_shared_set.png"), full_page=True)
    assert not errors, errors


def wait_for_job(page: Any, url: str, job_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + JOB_WAIT_S
    while True:
        job: dict[str, Any] = page.request.get(f"{url}/api/jobs/{job_id}").json()
        if job["state"] in ("done", "failed") or time.monotonic() > deadline:
            return job
        time.sleep(POLL_S)


def assert_no_camera_pixels(shared: Path, original: Path) -> None:
    """Every frame of the shared video is the plain background wherever nothing is drawn:
    where the skeleton, outline and HUD are not, not one camera pixel (the original clip
    has its rendered room there)."""
    import av
    import numpy as np

    from formcheck.report.annotate import DEIDENTIFIED_BACKGROUND_RGB

    background = np.array(DEIDENTIFIED_BACKGROUND_RGB)
    with av.open(str(shared)) as container:
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    with av.open(str(original)) as container:
        first = next(iter(container.decode(video=0))).to_ndarray(format="rgb24")
    assert frames
    plain_share = np.mean([np.mean(np.abs(f.astype(int) - background).max(axis=2) <= 6)
                           for f in frames])  # fmt: skip
    plain_original = np.mean(np.abs(first.astype(int) - background).max(axis=2) <= 6)
    assert plain_share > 0.8, plain_share  # the background, bar the drawing and the HUD
    assert plain_original < 0.2, plain_original  # the camera's scene is not that grey
