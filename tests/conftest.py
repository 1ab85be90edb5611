"""Shared fixtures: where the real clips and the model are, and small generated videos."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
# ../shared/videos beside the checkout; FORMCHECK_SHARED_VIDEOS points elsewhere (a git
# worktree kept away from the main checkout).
SHARED_VIDEOS = Path(
    os.environ.get("FORMCHECK_SHARED_VIDEOS", str(REPO_ROOT.parent / "shared" / "videos"))
)


def shared_clip(relative: str) -> Path:
    """A real clip from ../shared/videos, or skip the test with the reason."""
    path = SHARED_VIDEOS / relative
    if not path.is_file():
        pytest.skip(f"real clip {relative} not available: ../shared/videos is absent")
    return path


@pytest.fixture(scope="session")
def model_path() -> Path:
    """The real pose model bundle (built from the mediapipe wheel on first use)."""
    from formcheck.errors import ModelUnavailableError
    from formcheck.pose.model import ensure_model

    try:
        return ensure_model().path
    except ModelUnavailableError as exc:
        pytest.skip(f"no pose model could be had: {exc}")


def write_test_video(path: Path, frames: list[np.ndarray], fps: int = 30) -> Path:
    """Encode RGB frames as an H.264 MP4 with PyAV."""
    import av

    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.height, stream.width = frames[0].shape[:2]
        stream.pix_fmt = "yuv420p"
        for rgb in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path
