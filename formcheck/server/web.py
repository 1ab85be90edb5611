"""Where the front end's files are, and the routes that serve them.

The page lives in the top-level ``server/`` folder of a checkout: ``server/public/`` holds the
HTML, scripts and styles (no build step), ``server/package.json`` and its lockfile pin
``@mediapipe/tasks-vision`` (MediaPipe's PoseLandmarker in WebAssembly), which
``scripts/bootstrap.sh`` installs with ``npm ci`` into ``server/node_modules/``. A wheel
carries copies of both as package data under ``formcheck/server/web/`` (``setup.py`` copies
them when the wheel is built); an installed package uses those.

Served, all from this app (nothing from the internet at run time):

    /static/...                  the page's files
    /vendor/tasks-vision/...     the tasks-vision ES module and its WebAssembly files only
    /models/pose_landmarker.task the pose model bundle the server itself uses
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse

log = logging.getLogger("formcheck.server")

PACKAGE_WEB_DIR = Path(__file__).resolve().parent / "web"  # in a wheel
CHECKOUT_SERVER_DIR = Path(__file__).resolve().parents[2] / "server"  # in a checkout
PUBLIC_DIRNAME = "public"
VENDOR_DIRNAME = "vendor"
TASKS_VISION_PACKAGE = Path("node_modules") / "@mediapipe" / "tasks-vision"
TASKS_VISION_URL = "/vendor/tasks-vision"
MODEL_URL = "/models/pose_landmarker.task"

# The only tasks-vision files the page needs: the ES module, and the WebAssembly runtime with
# its loader (the SIMD build, and the plain one for browsers without WebAssembly SIMD).
TASKS_VISION_FILES: dict[str, str] = {
    "vision_bundle.mjs": "text/javascript",
    "wasm/vision_wasm_internal.js": "text/javascript",
    "wasm/vision_wasm_internal.wasm": "application/wasm",
    "wasm/vision_wasm_nosimd_internal.js": "text/javascript",
    "wasm/vision_wasm_nosimd_internal.wasm": "application/wasm",
}
# The vendored files never change under one URL within a release: let browsers keep them
# for a day (the model too: a rebuilt bundle comes with a restart, and the page checks its
# checksum against /api/health).
VENDOR_CACHE_CONTROL = "public, max-age=86400"
# The page may load scripts, WebAssembly, the model and data only from this app, and talk
# only to it: nothing from a CDN, no analytics, no beacon anywhere else.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self' blob:; "
    "connect-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; "
    "style-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)


@dataclass(frozen=True, slots=True)
class WebAssets:
    """The page's folder and the tasks-vision package folder (None when not installed)."""

    public_dir: Path
    tasks_vision_dir: Path | None

    @property
    def browser_pose(self) -> bool:
        """Whether every tasks-vision file the page needs is there."""
        return self.tasks_vision_dir is not None and all(
            (self.tasks_vision_dir / name).is_file() for name in TASKS_VISION_FILES
        )


def find_web_assets(
    package_dir: Path = PACKAGE_WEB_DIR, checkout_dir: Path = CHECKOUT_SERVER_DIR
) -> WebAssets:
    """The wheel's copies when installed from one, else the checkout's ``server/`` folder."""
    if (package_dir / PUBLIC_DIRNAME / "index.html").is_file():
        return WebAssets(
            public_dir=package_dir / PUBLIC_DIRNAME,
            tasks_vision_dir=package_dir / VENDOR_DIRNAME / "tasks-vision",
        )
    return WebAssets(
        public_dir=checkout_dir / PUBLIC_DIRNAME,
        tasks_vision_dir=checkout_dir / TASKS_VISION_PACKAGE,
    )


WEB_ASSETS = find_web_assets()
STATIC_DIR = WEB_ASSETS.public_dir


def web_router(assets: WebAssets, model_path: Path) -> APIRouter:
    """The tasks-vision files and the model bundle, for the page's browser pose."""
    router = APIRouter()
    if not assets.browser_pose:
        log.warning(
            "The tasks-vision files are missing (%s): the live page falls back to pose on the "
            "server. Run scripts/bootstrap.sh (npm ci in server/) to install them.",
            assets.tasks_vision_dir,
        )

    @router.get(f"{TASKS_VISION_URL}/{{name:path}}", include_in_schema=False)
    def tasks_vision(name: str) -> FileResponse:
        media_type = TASKS_VISION_FILES.get(name)
        if media_type is None or assets.tasks_vision_dir is None:
            raise HTTPException(status_code=404, detail="No such file.")
        path = assets.tasks_vision_dir / name
        if not path.is_file():
            raise HTTPException(status_code=404, detail="tasks-vision is not installed.")
        return FileResponse(
            path, media_type=media_type, headers={"Cache-Control": VENDOR_CACHE_CONTROL}
        )

    @router.get(MODEL_URL, include_in_schema=False)
    def model() -> FileResponse:
        return FileResponse(
            model_path,
            media_type="application/octet-stream",
            headers={"Cache-Control": VENDOR_CACHE_CONTROL},
        )

    return router
