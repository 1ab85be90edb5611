"""Browser pose against Python pose on the sample clips: landmarks, back outline, reps, findings.

Every frame of each clip is posed twice: by the page's own pose module (server/public/
pose_browser.js, MediaPipe in WebAssembly) in Debian's headless Chromium, and by the server's
PoseEstimator; the page's payloads are decoded by the server's decoder. Reported per clip:

  landmarks px     |browser - python| of 14 key landmarks in image pixels (median, p95)
  landmarks mm     the same at the person: pixels x the calibration's mm per px
  world mm         |browser - python| of the world landmarks (median, p95)
  outline px / mm  median difference of the back outline read with each side's mask and the
                   same landmarks (the masks alone), px and mm
  reps, findings   of both sets (each pose stream through the same pipeline and analyzer), and
                   the largest phase-duration difference
  payload          bytes per frame sent by the page (median), WebAssembly inference ms (median)

Usage: .venv/bin/python bench/bench_browser_parity.py [CLIP_NAME ...] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.browser_pose_driver import (  # noqa: E402
    BrowserPoser,
    ClipParity,
    chromium_missing_reason,
    clip_parity,
)

SAMPLES = ROOT / "sample_videos"
ANALYZER_FOR = {"forearm_plank": "plank"}


def phase_gap_s(parity: ClipParity) -> float:
    gaps = [
        abs(a[k] - b[k])
        for a, b in zip(parity.python.phases, parity.browser.phases, strict=False)
        for k in a
        if a[k] is not None and b.get(k) is not None
    ]
    return max(gaps, default=0.0)


def row(parity: ClipParity) -> dict[str, Any]:
    mm = parity.python.mm_per_px
    lm, world, outline = parity.landmark_px, parity.world_mm, parity.outline_px
    return {
        "clip": parity.clip,
        "frames": parity.frames,
        "both_posed": parity.both_posed,
        "only_python": parity.only_python,
        "only_browser": parity.only_browser,
        "landmark_px_median": float(np.median(lm)),
        "landmark_px_p95": float(np.percentile(lm, 95)),
        "landmark_mm_median": float(np.median(lm) * mm),
        "landmark_mm_p95": float(np.percentile(lm, 95) * mm),
        "world_mm_median": float(np.median(world)),
        "world_mm_p95": float(np.percentile(world, 95)),
        "outline_px_median": float(np.nanmedian(outline)) if np.isfinite(outline).any() else None,
        "outline_mm_median": float(np.nanmedian(outline) * mm)
        if np.isfinite(outline).any()
        else None,
        "reps": [parity.python.reps, parity.browser.reps],
        "findings_python": sorted({f["code"] for f in parity.python.findings}),
        "findings_browser": sorted({f["code"] for f in parity.browser.findings}),
        "phase_gap_s": phase_gap_s(parity),
        "payload_bytes_median": float(np.median(parity.payload_bytes)),
        "wasm_inference_ms_median": float(np.median(parity.inference_ms)),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("clips", nargs="*", help="sample clip names (default: all)")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()
    reason = chromium_missing_reason()
    if reason:
        print(reason, file=sys.stderr)
        return 2
    from formcheck.pose.model import ensure_model

    index = json.loads((SAMPLES / "index.json").read_text(encoding="utf-8"))
    wanted = [c for c in index if not args.clips or c["name"] in args.clips]
    model = ensure_model().path
    rows = []
    print(f"{len(wanted)} clips; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    with BrowserPoser(model) as poser:
        for clip in wanted:
            started = time.perf_counter()
            exercise = ANALYZER_FOR.get(clip["exercise"], clip["exercise"])
            r = row(clip_parity(SAMPLES / clip["video"], exercise, poser, model))
            rows.append(r)
            same = r["findings_python"] == r["findings_browser"] and r["reps"][0] == r["reps"][1]
            outline = "-" if r["outline_px_median"] is None else f"{r['outline_px_median']:.2f}"
            print(
                f"{r['clip']:32} lm {r['landmark_px_median']:.2f}/{r['landmark_px_p95']:.2f} px "
                f"({r['landmark_mm_median']:.1f}/{r['landmark_mm_p95']:.1f} mm) world "
                f"{r['world_mm_median']:.1f}/{r['world_mm_p95']:.1f} mm outline {outline} px | "
                f"reps {r['reps'][0]}/{r['reps'][1]} findings "
                f"{'same' if same else r['findings_python'] + ['vs'] + r['findings_browser']} "
                f"phases within {r['phase_gap_s']:.3f} s | "
                f"{r['payload_bytes_median'] / 1000:.1f} kB "
                f"{r['wasm_inference_ms_median']:.0f} ms ({time.perf_counter() - started:.0f} s)",
                flush=True,
            )
    lm = [r["landmark_px_median"] for r in rows]
    outline = [r["outline_px_median"] for r in rows if r["outline_px_median"] is not None]
    agree = sum(
        r["findings_python"] == r["findings_browser"] and r["reps"][0] == r["reps"][1] for r in rows
    )
    print(
        f"all: landmark median of medians {np.median(lm):.2f} px (worst clip "
        f"{max(r['landmark_px_p95'] for r in rows):.2f} px p95), outline median "
        f"{np.median(outline) if outline else float('nan'):.2f} px, same reps and findings in "
        f"{agree}/{len(rows)} clips, largest phase difference "
        f"{max(r['phase_gap_s'] for r in rows):.3f} s"
    )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(rows, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
