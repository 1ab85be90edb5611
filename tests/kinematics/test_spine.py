"""Back outline and head measures on synthetic masks with a known back shape."""

from __future__ import annotations

import math
from collections.abc import Callable

import cv2
import numpy as np
import pytest

from formcheck.kinematics import names
from formcheck.kinematics.contour import outward_edges, sample_bilinear
from formcheck.kinematics.names import BACK_CURVE_MM, BACK_OFFSET_MM, CHIN_DROP_MM
from formcheck.kinematics.spine import (
    BackMeasurer,
    SpineConfig,
    SpineReference,
    extract_back_outline,
    measure_back,
    mid_vs_ends_px,
    quadratic_sagitta_px,
    ventral_normal,
)
from formcheck.pose.landmarks import NUM_LANDMARKS, Landmark
from formcheck.types import Facing, PoseFrame

WIDTH_PX, HEIGHT_PX = 320, 240
CHORD_PX = 110.0
DORSAL_HALF_PX = 22.0
VENTRAL_HALF_PX = 26.0
END_EXTENSION_PX = 30.0
TOL_PX = 0.3
CFG = SpineConfig()

Profile = Callable[[np.ndarray], np.ndarray]


def parabola(height_px: float, start: float, stop: float) -> Profile:
    """A parabolic arc of the given height over [start, stop] (fractions), zero elsewhere."""

    def f(t: np.ndarray) -> np.ndarray:
        u = (t - start) / (stop - start)
        return np.where((u > 0) & (u < 1), 4.0 * height_px * u * (1.0 - u), 0.0)

    return f


def flat(t: np.ndarray) -> np.ndarray:
    return np.zeros_like(t)


class Torso:
    """A side-view torso: a band around the shoulder-hip chord with a shaped dorsal edge."""

    def __init__(self, facing: Facing, inclination_deg: float, profile: Profile) -> None:
        self.facing = facing
        self.profile = profile
        sign = -1.0 if facing is Facing.LEFT else 1.0
        # Bending forward tips the shoulder towards the facing side.
        tilt = math.radians(inclination_deg)
        up = np.array([sign * math.sin(tilt), -math.cos(tilt)])
        self.hip = np.array([WIDTH_PX / 2 - sign * 40.0, HEIGHT_PX * 0.62])
        self.shoulder = self.hip + CHORD_PX * up
        self.along = -up  # shoulder -> hip
        ventral = ventral_normal(up, facing)
        assert ventral is not None
        self.ventral = ventral
        self.dorsal = -ventral

    def coords(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        rx, ry = x - self.shoulder[0], y - self.shoulder[1]
        return rx * self.along[0] + ry * self.along[1], rx * self.dorsal[0] + ry * self.dorsal[1]

    def signed_distance(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        p, a = self.coords(x, y)
        edge = DORSAL_HALF_PX + self.profile(p / CHORD_PX)
        return np.minimum.reduce(
            [edge - a, a + VENTRAL_HALF_PX, p + END_EXTENSION_PX, CHORD_PX + END_EXTENSION_PX - p]
        )

    def soft_mask(self) -> np.ndarray:
        """Coverage ramp one pixel wide: crosses 0.5 exactly on the outline."""
        y, x = np.mgrid[0:HEIGHT_PX, 0:WIDTH_PX].astype(np.float64)
        return np.clip(0.5 + self.signed_distance(x, y), 0.0, 1.0).astype(np.float32)

    def supersampled_mask(self, factor: int = 6) -> np.ndarray:
        """Binary shape at ``factor`` x resolution, averaged down (area coverage)."""
        n = factor
        y, x = np.mgrid[0 : HEIGHT_PX * n, 0 : WIDTH_PX * n].astype(np.float64)
        inside = self.signed_distance((x + 0.5) / n - 0.5, (y + 0.5) / n - 0.5) >= 0
        return inside.reshape(HEIGHT_PX, n, WIDTH_PX, n).mean(axis=(1, 3)).astype(np.float32)

    def landmarks(self) -> np.ndarray:
        lm = np.zeros((NUM_LANDMARKS, 3))
        up = -self.along
        ear = self.shoulder + 0.3 * CHORD_PX * up + 0.05 * CHORD_PX * self.ventral
        nose = ear + 0.12 * CHORD_PX * self.ventral - 0.02 * CHORD_PX * up
        # Arms hang straight down (image +y) from the shoulders, on the ventral side.
        elbow = self.shoulder + np.array([0.0, 0.5 * CHORD_PX]) + 8.0 * self.ventral
        wrist = elbow + np.array([0.0, 0.45 * CHORD_PX])
        index = wrist + np.array([0.0, 0.1 * CHORD_PX])
        for side in ("LEFT", "RIGHT"):
            lm[Landmark[f"{side}_SHOULDER"], :2] = self.shoulder
            lm[Landmark[f"{side}_HIP"], :2] = self.hip
            lm[Landmark[f"{side}_EAR"], :2] = ear
            lm[Landmark[f"{side}_ELBOW"], :2] = elbow
            lm[Landmark[f"{side}_WRIST"], :2] = wrist
            lm[Landmark[f"{side}_INDEX"], :2] = index
        lm[Landmark.NOSE, :2] = nose
        return lm

    def pose(self, mask: np.ndarray | None, landmarks: np.ndarray | None = None) -> PoseFrame:
        return PoseFrame(
            t_ms=0.0,
            image_width_px=WIDTH_PX,
            image_height_px=HEIGHT_PX,
            landmarks_px=self.landmarks() if landmarks is None else landmarks,
            visibility=np.ones(NUM_LANDMARKS),
            mask=mask,
        )

    def expected_offsets_px(self, fractions: np.ndarray) -> np.ndarray:
        return DORSAL_HALF_PX + self.profile(fractions)


def expected_bulge_px(torso: Torso) -> float:
    t = CFG.fractions()
    return mid_vs_ends_px(
        t,
        torso.expected_offsets_px(t),
        CFG.bulge_start_frac,
        CFG.bulge_stop_frac,
        CFG.bulge_end_band_frac,
        CFG.bulge_mid_half_width_frac,
    )


FACINGS = (Facing.LEFT, Facing.RIGHT)
INCLINATIONS_DEG = (0.0, 35.0, 75.0)


# --- the primitives --------------------------------------------------------------------------


def test_bilinear_sampling_is_exact_on_a_linear_ramp() -> None:
    y, x = np.mgrid[0:20, 0:30].astype(np.float32)
    ramp = 0.01 * x + 0.02 * y
    px = np.array([3.25, 10.5, 28.9])
    py = np.array([4.75, 0.1, 18.2])
    np.testing.assert_allclose(sample_bilinear(ramp, px, py), 0.01 * px + 0.02 * py, atol=1e-6)
    assert sample_bilinear(ramp, np.array([-5.0]), np.array([3.0]))[0] == 0.0


def test_edge_steps_over_a_small_hole_and_reads_subpixel() -> None:
    mask = np.zeros((10, 60), dtype=np.float32)
    mask[:, :40] = 1.0
    mask[:, 40] = 0.3  # edge at 39 + 0.5 / 0.7
    mask[:, 20] = 0.0  # a one-pixel hole inside the body
    edges = outward_edges(
        mask,
        np.array([[5.0, 5.0]]),
        np.array([[1.0, 0.0]]),
        start_px=-3.0,
        stop_px=50.0,
        step_px=1.0,
        min_outside_px=3.0,
        contrast_offset_px=3.0,
    )
    assert edges.distance_px[0] + 5.0 == pytest.approx(39.0 + 0.5 / 0.7, abs=1e-6)


def test_quadratic_sagitta_and_mid_vs_ends_on_exact_profiles() -> None:
    t = np.linspace(0.0, 1.0, 41)
    d = 10.0 + 3.0 * t + parabola(4.0, 0.2, 0.8)(t)
    assert quadratic_sagitta_px(t, d, 0.2, 0.8) == pytest.approx(4.0, abs=1e-9)
    assert mid_vs_ends_px(t, 10.0 + 3.0 * t, 0.1, 0.9, 0.1, 0.1) == pytest.approx(0.0, abs=1e-9)
    d_nan = d.copy()
    d_nan[::2] = np.nan
    assert quadratic_sagitta_px(t, d_nan, 0.2, 0.8) == pytest.approx(4.0, abs=1e-9)


# --- the outline on synthetic torsos ---------------------------------------------------------


@pytest.mark.parametrize("facing", FACINGS)
@pytest.mark.parametrize("inclination_deg", INCLINATIONS_DEG)
def test_outline_follows_the_dorsal_edge_to_subpixel(
    facing: Facing, inclination_deg: float
) -> None:
    torso = Torso(facing, inclination_deg, parabola(4.0, 0.2, 0.8))
    outline = extract_back_outline(torso.pose(torso.soft_mask()), facing, CFG)
    assert outline is not None and outline.usable
    assert outline.valid.all()
    err = outline.offsets_px - torso.expected_offsets_px(outline.fractions)
    assert np.abs(err).max() < TOL_PX
    assert outline.mask_confidence > 0.9


@pytest.mark.parametrize("facing", FACINGS)
@pytest.mark.parametrize("inclination_deg", INCLINATIONS_DEG)
@pytest.mark.parametrize("height_px", [-4.0, 0.0, 2.0, 5.0])
def test_bulge_and_curve_recovered(
    facing: Facing, inclination_deg: float, height_px: float
) -> None:
    torso = Torso(
        facing, inclination_deg, parabola(height_px, CFG.curve_start_frac, CFG.curve_stop_frac)
    )
    m = measure_back(torso.pose(torso.soft_mask()), facing, mm_per_px=1.0)
    assert m.back_curve_mm == pytest.approx(height_px, abs=TOL_PX)
    assert m.back_bulge_mm == pytest.approx(expected_bulge_px(torso), abs=TOL_PX)
    t = CFG.fractions()
    band = (t >= CFG.offset_start_frac - 1e-9) & (t <= CFG.offset_stop_frac + 1e-9)
    expected_offset = float(torso.expected_offsets_px(t[band]).mean())
    assert m.back_offset_mm == pytest.approx(expected_offset, abs=TOL_PX)
    if height_px < 0:
        assert m.back_curve_mm < 0 and m.back_bulge_mm < 0  # arched reads negative
    if height_px > 0:
        assert m.back_curve_mm > 0 and m.back_bulge_mm > 0


def test_facing_flip_changes_nothing() -> None:
    profile = parabola(3.0, 0.15, 0.85)
    left = Torso(Facing.LEFT, 60.0, profile)
    right = Torso(Facing.RIGHT, 60.0, profile)
    m_left = measure_back(left.pose(left.soft_mask()), Facing.LEFT, mm_per_px=2.0)
    m_right = measure_back(right.pose(right.soft_mask()), Facing.RIGHT, mm_per_px=2.0)
    for key, value in m_left.as_measures().items():
        assert m_right.as_measures()[key] == pytest.approx(value, abs=0.1), key
    assert m_left.back_bulge_mm > 0
    # The wrong facing looks at the belly side: the outline differs.
    wrong = measure_back(left.pose(left.soft_mask()), Facing.RIGHT, mm_per_px=2.0)
    assert wrong.outline is not None
    assert np.nanmean(wrong.outline.offsets_px) == pytest.approx(VENTRAL_HALF_PX, abs=0.5)


@pytest.mark.parametrize("facing", FACINGS)
def test_blurred_mask_is_read_to_subpixel(facing: Facing) -> None:
    torso = Torso(facing, 50.0, parabola(3.0, CFG.curve_start_frac, CFG.curve_stop_frac))
    soft = cv2.GaussianBlur(torso.supersampled_mask(), (0, 0), sigmaX=2.0)
    outline = extract_back_outline(torso.pose(soft), facing, CFG)
    assert outline is not None and outline.usable
    err = outline.offsets_px - torso.expected_offsets_px(outline.fractions)
    assert np.abs(err).max() < TOL_PX
    m = measure_back(torso.pose(soft), facing, mm_per_px=1.0)
    assert m.back_curve_mm == pytest.approx(3.0, abs=TOL_PX)


def _stamp_arm(torso: Torso, mask: np.ndarray, fraction: float) -> tuple[np.ndarray, np.ndarray]:
    """A forearm lying across the back at ``fraction``; returns mask and landmarks with it."""
    along = fraction * CHORD_PX * torso.along
    centre = torso.shoulder + along + (DORSAL_HALF_PX + 2.0) * torso.dorsal
    elbow = centre - 30.0 * torso.dorsal
    wrist = centre + 12.0 * torso.dorsal
    out = mask.copy()
    start = (round(float(elbow[0])), round(float(elbow[1])))
    end = (round(float(wrist[0])), round(float(wrist[1])))
    cv2.line(out, start, end, color=1.0, thickness=9)
    lm = torso.landmarks()
    lm[Landmark.LEFT_ELBOW, :2] = elbow
    lm[Landmark.LEFT_WRIST, :2] = wrist
    lm[Landmark.LEFT_INDEX, :2] = wrist + 4.0 * torso.dorsal
    return out, lm


@pytest.mark.parametrize("facing", FACINGS)
def test_arm_over_the_back_is_dropped(facing: Facing) -> None:
    torso = Torso(facing, 70.0, flat)
    mask, lm = _stamp_arm(torso, torso.soft_mask(), fraction=0.62)
    outline = extract_back_outline(torso.pose(mask, lm), facing, CFG)
    assert outline is not None and outline.usable
    near_arm = np.abs(outline.fractions - 0.62) < 0.03
    assert outline.arm_overlap[near_arm].all()
    assert not outline.valid[near_arm].any()
    err = outline.offsets_px - torso.expected_offsets_px(outline.fractions)
    assert np.nanmax(np.abs(err)) < TOL_PX
    m = measure_back(torso.pose(mask, lm), facing, mm_per_px=1.0)
    assert abs(m.back_bulge_mm) < TOL_PX and abs(m.back_curve_mm) < TOL_PX


def test_unseen_bump_is_dropped_as_a_jump() -> None:
    torso = Torso(Facing.LEFT, 70.0, flat)
    mask, _ = _stamp_arm(torso, torso.soft_mask(), fraction=0.5)  # no arm landmarks there
    outline = extract_back_outline(torso.pose(mask), Facing.LEFT, CFG)
    assert outline is not None
    assert outline.jump[np.abs(outline.fractions - 0.5) < 0.03].all()
    assert np.nanmax(np.abs(outline.offsets_px - DORSAL_HALF_PX)) < TOL_PX


def test_missing_mask_pose_or_side_view_gives_nan_not_an_error() -> None:
    torso = Torso(Facing.LEFT, 40.0, flat)
    no_mask = measure_back(torso.pose(None), Facing.LEFT, mm_per_px=1.5)
    assert math.isnan(no_mask.back_bulge_mm) and math.isnan(no_mask.as_measures()[BACK_CURVE_MM])
    assert no_mask.outline is None
    assert math.isfinite(no_mask.spine_chord_mm)  # landmarks still give the chord
    empty = measure_back(
        PoseFrame(t_ms=0.0, image_width_px=WIDTH_PX, image_height_px=HEIGHT_PX),
        Facing.LEFT,
        mm_per_px=1.5,
    )
    assert all(math.isnan(v) for v in empty.as_measures().values())
    front = measure_back(torso.pose(torso.soft_mask()), Facing.TOWARD, mm_per_px=1.5)
    assert all(math.isnan(v) for v in front.as_measures().values())
    blank = measure_back(torso.pose(np.zeros((HEIGHT_PX, WIDTH_PX), np.float32)), Facing.LEFT, 1.5)
    assert math.isnan(blank.back_bulge_mm)
    assert blank.outline is not None and not blank.outline.usable
    with pytest.raises(ValueError):
        measure_back(torso.pose(None), Facing.LEFT, mm_per_px=0.0)


def test_mushy_mask_is_flagged_low_confidence() -> None:
    torso = Torso(Facing.LEFT, 40.0, flat)
    mushy = 0.5 + 0.02 * np.clip(
        torso.signed_distance(*np.mgrid[0:HEIGHT_PX, 0:WIDTH_PX][::-1].astype(np.float64)), -20, 20
    )
    m = measure_back(torso.pose(mushy.astype(np.float32)), Facing.LEFT, mm_per_px=1.0)
    assert m.outline is not None and not m.outline.mask_ok
    assert math.isnan(m.back_bulge_mm)


@pytest.mark.parametrize("facing", FACINGS)
@pytest.mark.parametrize("inclination_deg", [0.0, 80.0])
def test_head_and_chord_measures(facing: Facing, inclination_deg: float) -> None:
    torso = Torso(facing, inclination_deg, flat)
    mm_per_px = 2.5
    m = measure_back(torso.pose(torso.soft_mask()), facing, mm_per_px)
    assert m.spine_chord_mm == pytest.approx(CHORD_PX * mm_per_px)
    assert m.head_forward_mm == pytest.approx(0.05 * CHORD_PX * mm_per_px)
    assert m.chin_drop_mm == pytest.approx(0.02 * CHORD_PX * mm_per_px)
    assert m.chin_drop_deg == pytest.approx(math.degrees(math.atan2(0.02, 0.12)))
    measures = m.as_measures()
    assert measures[names.HEAD_FORWARD_MM] == m.head_forward_mm
    assert measures[CHIN_DROP_MM] == m.chin_drop_mm
    # Head pushed towards the back of the body reads negative.
    lm = torso.landmarks()
    for ear in (Landmark.LEFT_EAR, Landmark.RIGHT_EAR):
        lm[ear, :2] = torso.shoulder + 20.0 * torso.dorsal - 30.0 * torso.along
    back = measure_back(torso.pose(None, lm), facing, mm_per_px)
    assert back.head_forward_mm == pytest.approx(-20.0 * mm_per_px)


def test_reference_reports_deviation_from_the_persons_neutral() -> None:
    mm_per_px = 2.0

    # A person whose neutral back is hollow, with shoulder blades and buttocks at the ends.
    def shape(extra_px: float) -> Profile:
        def f(t: np.ndarray) -> np.ndarray:
            return (
                parabola(-2.0, 0.3, 0.8)(t)
                + 6.0 * np.clip(t - 0.8, 0, None) / 0.2
                + 4.0 * np.clip(0.25 - t, 0, None) / 0.25
                + parabola(extra_px, CFG.curve_start_frac, CFG.curve_stop_frac)(t)
            )

        return f

    ref = SpineReference(CFG, min_outlines=3)
    neutral = Torso(Facing.LEFT, 70.0, shape(0.0))
    outline = extract_back_outline(neutral.pose(neutral.soft_mask()), Facing.LEFT, CFG)
    assert outline is not None
    assert math.isnan(ref.deviation(outline, mm_per_px).curve_mm)  # not ready yet
    for _ in range(3):
        assert ref.add(outline, mm_per_px)
    assert ref.ready
    same = ref.deviation(outline, mm_per_px)
    for value in (same.curve_mm, same.bulge_mm, same.offset_mm):
        assert value == pytest.approx(0.0, abs=0.05)
    assert ref.noise().curve_mm == pytest.approx(0.0, abs=0.05)
    rounded = Torso(Facing.LEFT, 70.0, shape(4.0))
    r_outline = extract_back_outline(rounded.pose(rounded.soft_mask()), Facing.LEFT, CFG)
    assert r_outline is not None
    dev = ref.deviation(r_outline, mm_per_px)
    assert dev.curve_mm == pytest.approx(4.0 * mm_per_px, abs=TOL_PX * mm_per_px)
    assert dev.bulge_mm > 0
    # The arc's mean height over the offset band, as the direct computation gives it.
    t = CFG.fractions()
    band = (t >= CFG.offset_start_frac - 1e-9) & (t <= CFG.offset_stop_frac + 1e-9)
    arc = parabola(4.0, CFG.curve_start_frac, CFG.curve_stop_frac)(t[band])
    assert dev.offset_mm == pytest.approx(float(arc.mean()) * mm_per_px, abs=TOL_PX * mm_per_px)
    assert np.nanmax(ref.difference_mm(r_outline, mm_per_px)) > 0


def test_back_measurer_gives_pixels_with_fixed_keys() -> None:
    torso = Torso(Facing.RIGHT, 60.0, parabola(3.0, CFG.curve_start_frac, CFG.curve_stop_frac))
    measurer = BackMeasurer(CFG)
    values = measurer(torso.pose(torso.soft_mask()), Facing.RIGHT)
    assert values[BACK_CURVE_MM] == pytest.approx(3.0, abs=TOL_PX)
    assert values[names.SPINE_CHORD_MM] == pytest.approx(CHORD_PX)
    assert measurer.last_outline is not None
    missing = measurer(torso.pose(None), Facing.RIGHT)
    assert missing.keys() == values.keys()
    assert math.isnan(missing[BACK_OFFSET_MM])
    assert names.HEAD_FORWARD_MM not in values
    with_head = BackMeasurer(CFG, include_head=True)(torso.pose(None), Facing.RIGHT)
    assert with_head[names.HEAD_FORWARD_MM] == pytest.approx(0.05 * CHORD_PX)


# --- real clips (slow: runs the pose model) --------------------------------------------------

REAL_REPS_S = {  # reps 2-3 of each clip, from ../shared/videos/LABELS.tsv
    "hinge/0016r_1.mp4": ((5.3, 7.8), (7.8, 10.2)),
    "hinge/0016c_1.mp4": ((4.7, 6.5), (6.5, 8.2)),
}
BOTTOM_WITHIN_DEG = 5.0


def _bottom_means_pct_chord(clip: str, model_path: object) -> dict[str, float]:
    """Mean spine measures (% of the chord) over the bottom frames of the clip's reps 2-3."""
    from pathlib import Path

    from formcheck.pose.estimator import PoseEstimator
    from formcheck.video import open_source
    from tests.conftest import shared_clip

    path = shared_clip(clip)
    reps = REAL_REPS_S[clip]
    rows: list[tuple[float, float, dict[str, float]]] = []
    assert isinstance(model_path, Path)
    with open_source(path) as source, PoseEstimator(model_path, max_people=1) as estimator:
        for frame in source:
            t_s = frame.t_ms / 1000.0
            if t_s < reps[0][0]:
                continue
            if t_s >= reps[-1][1]:
                break
            pose = estimator.process(frame)
            if pose.landmarks_px is None:
                continue
            lm = pose.landmarks_px
            up = (lm[Landmark.LEFT_SHOULDER, :2] + lm[Landmark.RIGHT_SHOULDER, :2]) / 2 - (
                lm[Landmark.LEFT_HIP, :2] + lm[Landmark.RIGHT_HIP, :2]
            ) / 2
            inclination_deg = math.degrees(math.atan2(abs(up[0]), -up[1]))
            m = measure_back(pose, Facing.LEFT, mm_per_px=1.0)
            pct = {k: 100.0 * v / m.spine_chord_mm for k, v in m.as_measures().items()}
            rows.append((t_s, inclination_deg, pct))
    picked: list[dict[str, float]] = []
    for start_s, end_s in reps:
        in_rep = [r for r in rows if start_s <= r[0] < end_s]
        peak = max(r[1] for r in in_rep)
        picked += [r[2] for r in in_rep if r[1] >= peak - BOTTOM_WITHIN_DEG]
    return {k: float(np.nanmean([p[k] for p in picked])) for k in picked[0]}


@pytest.mark.slow
def test_rounded_clip_reads_rounder_than_the_correct_one(model_path: object) -> None:
    rounded = _bottom_means_pct_chord("hinge/0016r_1.mp4", model_path)
    correct = _bottom_means_pct_chord("hinge/0016c_1.mp4", model_path)
    # Same person and camera: measured 35 vs 29 % (offset), 1.0 vs 0.4 % (curve).
    assert rounded[BACK_OFFSET_MM] > correct[BACK_OFFSET_MM] + 2.0
    assert rounded[BACK_CURVE_MM] > correct[BACK_CURVE_MM]
    assert rounded[names.BACK_BULGE_MM] > correct[names.BACK_BULGE_MM]
