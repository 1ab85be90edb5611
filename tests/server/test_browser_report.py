"""A finished job's report page in real headless Chromium, and the page's upload panel.

A real clip (../shared/videos, else the rendered sample) is uploaded to a real server (uvicorn
in a thread, real worker pool and model); its job page must show the report, and a
screenshot is saved to out/browser/report.png. Then the "Upload a recording" panel on the
main page is driven once: choose a file, submit, wait for the job's link.

Needs Debian's chromium and the playwright Python package; skips with the reason otherwise.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.background_server import BackgroundServer
from tests.conftest import SHARED_VIDEOS
from tests.server.test_browser_live import CHROMIUM
from tests.server.test_jobs_routes import EXERCISE, REAL_CLIP, RENDERED_CLIP, jobs_config, upload
from tests.server.test_jobs_routes import wait_for_job as wait_for_job_done

SCREENSHOT = Path(__file__).resolve().parents[2] / "out" / "browser" / "report.png"
VIEWPORT = {"width": 1100, "height": 900}
PAGE_TIMEOUT_MS = 60_000
BROWSER_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = [pytest.mark.slow, pytest.mark.browser]


@pytest.fixture()
def served(tmp_path: Path, model_path: Path) -> Iterator[tuple[object, BackgroundServer]]:
    if not CHROMIUM.is_file():
        pytest.skip(f"Chromium not found at {CHROMIUM} (CI installs it: scripts/ci_system_deps.sh)")
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="the playwright Python package is not installed"
    )
    with (
        BackgroundServer(model_path, jobs_config(tmp_path / "data")) as server,
        sync_api.sync_playwright() as playwright,
    ):
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=BROWSER_FLAGS
        )
        try:
            yield browser, server
        finally:
            browser.close()


def test_report_page_shows_the_report_and_the_upload_panel_makes_a_job(
    served: tuple[object, BackgroundServer],
) -> None:
    browser, server = served
    real = SHARED_VIDEOS / REAL_CLIP
    clip = real if real.is_file() else RENDERED_CLIP
    with httpx.Client(base_url=server.url, timeout=30.0) as client:
        created = upload(client, clip)
        assert created.status_code == 201, created.text
        job = wait_for_job_done(client, created.json()["id"])
    assert job["state"] == "done", job

    page = browser.new_page(viewport=VIEWPORT)  # type: ignore[attr-defined]
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(server.url + job["links"]["page"])
    page.wait_for_selector("body[data-report='shown']", timeout=PAGE_TIMEOUT_MS)
    report = page.frame_locator("#job-report")
    assert report.locator("h2", has_text="Reps").count() == 1
    assert report.locator("svg").count() >= 2  # the plots drew
    assert page.locator("#job-state").text_content() == "done"
    assert page.locator("#dl-json").get_attribute("href") == (
        job["links"]["files"]["report_json"] + "?download=1"
    )
    video_ready = page.evaluate(
        """() => new Promise((resolve) => {
            const video = document.querySelector("#job-video");
            if (video.readyState >= 1) resolve(video.duration);
            video.addEventListener("loadedmetadata", () => resolve(video.duration));
            video.addEventListener("error", () => resolve(-1));
        })"""
    )
    assert video_ready > 0  # the annotated MP4 plays in Chromium
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)

    # the upload panel on the main page: file, exercise, submit -> the job's link
    page.goto(server.url + "/")
    page.wait_for_selector(f"#upload-exercise option[value='{EXERCISE}']", state="attached")
    recent = page.locator("#recent-jobs li a")
    assert recent.count() == 1  # the job page remembered its job in this browser
    page.set_input_files("#upload-file", str(RENDERED_CLIP))
    page.select_option("#upload-exercise", EXERCISE)
    page.click("#upload-start")
    page.wait_for_selector("#upload-job-link[data-job-id]", timeout=PAGE_TIMEOUT_MS)
    link = page.locator("#upload-job-link").get_attribute("href")
    assert link is not None and link.startswith("/jobs/")
    assert page.locator("#upload-progress").evaluate("(bar) => bar.value") == 1
    assert recent.count() == 2
    page.screenshot(path=str(SCREENSHOT.with_name("upload.png")), full_page=True)
    page.wait_for_function(
        "() => Number(document.querySelector('#upload-job-progress').value) > 0",
        timeout=PAGE_TIMEOUT_MS,
    )  # the processing progress is polled from the API
    page.click("#upload-job-link")
    page.wait_for_selector("#job-state[data-state]", timeout=PAGE_TIMEOUT_MS)
    assert page.locator("#job-name").text_content() == RENDERED_CLIP.name
    assert not errors
