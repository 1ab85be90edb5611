"""Camera cuts: a one-frame jump to another shot is found; movement, shake and a clean video
are not cuts."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

from formcheck.config import ShotCutConfig
from formcheck.video import open_source
from formcheck.video.shots import mark_cuts
from tests.conftest import shared_clip

Frame = npt.NDArray[np.uint8]
H, W = 90, 160
CONFIG = ShotCutConfig()


def _scene(seed: int) -> Frame:
    """A static scene: smooth colour blocks (what the thumbnail sees of a room)."""
    rng = np.random.default_rng(seed)
    blocks = rng.integers(0, 256, size=(6, 8, 3), dtype=np.uint8)
    return np.repeat(np.repeat(blocks, H // 6, axis=0), W // 8, axis=1)


def _person(scene: Frame, x_px: int) -> Frame:
    """The scene with a bright figure at ``x_px`` (a person moving across the view)."""
    out = scene.copy()
    out[20:80, x_px : x_px + 12] = (250, 240, 230)
    return out


def _cuts(frames: list[Frame], config: ShotCutConfig = CONFIG) -> list[int]:
    return [i for i, (_, cut) in enumerate(mark_cuts(frames, lambda f: f, config)) if cut]


def _moving(scene: Frame, n: int, start_px: int = 10, step_px: int = 3) -> list[Frame]:
    return [_person(scene, start_px + step_px * i) for i in range(n)]


def test_a_cut_between_two_shots_is_found_at_its_frame() -> None:
    frames = _moving(_scene(1), 40) + _moving(_scene(2), 40, start_px=60)
    assert _cuts(frames) == [40]


def test_several_cuts_over_a_long_video_and_at_the_second_frame() -> None:
    # a clip opening on one frame of another shot, then cuts every 150 frames (the history
    # kept is bounded, so positions far into the video must still be right)
    frames = [_scene(9)]
    for k in range(4):
        frames += _moving(_scene(10 + k), 150, step_px=0 if k % 2 else 1)
    assert _cuts(frames) == [1, 151, 301, 451]


def test_movement_and_camera_shake_are_not_cuts() -> None:
    scene = _scene(3)
    fast = _moving(scene, 60, step_px=8)  # a quick movement across the view
    rng = np.random.default_rng(4)
    shake = [  # a handheld camera: the whole view shifts a few pixels every frame
        np.roll(scene, tuple(rng.integers(-4, 5, size=2)), axis=(0, 1)) for _ in range(60)
    ]
    assert _cuts(fast) == []
    assert _cuts(shake) == []


def test_a_clean_still_video_and_a_very_short_one() -> None:
    scene = _scene(5)
    assert _cuts([scene] * 30) == []
    assert _cuts([scene]) == []
    assert _cuts([]) == []


def test_a_cut_at_the_last_frame_is_found_without_frames_after_it() -> None:
    frames = [*_moving(_scene(6), 30), np.zeros((H, W, 3), dtype=np.uint8)]  # cut to black
    assert _cuts(frames) == [30]


def test_turned_off() -> None:
    frames = _moving(_scene(1), 20) + _moving(_scene(2), 20)
    assert _cuts(frames, ShotCutConfig(enabled=False)) == []


def test_every_frame_is_delivered_in_order() -> None:
    frames = _moving(_scene(7), 25)
    delivered = [f for f, _ in mark_cuts(frames, lambda f: f, CONFIG)]
    assert len(delivered) == 25
    assert all(a is b for a, b in zip(delivered, frames, strict=True))


def _real_cut_times_s(relative: str) -> list[float]:
    with open_source(shared_clip(relative)) as source:
        marked = mark_cuts(source, lambda f: f.rgb, CONFIG)
        return [round(frame.t_ms / 1000.0, 2) for frame, cut in marked if cut]


@pytest.mark.parametrize(
    ("clip", "cuts_s"),
    [
        # an edited deadlift: the tail of the last shot, then a side view, then a close-up
        ("hinge/aideadlift_good009.mp4", [0.03, 0.13, 1.1]),
        # a plate swinging past a phone's lens: large changes, several frames in a row
        ("hinge/yfgd_bad_000001.mp4", []),
        # a handheld oblique squat: the largest frame-to-frame changes of any labelled clip
        ("other/kaiakol_squat_correct_011.mp4", []),
    ],
)
def test_real_clips(clip: str, cuts_s: list[float]) -> None:
    assert _real_cut_times_s(clip) == pytest.approx(cuts_s, abs=0.02)
