"""Body proportions: segment lengths and girths scaled by height and varied per person.

Lengths follow the anthropometric segment fractions of body height H in Winter (2009,
after Drillis & Contini): thigh 0.245 H, shank 0.246 H, ankle height 0.039 H, foot 0.152 H,
upper arm 0.186 H, forearm 0.146 H, hand 0.108 H, shoulder (glenohumeral) height 0.818 H.
The spine is split into lumbar and thoracic pieces so flexion can be placed where it happens.
Girths are fractions of H scaled by a random build factor; all values are metres.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

HEIGHT_MIN_M = 1.50
HEIGHT_MAX_M = 1.95

LUMBAR_SEGMENTS = 3
THORACIC_SEGMENTS = 3

# Fractions of body height (Winter / Drillis-Contini and surface anthropometry).
THIGH_FRAC = 0.245
SHANK_FRAC = 0.246
ANKLE_HEIGHT_FRAC = 0.039
FOOT_HEEL_FRAC = 0.040  # heel back behind the ankle joint
FOOT_TOE_FRAC = 0.112  # toe tip ahead of the ankle joint
UPPER_ARM_FRAC = 0.186
FOREARM_FRAC = 0.146
HAND_FRAC = 0.108
HIP_HALF_WIDTH_FRAC = 0.050  # half distance between hip joint centres
SACRUM_BACK_FRAC = 0.020  # L5/S1 behind the hip joint centres
SACRUM_UP_FRAC = 0.055  # L5/S1 above the hip joint centres
LUMBAR_FRAC = 0.100
THORACIC_FRAC = 0.160
NECK_FRAC = 0.065
SHOULDER_FORWARD_FRAC = 0.015  # glenohumeral joint relative to C7, in the upper thorax frame
SHOULDER_DOWN_FRAC = 0.027
SHOULDER_HALF_WIDTH_FRAC = 0.105
HEAD_RADII_FRAC = (0.056, 0.066, 0.044)  # forward, up, lateral semi-axes
HEAD_CENTRE_UP_FRAC = 0.030  # above the atlanto-occipital joint
HEAD_CENTRE_FORWARD_FRAC = 0.012

# Neutral standing curvature: inclination of each spine piece from vertical (deg, forward +).
LUMBAR_REST_INCLINATION_DEG = (10.0, 0.0, -10.0)
THORACIC_REST_INCLINATION_DEG = (-8.0, 4.0, 14.0)
NECK_REST_INCLINATION_DEG = 18.0

LENGTH_JITTER_FRAC = 0.03  # per-segment random variation of length fractions (1 sigma)
GIRTH_JITTER_FRAC = 0.05  # per-part random variation of girths (1 sigma)
BUILD_MIN = 0.88  # whole-body girth factor range (slim .. broad)
BUILD_MAX = 1.18


@dataclass(frozen=True, slots=True)
class TorsoPiece:
    """Cross-section of the trunk around one spine piece (metres).

    The trunk is drawn as two capsules side by side (a rounded-rectangle cross-section):
    ``half_depth_m`` is their radius, ``half_width_m`` the half width of the whole trunk, and
    ``back_depth_m`` how far the skin of the back lies behind the spine line.
    """

    half_depth_m: float
    half_width_m: float
    back_depth_m: float


@dataclass(frozen=True, slots=True)
class BodyShape:
    """Proportions of one synthetic person; every length in metres."""

    height_m: float
    thigh_m: float
    shank_m: float
    ankle_height_m: float
    foot_heel_m: float
    foot_toe_m: float
    upper_arm_m: float
    forearm_m: float
    hand_m: float
    hip_half_width_m: float
    sacrum_back_m: float
    sacrum_up_m: float
    lumbar_m: tuple[float, ...]
    thoracic_m: tuple[float, ...]
    neck_m: float
    shoulder_forward_m: float
    shoulder_down_m: float
    shoulder_half_width_m: float
    head_radii_m: tuple[float, float, float]  # forward, up, lateral semi-axes
    head_centre_up_m: float  # above the head joint (atlanto-occipital)
    head_centre_forward_m: float
    # girths (radii, m)
    lumbar_piece: TorsoPiece
    thoracic_pieces: tuple[TorsoPiece, ...]
    pelvis_piece: TorsoPiece
    buttock_radius_m: float
    neck_radius_m: float
    upper_arm_radius_m: float
    forearm_radius_m: float
    thigh_radius_m: float
    shank_radius_m: float
    foot_radius_m: float
    build: float = 1.0
    lumbar_rest_deg: tuple[float, ...] = field(default=LUMBAR_REST_INCLINATION_DEG)
    thoracic_rest_deg: tuple[float, ...] = field(default=THORACIC_REST_INCLINATION_DEG)
    neck_rest_deg: float = NECK_REST_INCLINATION_DEG

    @property
    def spine_lengths_m(self) -> tuple[float, ...]:
        return self.lumbar_m + self.thoracic_m

    @property
    def spine_rest_deg(self) -> tuple[float, ...]:
        return self.lumbar_rest_deg + self.thoracic_rest_deg


def make_body(height_m: float, rng: np.random.Generator | None = None) -> BodyShape:
    """A body of the given height; with ``rng`` the proportions and girths vary randomly.

    Without ``rng`` the body is the average person of that height (build 1.0).
    """
    if not HEIGHT_MIN_M <= height_m <= HEIGHT_MAX_M:
        raise ValueError(f"height_m must be in {HEIGHT_MIN_M}..{HEIGHT_MAX_M}, got {height_m}")
    h = height_m

    def length(frac: float) -> float:
        jitter = 1.0 if rng is None else 1.0 + LENGTH_JITTER_FRAC * float(rng.standard_normal())
        return frac * h * jitter

    build = 1.0 if rng is None else float(rng.uniform(BUILD_MIN, BUILD_MAX))

    def girth(frac: float) -> float:
        jitter = 1.0 if rng is None else 1.0 + GIRTH_JITTER_FRAC * float(rng.standard_normal())
        return frac * h * build * jitter

    thigh, shank, neck = length(THIGH_FRAC), length(SHANK_FRAC), length(NECK_FRAC)
    lumbar_total, thoracic_total = length(LUMBAR_FRAC), length(THORACIC_FRAC)
    # Keep the stature: the legs, spine and neck share a scale that undoes their jitter.
    head_top = HEAD_CENTRE_UP_FRAC * h + HEAD_RADII_FRAC[1] * h
    fixed = ANKLE_HEIGHT_FRAC * h + SACRUM_UP_FRAC * h + head_top
    lumbar_cos = np.mean(np.cos(np.radians(LUMBAR_REST_INCLINATION_DEG)))
    thoracic_cos = np.mean(np.cos(np.radians(THORACIC_REST_INCLINATION_DEG)))
    variable = (
        thigh
        + shank
        + lumbar_total * lumbar_cos
        + thoracic_total * thoracic_cos
        + neck * np.cos(np.radians(NECK_REST_INCLINATION_DEG))
    )
    k = float((h - fixed) / variable)
    thigh, shank, neck, lumbar_total, thoracic_total = (
        x * k for x in (thigh, shank, neck, lumbar_total, thoracic_total)
    )
    lumbar = tuple(lumbar_total / LUMBAR_SEGMENTS for _ in range(LUMBAR_SEGMENTS))
    thoracic = tuple(thoracic_total / THORACIC_SEGMENTS for _ in range(THORACIC_SEGMENTS))
    thoracic_pieces = (
        TorsoPiece(girth(0.060), girth(0.095), girth(0.028)),
        TorsoPiece(girth(0.064), girth(0.100), girth(0.030)),
        TorsoPiece(girth(0.060), girth(0.098), girth(0.032)),
    )
    return BodyShape(
        height_m=h,
        thigh_m=thigh,
        shank_m=shank,
        ankle_height_m=ANKLE_HEIGHT_FRAC * h,
        foot_heel_m=FOOT_HEEL_FRAC * h,
        foot_toe_m=length(FOOT_TOE_FRAC),
        upper_arm_m=length(UPPER_ARM_FRAC),
        forearm_m=length(FOREARM_FRAC),
        hand_m=length(HAND_FRAC),
        hip_half_width_m=girth(HIP_HALF_WIDTH_FRAC) / build,
        sacrum_back_m=SACRUM_BACK_FRAC * h,
        sacrum_up_m=SACRUM_UP_FRAC * h,
        lumbar_m=lumbar,
        thoracic_m=thoracic,
        neck_m=neck,
        shoulder_forward_m=SHOULDER_FORWARD_FRAC * h,
        shoulder_down_m=SHOULDER_DOWN_FRAC * h,
        shoulder_half_width_m=length(SHOULDER_HALF_WIDTH_FRAC),
        head_radii_m=(HEAD_RADII_FRAC[0] * h, HEAD_RADII_FRAC[1] * h, HEAD_RADII_FRAC[2] * h),
        head_centre_up_m=HEAD_CENTRE_UP_FRAC * h,
        head_centre_forward_m=HEAD_CENTRE_FORWARD_FRAC * h,
        lumbar_piece=TorsoPiece(girth(0.052), girth(0.085), girth(0.030)),
        thoracic_pieces=thoracic_pieces,
        pelvis_piece=TorsoPiece(girth(0.058), girth(0.098), girth(0.030)),
        buttock_radius_m=girth(0.041),
        neck_radius_m=girth(0.027),
        upper_arm_radius_m=girth(0.026),
        forearm_radius_m=girth(0.020),
        thigh_radius_m=girth(0.043),
        shank_radius_m=girth(0.030),
        foot_radius_m=0.017 * h,
        build=build,
    )
