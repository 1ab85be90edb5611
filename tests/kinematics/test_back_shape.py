"""The absolute back-shape measure: the committed model, its features, and the pipeline's use."""

from __future__ import annotations

import copy
import json
import math
from dataclasses import replace

import numpy as np
import pytest

from formcheck.config import QualityConfig
from formcheck.kinematics import names
from formcheck.kinematics.back_shape import (
    BASE_FEATURES,
    MODEL_PATH,
    PROFILE_BINS,
    ROUNDING_PER_DEG,
    BackShapeInput,
    BackShapeModel,
    back_rounding_px,
    base_features,
    load_model,
    profile_bins,
)
from formcheck.kinematics.measures import MEASURE_NAMES
from formcheck.kinematics.spine import BackMeasurer, SpineConfig, extract_back_outline
from formcheck.kinematics.stage import KinematicsStage
from formcheck.pose.landmarks import NUM_LANDMARKS, Landmark
from formcheck.types import Facing, PoseFrame

FRACTIONS = SpineConfig().fractions()
CHORD_PX = 120.0


def hinge_landmarks(scale: float = 1.0, origin: tuple[float, float] = (300.0, 260.0)) -> np.ndarray:
    """A person facing image left at the bottom of a hinge: trunk about 60 deg forward,
    knees soft (pixels, times ``scale`` about ``origin``)."""
    hip = np.array(origin)
    up = np.array([-math.sin(math.radians(60.0)), -math.cos(math.radians(60.0))])
    shoulder = hip + CHORD_PX * up
    knee = hip + np.array([-15.0, 105.0])
    ankle = knee + np.array([12.0, 100.0])
    lm = np.zeros((NUM_LANDMARKS, 3))
    for side in ("LEFT", "RIGHT"):
        lm[Landmark[f"{side}_SHOULDER"], :2] = shoulder
        lm[Landmark[f"{side}_HIP"], :2] = hip
        lm[Landmark[f"{side}_KNEE"], :2] = knee
        lm[Landmark[f"{side}_ANKLE"], :2] = ankle
        lm[Landmark[f"{side}_EAR"], :2] = shoulder + 30.0 * up
        lm[Landmark[f"{side}_HEEL"], :2] = ankle + np.array([8.0, 5.0])
        lm[Landmark[f"{side}_FOOT_INDEX"], :2] = ankle + np.array([-25.0, 8.0])
    lm[Landmark.NOSE, :2] = shoulder + 32.0 * up + np.array([-12.0, 6.0])
    o = np.array([*origin, 0.0])
    return (lm - o) * scale + o


def outline_offsets(bulge_px: float, scale: float = 1.0) -> np.ndarray:
    """A back outline: 30 px thick, with a parabolic bulge of ``bulge_px`` over the lumbar half."""
    u = np.clip((FRACTIONS - 0.45) / 0.45, 0.0, 1.0)
    return (30.0 + 4.0 * bulge_px * u * (1.0 - u)) * scale


def make_input(bulge_px: float = 0.0, scale: float = 1.0, yaw_deg: float = 10.0) -> BackShapeInput:
    return BackShapeInput(
        fractions=FRACTIONS,
        offsets_px=outline_offsets(bulge_px, scale),
        chord_px=CHORD_PX * scale,
        landmarks_px=hinge_landmarks(scale),
        yaw_deg=yaw_deg,
        mask_confidence=0.95,
    )


def test_committed_model_loads_and_predicts() -> None:
    model = load_model()
    assert set(model.flexion.features) <= set(BASE_FEATURES)
    est = model.estimate(make_input())
    assert math.isfinite(est.flexion_deg)
    lo, hi = model.flexion_range_deg
    assert lo <= est.flexion_deg <= hi
    assert est.sd_deg >= model.min_sd_deg
    doc = json.loads(MODEL_PATH.read_text())
    assert doc["trained_on"]["stills_with_features"] > 500  # learned from many renders
    assert MODEL_PATH.stat().st_size < 20_000  # small and inspectable


def test_estimate_does_not_depend_on_image_scale() -> None:
    model = load_model()
    for bulge in (-6.0, 0.0, 8.0):
        small = model.estimate(make_input(bulge, 1.0))
        large = model.estimate(make_input(bulge, 2.5))
        assert large.flexion_deg == pytest.approx(small.flexion_deg, abs=1e-9)
        assert large.sd_deg == pytest.approx(small.sd_deg, abs=1e-9)


def test_features_are_dimensionless() -> None:
    a = base_features(make_input(5.0, 1.0))
    b = base_features(make_input(5.0, 3.0))
    assert a is not None and b is not None
    for name in a:
        assert b[name] == pytest.approx(a[name], abs=1e-9), name


def test_profile_bins_fill_gaps_and_refuse_sparse_outlines() -> None:
    offsets = outline_offsets(4.0)
    holed = offsets.copy()
    holed[8:12] = np.nan  # one bin's stations missing: interpolated
    full = profile_bins(FRACTIONS, offsets, CHORD_PX)
    filled = profile_bins(FRACTIONS, holed, CHORD_PX)
    assert full is not None and filled is not None and filled.shape == (PROFILE_BINS,)
    assert np.isfinite(filled).all()
    np.testing.assert_allclose(filled, full, atol=0.01)
    sparse = np.full_like(offsets, np.nan)
    sparse[:6] = 30.0
    assert profile_bins(FRACTIONS, sparse, CHORD_PX) is None
    assert profile_bins(FRACTIONS, offsets, math.nan) is None


def test_no_estimate_without_features() -> None:
    model = load_model()
    x = replace(make_input(), offsets_px=np.full(FRACTIONS.shape, np.nan))
    est = model.estimate(x)
    assert math.isnan(est.flexion_deg) and math.isnan(est.sd_deg)
    assert math.isnan(model.estimate(replace(make_input(), yaw_deg=math.nan)).flexion_deg)


def test_model_file_is_checked() -> None:
    doc = json.loads(MODEL_PATH.read_text())
    BackShapeModel.from_json(doc)
    for broken in (
        {**doc, "format": "something else"},
        {**doc, "flexion": {**doc["flexion"], "features": [*doc["flexion"]["features"][:-1], "x"]}},
        {**doc, "flexion": {**doc["flexion"], "coef": doc["flexion"]["coef"][:-1]}},
        {**doc, "flexion": {**doc["flexion"], "scale": [0.0] * len(doc["flexion"]["scale"])}},
    ):
        with pytest.raises(ValueError):
            BackShapeModel.from_json(copy.deepcopy(broken))


def test_back_rounding_scales_with_the_trunk() -> None:
    # 25 deg on a 500 mm trunk: about 16 mm (FACTS.md); twice the trunk, twice the millimetres
    assert back_rounding_px(25.0, 500.0) == pytest.approx(16.0, abs=1.0)
    assert back_rounding_px(25.0, 1000.0) == pytest.approx(2 * back_rounding_px(25.0, 500.0))
    assert back_rounding_px(-10.0, 500.0) == pytest.approx(-10.0 * ROUNDING_PER_DEG * 500.0)


# --- through the outline code and the kinematics stage -----------------------------------


def band_mask(lm: np.ndarray, bulge_px: float, scale: float, shape: tuple[int, int]) -> np.ndarray:
    """A soft mask of a trunk band around the shoulder-hip chord whose dorsal edge follows
    ``outline_offsets`` (the person faces image left, so the back is up and to the right)."""
    shoulder = lm[Landmark.LEFT_SHOULDER, :2]
    hip = lm[Landmark.LEFT_HIP, :2]
    chord = hip - shoulder
    length = float(np.hypot(*chord))
    along = chord / length
    dorsal = np.array([-along[1], along[0]])  # facing left: the back is on this side
    if dorsal @ np.array([1.0, 0.0]) < 0:
        dorsal = -dorsal
    y, x = np.mgrid[0 : shape[0], 0 : shape[1]].astype(np.float64)
    rx, ry = x - shoulder[0], y - shoulder[1]
    p = (rx * along[0] + ry * along[1]) / length
    a = rx * dorsal[0] + ry * dorsal[1]
    u = np.clip((p - 0.45) / 0.45, 0.0, 1.0)
    edge = (30.0 + 4.0 * bulge_px * u * (1.0 - u)) * scale
    sd = np.minimum.reduce([edge - a, a + 40.0 * scale, (p + 0.2) * length, (1.2 - p) * length])
    return np.clip(0.5 + sd, 0.0, 1.0).astype(np.float32)


def pose_at_scale(bulge_px: float, scale: float) -> PoseFrame:
    h, w = int(480 * scale), int(640 * scale)
    lm = hinge_landmarks(scale, origin=(300.0 * scale, 260.0 * scale))
    world = np.zeros((NUM_LANDMARKS, 3))
    world[Landmark.LEFT_SHOULDER] = (0.0, -0.5, 0.1)
    world[Landmark.RIGHT_SHOULDER] = (0.0, -0.5, -0.1)
    world[Landmark.LEFT_HIP] = (0.0, 0.0, 0.1)
    world[Landmark.RIGHT_HIP] = (0.0, 0.0, -0.1)
    return PoseFrame(
        t_ms=0.0,
        image_width_px=w,
        image_height_px=h,
        landmarks_px=lm,
        world_m=world,
        visibility=np.ones(NUM_LANDMARKS),
        mask=band_mask(lm, bulge_px, scale, (h, w)),
    )


def test_same_outline_at_two_image_scales_reads_the_same() -> None:
    measurer = BackMeasurer()
    small = measurer(pose_at_scale(6.0, 1.0), Facing.LEFT)
    large = measurer(pose_at_scale(6.0, 2.0), Facing.LEFT)
    assert math.isfinite(small[names.LUMBAR_FLEXION_DEG])
    assert large[names.LUMBAR_FLEXION_DEG] == pytest.approx(
        small[names.LUMBAR_FLEXION_DEG], abs=1.0
    )
    # back_rounding comes in pixels (the stage scales it): twice the image, twice the pixels
    assert large[names.BACK_ROUNDING_MM] == pytest.approx(
        2.0 * small[names.BACK_ROUNDING_MM], rel=0.05, abs=0.2
    )


def test_measurer_reads_a_bulging_outline_rounder() -> None:
    measurer = BackMeasurer()
    flat = measurer(pose_at_scale(0.0, 1.0), Facing.LEFT)[names.LUMBAR_FLEXION_DEG]
    bulging = measurer(pose_at_scale(10.0, 1.0), Facing.LEFT)[names.LUMBAR_FLEXION_DEG]
    assert bulging > flat


def test_measurer_gives_nan_without_an_outline() -> None:
    pose = replace(pose_at_scale(0.0, 1.0), mask=None)
    out = BackMeasurer()(pose, Facing.LEFT)
    for name in (names.LUMBAR_FLEXION_DEG, names.LUMBAR_FLEXION_SD_DEG, names.BACK_ROUNDING_MM):
        assert math.isnan(out[name])
    assert extract_back_outline(pose, Facing.LEFT) is None


def test_every_sample_carries_the_measure_and_degrees_are_not_scaled() -> None:
    for name in (names.LUMBAR_FLEXION_DEG, names.LUMBAR_FLEXION_SD_DEG, names.BACK_ROUNDING_MM):
        assert name in MEASURE_NAMES
    pose = pose_at_scale(8.0, 1.0)
    measurer = BackMeasurer()
    direct = measurer(pose, Facing.LEFT)
    stage = KinematicsStage(QualityConfig(), spine=measurer)
    orientation = stage.orient(pose)
    mm_per_px = 3.0
    sample = stage.sample(pose, orientation, mm_per_px, 1000.0)
    assert sample.measures[names.LUMBAR_FLEXION_DEG] == pytest.approx(
        direct[names.LUMBAR_FLEXION_DEG]
    )
    assert sample.measures[names.LUMBAR_FLEXION_SD_DEG] == pytest.approx(
        direct[names.LUMBAR_FLEXION_SD_DEG]
    )
    assert sample.measures[names.BACK_ROUNDING_MM] == pytest.approx(
        direct[names.BACK_ROUNDING_MM] * mm_per_px
    )
    assert sample.measures[names.BACK_OFFSET_MM] == pytest.approx(
        direct[names.BACK_OFFSET_MM] * mm_per_px
    )


# --- rendered stills through the real pose model -----------------------------------------


def _rendered_estimate(observer: object, lumbar_deg: float, yaw_deg: float) -> float:
    from formcheck.synth.scene import SceneStyle
    from formcheck.synth.spec import CameraSpec
    from formcheck.training.back_data import Observer
    from formcheck.training.stills import StillSpec, render_still

    assert isinstance(observer, Observer)
    spec = StillSpec(
        exercise="hip_hinge",
        variant="bodyweight",
        params={"bottom_pelvis_tilt_deg": 62.0, "bottom_knee_deg": 18.0},
        down_fraction=1.0,
        lumbar_deg=lumbar_deg,
        pelvis_share=0.5,
        thoracic_deg=3.0,
        body="capsule",
        camera=CameraSpec(distance_m=3.0, height_m=1.0, yaw_deg=yaw_deg),
        style=SceneStyle(),
        height_m=1.75,
        capsule_seed=11,
    )
    obs = observer.observe(render_still(spec))
    assert obs.usable, "the outline of a rendered hinge should be usable"
    est = load_model().estimate(
        BackShapeInput(
            fractions=FRACTIONS,
            offsets_px=obs.offsets_px,
            chord_px=obs.chord_px,
            landmarks_px=obs.landmarks_px,
            yaw_deg=obs.yaw_deg,
            mask_confidence=obs.mask_confidence,
        )
    )
    return est.flexion_deg


@pytest.mark.slow
@pytest.mark.parametrize("yaw_deg", [5.0, -25.0])
def test_rendered_rounded_back_reads_rounder_than_its_neutral_twin(
    model_path: object, yaw_deg: float
) -> None:
    from pathlib import Path

    from formcheck.training.back_data import Observer

    assert isinstance(model_path, Path)
    with Observer(model_path) as observer:
        neutral = _rendered_estimate(observer, 0.0, yaw_deg)
        rounded = _rendered_estimate(observer, 30.0, yaw_deg)
        arched = _rendered_estimate(observer, -20.0, yaw_deg)
    assert rounded > neutral + 10.0
    assert arched < neutral - 5.0
