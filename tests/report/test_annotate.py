"""The annotated MP4 and key frames, on small generated videos with known overlays."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from formcheck.analyzers.events import (
    Cue,
    Phase,
    PhaseChanged,
    PhaseTimes,
    RepCompleted,
    RepRecord,
    Severity,
)
from formcheck.pose.landmarks import NUM_LANDMARKS, Landmark
from formcheck.report.annotate import AnnotateConfig, HudTimeline, render_annotations
from formcheck.report.draw import ascii_text
from formcheck.report.keyframes import KeyFrameSpec, bottom_time_s, choose_keyframes
from formcheck.report.model import FindingBlock, RepBlock
from formcheck.report.recorder import AnnotationRecorder, FrameOverlay
from tests.reports import finding, rep

WIDTH_PX, HEIGHT_PX = 161, 121  # odd on purpose: the encoder needs even sizes
FRAME_TIMES_MS = [0.0, 33.0, 70.0, 100.0, 150.0, 166.0, 200.0, 260.0, 300.0, 333.0, 400.0]


def _vfr_video(path: Path) -> Path:
    """A variable-frame-rate H.264 clip: grey frames at FRAME_TIMES_MS."""
    time_base = Fraction(1, 1000)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=30)
        stream.width, stream.height = WIDTH_PX - 1, HEIGHT_PX - 1
        stream.pix_fmt = "yuv420p"
        stream.time_base = time_base
        stream.codec_context.time_base = time_base
        for t_ms in FRAME_TIMES_MS:
            rgb = np.full((HEIGHT_PX - 1, WIDTH_PX - 1, 3), 90, dtype=np.uint8)
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            frame.pts = int(t_ms)
            frame.time_base = time_base
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


def _overlay(t_ms: float, size_px: tuple[int, int]) -> FrameOverlay:
    """A stick figure down the middle of a frame of ``size_px``, drawn at half scale."""
    w, h = size_px
    landmarks = np.zeros((NUM_LANDMARKS, 2), dtype=np.float32)
    landmarks[:, 0] = w / 2
    landmarks[:, 1] = np.linspace(0.1 * h, 0.9 * h, NUM_LANDMARKS)
    visible = np.zeros(NUM_LANDMARKS, dtype=np.bool_)
    for joint in (Landmark.LEFT_SHOULDER, Landmark.LEFT_HIP, Landmark.LEFT_KNEE):
        visible[joint] = True
    outline = np.array(
        [[w * 0.3, h * 0.3], [w * 0.25, h * 0.5], [w * 0.3, h * 0.7]], dtype=np.float32
    )
    return FrameOverlay(t_ms, size_px, landmarks, visible, outline, usable=True)


class _Recorded(AnnotationRecorder):
    """A recorder filled directly with overlays (no pose model)."""

    def __init__(self, overlays: list[FrameOverlay]) -> None:
        super().__init__()
        self.overlays = overlays
        self._times_ms = [o.t_ms for o in overlays]


def _events() -> list[object]:
    rep = RepRecord(1, 0.05, 0.3, PhaseTimes(0.1, 0.05, 0.1), {}, (), 80.0)
    return [
        PhaseChanged(0.05, Phase.DOWN, Phase.TOP, 1),
        Cue(
            "spine_rounded", Severity.SAFETY, "Keep your back long — 9 mm.", 9.0, 8.0, "mm", 0.15, 1
        ),
        RepCompleted(0.3, rep),
    ]


def _decode(path: Path) -> tuple[str, str, list[float], list[np.ndarray]]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = list(container.decode(stream))
        times_ms = [float(f.pts * f.time_base * 1000) for f in frames]
        images = [f.to_ndarray(format="rgb24") for f in frames]
        return stream.codec_context.name, stream.codec_context.pix_fmt or "", times_ms, images


def test_annotated_video_is_h264_with_the_sources_frames_and_times(tmp_path: Path) -> None:
    source = _vfr_video(tmp_path / "source.mp4")
    _, _, source_times_ms, _ = _decode(source)
    assert len(source_times_ms) == len(FRAME_TIMES_MS)
    # overlays recorded at half the size, as when the analysis ran on shrunk frames
    small = ((WIDTH_PX - 1) // 2, (HEIGHT_PX - 1) // 2)
    recorder = _Recorded([_overlay(t, small) for t in source_times_ms])
    timeline = HudTimeline(_events(), cue_display_s=0.1)  # type: ignore[arg-type]
    out = tmp_path / "annotated.mp4"
    result = render_annotations(source, recorder, timeline, video_out=out)
    assert result.frames == len(FRAME_TIMES_MS) and result.video_path == out
    codec, pix_fmt, times_ms, images = _decode(out)
    assert (codec, pix_fmt) == ("h264", "yuv420p")
    assert len(images) == len(source_times_ms)
    assert times_ms == pytest.approx(source_times_ms, abs=1.0)
    h, w = images[0].shape[:2]
    assert w % 2 == 0 and h % 2 == 0
    # the skeleton (scaled back up to full size) runs down the middle column
    middle = images[5][h // 2 - 5 : h // 2 + 5, w // 2 - 1 : w // 2 + 2].astype(int)
    plain = 90
    assert np.abs(middle - plain).max() > 60
    # the cue box shows from 0.15 s for 0.1 s at the bottom of the frame
    bottom_rows = [np.abs(img[-12:].astype(int) - plain).max() for img in images]
    shown = [bottom_rows[i] > 60 for i, t in enumerate(source_times_ms)]
    assert shown == [0.15 * 1000 <= t < 0.25 * 1000 for t in source_times_ms]
    assert not list(tmp_path.glob("*.part"))


def test_hud_counts_reps_and_shows_cues_for_a_while() -> None:
    timeline = HudTimeline(_events(), cue_display_s=1.0)  # type: ignore[arg-type]
    assert timeline.at(0.0).rep_line == "Reps: 0"
    assert timeline.at(0.1).rep_line == "Reps: 0   rep 1: down"
    assert timeline.at(0.31).rep_line.startswith("Reps: 1")
    assert [c.message for c in timeline.at(0.2).cues] == ["Keep your back long — 9 mm."]
    assert timeline.at(1.2).cues == ()
    assert ascii_text("Keep it — 9°") == "Keep it - 9 deg"


def test_findings_the_cue_policy_kept_quiet_are_still_shown() -> None:
    quiet = FindingBlock.model_validate(
        finding("tempo_down_fast", rep=1, t_s=0.5, severity="info", message="Lower more slowly.")
    )
    timeline = HudTimeline(_events(), [quiet], cue_display_s=1.0)  # type: ignore[arg-type]
    assert [c.message for c in timeline.at(0.6).cues] == [
        "Keep your back long — 9 mm.",
        "Lower more slowly.",
    ]


def test_key_frames_are_the_best_and_worst_reps_at_the_bottom(tmp_path: Path) -> None:
    unknown = {"down_s": None, "pause_s": None, "up_s": None}
    reps = [
        RepBlock.model_validate(r)
        for r in (
            rep(1, start_s=0.0, end_s=0.2, score=90.0,
                phases={"down_s": 0.05, "pause_s": 0.04, "up_s": 0.1}),
            rep(2, start_s=0.2, end_s=0.4, score=60.0,
                phases={"down_s": 0.06, "pause_s": None, "up_s": 0.1}),
            rep(3, start_s=0.4, end_s=0.6, score=90.0, phases=unknown),
        )
    ]  # fmt: skip
    specs = choose_keyframes(reps)
    assert [(s.label, s.rep) for s in specs] == [("Best rep", 1), ("Worst rep", 2)]
    assert specs[0].t_s == pytest.approx(0.07) and specs[1].t_s == pytest.approx(0.26)
    assert bottom_time_s(reps[2]) == pytest.approx(0.5)
    assert [s.label for s in choose_keyframes(reps[:1])] == ["Rep 1"]
    same = [r.model_copy(update={"score": 100.0}) for r in reps]
    assert [s.rep for s in choose_keyframes(same)] == [1, 3]
    assert choose_keyframes([]) == []
    untimed = RepBlock.model_validate(rep(4, start_s=None, score=10.0))
    assert bottom_time_s(untimed) is None
    assert [s.rep for s in choose_keyframes([reps[0], untimed])] == [1]  # nothing to show

    source = _vfr_video(tmp_path / "source.mp4")
    size = (WIDTH_PX - 1, HEIGHT_PX - 1)
    recorder = _Recorded([_overlay(t, size) for t in FRAME_TIMES_MS])
    wanted = [KeyFrameSpec("Best rep", 1, 0.16, 90.0)]
    result = render_annotations(
        source,
        recorder,
        HudTimeline([]),
        video_out=None,
        keyframes=wanted,
        config=AnnotateConfig(),
    )
    assert result.video_path is None and len(result.keyframes) == 1
    key = result.keyframes[0]
    assert key.frame_t_s == pytest.approx(0.166) and key.jpeg[:2] == b"\xff\xd8"
    assert key.height_px <= size[1]  # cropped to the person


PLAYER_PAGE = """<html><body><video id=v src="annotated.mp4" muted></video><p id=out>pending</p>
<script>
const v = document.getElementById('v'), o = document.getElementById('out');
v.addEventListener('loadeddata', () => { o.textContent = 'loaded ' + v.videoWidth; });
v.addEventListener('error', () => { o.textContent = 'error ' + (v.error && v.error.code); });
</script></body></html>"""


@pytest.mark.slow
def test_annotated_video_plays_in_chromium(tmp_path: Path) -> None:
    import subprocess

    chromium = Path("/usr/bin/chromium")
    if not chromium.exists():
        pytest.skip("Chromium is not installed (/usr/bin/chromium); apt-get install chromium")
    source = _vfr_video(tmp_path / "source.mp4")
    recorder = _Recorded([_overlay(t, (WIDTH_PX - 1, HEIGHT_PX - 1)) for t in FRAME_TIMES_MS])
    render_annotations(source, recorder, HudTimeline([]), video_out=tmp_path / "annotated.mp4")
    page = tmp_path / "player.html"
    page.write_text(PLAYER_PAGE, encoding="utf-8")
    dom = subprocess.run(
        [
            str(chromium),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--allow-file-access-from-files",
            "--virtual-time-budget=5000",
            "--dump-dom",
            page.as_uri(),
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    assert f'<p id="out">loaded {WIDTH_PX - 1}</p>' in dom


def _camera_video(path: Path, seed: int = 3) -> Path:
    """A clip of busy camera pixels (noise stands in for a face and a room)."""
    rng = np.random.default_rng(seed)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=30)
        stream.width, stream.height = WIDTH_PX - 1, HEIGHT_PX - 1
        stream.pix_fmt = "yuv420p"
        for _ in range(len(FRAME_TIMES_MS)):
            rgb = rng.integers(0, 256, (HEIGHT_PX - 1, WIDTH_PX - 1, 3), dtype=np.uint8)
            container.mux(stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")))
        container.mux(stream.encode(None))
    return path


def test_a_deidentified_render_has_the_skeleton_and_no_camera_pixels(tmp_path: Path) -> None:
    """The shared copy of a set (issue 16): skeleton, outline and HUD on a plain background;
    away from them every pixel is the background, in the video and in the key frames."""
    from formcheck.report.annotate import DEIDENTIFIED_BACKGROUND_RGB

    source = _camera_video(tmp_path / "camera.mp4")
    _, _, times_ms, camera = _decode(source)
    size = (WIDTH_PX - 1, HEIGHT_PX - 1)
    recorder = _Recorded([_overlay(t, size) for t in times_ms])
    spec = KeyFrameSpec("best", 1, times_ms[5] / 1000, 90.0)
    config = AnnotateConfig(deidentified=True)
    out = tmp_path / "shared.mp4"
    result = render_annotations(source, recorder, HudTimeline([]), video_out=out,
                                keyframes=[spec], config=config)  # fmt: skip
    _, _, _, images = _decode(out)
    background = np.array(DEIDENTIFIED_BACKGROUND_RGB)
    h, w = images[0].shape[:2]
    corner = (slice(h // 2 - 10, h // 2 + 10), slice(w - 40, w - 10))  # away from the figure
    for shared, original in zip(images, camera, strict=True):
        assert np.abs(shared[corner].astype(int) - background).max() <= 3  # codec rounding
        assert original[corner].astype(float).std() > 40  # the camera had a busy scene there
        middle = shared[h // 2 - 5 : h // 2 + 5, w // 2 - 1 : w // 2 + 2].astype(int)
        assert np.abs(middle - background).max() > 60  # the skeleton is drawn
    import cv2

    key = cv2.imdecode(np.frombuffer(result.keyframes[0].jpeg, np.uint8), cv2.IMREAD_COLOR)
    key_corner = key[h // 2 - 10 : h // 2 + 10, w - 40 : w - 10].astype(int)
    assert np.abs(key_corner - background[::-1]).max() <= 8  # BGR, JPEG rounding
