"""Synthetic renderer and clip files: camera, person mask, file formats, reproducible bytes."""

from __future__ import annotations

import json
from pathlib import Path

import av
import numpy as np
import pytest

from formcheck.pose.landmarks import NUM_LANDMARKS, Landmark
from formcheck.synth import ClipSpec, render_clip
from formcheck.synth.body import make_body
from formcheck.synth.camera import Camera
from formcheck.synth.landmarks import landmarks_world
from formcheck.synth.motion import MotionConfig
from formcheck.synth.placement import Support, place
from formcheck.synth.raycast import HitBuffer, RayCaster
from formcheck.synth.skeleton import BodyPose
from formcheck.synth.spec import CameraSpec

TINY = CameraSpec(width_px=64, height_px=48, fps=10.0)


def tiny_spec(seed: int = 5) -> ClipSpec:
    return ClipSpec(
        "standing_posture", seed=seed, motion=MotionConfig(still_s=0.3, hold_s=0.3), camera=TINY
    )


def test_camera_projects_the_target_to_the_image_centre() -> None:
    cam = Camera.look_at(np.array([0.0, 1.0, -3.0]), np.array([0.2, 0.9, 0.0]), 45.0, 640, 480)
    assert cam.project(np.array([0.2, 0.9, 0.0])) == pytest.approx([320.0, 240.0])
    rays = cam.ray_directions()
    assert np.linalg.norm(rays, axis=-1) == pytest.approx(np.ones((480, 640)), abs=1e-5)


def test_renderer_draws_a_person_shaped_mask() -> None:
    shape = make_body(1.75)
    placed = place(shape, BodyPose(), Support(anchor=("ankle_left", "ankle_right")))
    cam = Camera.look_at(np.array([0.0, 1.0, -3.0]), np.array([0.0, 0.9, 0.0]), 45.0, 160, 120)
    caster = RayCaster(cam)
    buf = HitBuffer.empty(120, 160)
    for prim in placed.prims:
        caster.draw(buf, prim, 0)
    mask = buf.material >= 0
    ys, xs = np.nonzero(mask)
    height_px, width_px = np.ptp(ys) + 1, np.ptp(xs) + 1
    assert height_px > 2.5 * width_px  # standing, seen from the side
    px = cam.project(landmarks_world(shape, placed.skeleton))
    for joint in (
        Landmark.LEFT_HIP,
        Landmark.LEFT_KNEE,
        Landmark.LEFT_SHOULDER,
        Landmark.LEFT_ANKLE,
        Landmark.LEFT_EAR,
    ):
        x, y = px[joint]
        assert mask[int(y), int(x)], joint.name
    expected_height_px = shape.height_m * cam.focal_px / 3.0
    assert height_px == pytest.approx(expected_height_px, rel=0.08)
    assert np.isfinite(buf.depth[mask]).all()
    assert np.linalg.norm(buf.normal[mask], axis=-1) == pytest.approx(np.ones(mask.sum()), abs=0.01)


def test_clip_files_hold_the_documented_truth(tmp_path: Path) -> None:
    truth = render_clip(tiny_spec(), tmp_path, "tiny")
    with av.open(str(truth.video_path)) as container:
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    assert len(frames) == truth.frames == 7
    assert frames[0].shape == (48, 64, 3)
    data = np.load(truth.truth_path)
    assert data["landmarks_px"].shape == (7, NUM_LANDMARKS, 2)
    assert data["landmarks_world_m"].shape == (7, NUM_LANDMARKS, 3)
    assert data["t_ms"] == pytest.approx(np.arange(7) * 100.0)
    for key in (
        "left_hip_flexion_deg",
        "right_knee_flexion_deg",
        "left_ankle_dorsiflexion_deg",
        "right_trunk_inclination_deg",
        "back_bulge_mm",
        "head_forward_mm",
    ):
        assert data[key].shape == (7,)
    meta = json.loads(truth.json_path.read_text())
    assert meta["exercise"] == "standing_posture"
    assert meta["still_s"] == [0.0, 0.3]
    assert meta["camera"]["width_px"] == 64
    assert truth.mask_path is not None
    masks = np.load(truth.mask_path)
    bits = np.unpackbits(masks["mask_bits"], axis=-1)[..., :64]
    assert bits.shape == (7, 48, 64)
    assert 0.02 < bits.mean() < 0.5


@pytest.mark.slow
def test_rendering_twice_gives_identical_bytes(tmp_path: Path) -> None:
    a = render_clip(tiny_spec(), tmp_path / "a", "clip")
    render_clip(tiny_spec(), tmp_path / "b", "clip")
    for suffix in (".mp4", ".npz", ".json", ".mask.npz"):
        assert (tmp_path / "a" / f"clip{suffix}").read_bytes() == (
            tmp_path / "b" / f"clip{suffix}"
        ).read_bytes(), suffix
    c = render_clip(tiny_spec(seed=6), tmp_path / "c", "clip")  # another body
    assert c.video_path.read_bytes() != a.video_path.read_bytes()
