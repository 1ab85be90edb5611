"""Offline throughput: formcheck's file pipeline against a plain single-threaded loop.

Each variant runs in its own process (so its peak memory is its own), the variants
alternate for ``--rounds`` rounds, and the best round of each is reported:

  plain          cv2.VideoCapture -> cvtColor BGR->RGB -> detect_for_video, one thread
                 (one pose, no mask): the baseline the issue names
  plain_masks    the same loop asking for segmentation masks, as formcheck does
  source+pose    formcheck's FrameSource (decode-ahead thread, RGB straight from the
                 decoder) + PoseEstimator with the baseline's model work (one pose, no mask)
  pose_floor     FrameSource + PoseEstimator as `analyze` runs it (masks, two people told
                 apart at the start), nothing after it: the model's work, which one
                 landmarker must do frame after frame (its tracking carries each frame's pose
                 into the next), so `full` cannot run faster than this however many cores
  full           `formcheck analyze` as users run it: masks (the trunk box of each kept),
                 person lock, smoothing, kinematics, calibration and measures.csv

Target (issue 18): full >= 1.5x plain on the 720p clip, in the same run. The machine's load
average is printed: on a shared machine every figure, and a ratio most of all, depends on it.
What the ways past the pose floor would change: bench/bench_offline_shortcuts.py.

Usage: .venv/bin/python bench/bench_offline.py [--video CLIP_720p.mp4] [--frames N] [--rounds R]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# ../shared/videos beside the checkout, or FORMCHECK_SHARED_VIDEOS (as the tests read it)
SHARED_VIDEOS = Path(
    os.environ.get("FORMCHECK_SHARED_VIDEOS", str(ROOT.parent / "shared" / "videos"))
)
DEFAULT_VIDEO = SHARED_VIDEOS / "other" / "lena_bird-dog.mp4"
VARIANTS = ("plain", "plain_masks", "source+pose", "pose_floor", "full")
TARGET_RATIO = 1.5


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _landmarker(model: Path, masks: bool):  # type: ignore[no-untyped-def]
    from mediapipe.tasks.python import vision
    from mediapipe.tasks.python.core.base_options import BaseOptions

    return vision.PoseLandmarker.create_from_options(
        vision.PoseLandmarkerOptions(
            base_options=BaseOptions(model_asset_path=str(model)),
            running_mode=vision.RunningMode.VIDEO,
            num_poses=1,
            output_segmentation_masks=masks,
        )
    )


def run_plain(video: Path, model: Path, max_frames: int, masks: bool) -> int:
    import cv2
    import mediapipe as mp

    landmarker = _landmarker(model, masks)
    cap = cv2.VideoCapture(str(video))
    frames = 0
    while frames < max_frames:
        ok, bgr = cap.read()
        if not ok:
            break
        rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        t_ms = int(cap.get(cv2.CAP_PROP_POS_MSEC))
        landmarker.detect_for_video(
            mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb), max(t_ms, frames)
        )
        frames += 1
    landmarker.close()
    return frames


def run_source_pose(video: Path, model: Path, max_frames: int, *, as_analyze: bool) -> int:
    from formcheck.config import PipelineConfig
    from formcheck.pose.estimator import PoseEstimator
    from formcheck.video import open_source

    config = PipelineConfig()
    segmentation, people = (config.segmentation, config.max_people) if as_analyze else (False, 1)
    frames = 0
    with (
        open_source(video, max_side_px=config.max_inference_side_px) as source,
        PoseEstimator(model, segmentation=segmentation, max_people=people) as estimator,
    ):
        for frame in source:
            estimator.process(frame)
            frames += 1
            if frames >= max_frames:
                break
    return frames


def run_full(video: Path, max_frames: int) -> int:
    from formcheck.offline import analyze_video

    with tempfile.TemporaryDirectory() as out:
        run = analyze_video(video, Path(out), max_frames=max_frames)
    return run.frames


def child(variant: str, video: Path, max_frames: int) -> None:
    from formcheck.pose.model import ensure_model

    model = ensure_model().path
    start = time.perf_counter()
    cpu_start = time.process_time()
    if variant == "plain":
        frames = run_plain(video, model, max_frames, masks=False)
    elif variant == "plain_masks":
        frames = run_plain(video, model, max_frames, masks=True)
    elif variant == "source+pose":
        frames = run_source_pose(video, model, max_frames, as_analyze=False)
    elif variant == "pose_floor":
        frames = run_source_pose(video, model, max_frames, as_analyze=True)
    else:
        frames = run_full(video, max_frames)
    seconds = time.perf_counter() - start
    cpu_s = time.process_time() - cpu_start
    print(
        json.dumps(
            {"frames": frames, "seconds": seconds, "cpu_s": cpu_s, "peak_rss_mb": _peak_rss_mb()}
        )
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--video", type=Path, default=DEFAULT_VIDEO)
    parser.add_argument("--frames", type=int, default=600, help="at most this many frames")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--child", choices=VARIANTS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not args.video.is_file():
        print(f"no video at {args.video}: pass --video with a 720p clip", file=sys.stderr)
        return 2
    if args.child:
        child(args.child, args.video, args.frames)
        return 0

    from formcheck.video import probe_video

    info = probe_video(args.video)
    print(
        f"clip: {args.video.name} {info.width_px}x{info.height_px} {info.fps:.2f} fps, "
        f"cores: {os.cpu_count()}, rounds: {args.rounds}, load average "
        f"{os.getloadavg()[0]:.1f}"
    )
    best: dict[str, dict[str, float]] = {}
    env = {**os.environ, "GLOG_minloglevel": "2"}
    for _ in range(args.rounds):
        for variant in VARIANTS:
            out = (
                subprocess.run(
                    [
                        sys.executable,
                        __file__,
                        "--video",
                        str(args.video),
                        "--frames",
                        str(args.frames),
                        "--child",
                        variant,
                    ],
                    check=True,
                    capture_output=True,
                    text=True,
                    env=env,
                )
                .stdout.strip()
                .splitlines()[-1]
            )
            result = json.loads(out)
            result["fps"] = result["frames"] / result["seconds"]
            if variant not in best or result["fps"] > best[variant]["fps"]:
                best[variant] = result
    base = best["plain"]["fps"]
    base_masks = best["plain_masks"]["fps"]
    print(
        f"{'variant':12} {'frames':>6} {'frames/s':>9} {'ms/frame':>9} {'CPU ms/frame':>13} "
        f"{'peak MB':>8} {'x plain':>8} {'x plain_masks':>13}"
    )
    for variant in VARIANTS:
        r = best[variant]
        print(
            f"{variant:12} {int(r['frames']):6d} {r['fps']:9.1f} {1000 / r['fps']:9.2f} "
            f"{1000 * r['cpu_s'] / r['frames']:13.2f} {r['peak_rss_mb']:8.0f} "
            f"{r['fps'] / base:8.2f} {r['fps'] / base_masks:13.2f}"
        )
    print(f"ratio source+pose / plain (same model work): {best['source+pose']['fps'] / base:.2f}")
    print(f"ratio full / plain_masks (same model outputs): {best['full']['fps'] / base_masks:.2f}")
    print(
        f"ratio pose_floor / plain (the most full could reach): "
        f"{best['pose_floor']['fps'] / base:.2f}; full / pose_floor: "
        f"{best['full']['fps'] / best['pose_floor']['fps']:.2f}"
    )
    ratio = best["full"]["fps"] / base
    verdict = "meets" if ratio >= TARGET_RATIO else "misses"
    print(
        f"ratio full / plain: {ratio:.2f} ({verdict} the {TARGET_RATIO:g}x target); load "
        f"average now {os.getloadavg()[0]:.1f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
