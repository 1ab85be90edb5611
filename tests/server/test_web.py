"""The front end's files: where they are found, what is served, and what a wheel ships."""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from formcheck.server.config import ServerConfig
from formcheck.server.web import (
    CONTENT_SECURITY_POLICY,
    TASKS_VISION_FILES,
    TASKS_VISION_URL,
    WEB_ASSETS,
    find_web_assets,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
PAGE_FILES = ("index.html", "app.js", "pose_browser.js", "style.css", "upload.js", "job.html")
WHEEL_BUILD_TIMEOUT_S = 600

needs_tasks_vision = pytest.mark.skipif(
    not WEB_ASSETS.browser_pose,
    reason="server/node_modules has no tasks-vision: run scripts/bootstrap.sh (npm ci)",
)


def test_a_checkout_serves_server_public_and_a_wheel_its_package_copy(tmp_path: Path) -> None:
    checkout = find_web_assets(package_dir=tmp_path / "absent")
    assert checkout.public_dir == REPO_ROOT / "server" / "public"
    for name in PAGE_FILES:
        assert (checkout.public_dir / name).is_file()
    package = tmp_path / "web"
    (package / "public").mkdir(parents=True)
    (package / "public" / "index.html").write_text("<!doctype html>", encoding="utf-8")
    installed = find_web_assets(package_dir=package)
    assert installed.public_dir == package / "public"
    assert not installed.browser_pose  # no vendored files copied in this fake


@needs_tasks_vision
def test_the_pinned_tasks_vision_sends_nothing_anywhere() -> None:
    """1.x releases of tasks-vision POST usage metrics to a Google endpoint every minute;
    the pinned 0.10.35 has no such code, and the page's CSP would block it anyway."""
    assert WEB_ASSETS.tasks_vision_dir is not None
    bundle = (WEB_ASSETS.tasks_vision_dir / "vision_bundle.mjs").read_text(encoding="utf-8")
    assert not re.findall(r"https?://", bundle)
    lock = (REPO_ROOT / "server" / "package-lock.json").read_text(encoding="utf-8")
    assert '"node_modules/@mediapipe/tasks-vision": {\n      "version": "0.10.35"' in lock


@pytest.fixture(scope="module")
def client(model_path: Path) -> Iterator[TestClient]:
    from formcheck.server.app import create_app

    # As 127.0.0.1: the server answers loopback names only.
    with TestClient(
        create_app(ServerConfig(), model=model_path), base_url="http://127.0.0.1"
    ) as test_client:
        yield test_client


@pytest.mark.slow  # the app loads the model
def test_page_has_a_strict_content_security_policy(client: TestClient) -> None:
    page = client.get("/")
    assert page.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "connect-src 'self'" in CONTENT_SECURITY_POLICY
    assert "default-src 'self'" in CONTENT_SECURITY_POLICY
    assert "http://" not in page.text and "https://" not in page.text
    assert "camera pictures never leave it" in page.text
    module = client.get("/static/pose_browser.js")
    assert module.status_code == 200 and "javascript" in module.headers["content-type"]


@pytest.mark.slow
@needs_tasks_vision
def test_only_the_tasks_vision_runtime_and_the_model_are_served(
    client: TestClient, model_path: Path
) -> None:
    for name, media_type in TASKS_VISION_FILES.items():
        response = client.get(f"{TASKS_VISION_URL}/{name}")
        assert response.status_code == 200, name
        assert response.headers["content-type"].startswith(media_type)
        assert "max-age" in response.headers["cache-control"]
    for name in ("README.md", "package.json", "vision_bundle.cjs", "../package.json", "wasm"):
        assert client.get(f"{TASKS_VISION_URL}/{name}").status_code == 404, name
    model = client.get("/models/pose_landmarker.task?v=abc")
    assert model.status_code == 200 and model.content == model_path.read_bytes()


@pytest.mark.slow  # builds a wheel (setuptools from the package index)
@needs_tasks_vision
def test_the_wheel_ships_the_page_and_the_tasks_vision_files(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), "."],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=WHEEL_BUILD_TIMEOUT_S,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    (wheel,) = tmp_path.glob("formcheck-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        archive.extractall(tmp_path / "unpacked")
    web = "formcheck/server/web"
    for name in PAGE_FILES:
        assert f"{web}/public/{name}" in names
    for name in TASKS_VISION_FILES:
        assert f"{web}/vendor/tasks-vision/{name}" in names
    assert not any("node_modules" in n or n.endswith(".map") for n in names)
    installed = find_web_assets(package_dir=tmp_path / "unpacked" / web)
    assert installed.browser_pose
