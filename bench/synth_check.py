"""Check rendered synthetic clips against BlazePose: detection rate, 2D landmark error per
joint (mean distance and steady offset, px), sagittal angle error on the near side (deg),
mask IoU, and render speed. Prints figures; asserts nothing.

Usage: python bench/synth_check.py CLIP.mp4 [CLIP.mp4 ...]  (truth files next to each clip)
       python bench/synth_check.py --render OUT_DIR   (renders a few 640x480 hinge clips first)
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import av
import numpy as np

from formcheck.pose.landmarks import Landmark

L = Landmark

MODEL = Path(__file__).resolve().parent.parent / "models" / "pose_landmarker_full_built.task"
JOINTS = ("SHOULDER", "ELBOW", "WRIST", "HIP", "KNEE", "ANKLE", "HEEL", "FOOT_INDEX", "EAR", "NOSE")


def _angle(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    u, v = a - b, c - b
    cos = np.sum(u * v, -1) / (np.linalg.norm(u, axis=-1) * np.linalg.norm(v, axis=-1))
    return np.degrees(np.arccos(np.clip(cos, -1, 1)))


def detect(video: Path) -> tuple[np.ndarray, np.ndarray, list[np.ndarray | None]]:
    from mediapipe import Image, ImageFormat
    from mediapipe.tasks.python import vision
    from mediapipe.tasks.python.core.base_options import BaseOptions

    opts = vision.PoseLandmarkerOptions(
        base_options=BaseOptions(model_asset_path=str(MODEL)),
        running_mode=vision.RunningMode.VIDEO,
        num_poses=1,
        output_segmentation_masks=True,
    )
    lms, found, masks = [], [], []
    with vision.PoseLandmarker.create_from_options(opts) as lmk, av.open(str(video)) as cont:
        for k, frame in enumerate(cont.decode(video=0)):
            rgb = frame.to_ndarray(format="rgb24")
            h, w = rgb.shape[:2]
            t_ms = round(float((frame.pts or 0) * (frame.time_base or 0)) * 1000)
            res = lmk.detect_for_video(Image(image_format=ImageFormat.SRGB, data=rgb), t_ms)
            if res.pose_landmarks:
                p = res.pose_landmarks[0]
                lms.append(np.array([[q.x * w, q.y * h] for q in p]))
                found.append(True)
                masks.append(
                    res.segmentation_masks[0].numpy_view().copy()
                    if res.segmentation_masks
                    else None
                )
            else:
                lms.append(np.full((33, 2), np.nan))
                found.append(False)
                masks.append(None)
            del k
    return np.array(lms), np.array(found), masks


def check(video: Path) -> dict[str, object]:
    stem = video.with_suffix("")
    truth = np.load(f"{stem}.npz")
    meta = json.loads(Path(f"{stem}.json").read_text())
    gt = truth["landmarks_px"]
    t0 = time.perf_counter()
    pred, found, masks = detect(video)
    infer_ms = (time.perf_counter() - t0) / len(found) * 1000
    n = min(len(gt), len(pred))
    gt, pred, found = gt[:n], pred[:n], found[:n]
    near = "left" if meta["camera"]["side"] == "left" else "right"
    out: dict[str, object] = {
        "clip": video.name,
        "exercise": meta["exercise"],
        "label": meta["label"],
        "frames": n,
        "detected": float(found.mean()),
        "infer_ms": round(infer_ms, 1),
    }
    errs = {}
    for j in JOINTS:
        idx = Landmark[j] if j == "NOSE" else Landmark[f"{near.upper()}_{j}"]
        d = pred[found, idx] - gt[found, idx]
        errs[j.lower()] = (
            round(float(np.linalg.norm(d, axis=1).mean()), 1),
            [round(float(x), 1) for x in d.mean(axis=0)],
        )
    out["err_px_mean_and_offset_xy"] = errs
    up = near.upper()
    for name, (a, b, c) in {
        "hip": ("SHOULDER", "HIP", "KNEE"),
        "knee": ("HIP", "KNEE", "ANKLE"),
    }.items():
        ia, ib, ic = (Landmark[f"{up}_{x}"] for x in (a, b, c))
        est = 180 - _angle(pred[found, ia], pred[found, ib], pred[found, ic])
        tru = np.abs(truth[f"{near}_{name}_flexion_deg"][:n][found])
        out[f"{name}_flexion_mae_deg"] = round(float(np.mean(np.abs(est - tru))), 2)
    v = pred[found, Landmark[f"{up}_SHOULDER"]] - pred[found, Landmark[f"{up}_HIP"]]
    est = np.degrees(np.arctan2(np.abs(v[:, 0]), -v[:, 1]))
    out["trunk_mae_deg"] = round(
        float(np.mean(np.abs(est - truth[f"{near}_trunk_inclination_deg"][:n][found]))), 2
    )
    g = gt[found, Landmark[f"{up}_SHOULDER"]] - gt[found, Landmark[f"{up}_HIP"]]
    est_gt = np.degrees(np.arctan2(np.abs(g[:, 0]), -g[:, 1]))
    out["trunk_mae_vs_truth_2d_deg"] = round(float(np.mean(np.abs(est - est_gt))), 2)
    out["trunk_truth_2d_vs_3d_deg"] = round(
        float(np.mean(np.abs(est_gt - truth[f"{near}_trunk_inclination_deg"][:n][found]))), 2
    )
    mpath = Path(f"{stem}.mask.npz")
    if mpath.exists():
        mz = np.load(mpath)
        w = int(mz["shape_px"][2])
        bits = np.unpackbits(mz["mask_bits"], axis=-1)[..., :w].astype(bool)
        ious = []
        for k in range(0, n, 5):
            mask = masks[k]
            if mask is None:
                continue
            pm = np.squeeze(mask) > 0.5
            ious.append((pm & bits[k]).sum() / max((pm | bits[k]).sum(), 1))
        out["mask_iou"] = round(float(np.mean(ious)), 3) if ious else math.nan
    return out


def render_set(out_dir: Path) -> list[Path]:
    from formcheck.synth.clip import render_clip
    from formcheck.synth.faults import Fault
    from formcheck.synth.motion import MotionConfig
    from formcheck.synth.spec import CameraSpec, ClipSpec

    paths = []
    for i, (yaw, fault) in enumerate(
        [(0.0, ()), (0.0, (Fault("lumbar_flexion", 25.0),)), (30.0, ()), (45.0, ())]
    ):
        spec = ClipSpec(
            "hip_hinge",
            seed=100 + i,
            height_m=1.60 + 0.1 * i,
            motion=MotionConfig(reps=2),
            faults=fault,
            camera=CameraSpec(distance_m=3.0, yaw_deg=yaw, side="left" if i % 2 else "right"),
        )
        t0 = time.perf_counter()
        truth = render_clip(spec, out_dir, f"check_{i}")
        per_frame_ms = (time.perf_counter() - t0) / truth.frames * 1000
        print(f"rendered {truth.name}: {per_frame_ms:.1f} ms/frame (incl. encode and truth)")
        paths.append(truth.video_path)
    return paths


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("videos", nargs="*", type=Path)
    ap.add_argument("--render", type=Path)
    args = ap.parse_args()
    videos = list(args.videos) + (render_set(args.render) if args.render else [])
    for v in videos:
        print(json.dumps(check(v)))


if __name__ == "__main__":
    main()
