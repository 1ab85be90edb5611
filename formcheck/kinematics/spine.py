"""Shape of the back and position of the head, seen from the side.

The landmarks cannot see a rounded lower back; the person mask can. For stations along the
shoulder-hip chord a line is cast perpendicular to the chord towards the dorsal side (the side
opposite the facing direction) and the mask's 0.5 crossing is read to a fraction of a pixel.
That gives the back outline as offsets from the chord, from which:

- ``back_bulge_mm``: the middle of the outline against the line through its two ends
  (+ rounded/convex, - arched/hollow). Simple, but the shoulder blades sit at one end and the
  buttocks at the other, so its absolute value varies a lot between people.
- ``back_curve_mm``: the sagitta of a quadratic fitted to the outline over the
  lumbar/lower-thoracic stations only (same sign convention). It uses every valid station there
  (less noise) and keeps clear of the buttocks and the shoulder blades.
- ``back_offset_mm``: the mean distance of the middle of the outline from the shoulder-hip
  chord. Its absolute value is mostly the body's thickness, but it is the most sensitive to a
  change of the back's shape: when the spine flexes, the chord shortens under the back and the
  outline moves away from it. Use it only against the person's own reference.
- ``spine_chord_mm``: the shoulder-hip chord length (shrinks when the back rounds).
- ``head_forward_mm``: ear ahead of the hip->shoulder line, towards the front of the body.
- ``chin_drop_mm`` / ``chin_drop_deg``: nose below the ear along the trunk axis (+ chin towards
  the chest).

Absolute values differ between people and cameras far more than the faults do (see FACTS.md):
compare each person with their own neutral reference, taken in the same posture (the bottom
of a neutral calibration rep or of the first reps, not standing), with :class:`SpineReference`.

Coordinates: image pixels, x right, y down. Station fractions run from the shoulder (0) to the
hip (1).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from enum import Enum

import numpy as np
import numpy.typing as npt

from formcheck.kinematics import names
from formcheck.kinematics.back_shape import (
    NO_ESTIMATE,
    BackShapeInput,
    BackShapeModel,
    back_rounding_px,
)
from formcheck.kinematics.back_shape import load_model as load_shape_model
from formcheck.kinematics.contour import outward_edges
from formcheck.kinematics.orientation import camera_yaw_from_side_deg
from formcheck.pose.landmarks import Landmark
from formcheck.types import Facing, PoseFrame

F64 = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

# Measure names this module adds to those in ``names`` (proposed for names.py).
CHIN_DROP_DEG = "chin_drop_deg"  # ear->nose direction below the trunk's front normal

_NAN = float("nan")


class SideChoice(Enum):
    """Which landmarks stand for the shoulder, hip and ear in a side view."""

    MEAN = "mean"  # average of both sides (the far side is a guess, but averaging steadies it)
    NEAR = "near"  # the side with the higher visibility (nearer the camera)
    LEFT = "left"  # the person's own left
    RIGHT = "right"


@dataclass(frozen=True, slots=True)
class SpineConfig:
    """Every tunable of the back-outline measures. Fractions are of the shoulder-hip chord."""

    station_start_frac: float = 0.1
    station_stop_frac: float = 0.9
    station_count: int = 33
    # The ray starts this far towards the belly (to find the body when the chord point is not
    # inside the mask) and looks this far towards the back.
    search_ventral_frac: float = 0.3
    search_dorsal_frac: float = 0.8
    ray_step_px: float = 1.0
    min_outside_px: float = 3.0  # outside run needed after the edge (steps over mask holes)
    contrast_offset_px: float = 3.0
    # back_bulge: middle band against the line through the two end bands.
    bulge_start_frac: float = 0.15
    bulge_stop_frac: float = 0.85
    bulge_end_band_frac: float = 0.1
    bulge_mid_half_width_frac: float = 0.1
    # back_curve: quadratic over the lumbar/lower-thoracic stations.
    curve_start_frac: float = 0.25
    curve_stop_frac: float = 0.85
    # back_offset: mean outline distance from the chord over the middle stations.
    offset_start_frac: float = 0.3
    offset_stop_frac: float = 0.7
    min_offset_stations: int = 3
    # Quality.
    arm_radius_frac: float = 0.08  # an arm this close to (or beyond) the outline hides it
    arm_min_visibility: float = 0.5
    arm_samples_per_segment: int = 12
    jump_frac: float = 0.05  # a step in the outline larger than this (plus the slope) -> dropped
    jump_min_px: float = 2.0
    jump_slope: float = 1.0  # outline slope (px per px along the chord) allowed on top
    jump_max_run_frac: float = 0.35  # longest raised run at an end of the outline
    jump_window: int = 5  # stations in the running median for lone spikes
    jump_dilate_stations: int = 1  # neighbours of a dropped run dropped with it
    min_valid_fraction: float = 0.6
    min_band_stations: int = 2
    min_mask_confidence: float = 0.5
    min_chord_px: float = 20.0
    side: SideChoice = SideChoice.MEAN

    def __post_init__(self) -> None:
        if not 0.0 <= self.station_start_frac < self.station_stop_frac <= 1.0:
            raise ValueError("station fractions must satisfy 0 <= start < stop <= 1")
        if self.station_count < 5:
            raise ValueError("station_count must be at least 5")
        if self.ray_step_px <= 0.0:
            raise ValueError("ray_step_px must be positive")

    def fractions(self) -> F64:
        return np.linspace(self.station_start_frac, self.station_stop_frac, self.station_count)


@dataclass(frozen=True, slots=True)
class TrunkPoints:
    """Landmarks standing for one side-view trunk, in px."""

    shoulder_px: F64
    hip_px: F64
    ear_px: F64
    nose_px: F64


@dataclass(frozen=True, slots=True)
class BackOutline:
    """The dorsal outline between shoulder and hip.

    fractions: (N,) station positions along the chord, shoulder 0 -> hip 1.
    offsets_px: (N,) outline distance from the chord towards the back, NaN where not valid.
    points_px: (N, 2) outline points x, y (NaN where not valid).
    valid: (N,) stations used by the measures.
    arm_overlap / jump: (N,) why a station was dropped.
    contrast: (N,) mask value just inside minus just outside the edge (1 = crisp).
    """

    fractions: F64
    offsets_px: F64
    points_px: F64
    valid: BoolArray
    arm_overlap: BoolArray
    jump: BoolArray
    contrast: F64
    shoulder_px: F64
    hip_px: F64
    dorsal_unit: F64
    chord_px: float
    enough_stations: bool
    mask_confidence: float  # median edge contrast over valid stations, 0..1 (NaN: none)
    mask_ok: bool

    @property
    def usable(self) -> bool:
        return self.enough_stations and self.mask_ok

    def offsets_mm(self, mm_per_px: float) -> F64:
        return np.where(self.valid, self.offsets_px, np.nan) * mm_per_px


@dataclass(frozen=True, slots=True)
class SpineMeasures:
    """The spine and head measures of one frame (NaN when unavailable)."""

    back_bulge_mm: float = _NAN
    back_curve_mm: float = _NAN
    back_offset_mm: float = _NAN
    spine_chord_mm: float = _NAN
    head_forward_mm: float = _NAN
    chin_drop_mm: float = _NAN
    chin_drop_deg: float = _NAN
    outline: BackOutline | None = field(default=None, repr=False)

    def as_measures(self) -> dict[str, float]:
        """Named measures for a Sample."""
        return {
            names.BACK_BULGE_MM: self.back_bulge_mm,
            names.BACK_CURVE_MM: self.back_curve_mm,
            names.BACK_OFFSET_MM: self.back_offset_mm,
            names.SPINE_CHORD_MM: self.spine_chord_mm,
            names.HEAD_FORWARD_MM: self.head_forward_mm,
            names.CHIN_DROP_MM: self.chin_drop_mm,
            CHIN_DROP_DEG: self.chin_drop_deg,
        }


# --- geometry --------------------------------------------------------------------------------


def ventral_normal(trunk_up: F64, facing: Facing) -> F64 | None:
    """Unit normal of the trunk axis pointing to the front of the body.

    ``trunk_up`` is the hip->shoulder unit vector. Facing LEFT standing upright (up = (0, -1))
    the front is (-1, 0); bending forward turns the front with the trunk (towards the floor).
    """
    ux, uy = float(trunk_up[0]), float(trunk_up[1])
    if facing is Facing.LEFT:
        return np.array([uy, -ux])
    if facing is Facing.RIGHT:
        return np.array([-uy, ux])
    return None


def _pick(pose: PoseFrame, left: Landmark, right: Landmark, side: SideChoice) -> F64:
    assert pose.landmarks_px is not None and pose.visibility is not None
    lm = pose.landmarks_px
    if side is SideChoice.LEFT:
        return np.asarray(lm[left, :2], dtype=np.float64)
    if side is SideChoice.RIGHT:
        return np.asarray(lm[right, :2], dtype=np.float64)
    return 0.5 * (np.asarray(lm[left, :2], dtype=np.float64) + lm[right, :2])


def near_side(pose: PoseFrame) -> SideChoice:
    """The side whose shoulder, hip and ear are better seen."""
    assert pose.visibility is not None
    vis = pose.visibility
    left = vis[Landmark.LEFT_SHOULDER] + vis[Landmark.LEFT_HIP] + vis[Landmark.LEFT_EAR]
    right = vis[Landmark.RIGHT_SHOULDER] + vis[Landmark.RIGHT_HIP] + vis[Landmark.RIGHT_EAR]
    return SideChoice.LEFT if left >= right else SideChoice.RIGHT


def trunk_points(pose: PoseFrame, side: SideChoice = SideChoice.MEAN) -> TrunkPoints | None:
    """Shoulder, hip, ear and nose for a side view, or None without a pose."""
    if pose.landmarks_px is None or pose.visibility is None:
        return None
    if side is SideChoice.NEAR:
        side = near_side(pose)
    pts = TrunkPoints(
        shoulder_px=_pick(pose, Landmark.LEFT_SHOULDER, Landmark.RIGHT_SHOULDER, side),
        hip_px=_pick(pose, Landmark.LEFT_HIP, Landmark.RIGHT_HIP, side),
        ear_px=_pick(pose, Landmark.LEFT_EAR, Landmark.RIGHT_EAR, side),
        nose_px=np.asarray(pose.landmarks_px[Landmark.NOSE, :2], dtype=np.float64),
    )
    if not all(np.isfinite(p).all() for p in (pts.shoulder_px, pts.hip_px)):
        return None
    return pts


_ARMS = (
    (Landmark.LEFT_SHOULDER, Landmark.LEFT_ELBOW, Landmark.LEFT_WRIST, Landmark.LEFT_INDEX),
    (Landmark.RIGHT_SHOULDER, Landmark.RIGHT_ELBOW, Landmark.RIGHT_WRIST, Landmark.RIGHT_INDEX),
)


def _arm_points(pose: PoseFrame, config: SpineConfig) -> F64:
    """Points sampled along the seen arm segments (upper arm, forearm, hand), (M, 2)."""
    assert pose.landmarks_px is not None and pose.visibility is not None
    lm = np.asarray(pose.landmarks_px[:, :2], dtype=np.float64)
    vis = pose.visibility
    w = np.linspace(0.0, 1.0, config.arm_samples_per_segment)[:, None]
    chunks = [
        lm[a] * (1.0 - w) + lm[b] * w
        for chain in _ARMS
        for a, b in itertools.pairwise(chain)
        if min(vis[a], vis[b]) >= config.arm_min_visibility
    ]
    return np.concatenate(chunks, axis=0) if chunks else np.zeros((0, 2))


def _arm_overlap(
    arm_px: F64,
    shoulder: F64,
    along: F64,
    dorsal: F64,
    station_along_px: F64,
    offsets_px: F64,
    radius_px: float,
) -> BoolArray:
    """Stations whose outline an arm reaches: the arm is level with it and not well inside."""
    if arm_px.shape[0] == 0:
        return np.zeros(station_along_px.shape, dtype=bool)
    rel = arm_px - shoulder
    a_along = rel @ along
    a_across = rel @ dorsal
    level = np.abs(a_along[None, :] - station_along_px[:, None]) < radius_px
    reach = a_across[None, :] > (offsets_px[:, None] - radius_px)
    return np.asarray((level & reach).any(axis=1))


def _jumps(
    fractions: F64, offsets_px: F64, valid: BoolArray, chord_px: float, cfg: SpineConfig
) -> BoolArray:
    """Valid stations that stick out of the outline: raised runs and lone spikes.

    An arm or hand across the back raises the outline by its thickness between a step up and
    a step down (a step: adjacent valid stations further apart than ``jump_frac`` of the chord
    plus ``jump_slope`` times their spacing). A raised run at either end needs only its inner
    step and at most ``jump_max_run_frac`` of the chord. A lone station off the running median
    of its neighbours by more than the step limit is a spike.
    """
    out = np.zeros(offsets_px.shape, dtype=bool)
    idx = np.flatnonzero(valid)
    if idx.size < 3:
        return out
    t = fractions[idx]
    vals = offsets_px[idx]
    base_px = max(cfg.jump_min_px, cfg.jump_frac * chord_px)
    limit = base_px + cfg.jump_slope * np.diff(t) * chord_px
    step = np.diff(vals)
    ups = np.flatnonzero(step > limit)  # run starts at k + 1
    downs = np.flatnonzero(step < -limit)  # run ends at k
    raised = np.zeros(idx.size, dtype=bool)
    for k in ups:
        later = downs[downs > k]
        end = int(later[0]) if later.size else int(idx.size - 1)
        if later.size or t[-1] - t[k + 1] <= cfg.jump_max_run_frac:
            raised[k + 1 : end + 1] = True
    for k_down in downs:
        if not (ups < k_down).any() and t[k_down] - t[0] <= cfg.jump_max_run_frac:
            raised[: k_down + 1] = True
    half = cfg.jump_window // 2
    padded = np.pad(vals, half, mode="edge")
    running = np.median(np.lib.stride_tricks.sliding_window_view(padded, 2 * half + 1), axis=1)
    raised |= np.abs(vals - running) > base_px
    # The flanks of an arm blend into the back: drop the stations next to a raised run too.
    grown = raised.copy()
    for shift in range(1, cfg.jump_dilate_stations + 1):
        grown[shift:] |= raised[:-shift]
        grown[:-shift] |= raised[shift:]
    out[idx[grown]] = True
    return out


# --- the outline -----------------------------------------------------------------------------


def extract_back_outline(
    pose: PoseFrame, facing: Facing, config: SpineConfig | None = None
) -> BackOutline | None:
    """The dorsal outline between shoulder and hip, or None without pose, mask or side view."""
    cfg = config or SpineConfig()
    if pose.mask is None or facing not in (Facing.LEFT, Facing.RIGHT):
        return None
    pts = trunk_points(pose, cfg.side)
    if pts is None:
        return None
    chord_vec = pts.hip_px - pts.shoulder_px
    chord_px = float(np.hypot(*chord_vec))
    if not math.isfinite(chord_px) or chord_px < cfg.min_chord_px:
        return None
    along = chord_vec / chord_px  # shoulder -> hip
    ventral = ventral_normal(-along, facing)
    assert ventral is not None
    dorsal = -ventral
    fractions = cfg.fractions()
    station_along = fractions * chord_px
    origins = pts.shoulder_px[None, :] + station_along[:, None] * along[None, :]
    directions = np.broadcast_to(dorsal, origins.shape).copy()
    edges = outward_edges(
        pose.mask,
        origins,
        directions,
        start_px=-cfg.search_ventral_frac * chord_px,
        stop_px=cfg.search_dorsal_frac * chord_px,
        step_px=cfg.ray_step_px,
        min_outside_px=cfg.min_outside_px,
        contrast_offset_px=cfg.contrast_offset_px,
        mask_origin_px=pose.mask_origin_px,  # the mask may be a crop (kinematics.mask_crop)
    )
    offsets = edges.distance_px
    points = origins + directions * offsets[:, None]
    height, width = pose.image_height_px, pose.image_width_px
    in_frame = (
        (points[:, 0] > 1.0)
        & (points[:, 0] < width - 2.0)
        & (points[:, 1] > 1.0)
        & (points[:, 1] < height - 2.0)
    )
    found = np.isfinite(offsets) & in_frame
    arm = np.zeros(fractions.shape, dtype=bool)
    arm[found] = _arm_overlap(
        _arm_points(pose, cfg),
        pts.shoulder_px,
        along,
        dorsal,
        station_along[found],
        offsets[found],
        cfg.arm_radius_frac * chord_px,
    )
    valid = found & ~arm
    jump = _jumps(fractions, offsets, valid, chord_px, cfg)
    valid &= ~jump
    confidence = float(np.median(edges.contrast[valid])) if valid.any() else _NAN
    enough = bool(
        valid.mean() >= cfg.min_valid_fraction
        and _band_count(
            fractions, valid, cfg.bulge_start_frac, cfg.bulge_start_frac + cfg.bulge_end_band_frac
        )
        >= cfg.min_band_stations
        and _band_count(
            fractions, valid, cfg.bulge_stop_frac - cfg.bulge_end_band_frac, cfg.bulge_stop_frac
        )
        >= cfg.min_band_stations
    )
    return BackOutline(
        fractions=fractions,
        offsets_px=np.where(valid, offsets, np.nan),
        points_px=np.where(valid[:, None], points, np.nan),
        valid=valid,
        arm_overlap=arm,
        jump=jump,
        contrast=edges.contrast,
        shoulder_px=pts.shoulder_px,
        hip_px=pts.hip_px,
        dorsal_unit=dorsal,
        chord_px=chord_px,
        enough_stations=enough,
        mask_confidence=confidence,
        mask_ok=bool(math.isfinite(confidence) and confidence >= cfg.min_mask_confidence),
    )


def _band_count(fractions: F64, valid: BoolArray, lo: float, hi: float) -> int:
    eps = 1e-9
    return int((valid & (fractions >= lo - eps) & (fractions <= hi + eps)).sum())


# --- shape measures (px) ---------------------------------------------------------------------


def mid_vs_ends_px(
    fractions: F64,
    offsets_px: F64,
    start: float,
    stop: float,
    end_band: float,
    mid_half_width: float,
    min_stations: int = 1,
) -> float:
    """Middle band of the outline against the line through its two end bands (+ convex)."""
    eps = 1e-9
    ok = np.isfinite(offsets_px)
    first = ok & (fractions >= start - eps) & (fractions <= start + end_band + eps)
    last = ok & (fractions >= stop - end_band - eps) & (fractions <= stop + eps)
    centre = 0.5 * (start + stop)
    mid = ok & (np.abs(fractions - centre) <= mid_half_width + eps)
    if min(first.sum(), last.sum(), mid.sum()) < min_stations:
        return _NAN
    t0, d0 = float(fractions[first].mean()), float(offsets_px[first].mean())
    t1, d1 = float(fractions[last].mean()), float(offsets_px[last].mean())
    line = d0 + (fractions[mid] - t0) * (d1 - d0) / (t1 - t0)
    return float(np.mean(offsets_px[mid] - line))


def quadratic_sagitta_px(
    fractions: F64, offsets_px: F64, start: float, stop: float, min_stations: int = 5
) -> float:
    """Height of a quadratic fitted over [start, stop] above the chord of its ends (+ convex).

    A parabola d(t) = a + b t + c t^2 rises -c (stop - start)^2 / 4 above the straight line
    joining its ends at the middle; fitting all the valid stations averages their noise.
    """
    eps = 1e-9
    ok = np.isfinite(offsets_px) & (fractions >= start - eps) & (fractions <= stop + eps)
    if ok.sum() < min_stations:
        return _NAN
    t = fractions[ok]
    if t.max() - t.min() < 0.5 * (stop - start):
        return _NAN  # the valid stations do not span the band
    c = float(np.polyfit(t - 0.5 * (start + stop), offsets_px[ok], 2)[0])
    return -c * (stop - start) ** 2 / 4.0


def mean_offset_px(
    fractions: F64, offsets_px: F64, start: float, stop: float, min_stations: int = 3
) -> float:
    """Mean outline distance from the chord over [start, stop]; needs stations on both halves."""
    eps = 1e-9
    ok = np.isfinite(offsets_px) & (fractions >= start - eps) & (fractions <= stop + eps)
    centre = 0.5 * (start + stop)
    if ok.sum() < min_stations or not (ok & (fractions < centre)).any():
        return _NAN
    if not (ok & (fractions > centre)).any():
        return _NAN
    return float(offsets_px[ok].mean())


def outline_bulge_px(outline: BackOutline, config: SpineConfig | None = None) -> float:
    cfg = config or SpineConfig()
    return mid_vs_ends_px(
        outline.fractions,
        outline.offsets_px,
        cfg.bulge_start_frac,
        cfg.bulge_stop_frac,
        cfg.bulge_end_band_frac,
        cfg.bulge_mid_half_width_frac,
        cfg.min_band_stations,
    )


def outline_curve_px(outline: BackOutline, config: SpineConfig | None = None) -> float:
    cfg = config or SpineConfig()
    return quadratic_sagitta_px(
        outline.fractions, outline.offsets_px, cfg.curve_start_frac, cfg.curve_stop_frac
    )


def outline_offset_px(outline: BackOutline, config: SpineConfig | None = None) -> float:
    cfg = config or SpineConfig()
    return mean_offset_px(
        outline.fractions,
        outline.offsets_px,
        cfg.offset_start_frac,
        cfg.offset_stop_frac,
        cfg.min_offset_stations,
    )


# --- the per-frame entry point ---------------------------------------------------------------


def _head_measures(pts: TrunkPoints, facing: Facing, mm_per_px: float) -> tuple[float, ...]:
    trunk = pts.shoulder_px - pts.hip_px
    length = float(np.hypot(*trunk))
    ventral = ventral_normal(trunk / length, facing) if length > 0.0 else None
    if ventral is None or not np.isfinite(pts.ear_px).all():
        return (_NAN, _NAN, _NAN)
    up = trunk / length
    head_forward = float((pts.ear_px - pts.shoulder_px) @ ventral) * mm_per_px
    if not np.isfinite(pts.nose_px).all():
        return (head_forward, _NAN, _NAN)
    ear_to_nose = pts.nose_px - pts.ear_px
    down_px = -float(ear_to_nose @ up)
    chin_deg = math.degrees(math.atan2(down_px, float(ear_to_nose @ ventral)))
    return (head_forward, down_px * mm_per_px, chin_deg)


def measure_back(
    pose: PoseFrame, facing: Facing, mm_per_px: float, config: SpineConfig | None = None
) -> SpineMeasures:
    """Spine and head measures of one frame; NaN for whatever cannot be measured.

    ``mm_per_px`` is the calibration scale at the person (NaN gives NaN millimetres).
    The outline-based measures are NaN unless the outline is usable (enough valid stations
    and a confident mask); the outline itself is returned for drawing whenever it exists.
    """
    if mm_per_px <= 0.0:
        raise ValueError(f"mm_per_px must be positive, got {mm_per_px}")
    cfg = config or SpineConfig()
    if facing not in (Facing.LEFT, Facing.RIGHT):
        return SpineMeasures()
    pts = trunk_points(pose, cfg.side)
    if pts is None:
        return SpineMeasures()
    chord_px = float(np.hypot(*(pts.hip_px - pts.shoulder_px)))
    head_forward, chin_mm, chin_deg = _head_measures(pts, facing, mm_per_px)
    outline = extract_back_outline(pose, facing, cfg)
    bulge = curve = offset = _NAN
    if outline is not None and outline.usable:
        bulge = outline_bulge_px(outline, cfg) * mm_per_px
        curve = outline_curve_px(outline, cfg) * mm_per_px
        offset = outline_offset_px(outline, cfg) * mm_per_px
    return SpineMeasures(
        back_bulge_mm=bulge,
        back_curve_mm=curve,
        back_offset_mm=offset,
        spine_chord_mm=chord_px * mm_per_px,
        head_forward_mm=head_forward,
        chin_drop_mm=chin_mm,
        chin_drop_deg=chin_deg,
        outline=outline,
    )


class BackMeasurer:
    """The spine measures of each frame in pixels, for ``KinematicsStage`` (``SpineMeasurer``).

    The stage multiplies every ``_mm`` value by the calibration's mm per px, so those keys are
    the millimetre names and their values are pixels; ``lumbar_flexion_deg`` and its
    uncertainty (``kinematics.back_shape``, judged without a reference) pass as they are.
    Head position is left to the landmark measures unless ``include_head`` is set. The last
    outline is kept for drawing.
    """

    def __init__(
        self,
        config: SpineConfig | None = None,
        *,
        include_head: bool = False,
        shape_model: BackShapeModel | None = None,
    ) -> None:
        self.config = config or SpineConfig()
        self.include_head = include_head
        self.shape_model = shape_model or load_shape_model()
        self.last_outline: BackOutline | None = None
        self.last_input: BackShapeInput | None = None  # what the shape model last read

    def __call__(self, pose: PoseFrame, facing: Facing) -> dict[str, float]:
        m = measure_back(pose, facing, 1.0, self.config)
        self.last_outline = m.outline
        out = {
            names.BACK_BULGE_MM: m.back_bulge_mm,
            names.BACK_CURVE_MM: m.back_curve_mm,
            names.BACK_OFFSET_MM: m.back_offset_mm,
            names.SPINE_CHORD_MM: m.spine_chord_mm,
        }
        out[names.CHIN_DROP_MM] = m.chin_drop_mm
        if self.include_head:
            out[names.HEAD_FORWARD_MM] = m.head_forward_mm
        out.update(self.lumbar(pose, m.outline))
        return out

    def lumbar(self, pose: PoseFrame, outline: BackOutline | None) -> dict[str, float]:
        """Lumbar flexion judged absolutely (``kinematics.back_shape``) from a usable outline;
        ``back_rounding_mm`` in pixels like the other lengths (NaN without an estimate)."""
        est = NO_ESTIMATE
        self.last_input = None
        if outline is not None and outline.usable and pose.landmarks_px is not None:
            self.last_input = BackShapeInput(
                fractions=outline.fractions,
                offsets_px=outline.offsets_px,
                chord_px=outline.chord_px,
                landmarks_px=np.asarray(pose.landmarks_px, np.float64),
                yaw_deg=camera_yaw_from_side_deg(pose),
                mask_confidence=outline.mask_confidence,
            )
            est = self.shape_model.estimate(self.last_input)
        rounding = (
            back_rounding_px(est.flexion_deg, outline.chord_px) if outline is not None else _NAN
        )
        return {
            names.LUMBAR_FLEXION_DEG: est.flexion_deg,
            names.LUMBAR_FLEXION_SD_DEG: est.sd_deg,
            names.BACK_ROUNDING_MM: rounding,
        }


# --- the person's own neutral reference ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SpineDeviation:
    """How an outline departs from the reference, per measure, in mm (+ rounder)."""

    bulge_mm: float = _NAN
    curve_mm: float = _NAN
    offset_mm: float = _NAN


class SpineReference:
    """A person's neutral back outline, and how far later outlines depart from it.

    Feed it usable outlines from a neutral period in the posture that will be judged: the
    bottom of a neutral calibration rep or of the first reps. A standing outline is not a
    reference for the bottom of a hinge (the buttocks, shoulder blades and arms change shape
    with the posture; on real clips the change from standing did not separate a rounded back).
    The reference is the per-station median in mm. A later outline's deviation is each shape
    measure of its difference from the reference (the measures are linear in the outline, so
    this equals the change of the measure, computed on the stations both have). The station
    grid must be the same for every outline (one SpineConfig).
    """

    def __init__(self, config: SpineConfig | None = None, min_outlines: int = 3) -> None:
        self._cfg = config or SpineConfig()
        self._min_outlines = min_outlines
        self._profiles: list[F64] = []

    @property
    def count(self) -> int:
        return len(self._profiles)

    @property
    def ready(self) -> bool:
        return len(self._profiles) >= self._min_outlines

    def add(self, outline: BackOutline, mm_per_px: float) -> bool:
        """Store an outline if usable; returns whether it was taken."""
        if not outline.usable or outline.fractions.shape != self._cfg.fractions().shape:
            return False
        self._profiles.append(outline.offsets_mm(mm_per_px))
        return True

    def reset(self) -> None:
        self._profiles.clear()

    def profile_mm(self) -> F64:
        """Per-station reference offsets (NaN until ready or where never seen)."""
        if not self.ready:
            return np.full(self._cfg.station_count, np.nan)
        stack = np.vstack(self._profiles)
        seen = np.isfinite(stack).sum(axis=0) > 0
        med = np.full(stack.shape[1], np.nan)
        med[seen] = np.nanmedian(stack[:, seen], axis=0)
        return med

    def difference_mm(self, outline: BackOutline, mm_per_px: float) -> F64:
        """Per-station outline offset minus the reference, mm (NaN where either is missing)."""
        return outline.offsets_mm(mm_per_px) - self.profile_mm()

    def deviation(self, outline: BackOutline, mm_per_px: float) -> SpineDeviation:
        """Shape measures of the outline against the reference (NaN until ready/usable)."""
        if not self.ready or not outline.usable:
            return SpineDeviation()
        return self._measures(self.difference_mm(outline, mm_per_px))

    def noise(self) -> SpineDeviation:
        """Spread (sd) of the reference outlines' own deviations: the noise floor."""
        if not self.ready:
            return SpineDeviation()
        ref = self.profile_mm()
        devs = [self._measures(p - ref) for p in self._profiles]

        def sd(values: list[float]) -> float:
            v = np.array([x for x in values if math.isfinite(x)])
            return float(np.std(v, ddof=1)) if v.size >= 2 else _NAN

        return SpineDeviation(
            bulge_mm=sd([d.bulge_mm for d in devs]),
            curve_mm=sd([d.curve_mm for d in devs]),
            offset_mm=sd([d.offset_mm for d in devs]),
        )

    def _measures(self, diff_mm: F64) -> SpineDeviation:
        cfg = self._cfg
        t = cfg.fractions()
        return SpineDeviation(
            bulge_mm=mid_vs_ends_px(
                t,
                diff_mm,
                cfg.bulge_start_frac,
                cfg.bulge_stop_frac,
                cfg.bulge_end_band_frac,
                cfg.bulge_mid_half_width_frac,
                cfg.min_band_stations,
            ),
            curve_mm=quadratic_sagitta_px(t, diff_mm, cfg.curve_start_frac, cfg.curve_stop_frac),
            offset_mm=mean_offset_px(
                t, diff_mm, cfg.offset_start_frac, cfg.offset_stop_frac, cfg.min_offset_stations
            ),
        )
