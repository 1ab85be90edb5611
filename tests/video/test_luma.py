"""A frame's brightness: black bars around a pillarboxed or letterboxed picture are left out."""

from __future__ import annotations

import numpy as np
import pytest

from formcheck.video.luma import mean_luma


def grey(level: int, width_px: int = 640, height_px: int = 360) -> np.ndarray:
    return np.full((height_px, width_px, 3), level, dtype=np.uint8)


def test_plain_frames() -> None:
    assert mean_luma(grey(0)) == pytest.approx(0.0)
    assert mean_luma(grey(200)) == pytest.approx(200.0, abs=0.5)
    assert mean_luma(np.zeros((0, 0, 3), dtype=np.uint8)) == 0.0


def test_black_bars_are_not_a_dark_room() -> None:
    pillarboxed = grey(0)
    pillarboxed[:, 220:420] = 90  # a portrait picture in the middle of a landscape frame
    assert mean_luma(pillarboxed) == pytest.approx(90.0, abs=0.5)
    letterboxed = grey(16)  # video black
    letterboxed[60:300, :] = 70
    assert mean_luma(letterboxed) == pytest.approx(70.0, abs=0.5)
    # a dark room is still dark: dim pixels everywhere, no bar to cut
    assert mean_luma(grey(30)) == pytest.approx(30.0, abs=0.5)
