"""Frame sources: timestamps, rotation, downscaling, errors, prefetch thread lifecycle."""

from __future__ import annotations

import gc
import logging
import os
import threading
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
import pytest

from formcheck.errors import VideoOpenError
from formcheck.types import VideoFrame
from formcheck.video import FrameSource, open_source, probe_video
from formcheck.video import file_source as file_source_module
from formcheck.video.camera import CameraFrameSource
from formcheck.video.file_source import PtsClock
from formcheck.video.geometry import delivered_size_px, upright_rotation_cw_deg
from formcheck.video.prefetch import Prefetcher
from formcheck.video.source import camera_index
from tests.conftest import shared_clip
from tests.fixtures.video_clips import (
    BACKGROUND_MAX_LEVEL,
    MARKER_MIN_LEVEL,
    marker_image,
    noise_images,
    stored_for_display,
    write_clip,
)

HINGE_CLIP = "hinge/0016c_1.mp4"
HINGE_CLIP_DURATION_MS = 21_030.0  # from ../shared/videos/README.md
PHONE_CLIP = "other/sit_to_stand_chair_test.mp4"  # vertical phone video, stored 1080x1920
PTS_TOLERANCE_MS = 1e-6
THREAD_PREFIXES = ("formcheck-decode", "formcheck-camera")


def source_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith(THREAD_PREFIXES)]


@pytest.fixture(autouse=True)
def no_leaked_threads() -> Iterator[None]:
    yield
    gc.collect()
    assert source_threads() == []


@pytest.fixture
def noise_clip(tmp_path: Path) -> Path:
    return write_clip(tmp_path / "noise.mp4", noise_images(60, 128, 96))


def read_all(source: FrameSource) -> list[VideoFrame]:
    with source:
        return list(source)


def assert_marker_top_left(rgb: npt.NDArray[np.uint8]) -> None:
    """Red top-left quadrant, dark elsewhere: the image is upright and not mirrored."""
    height_px, width_px = rgb.shape[:2]
    half_h, half_w = height_px // 2, width_px // 2
    inset_h, inset_w = height_px // 8, width_px // 8  # stay clear of blurred edges
    top_left = rgb[inset_h : half_h - inset_h, inset_w : half_w - inset_w].reshape(-1, 3)
    assert top_left[:, 0].min() >= MARKER_MIN_LEVEL  # red
    assert top_left[:, 2].max() <= BACKGROUND_MAX_LEVEL  # not blue: channels are RGB
    for rows, cols in (
        (slice(inset_h, half_h - inset_h), slice(half_w + inset_w, width_px - inset_w)),
        (slice(half_h + inset_h, height_px - inset_h), slice(inset_w, half_w - inset_w)),
        (slice(half_h + inset_h, height_px - inset_h), slice(half_w + inset_w, width_px - inset_w)),
    ):
        assert rgb[rows, cols].max() <= BACKGROUND_MAX_LEVEL


# --- timestamps -------------------------------------------------------------------------


def test_constant_rate_timestamps_follow_pts(noise_clip: Path) -> None:
    frames = read_all(open_source(noise_clip))
    assert [f.index for f in frames] == list(range(60))
    expected_ms = [round(i * 1000 / 30) for i in range(60)]
    assert np.allclose([f.t_ms for f in frames], expected_ms, atol=PTS_TOLERANCE_MS)


def test_variable_rate_timestamps_follow_pts_not_index(tmp_path: Path) -> None:
    pts_ms = [500, 510, 550, 560, 700, 710, 1000, 1020, 1030, 1400, 1433, 1466]
    clip = write_clip(tmp_path / "vfr.mp4", noise_images(len(pts_ms), 64, 48), pts_ms)
    frames = read_all(open_source(clip))
    assert [f.t_ms for f in frames] == pytest.approx([p - pts_ms[0] for p in pts_ms])
    assert frames[0].t_ms == 0.0


@pytest.mark.slow
def test_real_clip_last_timestamp_matches_duration() -> None:
    source = open_source(shared_clip(HINGE_CLIP))
    frame_period_ms = 1000 / source.info.fps
    frames = read_all(source)
    assert len(frames) == source.info.frame_count
    assert abs(HINGE_CLIP_DURATION_MS - frames[-1].t_ms) <= frame_period_ms
    assert np.all(np.diff([f.t_ms for f in frames]) > 0)


def test_pts_clock_drops_frames_whose_time_does_not_advance() -> None:
    clock = PtsClock(Fraction(1, 90_000), nominal_period_ms=40.0)
    times = [clock.t_ms(pts) for pts in (9000, 12000, 12000, 11000, 15000)]
    assert times == pytest.approx([0.0, 33.333333, None, None, 66.666667])
    assert clock.dropped_frames == 2


def test_pts_clock_spaces_frames_without_pts_by_nominal_period() -> None:
    clock = PtsClock(Fraction(1, 1000), nominal_period_ms=40.0)
    assert [clock.t_ms(None) for _ in range(3)] == [0.0, 40.0, 80.0]
    assert clock.frames_without_pts == 3


# --- rotation and size ------------------------------------------------------------------


@pytest.mark.parametrize("rotation_ccw_deg", [0, 90, -90, 180])
def test_rotation_metadata_gives_upright_frames(tmp_path: Path, rotation_ccw_deg: int) -> None:
    upright = marker_image(96, 160)  # portrait, as a phone held upright sees it
    stored = stored_for_display(upright, rotation_ccw_deg)
    clip = write_clip(tmp_path / "rot.mp4", [stored] * 5, rotation_ccw_deg=rotation_ccw_deg or None)
    info = probe_video(clip)
    assert (info.width_px, info.height_px) == (96, 160)
    assert info.rotation_deg == upright_rotation_cw_deg(rotation_ccw_deg)
    source = open_source(clip)
    assert source.frame_size_px == (96, 160)
    for frame in read_all(source):
        assert frame.rgb.shape == (160, 96, 3)
        assert frame.rgb.flags.c_contiguous
        assert_marker_top_left(frame.rgb)


def test_legacy_rotate_tag_is_honoured_without_display_matrix(tmp_path: Path) -> None:
    stored = stored_for_display(marker_image(96, 160), -90)
    clip = write_clip(tmp_path / "tagged.mkv", [stored] * 3, stream_tags={"rotate": "90"})
    assert probe_video(clip).rotation_deg == 90
    for frame in read_all(open_source(clip)):
        assert frame.rgb.shape == (160, 96, 3)
        assert_marker_top_left(frame.rgb)


def test_vertical_phone_clip_is_delivered_portrait() -> None:
    clip = shared_clip(PHONE_CLIP)
    info = probe_video(clip)
    assert (info.width_px, info.height_px) == (1080, 1920)
    with open_source(clip, max_side_px=640) as source:
        first = next(iter(source))
    assert source.frame_size_px == (360, 640)
    assert first.rgb.shape == (640, 360, 3)


@pytest.mark.parametrize(
    ("max_side_px", "expected_size_px"),
    [(160, (160, 90)), (101, (101, 57)), (320, (320, 180)), (1000, (320, 180)), (None, (320, 180))],
)
def test_downscaling_keeps_aspect_and_never_enlarges(
    tmp_path: Path, max_side_px: int | None, expected_size_px: tuple[int, int]
) -> None:
    clip = write_clip(tmp_path / "wide.mp4", [marker_image(320, 180)] * 3)
    source = open_source(clip, max_side_px=max_side_px)
    assert (source.info.width_px, source.info.height_px) == (320, 180)  # native size
    assert source.frame_size_px == expected_size_px
    width_px, height_px = expected_size_px
    for frame in read_all(source):
        assert frame.rgb.shape == (height_px, width_px, 3)
        assert frame.rgb.dtype == np.uint8
        assert frame.rgb.flags.c_contiguous  # also for odd widths with padded rows
        assert_marker_top_left(frame.rgb)


@pytest.mark.parametrize(("max_side_px", "expected_size_px"), [(160, (90, 160)), (101, (57, 101))])
def test_downscaling_a_rotated_clip(
    tmp_path: Path, max_side_px: int, expected_size_px: tuple[int, int]
) -> None:
    stored = stored_for_display(marker_image(180, 320), -90)
    clip = write_clip(tmp_path / "phone.mp4", [stored] * 3, rotation_ccw_deg=-90)
    source = open_source(clip, max_side_px=max_side_px)
    assert source.frame_size_px == expected_size_px
    width_px, height_px = expected_size_px
    for frame in read_all(source):
        assert frame.rgb.shape == (height_px, width_px, 3)
        assert frame.rgb.flags.c_contiguous
        assert_marker_top_left(frame.rgb)


def test_delivered_size_and_rotation_helpers() -> None:
    assert delivered_size_px(1080, 1920, 1280) == (720, 1280)
    assert delivered_size_px(1280, 720, 1280) == (1280, 720)
    assert [upright_rotation_cw_deg(a) for a in (0, -90, 90, 180, -180, -89.6)] == [
        0,
        90,
        270,
        180,
        180,
        90,
    ]


# --- errors -----------------------------------------------------------------------------


def assert_open_fails(path: Path) -> str:
    with pytest.raises(VideoOpenError) as raised:
        open_source(path)
    with pytest.raises(VideoOpenError):
        probe_video(path)
    message = str(raised.value)
    assert str(path) in message
    assert message.endswith(".")
    return message


def test_missing_file(tmp_path: Path) -> None:
    assert "does not exist" in assert_open_fails(tmp_path / "nope.mp4")


def test_folder_instead_of_file(tmp_path: Path) -> None:
    assert "folder" in assert_open_fails(tmp_path)


def test_text_file_renamed_mp4(tmp_path: Path) -> None:
    path = tmp_path / "notes.mp4"
    path.write_text("these are my training notes, not a video\n" * 20)
    assert "not a video" in assert_open_fails(path)


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.mp4"
    path.touch()
    assert "empty" in assert_open_fails(path)


def test_truncated_file_without_index(tmp_path: Path, noise_clip: Path) -> None:
    data = noise_clip.read_bytes()  # index (moov) at the end: half a file cannot be read
    path = tmp_path / "half.mp4"
    path.write_bytes(data[: len(data) // 2])
    assert_open_fails(path)


def test_header_without_frames(tmp_path: Path) -> None:
    clip = write_clip(tmp_path / "fs.mp4", noise_images(30, 64, 48), faststart=True)
    data = clip.read_bytes()
    path = tmp_path / "header_only.mp4"
    path.write_bytes(data[: data.find(b"mdat") + 4])  # index says 30 frames; none present
    assert "no video frames" in assert_open_fails(path)


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read files without permission")
def test_unreadable_file(tmp_path: Path, noise_clip: Path) -> None:
    noise_clip.chmod(0)
    assert "permission" in assert_open_fails(noise_clip)


def test_truncated_file_with_index_keeps_frames_and_warns(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    clip = write_clip(tmp_path / "fs.mp4", noise_images(60, 128, 96), faststart=True)
    data = clip.read_bytes()
    path = tmp_path / "cut.mp4"
    path.write_bytes(data[: len(data) // 2])
    with caplog.at_level(logging.WARNING, logger="formcheck.video"):
        frames = read_all(open_source(path))
    assert 0 < len(frames) < 60
    assert "truncated" in caplog.text


def test_corrupt_packets_mid_file_keep_frames_and_warn(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    clip = write_clip(tmp_path / "fs.mp4", noise_images(60, 128, 96), faststart=True)
    data = bytearray(clip.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 3000] = (
        np.random.default_rng(1).integers(0, 256, 3000).astype(np.uint8).tobytes()
    )
    path = tmp_path / "corrupt.mp4"
    path.write_bytes(bytes(data))
    with caplog.at_level(logging.WARNING, logger="formcheck.video"):
        frames = read_all(open_source(path))
    assert len(frames) >= 30  # everything before the damage, at least
    assert np.all(np.diff([f.t_ms for f in frames]) > 0)
    assert "damaged" in caplog.text


def test_bad_options_are_rejected(noise_clip: Path) -> None:
    with pytest.raises(ValueError, match="max_side_px"):
        open_source(noise_clip, max_side_px=0)
    with pytest.raises(ValueError, match="prefetch_frames"):
        open_source(noise_clip, prefetch_frames=-1)


# --- prefetch thread --------------------------------------------------------------------


@pytest.mark.parametrize("prefetch_frames", [0, 2])
def test_iterating_an_unnamed_source_reads_every_frame(
    noise_clip: Path, prefetch_frames: int
) -> None:
    count = 0
    for _frame in open_source(noise_clip, prefetch_frames=prefetch_frames):
        count += 1  # nothing else references the source while this loop runs
    assert count == 60


@pytest.mark.parametrize("prefetch_frames", [0, 2])
def test_a_second_loop_continues_after_the_first_stopped(
    noise_clip: Path, prefetch_frames: int
) -> None:
    with open_source(noise_clip, prefetch_frames=prefetch_frames) as source:
        first = next(iter(source))
        gc.collect()  # the abandoned first iterator is gone; the source must go on
        rest = [frame.index for frame in source]
    assert first.index == 0
    assert rest == list(range(1, 60))


def test_inline_and_prefetched_sources_deliver_the_same_frames(noise_clip: Path) -> None:
    inline = read_all(open_source(noise_clip, prefetch_frames=0))
    prefetched = read_all(open_source(noise_clip, prefetch_frames=3))
    assert [f.t_ms for f in inline] == [f.t_ms for f in prefetched]
    assert all(np.array_equal(a.rgb, b.rgb) for a, b in zip(inline, prefetched, strict=True))


@pytest.mark.parametrize("prefetch_frames", [0, 1, 8])
def test_early_close_stops_the_decoder(noise_clip: Path, prefetch_frames: int) -> None:
    source = open_source(noise_clip, prefetch_frames=prefetch_frames)
    for frame in source:
        if frame.index == 2:
            break
    source.close()  # the worker is blocked on a full queue here; close must still end it
    source.close()  # idempotent
    assert source_threads() == []


def test_close_before_reading_and_garbage_collection(noise_clip: Path) -> None:
    open_source(noise_clip).close()
    assert source_threads() == []
    unclosed = open_source(noise_clip, prefetch_frames=2)
    assert source_threads() != []
    del unclosed
    gc.collect()
    assert source_threads() == []


def test_decoder_exceptions_reach_the_consumer(
    noise_clip: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = 0

    def failing_rotate(image: npt.NDArray[np.uint8], rotation_cw_deg: int) -> npt.NDArray[np.uint8]:
        nonlocal calls
        calls += 1
        if calls > 3:
            raise RuntimeError("boom in the decode thread")
        return np.ascontiguousarray(image)

    monkeypatch.setattr(file_source_module, "rotate_upright", failing_rotate)
    received = []
    with (
        open_source(noise_clip, prefetch_frames=2) as source,
        pytest.raises(RuntimeError, match="boom in the decode thread"),
    ):
        for frame in source:
            received.append(frame.index)
    assert received == [0, 1, 2]


def test_prefetcher_propagates_producer_errors_after_earlier_items() -> None:
    def produce() -> Iterator[int]:
        yield 1
        yield 2
        raise KeyError("missing")

    got = []
    prefetcher = Prefetcher(produce, capacity=1, name="formcheck-decode:test")
    with pytest.raises(KeyError):
        for item in prefetcher:
            got.append(item)
    prefetcher.stop()
    assert got == [1, 2]


def test_prefetcher_drop_oldest_keeps_recent_items() -> None:
    finished = threading.Event()

    def produce() -> Iterator[int]:
        yield from range(100)
        finished.set()

    prefetcher = Prefetcher(produce, capacity=3, name="formcheck-camera:test", drop_oldest=True)
    finished.wait()
    assert list(prefetcher) == [97, 98, 99]
    prefetcher.stop()


# --- cameras ----------------------------------------------------------------------------


def test_camera_spec_parsing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert camera_index(0) == 0
    assert camera_index(" 2 ") == 2
    assert camera_index("clip.mp4") is None
    assert camera_index(Path("0")) is None
    monkeypatch.chdir(tmp_path)
    Path("7").touch()
    assert camera_index("7") is None  # an existing file named like an index is a file
    with pytest.raises(TypeError):
        camera_index(True)


def test_camera_that_cannot_open() -> None:
    with pytest.raises(VideoOpenError, match="Camera 3 could not be opened"):
        CameraFrameSource(3, capture_factory=lambda _index: cv2.VideoCapture())


@pytest.mark.parametrize("prefetch_frames", [0, 4])
def test_camera_frames_are_rgb_with_increasing_clock_times(
    tmp_path: Path, prefetch_frames: int
) -> None:
    clip = write_clip(tmp_path / "cam.mp4", [marker_image(320, 180)] * 10)
    source = CameraFrameSource(
        0,
        max_side_px=160,
        prefetch_frames=prefetch_frames,
        capture_factory=lambda _index: cv2.VideoCapture(str(clip)),
    )
    assert source.info.path == "camera:0"
    assert source.frame_size_px == (160, 90)
    frames = read_all(source)
    assert frames[0].t_ms >= 0.0
    assert np.all(np.diff([f.t_ms for f in frames]) > 0)
    assert np.all(np.diff([f.index for f in frames]) > 0)
    for frame in frames:
        assert frame.rgb.shape == (90, 160, 3)
        assert_marker_top_left(frame.rgb)
    if prefetch_frames == 0:  # a live camera thread drops old frames when the reader lags
        assert len(frames) == 10
        assert frames[0].t_ms == 0.0
