"""Mesh-body clips: the files and truth of ``render_clip``, consistent with the pixels, and a
body the real pose model finds."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import av
import numpy as np
import pytest

from formcheck.pose.landmarks import NUM_LANDMARKS, Landmark
from formcheck.synth.faults import Fault
from formcheck.synth.mesh_body import MeshShapeParams
from formcheck.synth.mesh_clip import MeshClipSpec, render_mesh_clip
from formcheck.synth.motion import MotionConfig
from formcheck.synth.spec import CameraSpec, ClipSpec
from formcheck.synth.timeline import Tempo
from tests.synth.mesh_helpers import need_gl, need_mesh

BODY = MeshShapeParams("woman", gender=0.0, height_m=1.66, weight=0.6)
JOINTS = (
    Landmark.LEFT_SHOULDER, Landmark.RIGHT_SHOULDER, Landmark.LEFT_HIP, Landmark.RIGHT_HIP,
    Landmark.LEFT_KNEE, Landmark.RIGHT_KNEE, Landmark.LEFT_ANKLE, Landmark.RIGHT_ANKLE,
    Landmark.LEFT_EAR,
)  # fmt: skip
EDGE_SLACK_PX = 2  # the nose tip is on the outline: within this of the silhouette


def short_hinge(width_px: int = 320, height_px: int = 240, fps: float = 10.0) -> MeshClipSpec:
    clip = ClipSpec(
        "hip_hinge",
        seed=4,
        motion=MotionConfig(reps=1, tempo=Tempo(1.0, 0.4, 1.0, 0.3), still_s=0.5),
        faults=(Fault("lumbar_flexion", 30.0, reps=(0,)),),
        camera=CameraSpec(distance_m=3.0, yaw_deg=15.0, width_px=width_px, height_px=height_px,
                          fps=fps),
    )  # fmt: skip
    return MeshClipSpec(clip, BODY, top="tshirt", bottom="trousers")


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    need_mesh()
    need_gl()
    out = tmp_path_factory.mktemp("mesh")
    return render_mesh_clip(short_hinge(), out, "hinge"), out


def test_mesh_clip_files_hold_the_documented_truth(rendered) -> None:
    truth, _ = rendered
    with av.open(str(truth.video_path)) as container:
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    assert len(frames) == truth.frames
    assert frames[0].shape == (240, 320, 3)
    data = np.load(truth.truth_path)
    assert data["landmarks_px"].shape == (truth.frames, NUM_LANDMARKS, 2)
    assert data["back_profile_mm"].shape[0] == truth.frames
    meta = json.loads(truth.json_path.read_text())
    assert meta["body"]["model"] == "makehuman"
    assert meta["clothing"] == {"top": "tshirt", "bottom": "trousers"}
    (fault,) = meta["faults"]
    assert fault["rep"] == 0 and fault["kind"] == "lumbar_flexion"
    assert 12.0 < fault["measured_size"] < 30.0  # 30 deg of lumbar flexion on the skin, mm
    assert data["rep_index"].max() == 0


def test_landmarks_project_inside_the_silhouette(rendered) -> None:
    truth, _ = rendered
    data = np.load(truth.truth_path)
    masks = np.load(truth.mask_path)
    bits = np.unpackbits(masks["mask_bits"], axis=-1)[..., :320].astype(bool)
    px = data["landmarks_px"]
    inside = []
    for k in range(truth.frames):
        for joint in JOINTS:
            x, y = px[k, joint]
            inside.append(bits[k, int(y), int(x)])
    assert np.mean(inside) > 0.97
    grown = bits.copy()
    for dy in range(-EDGE_SLACK_PX, EDGE_SLACK_PX + 1):
        for dx in range(-EDGE_SLACK_PX, EDGE_SLACK_PX + 1):
            grown |= np.roll(bits, (dy, dx), axis=(1, 2))
    nose = px[:, Landmark.NOSE]
    near = [grown[k, int(y), int(x)] for k, (x, y) in enumerate(nose)]
    assert np.mean(near) > 0.97
    assert bits.mean() > 0.02
    # the silhouette is about as tall as the body standing at 3 m (focal from the JSON)
    meta = json.loads(truth.json_path.read_text())
    rows = np.nonzero(bits[0].any(axis=1))[0]
    expected_px = BODY.height_m * meta["camera"]["focal_px"] / 3.0
    assert np.ptp(rows) == pytest.approx(expected_px, rel=0.15)


def test_a_rounded_back_shows_in_the_true_profile(rendered) -> None:
    truth, _ = rendered
    data = np.load(truth.truth_path)
    meta = json.loads(truth.json_path.read_text())
    t_s = data["t_ms"] / 1000.0
    rep = meta["reps"][0]
    bottom = (t_s >= rep["bottom_start_s"]) & (t_s <= rep["up_start_s"])
    standing = t_s < meta["still_s"][1]
    assert data["back_bulge_mean_mm"][bottom].mean() > data["back_bulge_mean_mm"][standing].mean()


@pytest.mark.slow
def test_the_real_pose_model_finds_the_mesh_body(tmp_path: Path, model_path: Path) -> None:
    need_mesh()
    need_gl()
    spec = short_hinge(640, 480, 15.0)
    spec = replace(spec, clip=replace(spec.clip, write_masks=False))
    truth = render_mesh_clip(spec, tmp_path, "hinge")
    from formcheck.pose.estimator import PoseEstimator
    from formcheck.types import VideoFrame

    data = np.load(truth.truth_path)
    with av.open(str(truth.video_path)) as container:
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    errors = []
    with PoseEstimator(model_path) as estimator:
        for k, rgb in enumerate(frames):
            pose = estimator.process(VideoFrame(k, k * 1000.0 / 15.0, rgb))
            assert pose.landmarks_px is not None, f"no pose in frame {k}"
            near = [Landmark.LEFT_HIP, Landmark.LEFT_KNEE, Landmark.LEFT_ANKLE]
            found = pose.landmarks_px[near, :2]
            errors.append(np.linalg.norm(found - data["landmarks_px"][k, near], axis=1))
    height_px = BODY.height_m * json.loads(truth.json_path.read_text())["camera"]["focal_px"] / 3
    assert np.median(errors) < 0.05 * height_px
