"""The page on a server that needs its access token, in real headless Chromium.

Opened without the token, the page says how to get in and the private routes refuse it.
Opened with the link `formcheck serve` prints (``/#token=...``), the page trades the token
for its cookie, drops it from the address bar, and then its API calls and its live socket
are let in. Needs Debian's chromium and the playwright Python package; skips otherwise.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from formcheck.jobs.config import JobsConfig
from formcheck.server.config import ServerConfig
from tests.background_server import BackgroundServer
from tests.server.test_browser_live import CHROMIUM

PAGE_TIMEOUT_MS = 30_000
BROWSER_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip
# In the page: a job's status and a live start, as the page's own scripts would make them.
PRIVATE_CALLS = """async () => {
    const job = (await fetch("/api/jobs/0123abcd")).status;
    const live = await new Promise((resolve) => {
        const ws = new WebSocket(`ws://${location.host}/ws/live`);
        ws.onopen = () => ws.send(JSON.stringify({type: "start", exercise: "hip_hinge"}));
        ws.onmessage = (event) => { resolve(JSON.parse(event.data).type); ws.close(); };
        ws.onerror = () => resolve("refused");
    });
    return {job, live};
}"""

pytestmark = [pytest.mark.slow, pytest.mark.browser]


@pytest.fixture()
def guarded(tmp_path: Path, model_path: Path) -> Iterator[tuple[object, BackgroundServer, str]]:
    if not CHROMIUM.is_file():
        pytest.skip(f"Chromium not found at {CHROMIUM} (CI installs it: scripts/ci_system_deps.sh)")
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="the playwright Python package is not installed"
    )
    config = ServerConfig(require_token=True, jobs=JobsConfig(data_dir=tmp_path / "data"))
    with BackgroundServer(model_path, config) as server, sync_api.sync_playwright() as playwright:
        token = (tmp_path / "data" / "token").read_text(encoding="utf-8").strip()
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=BROWSER_FLAGS
        )
        try:
            yield browser, server, token
        finally:
            browser.close()


def test_the_page_signs_in_with_the_printed_link(
    guarded: tuple[object, BackgroundServer, str],
) -> None:
    browser, server, token = guarded
    page = browser.new_page()  # type: ignore[attr-defined]
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    page.goto(server.url + "/")
    page.wait_for_selector("#auth-needed", timeout=PAGE_TIMEOUT_MS)
    assert "needs its access token" in page.locator("#auth-needed").text_content()
    assert page.evaluate(PRIVATE_CALLS) == {"job": 401, "live": "refused"}

    page.goto(f"{server.url}/#token={token}")
    page.wait_for_url(server.url + "/", timeout=PAGE_TIMEOUT_MS)  # reloaded, token gone
    page.wait_for_selector("#exercise option[value='hip_hinge']", state="attached")
    assert token not in page.url
    assert page.locator("#auth-needed").count() == 0
    assert page.evaluate(PRIVATE_CALLS) == {"job": 404, "live": "started"}
    cookie = next(c for c in page.context.cookies() if c["name"] == "formcheck_auth")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and token not in cookie["value"]
    assert not errors
