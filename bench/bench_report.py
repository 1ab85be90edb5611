"""Speed of the full offline outputs: analysis + report.html + annotated.mp4, on one clip.

Prints frames/s for the analysis pass, the drawing/encoding pass and the whole, and (when
Chromium is installed) saves screenshots of the report at a desktop and a phone width.

Usage: .venv/bin/python bench/bench_report.py [--video CLIP.mp4] [--exercise hip_hinge]
       [--out DIR]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("GLOG_minloglevel", "2")

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_VIDEO = ROOT.parent / "shared" / "videos" / "hinge" / "0016c_1.mp4"
CHROMIUM = Path("/usr/bin/chromium")
SCREENS_PX = {"desktop": (1000, 3000), "phone": (390, 4800)}


def screenshot(html: Path, png: Path, size_px: tuple[int, int]) -> None:
    subprocess.run(
        [
            str(CHROMIUM),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            f"--user-data-dir={html.parent / '.chromium'}",
            f"--screenshot={png}",
            f"--window-size={size_px[0]},{size_px[1]}",
            html.resolve().as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--video", type=Path, default=DEFAULT_VIDEO)
    parser.add_argument("--exercise", default="hip_hinge")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    if not args.video.is_file():
        print(f"no clip at {args.video}", file=sys.stderr)
        return 2

    from formcheck.offline import analyze_video
    from formcheck.report.outputs import write_outputs
    from formcheck.report.recorder import AnnotationRecorder

    out = args.out or ROOT / "out" / "bench_report" / args.video.stem
    recorder = AnnotationRecorder()
    t0 = time.perf_counter()
    run = analyze_video(args.video, out, exercise=args.exercise, sinks=(recorder,))
    t1 = time.perf_counter()
    written = write_outputs(args.video, out, run, recorder)
    t2 = time.perf_counter()
    info = run.info
    print(
        f"clip: {args.video.name} {info.width_px}x{info.height_px} {info.fps:.1f} fps, "
        f"{run.frames} frames"
    )
    print(
        f"analysis (pose, measures, report.json, measures.csv): {t1 - t0:6.1f} s "
        f"= {run.frames / (t1 - t0):6.1f} frames/s"
    )
    print(
        f"outputs (decode again, draw, encode H.264, key frames, report.html): {t2 - t1:6.1f} s "
        f"= {written.frames_rendered / (t2 - t1):6.1f} frames/s"
    )
    print(f"all offline outputs: {t2 - t0:6.1f} s = {run.frames / (t2 - t0):6.1f} frames/s")
    for path in (written.report_html, written.annotated_mp4):
        if path is not None:
            print(f"wrote {path} ({path.stat().st_size / 1e6:.2f} MB)")
    if CHROMIUM.exists():
        for name, size in SCREENS_PX.items():
            png = out / f"report-{name}.png"
            screenshot(written.report_html, png, size)
            print(f"screenshot {png}")
    else:
        print("no Chromium at /usr/bin/chromium: no screenshot")
    return 0


if __name__ == "__main__":
    sys.exit(main())
