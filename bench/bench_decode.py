"""Decode throughput: formcheck's frame source against a plain OpenCV loop.

Prints frames per second for
  - ``cv2``: ``cv2.VideoCapture.read`` + ``cvtColor(BGR->RGB)`` (+ ``cv2.resize`` when the
    clip's long side exceeds ``--max-side-px``, so both deliver the same frames);
  - ``formcheck``: ``open_source`` with the default prefetch thread;
  - ``formcheck-inline``: ``open_source(prefetch_frames=0)`` (decoding in the caller's thread);
and the same with a simulated per-frame inference of ``--work-ms`` (a sleep, which releases
the GIL as MediaPipe's inference does), where the prefetch thread overlaps decoding with work.

Usage: python bench/bench_decode.py [clip ...] [--max-side-px 1280] [--work-ms 10]
       [--repeats 3] [--max-frames 150]
Without clips it uses ../shared/videos/other/lena_bird-dog.mp4 (1280x720) and the vertical
phone clip when present, else renders a 1280x720 clip into a temporary folder.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from fractions import Fraction
from functools import partial
from pathlib import Path

import av
import cv2
import numpy as np

from formcheck.video import (
    DEFAULT_MAX_SIDE_PX,
    DEFAULT_PREFETCH_FRAMES,
    open_source,
    probe_video,
)
from formcheck.video.geometry import delivered_size_px

SHARED_OTHER = Path(__file__).resolve().parents[2] / "shared" / "videos" / "other"
DEFAULT_CLIPS = (SHARED_OTHER / "lena_bird-dog.mp4", SHARED_OTHER / "sit_to_stand_chair_test.mp4")
RENDER_SIZE_PX = (1280, 720)
RENDER_FRAMES = 240
RENDER_FPS = 30
MS_PER_S = 1000.0


def render_clip(path: Path) -> Path:
    """A 1280x720 H.264 clip with moving texture (hard enough to encode to be realistic)."""
    width_px, height_px = RENDER_SIZE_PX
    rng = np.random.default_rng(0)
    noise = rng.integers(0, 256, (height_px, width_px * 2, 3), dtype=np.uint8)
    texture = np.asarray(cv2.GaussianBlur(noise, (0, 0), 3), dtype=np.uint8)
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libx264", rate=RENDER_FPS)
        stream.width, stream.height, stream.pix_fmt = width_px, height_px, "yuv420p"
        for index in range(RENDER_FRAMES):
            offset_px = index * 4
            image = np.ascontiguousarray(texture[:, offset_px : offset_px + width_px])
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts = index
            frame.time_base = Fraction(1, RENDER_FPS)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


def cv2_loop(path: Path, max_side_px: int | None, work_s: float, max_frames: int) -> int:
    capture = cv2.VideoCapture(str(path))
    frames = 0
    try:
        while frames < max_frames:
            ok, bgr = capture.read()
            if not ok:
                break
            height_px, width_px = bgr.shape[:2]
            size_px = delivered_size_px(width_px, height_px, max_side_px)
            if size_px != (width_px, height_px):
                bgr = cv2.resize(bgr, size_px, interpolation=cv2.INTER_AREA)
            rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
            _ = rgb
            if work_s:
                time.sleep(work_s)
            frames += 1
    finally:
        capture.release()
    return frames


def source_loop(
    path: Path, max_side_px: int | None, work_s: float, max_frames: int, prefetch_frames: int
) -> int:
    frames = 0
    with open_source(path, max_side_px=max_side_px, prefetch_frames=prefetch_frames) as source:
        for _frame in source:
            if work_s:
                time.sleep(work_s)
            frames += 1
            if frames >= max_frames:
                break
    return frames


def measure(run: Callable[[], int], repeats: int) -> tuple[float, float, int]:
    """Median wall-clock frames/s and CPU ms per frame (all threads) over ``repeats`` runs.

    CPU time per frame is the steadier figure on a machine shared with other work.
    """
    rates = []
    cpu_ms = []
    frames = 0
    for _ in range(repeats):
        start_s, start_cpu_s = time.perf_counter(), time.process_time()
        frames = run()
        rates.append(frames / (time.perf_counter() - start_s))
        cpu_ms.append((time.process_time() - start_cpu_s) * MS_PER_S / frames)
    return statistics.median(rates), statistics.median(cpu_ms), frames


def bench_clip(
    path: Path, max_side_px: int | None, work_ms: float, repeats: int, max_frames: int
) -> None:
    info = probe_video(path)
    out_w, out_h = delivered_size_px(info.width_px, info.height_px, max_side_px)
    print(
        f"\n{path.name}: {info.width_px}x{info.height_px} {info.codec}, {info.fps:.2f} fps, "
        f"{info.frame_count} frames -> delivered {out_w}x{out_h}"
    )
    for label, work_s in (
        ("decode only", 0.0),
        (f"+ {work_ms:g} ms work/frame", work_ms / MS_PER_S),
    ):
        if label != "decode only" and not work_ms:
            continue
        common = (path, max_side_px, work_s, max_frames)
        runs: dict[str, Callable[[], int]] = {
            "cv2 read+cvtColor": partial(cv2_loop, *common),
            f"formcheck (prefetch {DEFAULT_PREFETCH_FRAMES})": partial(
                source_loop, *common, DEFAULT_PREFETCH_FRAMES
            ),
            "formcheck (inline)": partial(source_loop, *common, 0),
        }
        results = {name: measure(run, repeats) for name, run in runs.items()}
        baseline = results["cv2 read+cvtColor"][0]
        print(f"  {label}:")
        for name, (rate, cpu_ms, frames) in results.items():
            print(
                f"    {name:24s} {rate:8.1f} frames/s (x{rate / baseline:5.2f})"
                f"  {cpu_ms:6.2f} CPU ms/frame  ({frames} frames)"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("clips", nargs="*", type=Path)
    parser.add_argument("--max-side-px", type=int, default=DEFAULT_MAX_SIDE_PX)
    parser.add_argument("--work-ms", type=float, default=10.0, help="simulated inference")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--max-frames", type=int, default=150, help="frames per run, at most")
    args = parser.parse_args()
    print(f"OpenCV {cv2.__version__}, PyAV {av.__version__}, cv2 threads {cv2.getNumThreads()}")
    with tempfile.TemporaryDirectory() as scratch:
        clips = list(args.clips) or [clip for clip in DEFAULT_CLIPS if clip.exists()]
        if not clips:
            clips = [render_clip(Path(scratch) / "rendered_720p.mp4")]
        for clip in clips:
            bench_clip(clip, args.max_side_px, args.work_ms, args.repeats, args.max_frames)


if __name__ == "__main__":
    main()
