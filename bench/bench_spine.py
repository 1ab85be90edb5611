"""Time measure_back on a 640x480 frame with a soft person mask (prints ms per frame).

python bench/bench_spine.py [--frames 500]
"""

from __future__ import annotations

import argparse
import math
import time

import cv2
import numpy as np

from formcheck.kinematics.spine import SpineConfig, measure_back
from formcheck.pose.landmarks import NUM_LANDMARKS, Landmark
from formcheck.types import Facing, PoseFrame

WIDTH_PX, HEIGHT_PX = 640, 480
CHORD_PX = 170.0  # a person about 330 px tall
TRUNK_HALF_DEPTH_PX = 28.0
INCLINATION_DEG = 70.0
MASK_BLUR_PX = 1.5


def hinge_frame() -> PoseFrame:
    """A torso tipped forward (facing left) as a blurred mask, with matching landmarks."""
    tilt = math.radians(INCLINATION_DEG)
    up = np.array([-math.sin(tilt), -math.cos(tilt)])
    hip = np.array([380.0, 260.0])
    shoulder = hip + CHORD_PX * up
    normal = np.array([-up[1], up[0]])
    corners = [
        hip + TRUNK_HALF_DEPTH_PX * normal - 0.2 * CHORD_PX * up,
        shoulder + TRUNK_HALF_DEPTH_PX * normal + 0.2 * CHORD_PX * up,
        shoulder - TRUNK_HALF_DEPTH_PX * normal + 0.2 * CHORD_PX * up,
        hip - TRUNK_HALF_DEPTH_PX * normal - 0.2 * CHORD_PX * up,
    ]
    mask = np.zeros((HEIGHT_PX, WIDTH_PX), np.float32)
    cv2.fillPoly(mask, [np.round(np.array(corners)).astype(np.int32)], color=1.0)
    soft = np.asarray(cv2.GaussianBlur(mask, (0, 0), MASK_BLUR_PX), dtype=np.float32)
    lm = np.zeros((NUM_LANDMARKS, 3))
    for side in ("LEFT", "RIGHT"):
        lm[Landmark[f"{side}_SHOULDER"], :2] = shoulder
        lm[Landmark[f"{side}_HIP"], :2] = hip
        lm[Landmark[f"{side}_EAR"], :2] = shoulder + 0.3 * CHORD_PX * up
        lm[Landmark[f"{side}_ELBOW"], :2] = shoulder + np.array([0.0, 80.0])
        lm[Landmark[f"{side}_WRIST"], :2] = shoulder + np.array([0.0, 150.0])
    lm[Landmark.NOSE, :2] = shoulder + 0.35 * CHORD_PX * up + np.array([-15.0, 10.0])
    return PoseFrame(
        t_ms=0.0,
        image_width_px=WIDTH_PX,
        image_height_px=HEIGHT_PX,
        landmarks_px=lm,
        visibility=np.ones(NUM_LANDMARKS),
        mask=soft,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=500)
    args = parser.parse_args()
    pose = hinge_frame()
    config = SpineConfig()
    for _ in range(20):
        measure_back(pose, Facing.LEFT, 2.0, config)
    times_ms = []
    for _ in range(args.frames):
        start = time.perf_counter()
        m = measure_back(pose, Facing.LEFT, 2.0, config)
        times_ms.append(1000.0 * (time.perf_counter() - start))
    t = np.array(times_ms)
    print(
        f"measure_back at {WIDTH_PX}x{HEIGHT_PX}, chord {CHORD_PX:.0f} px, "
        f"{config.station_count} stations: median {np.median(t):.2f} ms, "
        f"p90 {np.percentile(t, 90):.2f} ms per frame "
        f"(bulge {m.back_bulge_mm:.2f} mm, curve {m.back_curve_mm:.2f} mm)"
    )


if __name__ == "__main__":
    main()
