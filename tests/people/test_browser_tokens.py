"""API tokens on the people page in real headless Chromium on the real server: a clinician
makes a token (shown once), sees it listed with its last use once a script used it, and
revokes it; the script's next request is refused. Screenshot: out/browser/people_tokens.png.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from formcheck.jobs.config import JobsConfig
from formcheck.people.accounts import create_account
from formcheck.people.db import Database, default_url
from formcheck.server.config import ServerConfig
from tests.background_server import BackgroundServer
from tests.people.test_browser_flow import PASSWORD, SCREENSHOTS, UI_TIMEOUT_MS, sign_in
from tests.server.test_browser_live import CHROMIUM, VIEWPORT

pytestmark = [pytest.mark.slow, pytest.mark.browser]
HTTP_TIMEOUT_S = 30.0


@pytest.fixture()
def served(tmp_path: Path, model_path: Path) -> Iterator[tuple[Any, BackgroundServer]]:
    if not CHROMIUM.is_file():
        pytest.skip(f"Chromium not found at {CHROMIUM} (CI installs it: scripts/ci_system_deps.sh)")
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="the playwright Python package is not installed"
    )
    data_dir = tmp_path / "server"
    database = Database(default_url(data_dir))
    with database.session() as session:
        create_account(session, "ana", PASSWORD, "clinician", "Ana Clinician")
    database.close()
    config = ServerConfig(jobs=JobsConfig(data_dir=data_dir, workers=1, min_free_disk_bytes=0))
    with BackgroundServer(model_path, config) as server, sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            yield browser, server
        finally:
            browser.close()


def test_a_token_is_made_listed_and_revoked_on_the_page(
    served: tuple[Any, BackgroundServer],
) -> None:
    browser, server = served
    page = browser.new_page(viewport=VIEWPORT)
    sign_in(page, server.url, "ana")
    page.wait_for_selector("#tokens:not([hidden])", timeout=UI_TIMEOUT_MS)
    page.fill("#token-label", "nightly export")
    page.click("#token-create")
    page.wait_for_selector("#token-new:not([hidden])", timeout=UI_TIMEOUT_MS)
    secret = page.inner_text("#token-secret").strip()
    assert secret.startswith("fc_")
    script = {"Authorization": f"Bearer {secret}"}
    me = httpx.get(f"{server.url}/api/account/me", headers=script, timeout=HTTP_TIMEOUT_S)
    assert me.status_code == 200 and me.json()["username"] == "ana"
    page.reload()  # the list afresh: the script's use shows
    row = page.wait_for_selector("#tokens-table tr[data-token-id]", timeout=UI_TIMEOUT_MS)
    cells = row.inner_text()
    assert "nightly export" in cells and "never" not in cells and secret not in page.content()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "people_tokens.png"), full_page=True)
    page.click("#tokens-table tr[data-token-id] button.revoke")
    page.wait_for_selector("#tokens-table tr[data-token-id]", state="detached",
                           timeout=UI_TIMEOUT_MS)  # fmt: skip
    gone = httpx.get(f"{server.url}/api/account/me", headers=script, timeout=HTTP_TIMEOUT_S)
    assert gone.status_code == 401
    page.close()
