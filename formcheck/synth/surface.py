"""The body's surface as capsules and ellipsoids, built from a posed skeleton.

The trunk is a chain of paired capsules (a rounded-rectangle cross-section) whose axes
follow the spine pieces, offset forward from the spine line so that the skin of the back
lies ``back_depth_m`` behind it: bending the lumbar pieces bends the back outline with them.
Every primitive carries a ``material`` (what colour it gets) and a ``part`` (which body
segment it belongs to, for floor contact and the back outline).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from formcheck.synth.body import BodyShape, TorsoPiece
from formcheck.synth.geometry import Mat, Vec, unit
from formcheck.synth.skeleton import SIDES, SPINE_JOINTS, Skeleton

SKIN = "skin"
SHIRT = "shirt"
PANTS = "pants"
SHOES = "shoes"
HAIR = "hair"
EYE = "eye"
LIPS = "lips"
MATERIALS = (SKIN, SHIRT, PANTS, SHOES, HAIR, EYE, LIPS)

TRUNK_PARTS = ("pelvis", "lumbar", "thorax")

# Head details, fractions of body height in the head frame (forward, up, right).
EYE_OFFSET_FRAC = (0.047, 0.012, 0.017)
EYE_RADIUS_FRAC = 0.0062
NOSE_OFFSET_FRAC = (0.055, -0.006, 0.0)
NOSE_RADII_FRAC = (0.012, 0.016, 0.008)
NOSE_TIP_FRAC = (0.066, -0.010, 0.0)
EAR_OFFSET_FRAC = (-0.004, 0.0, 0.043)
EAR_RADII_FRAC = (0.012, 0.019, 0.007)
MOUTH_OFFSET_FRAC = (0.049, -0.030, 0.0)
MOUTH_RADII_FRAC = (0.006, 0.0035, 0.014)
HAIR_OFFSET_FRAC = (-0.012, 0.009, 0.0)
HAIR_RADII_SCALE = (0.97, 0.97, 1.04)
HAND_RADII_FRAC = (0.024, 0.050, 0.012)
THUMB_RADIUS_FRAC = 0.007
FOOT_BACK_FRAC = (-0.025, -0.020)  # foot capsule ends in the foot frame (forward, up)
FOOT_FRONT_FRAC = (0.090, -0.022)
SACRAL_TIP_DOWN_FRAC = 0.015
BUTTOCK_OFFSET_FRAC = (-0.030, -0.024, 0.040)
BUTTOCK_SHAPE = (0.95, 1.2, 1.05)  # semi-axes relative to the buttock radius (fwd, up, side)
SHOULDER_GIRDLE_RADIUS_FRAC = 0.038
DELTOID_RADIUS_FRAC = 0.034
TOP_DROP_OF_RADIUS = 0.7


@dataclass(frozen=True, slots=True)
class Capsule:
    a_m: Vec
    b_m: Vec
    radius_m: float
    material: str
    part: str

    def lowest_y_m(self) -> float:
        return float(min(self.a_m[1], self.b_m[1])) - self.radius_m

    def translated(self, offset_m: Vec) -> Capsule:
        return Capsule(
            self.a_m + offset_m, self.b_m + offset_m, self.radius_m, self.material, self.part
        )


@dataclass(frozen=True, slots=True)
class Ellipsoid:
    centre_m: Vec
    rotation: Mat  # columns: the semi-axes' directions in world
    radii_m: Vec
    material: str
    part: str

    def lowest_y_m(self) -> float:
        reach = float(np.sqrt(np.sum((self.rotation[1, :] * self.radii_m) ** 2)))
        return float(self.centre_m[1]) - reach

    def translated(self, offset_m: Vec) -> Ellipsoid:
        return Ellipsoid(
            self.centre_m + offset_m, self.rotation, self.radii_m, self.material, self.part
        )


Primitive = Capsule | Ellipsoid


@dataclass(frozen=True, slots=True)
class Clothing:
    """Which body parts are covered by clothes (the rest shows skin)."""

    short_sleeves: bool = True
    shorts: bool = False


def _avg_axes(f0: Mat, f1: Mat) -> Mat:
    """Mean of two segment frames (forward and lateral axes averaged, re-orthogonalised)."""
    fwd = unit(f0[:, 0] + f1[:, 0])
    lat = unit(f0[:, 2] + f1[:, 2])
    lat = unit(lat - np.dot(lat, fwd) * fwd)
    up = np.cross(lat, fwd)
    return np.stack([fwd, up, lat], axis=1)


def trunk_pieces(
    shape: BodyShape, skel: Skeleton
) -> list[tuple[Vec, Vec, Mat, Mat, TorsoPiece, str]]:
    """The trunk's pieces as (start, end, start frame, end frame, cross-section, part),
    from the sacrum up to C7; frames at joints are averaged across the two pieces."""
    h = shape.height_m
    frames = [skel.frames["pelvis"]] + [skel.frames[j] for j in SPINE_JOINTS]
    sacral_tip = skel.local_point(
        "pelvis", "pelvis", np.array([-shape.sacrum_back_m, -SACRAL_TIP_DOWN_FRAC * h, 0.0])
    )
    points = [sacral_tip] + [skel.points[f"spine_{i}"] for i in range(len(SPINE_JOINTS) + 1)]
    joint_frames = [frames[0]]
    for i in range(1, len(frames)):
        joint_frames.append(_avg_axes(frames[i - 1], frames[i]))
    joint_frames.append(frames[-1])
    sections = [shape.pelvis_piece] + [shape.lumbar_piece] * 3 + list(shape.thoracic_pieces)
    parts = ["pelvis"] + ["lumbar"] * 3 + ["thorax"] * 3
    return [
        (points[i], points[i + 1], joint_frames[i], joint_frames[i + 1], sections[i], parts[i])
        for i in range(len(sections))
    ]


def _trunk(shape: BodyShape, skel: Skeleton, clothing: Clothing) -> list[Primitive]:
    prims: list[Primitive] = []
    pieces = trunk_pieces(shape, skel)
    for i, (start, end, f0, f1, sec, part) in enumerate(pieces):
        material = PANTS if part == "pelvis" else SHIRT
        fwd = sec.half_depth_m - sec.back_depth_m
        lat = max(sec.half_width_m - sec.half_depth_m, 0.0)
        # The top piece ends below C7 so the trunk does not rise above the shoulders.
        drop = TOP_DROP_OF_RADIUS * sec.half_depth_m if i == len(pieces) - 1 else 0.0
        for sign in (-1.0, 1.0):
            off = np.array([fwd, -drop, sign * lat])
            prims.append(
                Capsule(
                    start + f0 @ np.array([fwd, 0.0, sign * lat]),
                    end + f1 @ off,
                    sec.half_depth_m,
                    material,
                    part,
                )
            )
    h = shape.height_m
    for sign in (-1.0, 1.0):
        bx, by, bz = BUTTOCK_OFFSET_FRAC
        centre = skel.local_point("pelvis", "pelvis", np.array([bx * h, by * h, sign * bz * h]))
        r = shape.buttock_radius_m
        prims.append(
            Ellipsoid(centre, skel.frames["pelvis"], r * np.array(BUTTOCK_SHAPE), PANTS, "pelvis")
        )
    del clothing
    return prims


def _head(shape: BodyShape, skel: Skeleton) -> list[Primitive]:
    h = shape.height_m
    head = skel.frames["head"]
    radii = np.array(shape.head_radii_m)

    def at(offset_frac: tuple[float, float, float], mirror: float = 1.0) -> Vec:
        fx, fy, fz = offset_frac
        return skel.local_point("head", "head_centre", np.array([fx * h, fy * h, mirror * fz * h]))

    prims: list[Primitive] = [
        Capsule(
            skel.points["spine_6"], skel.points["head_joint"], shape.neck_radius_m, SKIN, "neck"
        ),
        Ellipsoid(skel.points["head_centre"], head, radii, SKIN, "head"),
        Ellipsoid(at(HAIR_OFFSET_FRAC), head, radii * np.array(HAIR_RADII_SCALE), HAIR, "head"),
        Ellipsoid(at(NOSE_OFFSET_FRAC), head, np.array(NOSE_RADII_FRAC) * h, SKIN, "head"),
        Ellipsoid(at(MOUTH_OFFSET_FRAC), head, np.array(MOUTH_RADII_FRAC) * h, LIPS, "head"),
    ]
    for mirror in (-1.0, 1.0):
        prims.append(
            Capsule(
                at(EYE_OFFSET_FRAC, mirror),
                at(EYE_OFFSET_FRAC, mirror),
                EYE_RADIUS_FRAC * h,
                EYE,
                "head",
            )
        )
        prims.append(
            Ellipsoid(at(EAR_OFFSET_FRAC, mirror), head, np.array(EAR_RADII_FRAC) * h, SKIN, "head")
        )
    return prims


def _limbs(shape: BodyShape, skel: Skeleton, clothing: Clothing) -> list[Primitive]:
    h = shape.height_m
    p = skel.points
    prims: list[Primitive] = []
    prims.append(
        Capsule(
            p["shoulder_left"],
            p["shoulder_right"],
            SHOULDER_GIRDLE_RADIUS_FRAC * h,
            SHIRT,
            "thorax",
        )
    )
    sleeve = SKIN if clothing.short_sleeves else SHIRT
    leg = SKIN if clothing.shorts else PANTS
    for side in SIDES:
        prims.append(
            Capsule(
                p[f"shoulder_{side}"],
                p[f"shoulder_{side}"],
                DELTOID_RADIUS_FRAC * h,
                SHIRT,
                "thorax",
            )
        )
        prims.append(
            Capsule(
                p[f"shoulder_{side}"],
                p[f"elbow_{side}"],
                shape.upper_arm_radius_m,
                SHIRT,
                f"upper_arm_{side}",
            )
        )
        prims.append(
            Capsule(
                p[f"elbow_{side}"],
                p[f"wrist_{side}"],
                shape.forearm_radius_m,
                sleeve,
                f"forearm_{side}",
            )
        )
        hand_centre = skel.local_point(
            f"hand_{side}", f"wrist_{side}", np.array([0.0, -HAND_RADII_FRAC[1] * h * 0.9, 0.0])
        )
        prims.append(
            Ellipsoid(
                hand_centre,
                skel.frames[f"hand_{side}"],
                np.array(HAND_RADII_FRAC) * h,
                SKIN,
                f"hand_{side}",
            )
        )
        thumb_a = skel.local_point(
            f"hand_{side}", f"wrist_{side}", np.array([0.016 * h, -0.012 * h, 0.0])
        )
        thumb_b = skel.local_point(
            f"hand_{side}", f"wrist_{side}", np.array([0.030 * h, -0.045 * h, 0.0])
        )
        prims.append(Capsule(thumb_a, thumb_b, THUMB_RADIUS_FRAC * h, SKIN, f"hand_{side}"))
        prims.append(
            Capsule(
                p[f"hip_{side}"], p[f"knee_{side}"], shape.thigh_radius_m, PANTS, f"thigh_{side}"
            )
        )
        prims.append(
            Capsule(
                p[f"knee_{side}"], p[f"ankle_{side}"], shape.shank_radius_m, leg, f"shank_{side}"
            )
        )
        fb = np.array([FOOT_BACK_FRAC[0] * h, FOOT_BACK_FRAC[1] * h, 0.0])
        ff = np.array([FOOT_FRONT_FRAC[0] * h, FOOT_FRONT_FRAC[1] * h, 0.0])
        prims.append(
            Capsule(
                skel.local_point(f"foot_{side}", f"ankle_{side}", fb),
                skel.local_point(f"foot_{side}", f"ankle_{side}", ff),
                shape.foot_radius_m,
                SHOES,
                f"foot_{side}",
            )
        )
    return prims


def body_surface(
    shape: BodyShape, skel: Skeleton, clothing: Clothing | None = None
) -> list[Primitive]:
    """All primitives of the body in world coordinates."""
    clothes = clothing or Clothing()
    return _trunk(shape, skel, clothes) + _head(shape, skel) + _limbs(shape, skel, clothes)


def head_points(shape: BodyShape, skel: Skeleton) -> dict[str, Vec]:
    """Face landmarks the way MediaPipe places them: nose tip, eye centres and corners, ear
    (tragus) centres, mouth corners; each side is the person's own side."""
    h = shape.height_m

    def at(fx: float, fy: float, fz: float) -> Vec:
        return skel.local_point("head", "head_centre", np.array([fx * h, fy * h, fz * h]))

    ex, ey, ez = EYE_OFFSET_FRAC
    out = {"nose": at(*NOSE_TIP_FRAC)}
    for side, s in (("left", -1.0), ("right", 1.0)):
        out[f"{side}_eye"] = at(ex + EYE_RADIUS_FRAC, ey, s * ez)
        out[f"{side}_eye_inner"] = at(ex + 0.002, ey, s * (ez - 0.008))
        out[f"{side}_eye_outer"] = at(ex - 0.004, ey, s * (ez + 0.009))
        out[f"{side}_ear"] = at(EAR_OFFSET_FRAC[0], EAR_OFFSET_FRAC[1], s * EAR_OFFSET_FRAC[2])
        out[f"mouth_{side}"] = at(MOUTH_OFFSET_FRAC[0], MOUTH_OFFSET_FRAC[1], s * 0.012)
    return out
