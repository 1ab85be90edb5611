"""The page's own pose module run in headless Chromium on given frames, for parity checks.

``BrowserPoser`` opens the app's page in Debian's Chromium (playwright, never a downloaded
browser), imports server/public/pose_browser.js exactly as the page does, and poses RGB frames
handed over from Python with the server's settings. Each frame comes back as the binary
payload the page would have sent, decoded by the server's own decoder, so the result is the
PoseFrame the server would build. The Python side poses the same frames with PoseEstimator.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from formcheck.pose.landmarks import Landmark
from formcheck.pose.remote import PayloadLimits, PosePayload, decode_payload
from formcheck.server.browser_pose import browser_pose_settings
from formcheck.server.config import ServerConfig
from formcheck.session import ExerciseSession
from formcheck.types import Facing, PoseFrame
from tests.background_server import BackgroundServer
from tests.reports import report_of

CHROMIUM = Path(os.environ.get("FORMCHECK_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
CREATE_TIMEOUT_MS = 120_000
LIMITS = PayloadLimits(max_payload_bytes=400_000, max_image_side_px=4096)

_CREATE = """async (settings) => {
    const module = await import("/static/pose_browser.js");
    if (window.__pose) window.__pose.close();
    window.__pose = await module.BrowserPose.create(settings);
    return true;
}"""
_POSE = """async ([b64, width, height, tMs, seq]) => {
    const raw = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const rgba = new Uint8ClampedArray(width * height * 4);
    for (let i = 0, j = 0; i < raw.length; i += 3, j += 4) {
        rgba[j] = raw[i]; rgba[j + 1] = raw[i + 1]; rgba[j + 2] = raw[i + 2]; rgba[j + 3] = 255;
    }
    const image = new ImageData(rgba, width, height);
    const out = await window.__pose.process(image, width, height, tMs, seq);
    const bytes = new Uint8Array(out.payload);
    let text = "";
    for (let i = 0; i < bytes.length; i += 0x8000) {
        text += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
    }
    return [btoa(text), out.inferenceMs];
}"""


@dataclass(frozen=True)
class BrowserPosed:
    payload: PosePayload
    inference_ms: float
    payload_bytes: int


def chromium_missing_reason() -> str | None:
    if not CHROMIUM.is_file():
        return f"Chromium not found at {CHROMIUM} (CI installs it: scripts/ci_system_deps.sh)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright Python package is not installed"
    return None


class BrowserPoser:
    """A running app, a headless Chromium page on it, and the page's BrowserPose loaded."""

    def __init__(self, model_path: Path, config: ServerConfig | None = None) -> None:
        self._config = config or ServerConfig()
        self._server = BackgroundServer(model_path, self._config)
        self._playwright: Any = None
        self._browser: Any = None
        self.page: Any = None
        self.console: list[str] = []
        self._settings: dict[str, Any] = {}

    def __enter__(self) -> BrowserPoser:
        from playwright.sync_api import sync_playwright

        self._server.__enter__()
        self._playwright = sync_playwright().start()
        self._browser = self._playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS
        )
        self.page = self._browser.new_page()
        self.page.on("console", lambda message: self.console.append(message.text))
        self.page.goto(self._server.url + "/")
        model = self._server.app.state.context.model
        self._settings = browser_pose_settings(
            self._config.pipeline, self._config.max_pose_payload_bytes, model.sha256[:16]
        ).model_dump()
        self.page.set_default_timeout(CREATE_TIMEOUT_MS)
        self.reset()
        return self

    def reset(self) -> None:
        """A fresh BrowserPose, as a page starting a set has: no tracking, no person locked."""
        self.page.evaluate(_CREATE, self._settings)

    def __exit__(self, *exc: object) -> None:
        if self._browser is not None:
            self._browser.close()
        if self._playwright is not None:
            self._playwright.stop()
        self._server.__exit__(*exc)

    def pose(self, rgb: np.ndarray, t_ms: float, seq: int) -> BrowserPosed:
        height, width = rgb.shape[:2]
        b64 = base64.b64encode(np.ascontiguousarray(rgb).tobytes()).decode("ascii")
        payload_b64, inference_ms = self.page.evaluate(_POSE, [b64, width, height, t_ms, seq])
        data = base64.b64decode(payload_b64)
        return BrowserPosed(decode_payload(data, LIMITS), float(inference_ms), len(data))


def clip_frames(video: Path) -> Iterator[tuple[float, np.ndarray]]:
    """(t_ms, RGB) of every frame, on the file's own clock (as formcheck reads files)."""
    from formcheck.video import open_source

    with open_source(video) as source:
        for frame in source:
            yield frame.t_ms, frame.rgb


# --- parity: the same frames posed in Chromium and in Python ----------------------------------

TRUNK_AND_LIMBS = [
    int(i)
    for i in (
        Landmark.LEFT_EAR, Landmark.RIGHT_EAR, Landmark.LEFT_SHOULDER, Landmark.RIGHT_SHOULDER,
        Landmark.LEFT_ELBOW, Landmark.RIGHT_ELBOW, Landmark.LEFT_WRIST, Landmark.RIGHT_WRIST,
        Landmark.LEFT_HIP, Landmark.RIGHT_HIP, Landmark.LEFT_KNEE, Landmark.RIGHT_KNEE,
        Landmark.LEFT_ANKLE, Landmark.RIGHT_ANKLE,
    )
]  # fmt: skip


@dataclass
class SetResult:
    reps: int
    phases: list[dict[str, Any]]
    findings: list[dict[str, Any]]
    mm_per_px: float


@dataclass
class ClipParity:
    clip: str
    frames: int
    both_posed: int
    only_python: int
    only_browser: int
    landmark_px: np.ndarray  # per frame, per key landmark: |browser - python| in px
    world_mm: np.ndarray  # per frame, per key landmark: |browser - python| world, mm
    outline_px: np.ndarray  # per frame: median |offset| difference, same landmarks, px
    payload_bytes: list[int]
    inference_ms: list[float]
    python: SetResult
    browser: SetResult


def run_set(poses: list[PoseFrame], exercise: str) -> SetResult:
    session = ExerciseSession(None, exercise=exercise)
    for pose in poses:
        session.push_pose(pose)
    _, _, summary = session.finish()
    calibration = session.pipeline.calibration
    report = report_of(summary).model_dump(mode="json") if summary is not None else {}
    return SetResult(
        reps=int(report.get("summary", {}).get("reps", 0)),
        phases=[dict(rep["phases"], start_s=rep["start_s"]) for rep in report.get("reps", [])],
        findings=list(report.get("findings", [])),
        mm_per_px=calibration.mm_per_px if calibration is not None else float("nan"),
    )


def outline_difference_px(python: PoseFrame, browser: PoseFrame) -> float:
    """Median difference of the back outline read with each side's mask and the same (Python)
    landmarks and facing: what the masks alone change."""
    from formcheck.kinematics.spine import extract_back_outline

    if python.mask is None or browser.mask is None or python.landmarks_px is None:
        return float("nan")
    with_browser_mask = replace(python, mask=browser.mask, mask_origin_px=browser.mask_origin_px)
    diffs = []
    for facing in (Facing.LEFT, Facing.RIGHT):
        a = extract_back_outline(python, facing)
        b = extract_back_outline(with_browser_mask, facing)
        if a is not None and b is not None and a.usable and b.usable:
            d = np.abs(a.offsets_px - b.offsets_px)
            if np.isfinite(d).any():
                diffs.append(float(np.nanmedian(d)))
    return min(diffs) if diffs else float("nan")


def clip_parity(video: Path, exercise: str, poser: BrowserPoser, model_path: Path) -> ClipParity:
    """Pose every frame of ``video`` in Chromium and in Python, and compare."""
    from formcheck.pose.estimator import PoseEstimator
    from formcheck.types import VideoFrame

    python: list[PoseFrame] = []
    browser: list[PoseFrame] = []
    sizes: list[int] = []
    inference: list[float] = []
    poser.reset()  # each clip from a fresh start on both sides
    with PoseEstimator(model_path) as estimator:
        for seq, (t_ms, rgb) in enumerate(clip_frames(video)):
            python.append(estimator.process(VideoFrame(index=seq, t_ms=t_ms, rgb=rgb)))
            posed = poser.pose(rgb, t_ms, seq)
            browser.append(posed.payload.pose)
            sizes.append(posed.payload_bytes)
            inference.append(posed.inference_ms)
    landmark_px, world_mm, outline_px = [], [], []
    for a, b in zip(python, browser, strict=True):
        if a.landmarks_px is None or b.landmarks_px is None:
            continue
        landmark_px.append(
            np.linalg.norm(
                a.landmarks_px[TRUNK_AND_LIMBS, :2] - b.landmarks_px[TRUNK_AND_LIMBS, :2], axis=1
            )
        )
        assert a.world_m is not None and b.world_m is not None
        world_mm.append(
            1000.0 * np.linalg.norm(a.world_m[TRUNK_AND_LIMBS] - b.world_m[TRUNK_AND_LIMBS], axis=1)
        )
        outline_px.append(outline_difference_px(a, b))
    return ClipParity(
        clip=video.stem,
        frames=len(python),
        both_posed=len(landmark_px),
        only_python=sum(
            a.has_pose and not b.has_pose for a, b in zip(python, browser, strict=True)
        ),
        only_browser=sum(
            b.has_pose and not a.has_pose for a, b in zip(python, browser, strict=True)
        ),
        landmark_px=np.array(landmark_px),
        world_mm=np.array(world_mm),
        outline_px=np.array(outline_px),
        payload_bytes=sizes,
        inference_ms=inference,
        python=run_set(python, exercise),
        browser=run_set(browser, exercise),
    )
