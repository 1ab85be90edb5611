"""End to end in real headless Chromium: a rendered clip plays as the webcam (FACTS.md,
"Browsers"), the page poses it (in the browser by default, on the server with ?pose=server),
streams to the server over the websocket, and must show the clip's rep count and its fault's
cue. In browser mode every message the page sends is inspected: pose payloads only, no image
bytes, and nothing is fetched from anywhere but the app. Saves screenshots to out/browser/.

Needs Debian's chromium (scripts/ci_system_deps.sh installs it in CI) and the playwright
Python package (its own browser downloads are never used); skips with the reason otherwise.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import av
import pytest

from formcheck.pose.remote import PayloadLimits, decode_payload, is_pose_payload
from formcheck.server.frames import FRAME_HEADER_BYTES, JPEG_SOI
from tests.background_server import BackgroundServer
from tests.reports import assert_valid_report

REPO_ROOT = Path(__file__).resolve().parents[2]
CLIP = REPO_ROOT / "sample_videos" / "hip_hinge_hips_rise_first.mp4"
FAULT_CODE = "hips_rise_first"
SCREENSHOT = REPO_ROOT / "out" / "browser" / "live.png"
CHROMIUM = Path(os.environ.get("FORMCHECK_CHROMIUM", "/usr/bin/chromium"))
FAKE_WEBCAM_FLAGS = [
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--autoplay-policy=no-user-gesture-required",
]
LEAD_IN_S = 4.0
DEFAULT_FPS = 30
VIEWPORT = {"width": 1280, "height": 820}
# The clip lasts about 14 s with its lead-in and plays in real time; the wait allows for a
# slow, busy machine.
REPS_TIMEOUT_MS = 120_000
SUMMARY_TIMEOUT_MS = 30_000
SESSION_RELEASE_WAIT_S = 10.0
PRIVACY_TEXT = "camera pictures never leave it"
PAYLOAD_LIMITS = PayloadLimits(max_payload_bytes=400_000, max_image_side_px=4096)
# A 640x480 pose payload: a 28-byte header, 924 bytes of landmarks and the deflated trunk mask
# (a few kB). A JPEG of the same frame is 30-50 kB: no message may come near that.
MAX_POSE_MESSAGE_BYTES = 20_000

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def write_y4m(video: Path, out: Path, lead_in_s: float = LEAD_IN_S) -> Path:
    """The clip as 4:2:0 YUV4MPEG2, the format Chromium's fake webcam plays.

    The first frame is held for ``lead_in_s`` first: the person stands still while the page
    connects and the setup check passes, as a person in front of a laptop would, so the
    calibration finds its still second however long the browser took to start.
    """
    with av.open(str(video)) as container, out.open("wb") as stream:
        vstream = container.streams.video[0]
        rate = Fraction(vstream.average_rate or DEFAULT_FPS)
        first = True
        for frame in container.decode(video=0):
            yuv = frame.reformat(format="yuv420p").to_ndarray().tobytes()  # Y, U, V planes
            if first:
                stream.write(
                    f"YUV4MPEG2 W{frame.width} H{frame.height} "
                    f"F{rate.numerator}:{rate.denominator} Ip A1:1 C420jpeg\n".encode("ascii")
                )
                for _ in range(round(lead_in_s * rate)):
                    stream.write(b"FRAME\n" + yuv)
                first = False
            stream.write(b"FRAME\n" + yuv)
    return out


@pytest.fixture()
def browser_setup(tmp_path: Path, model_path: Path) -> Iterator[tuple[object, BackgroundServer]]:
    if not CHROMIUM.is_file():
        pytest.skip(f"Chromium not found at {CHROMIUM} (CI installs it: scripts/ci_system_deps.sh)")
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="the playwright Python package is not installed"
    )
    if not CLIP.is_file():
        pytest.skip(f"sample clip {CLIP.name} is missing")
    y4m = write_y4m(CLIP, tmp_path / "webcam.y4m")
    flags = [*FAKE_WEBCAM_FLAGS, f"--use-file-for-fake-video-capture={y4m}"]
    with (
        BackgroundServer(model_path, record=True) as server,
        sync_api.sync_playwright() as playwright,
    ):
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=flags
        )
        try:
            yield browser, server
        finally:
            browser.close()


@pytest.mark.parametrize("mode", ["browser", "server"])
def test_page_counts_reps_and_shows_the_fault_cue(
    browser_setup: tuple[object, BackgroundServer], tmp_path: Path, mode: str
) -> None:
    browser, server = browser_setup
    context = browser.new_context(viewport=VIEWPORT, accept_downloads=True)  # type: ignore[attr-defined]
    context.grant_permissions(["camera"], origin=server.url)
    page = context.new_page()
    page_errors: list[str] = []
    page.on("pageerror", lambda error: page_errors.append(str(error)))
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(server.url + ("/" if mode == "browser" else "/?pose=server"))
    page.wait_for_selector("#exercise option[value='hip_hinge']", state="attached")
    page.select_option("#exercise", "hip_hinge")
    page.click("#start")

    page.wait_for_function(
        """(code) => {
            const cue = document.querySelector(`#cue-log li[data-code="${code}"]`);
            return cue !== null && Number(document.querySelector("#reps").textContent) >= 2;
        }""",
        arg=FAULT_CODE,
        timeout=REPS_TIMEOUT_MS,
    )
    shown = page.evaluate(
        """() => ({
            reps: document.querySelector("#reps").textContent,
            cue: document.querySelector("#cue").textContent,
            cueCode: document.querySelector("#cue").dataset.code,
            rtt: document.querySelector("#rtt").textContent,
            status: document.querySelector("#status").textContent,
        })"""
    )
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT.with_name(f"live_{mode}.png")))
    assert page.locator("#pose-mode").text_content() == (
        "pose: on this device" if mode == "browser" else "pose: on the server"
    )
    assert (PRIVACY_TEXT in (page.locator("#privacy").text_content() or "")) == (mode == "browser")
    assert shown["reps"] == "2"
    assert shown["cueCode"] == FAULT_CODE and "chest and hips together" in shown["cue"].lower()
    assert float(shown["rtt"]) > 0  # the measured round-trip is on show
    assert shown["status"].startswith("Go")

    page.click("#finish")
    page.wait_for_selector("#summary", state="visible", timeout=SUMMARY_TIMEOUT_MS)
    assert page.locator(f"#findings li[data-code='{FAULT_CODE}']").count() >= 1
    with page.expect_download() as download_info:
        page.click("#save-report")
    saved = tmp_path / "report.json"
    download_info.value.save_as(saved)
    report = json.loads(saved.read_text(encoding="utf-8"))
    assert_valid_report(report)  # the page's saved report is a report.json like any other
    assert report["source"] == "live" and report["pose"] == mode
    assert report["summary"]["reps"] >= 2
    assert FAULT_CODE in {f["code"] for f in report["findings"]}
    assert not page_errors
    page.screenshot(path=str(SCREENSHOT.with_name(f"live_{mode}_summary.png")), full_page=True)
    context.close()
    assert wait_for_sessions(server, 0) == 0  # closing the page released the session

    # Nothing came from anywhere but the app (no CDN, no analytics).
    assert requests and all(url.startswith(server.url + "/") for url in requests), requests
    # Every websocket message the server received, as it arrived.
    assert server.recorder is not None
    starts = [json.loads(t) for t in server.recorder.text if json.loads(t).get("type") == "start"]
    assert starts and all(start["pose"] == mode for start in starts)
    received = server.recorder.binary
    assert len(received) > 50
    if mode == "browser":
        assert_pose_payloads_only(received)
    else:
        assert all(message[FRAME_HEADER_BYTES:].startswith(JPEG_SOI) for message in received)


def assert_pose_payloads_only(messages: list[bytes]) -> None:
    """Every binary message is a valid pose payload, small, with no picture inside."""
    with_mask = 0
    for message in messages:
        assert is_pose_payload(message)
        assert len(message) <= MAX_POSE_MESSAGE_BYTES
        # Parsed field by field to its last byte (anything else raises): header, landmarks and
        # a mask that expands to the trunk box only, never the picture.
        payload = decode_payload(message, PAYLOAD_LIMITS)
        if payload.pose.mask is not None:
            with_mask += 1
            box_px = payload.pose.mask.size
            assert box_px < payload.pose.image_width_px * payload.pose.image_height_px
    assert with_mask > len(messages) // 2  # the back outline had its mask


def wait_for_sessions(server: BackgroundServer, want: int) -> int:
    """Open sessions once they reach ``want`` (or after SESSION_RELEASE_WAIT_S)."""
    import time
    import urllib.request

    deadline = time.monotonic() + SESSION_RELEASE_WAIT_S
    while True:
        with urllib.request.urlopen(server.url + "/api/health") as response:
            sessions = int(json.loads(response.read())["sessions"])
        if sessions == want or time.monotonic() > deadline:
            return sessions
        time.sleep(0.1)


def test_page_falls_back_to_server_pose_when_the_server_has_no_browser_pose(
    browser_setup: tuple[object, BackgroundServer],
) -> None:
    """Without the tasks-vision files (no `npm ci`) the page says so and poses on the server."""
    from formcheck.server.web import WebAssets

    browser, server = browser_setup
    context_state = server.app.state.context
    context_state.web = WebAssets(public_dir=context_state.web.public_dir, tasks_vision_dir=None)
    context = browser.new_context(viewport=VIEWPORT)  # type: ignore[attr-defined]
    context.grant_permissions(["camera"], origin=server.url)
    page = context.new_page()
    page.goto(server.url + "/")
    page.wait_for_selector("#exercise option[value='hip_hinge']", state="attached")
    page.click("#start")
    page.wait_for_function(
        "() => Number(document.querySelector('#fps').textContent) > 0", timeout=REPS_TIMEOUT_MS
    )
    assert page.locator("#pose-mode").text_content() == "pose: on the server"
    assert "no browser pose files" in (page.locator("#privacy").text_content() or "")
    context.close()
    assert server.recorder is not None
    assert any(
        message[FRAME_HEADER_BYTES:].startswith(JPEG_SOI) for message in server.recorder.binary
    )
