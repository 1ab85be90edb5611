"""What the two ways past the pose model's floor would change in the results.

`bench_offline.py` shows `formcheck analyze` bounded by its pose model: one PoseLandmarker
tracking the person frame after frame (each frame's crop comes from the previous frame's pose,
and MediaPipe smooths landmarks and masks over time), about 20 CPU ms a frame whatever the
frame size, where the plain loop's whole frame costs about 24 ms. Two shortcuts would go
faster; this measures what each does to the results, on real clips:

  smaller frames   the whole analysis at a smaller inference size (``--sides 1280,640``) on
                   the labelled real clips whose longer side is at least ``--min-side-px``:
                   CPU ms a frame and the report's reps and findings at each size.
  parallel chunks  two landmarkers on alternate chunks of a clip (one per core), each warmed
                   up on ``--warmup-frames`` frames before its chunk: wall time against one
                   landmarker over the same decoded frames, and how far the landmarks of the
                   trunk and limbs land from the one landmarker's after each chunk start.

Usage: .venv/bin/python bench/bench_offline_shortcuts.py [--sides 1280,640] [--clips N]
           [--video CLIP] [--chunk-frames N] [--warmup-frames N]
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SHARED_VIDEOS = Path(
    os.environ.get("FORMCHECK_SHARED_VIDEOS", str(ROOT.parent / "shared" / "videos"))
)
DEFAULT_VIDEO = SHARED_VIDEOS / "other" / "lena_bird-dog.mp4"
MS_PER_S = 1000.0


def labelled_clips(min_side_px: int, limit: int) -> list[tuple[Path, str]]:
    """Labelled real clips (LABELS.tsv) with reps to count, large enough to shrink."""
    from formcheck.analyzers import list_analyzers
    from formcheck.video import probe_video

    exercises = {analyzer.name for analyzer in list_analyzers()}
    clips: list[tuple[Path, str]] = []
    with (SHARED_VIDEOS / "LABELS.tsv").open(encoding="utf-8") as table:
        for row in csv.DictReader(table, delimiter="\t"):
            path = SHARED_VIDEOS / row["file"]
            if not path.is_file() or not row["reps"] or int(row["reps"]) == 0:
                continue
            if row["exercise"] not in exercises:
                continue
            info = probe_video(path)
            if max(info.width_px, info.height_px) >= min_side_px:
                clips.append((path, row["exercise"]))
            if len(clips) >= limit:
                break
    return clips


def smaller_frames(sides: list[int], min_side_px: int, limit: int) -> None:
    from formcheck.config import PipelineConfig
    from formcheck.errors import FormcheckError
    from formcheck.offline import analyze_video

    clips = labelled_clips(min_side_px, limit)
    print(f"smaller frames: {len(clips)} labelled clips, inference sides {sides} px")
    changed_reps = changed_findings = 0
    cpu_ms: dict[int, list[float]] = {side: [] for side in sides}
    for path, exercise in clips:
        outcomes: list[tuple[int, list[str]] | str] = []
        for side in sides:
            with tempfile.TemporaryDirectory() as out:
                start = time.process_time()
                try:
                    run = analyze_video(
                        path,
                        Path(out),
                        exercise=exercise,
                        config=PipelineConfig(max_inference_side_px=side),
                    )
                except FormcheckError as error:
                    outcomes.append(type(error).__name__)
                    continue
                cpu_ms[side].append((time.process_time() - start) * MS_PER_S / run.frames)
                reps = run.report.summary.reps if run.report.summary is not None else 0
                outcomes.append((reps, sorted(f.code for f in run.report.findings)))
        first = outcomes[0]
        reps_differ = any(
            o != first if isinstance(o, str) or isinstance(first, str) else o[0] != first[0]
            for o in outcomes
        )
        findings_differ = any(
            o != first if isinstance(o, str) or isinstance(first, str) else o[1] != first[1]
            for o in outcomes
        )
        changed_reps += reps_differ
        changed_findings += findings_differ
        print(
            f"  {path.parent.name}/{path.name} ({exercise}): "
            + "; ".join(
                f"{side} px: {o if isinstance(o, str) else f'{o[0]} reps {o[1]}'}"
                for side, o in zip(sides, outcomes, strict=True)
            )
        )
    for side in sides:
        print(f"  CPU at {side} px: median {np.median(cpu_ms[side]):.1f} ms a frame")
    print(
        f"  reps changed on {changed_reps}/{len(clips)} clips, findings on "
        f"{changed_findings}/{len(clips)} (load average {os.getloadavg()[0]:.1f})"
    )


def parallel_chunks(video: Path, chunk_frames: int, warmup_frames: int) -> None:
    from formcheck.pose.estimator import PoseEstimator
    from formcheck.pose.model import ensure_model
    from formcheck.types import PoseFrame, VideoFrame
    from formcheck.video import open_source

    model = ensure_model().path
    with open_source(video) as source:
        frames: list[VideoFrame] = list(source)
    count = len(frames)

    start = time.perf_counter()
    with PoseEstimator(model) as estimator:
        sequential = [estimator.process(frame) for frame in frames]
    sequential_s = time.perf_counter() - start

    chunks = [(s, min(count, s + chunk_frames)) for s in range(0, count, chunk_frames)]
    chunked: list[PoseFrame | None] = [None] * count

    def work(mine: list[tuple[int, int]]) -> None:
        for first, end in mine:
            with PoseEstimator(model) as estimator:
                for index in range(max(0, first - warmup_frames), end):
                    pose = estimator.process(frames[index])
                    if index >= first:
                        chunked[index] = pose

    start = time.perf_counter()
    threads = [threading.Thread(target=work, args=(chunks[k::2],)) for k in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    chunked_s = time.perf_counter() - start

    from formcheck.pose.landmarks import Landmark

    sides = ("LEFT", "RIGHT")
    parts = ("EAR", "SHOULDER", "ELBOW", "WRIST", "HIP", "KNEE", "ANKLE")
    trunk_and_limbs = [int(Landmark[f"{side}_{part}"]) for side in sides for part in parts]
    after_start: list[float] = []
    for first, end in chunks[1:]:
        for index in range(first, end):
            a, b = sequential[index], chunked[index]
            if b is None or a.landmarks_px is None or b.landmarks_px is None:
                continue
            diff = a.landmarks_px[trunk_and_limbs, :2] - b.landmarks_px[trunk_and_limbs, :2]
            after_start.append(float(np.median(np.linalg.norm(diff, axis=1))))
    moved = np.array(after_start)
    print(
        f"parallel chunks ({video.name}, {count} frames, chunks of {chunk_frames}, "
        f"{warmup_frames} warm-up frames): one landmarker {sequential_s * MS_PER_S / count:.1f} "
        f"ms a frame, two {chunked_s * MS_PER_S / count:.1f} ({sequential_s / chunked_s:.2f}x); "
        f"after a chunk start the trunk and limb landmarks move a median {np.median(moved):.2f} "
        f"px a frame (95th percentile {np.percentile(moved, 95):.1f} px, "
        f"{np.mean(moved == 0.0):.0%} of frames identical); load average "
        f"{os.getloadavg()[0]:.1f}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sides", default="1280,640", help="inference sizes (longer side, px)")
    parser.add_argument("--min-side-px", type=int, default=960)
    parser.add_argument("--clips", type=int, default=14, help="at most this many clips")
    parser.add_argument("--video", type=Path, default=DEFAULT_VIDEO)
    parser.add_argument("--chunk-frames", type=int, default=144)
    parser.add_argument("--warmup-frames", type=int, default=60)
    parser.add_argument("--only", choices=("frames", "chunks"), help="one of the two")
    args = parser.parse_args()
    print(f"cores: {os.cpu_count()}, load average {os.getloadavg()[0]:.1f}")
    if args.only in (None, "chunks"):
        parallel_chunks(args.video, args.chunk_frames, args.warmup_frames)
    if args.only in (None, "frames"):
        sides = [int(side) for side in args.sides.split(",")]
        smaller_frames(sides, args.min_side_px, args.clips)
    return 0


if __name__ == "__main__":
    sys.exit(main())
