"""The trunk box of the person mask: reading the back outline from it changes nothing."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pytest

from formcheck.kinematics.mask_crop import (
    DEFAULT_MASK_CROP,
    MaskBox,
    MaskCropConfig,
    trunk_mask_box,
)
from formcheck.kinematics.spine import SpineConfig, extract_back_outline, measure_back
from formcheck.pose.landmarks import NUM_LANDMARKS, Landmark
from formcheck.types import Facing, PoseFrame
from tests.kinematics.test_spine import FACINGS, INCLINATIONS_DEG, Torso, parabola
from tests.reports import report_of

REPO_ROOT = Path(__file__).resolve().parents[2]
# A box this far around the trunk holds the whole frame of any clip: the full mask.
WHOLE_FRAME = MaskCropConfig(reach_frac=100.0, margin_px=10_000.0, min_chord_px=20.0)
# Raw landmarks moved this much (a fraction of the chord) before the outline is read, as
# smoothing moves them in fast movements; the box must still hold every ray.
SMOOTHING_SHIFTS_FRAC = ((0.0, 0.0), (0.12, -0.08), (-0.1, 0.1))
PAD_PX = 200  # the test torsos fill their small frame: room around them for the box to cut


def cropped(pose: PoseFrame, config: MaskCropConfig = DEFAULT_MASK_CROP) -> PoseFrame:
    """The pose with its mask cut to the trunk box of its own landmarks."""
    assert pose.landmarks_px is not None
    full = pose.full_mask()
    assert full is not None
    box = trunk_mask_box(pose.landmarks_px, pose.image_width_px, pose.image_height_px, config)
    assert box is not None
    crop = np.ascontiguousarray(full[box.y0 : box.y1, box.x0 : box.x1])
    return dataclasses.replace(pose, mask=crop, mask_origin_px=(box.x0, box.y0))


def in_larger_frame(pose: PoseFrame, pad_px: int = PAD_PX) -> PoseFrame:
    """The same scene with ``pad_px`` of empty frame added on every side."""
    assert pose.landmarks_px is not None and pose.mask is not None
    mask = np.pad(pose.mask, pad_px)
    moved = pose.landmarks_px.copy()
    moved[:, :2] += pad_px
    return dataclasses.replace(
        pose,
        image_width_px=mask.shape[1],
        image_height_px=mask.shape[0],
        landmarks_px=moved,
        mask=mask,
    )


def shifted(pose: PoseFrame, dx_px: float, dy_px: float) -> PoseFrame:
    assert pose.landmarks_px is not None
    moved = pose.landmarks_px.copy()
    moved[:, 0] += dx_px
    moved[:, 1] += dy_px
    return dataclasses.replace(pose, landmarks_px=moved)


@pytest.mark.parametrize("facing", FACINGS)
@pytest.mark.parametrize("inclination_deg", INCLINATIONS_DEG)
@pytest.mark.parametrize("shift_frac", SMOOTHING_SHIFTS_FRAC)
def test_outline_from_the_trunk_box_equals_the_full_mask(
    facing: Facing, inclination_deg: float, shift_frac: tuple[float, float]
) -> None:
    torso = Torso(facing, inclination_deg, parabola(4.0, 0.2, 0.8))
    full = in_larger_frame(torso.pose(torso.soft_mask()))
    crop = cropped(full)
    assert crop.mask is not None and full.mask is not None
    assert crop.mask.size < full.mask.size
    chord_px = float(np.linalg.norm(torso.hip - torso.shoulder))
    dx, dy = (f * chord_px for f in shift_frac)
    for side_facing in (facing, Facing.LEFT if facing is Facing.RIGHT else Facing.RIGHT):
        # Either facing (the floor analyzers read the outline with their own).
        want = measure_back(shifted(full, dx, dy), side_facing, 1.0)
        got = measure_back(shifted(crop, dx, dy), side_facing, 1.0)
        assert want.outline is not None and got.outline is not None
        np.testing.assert_array_equal(got.outline.offsets_px, want.outline.offsets_px)
        np.testing.assert_array_equal(got.outline.contrast, want.outline.contrast)
        assert got.back_bulge_mm == want.back_bulge_mm or (
            math.isnan(got.back_bulge_mm) and math.isnan(want.back_bulge_mm)
        )


def test_a_box_smaller_than_the_rays_reach_changes_the_outline() -> None:
    """The test above can fail: a box cut inside the rays' reach loses the back's edge."""
    torso = Torso(Facing.LEFT, 35.0, parabola(4.0, 0.2, 0.8))
    full = in_larger_frame(torso.pose(torso.soft_mask()))
    tight = MaskCropConfig(reach_frac=0.1, margin_px=0.0, min_chord_px=20.0)
    want = extract_back_outline(full, Facing.LEFT)
    got = extract_back_outline(cropped(full, tight), Facing.LEFT)
    assert want is not None and got is not None
    assert not np.array_equal(
        np.nan_to_num(got.offsets_px, nan=-1.0), np.nan_to_num(want.offsets_px, nan=-1.0)
    )


def test_the_box_reaches_as_far_as_the_back_measures_read() -> None:
    spine = SpineConfig()
    assert DEFAULT_MASK_CROP.reach_frac > max(spine.search_dorsal_frac, spine.search_ventral_frac)
    assert DEFAULT_MASK_CROP.margin_px > spine.contrast_offset_px + spine.ray_step_px


def test_box_is_clipped_to_the_frame_and_empty_without_a_trunk() -> None:
    lm = np.zeros((NUM_LANDMARKS, 3))
    lm[[Landmark.LEFT_SHOULDER, Landmark.RIGHT_SHOULDER], :2] = (10.0, 20.0)
    lm[[Landmark.LEFT_HIP, Landmark.RIGHT_HIP], :2] = (12.0, 120.0)
    box = trunk_mask_box(lm, 200, 100)
    assert box == MaskBox(0, 0, box.x1, 100)
    assert box.x1 == math.ceil(12.0 + DEFAULT_MASK_CROP.reach_frac * math.hypot(2, 100) + 4 + 4 + 1)
    lm[Landmark.LEFT_HIP, 0] = np.nan
    assert trunk_mask_box(lm, 200, 100) is None
    far = np.full((NUM_LANDMARKS, 3), -1_000.0)
    assert trunk_mask_box(far, 200, 100) is None  # the whole trunk box lies outside


def test_pose_frame_keeps_a_crop_inside_the_frame_and_pastes_it_back() -> None:
    mask = np.full((3, 4), 0.75, dtype=np.float32)
    pose = PoseFrame(0.0, 10, 8, mask=mask, mask_origin_px=(6, 5))
    full = pose.full_mask()
    assert full is not None and full.shape == (8, 10)
    assert full[5:8, 6:10].min() == 0.75 and full.sum() == pytest.approx(0.75 * 12)
    with pytest.raises(ValueError, match="leaves the frame"):
        PoseFrame(0.0, 10, 8, mask=mask, mask_origin_px=(7, 5))
    with pytest.raises(ValueError, match="leaves the frame"):
        PoseFrame(0.0, 10, 8, mask=mask, mask_origin_px=(0, 6))
    whole = np.zeros((8, 10), dtype=np.float32)
    assert PoseFrame(0.0, 10, 8, mask=whole).full_mask() is whole


CLIPS = ("hip_hinge_rounded_back", "bird_dog_correct")


@pytest.mark.slow  # the real pose model
@pytest.mark.parametrize("clip", CLIPS)
def test_estimator_crops_lose_nothing_on_sample_clips(clip: str, model_path: Path) -> None:
    """Whole-frame masks and the estimator's trunk crops give identical measures and reports."""
    from formcheck.pose.estimator import PoseEstimator
    from formcheck.session import ExerciseSession
    from formcheck.video import open_source

    video = REPO_ROOT / "sample_videos" / f"{clip}.mp4"
    exercise = "hip_hinge" if clip.startswith("hip_hinge") else "bird_dog"
    with open_source(video) as source, PoseEstimator(model_path, mask_crop=WHOLE_FRAME) as est:
        poses = [est.process(frame) for frame in source]
    posed = [p for p in poses if p.mask is not None]
    assert len(posed) > len(poses) // 2
    assert all(p.mask is not None and p.mask.shape == (480, 640) for p in posed)
    crops = [cropped(p) if p.mask is not None else p for p in poses]
    runs = []
    for stream in (poses, crops):
        session = ExerciseSession(None, exercise=exercise)
        samples = [s for pose in stream for s in session.push_pose(pose).samples]
        final, _, summary = session.finish()
        runs.append(([s.measures for s in [*samples, *final]], summary))
    (full_measures, full_summary), (crop_measures, crop_summary) = runs
    assert len(full_measures) == len(crop_measures) == len(poses)
    for want, got in zip(full_measures, crop_measures, strict=True):
        np.testing.assert_array_equal(np.array(list(got.values())), np.array(list(want.values())))
    assert full_summary is not None and crop_summary is not None
    assert report_of(crop_summary) == report_of(full_summary)
