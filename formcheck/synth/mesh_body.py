"""A second synthetic body: the MakeHuman mesh, shaped by its CC0 targets and skinned in numpy
from the forward-kinematics skeleton's poses (so every existing ``Motion`` drives it).

Retargeting: the mesh's joints (the rig's joint cubes after the shape targets) define a
``BodyShape`` whose forward-kinematics skeleton passes through them in neutral standing:
pelvis (mid hip joints), L5/S1 to C7 as six spine pieces placed along the mesh's spine joints
(lumbar : thoracic = 10 : 16 of the spine's length), neck, head joint, shoulders, elbows,
wrists, hips, knees, ankles. Each skin vertex follows the skeleton's segments (pelvis, the six
spine pieces, neck, head, and per side thigh, shank, foot, upper arm, forearm, hand) by linear
blend skinning; the rig's weights are summed per segment, and the weights of the rig's five
spine bones are spread over the six spine pieces by the vertex's height along the spine, so a
lumbar flexion bends the skin of the lower back where it bends the skeleton. Limbs are
aligned from the mesh's A-pose to the skeleton's rest directions.

Units: metres, the skeleton's world frame (+y up, the person faces +x, +z to their right);
MakeHuman's files are decimetres with +z forward and +x to the person's left.
"""

from __future__ import annotations

import gzip
import json
import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import numpy.typing as npt

from formcheck.errors import MeshUnavailableError
from formcheck.pose.landmarks import NUM_LANDMARKS, Landmark
from formcheck.synth.body import (
    LUMBAR_FRAC,
    LUMBAR_SEGMENTS,
    THORACIC_FRAC,
    THORACIC_SEGMENTS,
    BodyShape,
    TorsoPiece,
)
from formcheck.synth.geometry import Mat, Vec, rot_axis, unit
from formcheck.synth.mesh_source import ensure_mesh_data
from formcheck.synth.skeleton import SIDES, SPINE_JOINTS, BodyPose, Skeleton, forward_kinematics
from formcheck.synth.surface import EYE, HAIR, LIPS, PANTS, SHIRT, SHOES, SKIN

F64 = npt.NDArray[np.float64]
DM_TO_M = 0.1
MH_BODY_GROUP = "body"
# Segments a skin vertex can follow, and the skeleton point each turns about.
LIMB_SEGMENTS = ("thigh", "shank", "foot", "upper_arm", "forearm", "hand")
SEGMENTS: tuple[str, ...] = (
    "pelvis",
    *SPINE_JOINTS,
    "neck",
    "head",
    *(f"{seg}_{side}" for side in SIDES for seg in LIMB_SEGMENTS),
)
TRUNK_SEGMENTS = ("pelvis", *SPINE_JOINTS)
LIMB_ORIGIN = {
    "thigh": "hip",
    "shank": "knee",
    "foot": "ankle",
    "upper_arm": "shoulder",
    "forearm": "elbow",
    "hand": "wrist",
}
# MakeHuman joint cubes (``.L`` and ``l-`` are the person's left).
MH_SIDE = {"left": "l", "right": "r"}
MH_SPINE_CUBES = ("joint-spine-4", "joint-spine-3", "joint-spine-2", "joint-spine-1", "joint-neck")
MH_TRUNK_BONES = ("spine05", "spine04", "spine03", "spine02", "spine01", "breast")
MH_PELVIS_BONES = ("root", "pelvis")
MH_GIRDLE_BONES = ("clavicle", "shoulder01")  # move with the top thoracic piece
MH_NECK_BONES = ("neck01", "neck02", "neck03")
MH_LIMB_BONES = {
    "upperleg": "thigh",
    "lowerleg": "shank",
    "foot": "foot",
    "toe": "foot",
    "upperarm": "upper_arm",
    "lowerarm": "forearm",
    "wrist": "hand",
    "metacarpal": "hand",
    "finger": "hand",
}

# Shape: MakeHuman's macro modifiers (0..1), interpolated between their targets.
AGE_YOUNG_VALUE = 0.5  # MakeHuman: 0.5 is 25 years, 1.0 is 90 years
RACES = ("african", "asian", "caucasian")

# Landmarks placed on the face, hands and feet (metres; see ``_anchors``).
EYEBALL_RADIUS_M = 0.012
EYE_CORNER_LATERAL_M = 0.014
EYE_CORNER_BACK_M = 0.004
MOUTH_HALF_WIDTH_M = 0.022
FACE_SEARCH_M = 0.012
HEEL_SOLE_BAND_M = 0.035  # the heel point is the rearmost foot vertex this close to the sole
NOSE_BAND_M = 0.012
LIPS_BELOW_NOSE_M = (0.02, 0.055)  # the lips: the most forward midline point this far below

# Skin colours by region.
HAIR_ABOVE_EYES_M = 0.035  # head vertices this far above the eyes, or behind the ears, are hair
HAIR_BEHIND_EARS_M = 0.01
EYE_PATCH_M = 0.013
LIPS_PATCH_M = 0.012
SHORT_SLEEVE_SHARE = 0.55  # a short sleeve covers this share of the upper arm
SHOE_TOP_ABOVE_ANKLE_M = 0.02


@dataclass(frozen=True, slots=True)
class MeshShapeParams:
    """One body from MakeHuman's parameters; every value 0..1 except the height.

    gender: 0 female .. 1 male; age: 0.5 = 25 years .. 1.0 = 90 years; muscle and weight:
    0.5 average; proportions: 0 uncommon .. 1 ideal (0.5 neither); race: shares of the
    african, asian and caucasian targets (summing to 1). The mesh is scaled to ``height_m``.
    """

    name: str
    gender: float
    height_m: float
    weight: float = 0.5
    muscle: float = 0.5
    age: float = AGE_YOUNG_VALUE
    proportions: float = 0.5
    race: tuple[float, float, float] = (1 / 3, 1 / 3, 1 / 3)


@dataclass(frozen=True, slots=True)
class BaseMesh:
    vertices_dm: F64  # (N, 3) every vertex of base.obj (helpers too), MakeHuman axes
    quads: npt.NDArray[np.int64]  # (Q, 4) the skin ("body" group)
    groups: dict[str, npt.NDArray[np.int64]]  # joint cube name -> its vertex indices
    weights: dict[str, tuple[npt.NDArray[np.int64], F64]]  # rig bone -> (vertices, weights)
    n_skin: int


@cache
def _base_mesh(data_dir: Path) -> BaseMesh:
    verts: list[list[float]] = []
    faces: dict[str, list[list[int]]] = {}
    group = ""
    try:
        with (data_dir / "3dobjs" / "base.obj").open(encoding="utf-8") as stream:
            for line in stream:
                if line.startswith("v "):
                    verts.append([float(x) for x in line.split()[1:4]])
                elif line.startswith("g "):
                    group = line.split()[1]
                elif line.startswith("f "):
                    idx = [int(p.split("/")[0]) - 1 for p in line.split()[1:]]
                    faces.setdefault(group, []).append(idx)
        raw = json.loads((data_dir / "rigs" / "standard" / "weights.default.json").read_text())
    except (OSError, ValueError) as error:
        raise MeshUnavailableError(
            f"The mesh data in {data_dir} cannot be read ({error})."
        ) from error
    quads = np.array(faces[MH_BODY_GROUP], dtype=np.int64)
    groups = {
        name: np.unique(np.array(f, dtype=np.int64))
        for name, f in faces.items()
        if name.startswith("joint-")
    }
    weights = {}
    for bone, pairs in raw["weights"].items():
        if pairs:
            arr = np.array(pairs, dtype=np.float64)
            weights[bone] = (arr[:, 0].astype(np.int64), arr[:, 1])
    return BaseMesh(np.array(verts), quads, groups, weights, int(quads.max()) + 1)


@cache
def _target(data_dir: Path, name: str) -> tuple[npt.NDArray[np.int64], F64]:
    path = data_dir / "targets" / "macrodetails" / f"{name}.target.gz"
    try:
        with gzip.open(path, "rt", encoding="utf-8") as stream:
            rows = [ln.split() for ln in stream if ln.strip() and not ln.startswith("#")]
    except OSError as error:
        raise MeshUnavailableError(f"The shape target {path} cannot be read ({error}).") from error
    if not rows:
        return np.zeros(0, np.int64), np.zeros((0, 3))
    arr = np.array(rows, dtype=np.float64)
    return arr[:, 0].astype(np.int64), arr[:, 1:4]


def _two_sided(value: float, low: str, mid: str, high: str) -> list[tuple[str, float]]:
    """MakeHuman's three-point macro weights: value 0 -> low, 0.5 -> mid, 1 -> high."""
    v = min(max(value, 0.0), 1.0)
    if v < 0.5:
        return [(low, (0.5 - v) * 2.0), (mid, 1.0 - (0.5 - v) * 2.0)]
    return [(mid, (1.0 - v) * 2.0), (high, (v - 0.5) * 2.0)]


def macro_target_weights(params: MeshShapeParams) -> dict[str, float]:
    """Target file name (under targets/macrodetails) -> weight, as MakeHuman combines them."""
    genders = [("female", 1.0 - params.gender), ("male", params.gender)]
    age = min(max(params.age, AGE_YOUNG_VALUE), 1.0)
    ages = [("young", (1.0 - age) * 2.0), ("old", (age - AGE_YOUNG_VALUE) * 2.0)]
    muscles = _two_sided(params.muscle, "minmuscle", "averagemuscle", "maxmuscle")
    weights = _two_sided(params.weight, "minweight", "averageweight", "maxweight")
    props = _two_sided(params.proportions, "uncommonproportions", "", "idealproportions")
    out: dict[str, float] = {}

    def add(name: str, w: float) -> None:
        if w > 1e-6:
            out[name] = out.get(name, 0.0) + w

    for g, wg in genders:
        for a, wa in ages:
            for race, wr in zip(RACES, params.race, strict=True):
                add(f"{race}-{g}-{a}", wr * wg * wa)
            for m, wm in muscles:
                for w, ww in weights:
                    base = wg * wa * wm * ww
                    add(f"universal-{g}-{a}-{m}-{w}", base)
                    for p, wp in props:
                        if p:
                            add(f"proportions/{g}-{a}-{m}-{w}-{p}", base * wp)
    return out


def _to_world_m(v_dm: F64) -> F64:
    """MakeHuman (x left, y up, z forward; dm) -> skeleton world (x forward, y up, z right; m)."""
    return np.stack([v_dm[..., 2], v_dm[..., 1], -v_dm[..., 0]], axis=-1) * DM_TO_M


def _align(a: Vec, b: Vec) -> Mat:
    """The smallest rotation taking direction a to direction b."""
    a, b = unit(a), unit(b)
    axis = np.cross(a, b)
    s = float(np.linalg.norm(axis))
    angle = math.degrees(math.atan2(s, float(np.dot(a, b))))
    if s < 1e-12:
        return np.eye(3)
    return rot_axis(axis / s, angle)


def _side_bone(bone: str) -> tuple[str, str | None]:
    if bone.endswith(".L"):
        return bone[:-2], "left"
    if bone.endswith(".R"):
        return bone[:-2], "right"
    return bone, None


def _segment_of_bone(bone: str) -> str:
    """Which skeleton segment a rig bone's weights go to ("trunk": spread over the spine)."""
    stem, side = _side_bone(bone)
    if stem in MH_PELVIS_BONES:
        return "pelvis"
    if stem in MH_TRUNK_BONES:
        return "trunk"
    if stem in MH_GIRDLE_BONES:
        return SPINE_JOINTS[-1]
    if stem in MH_NECK_BONES:
        return "neck"
    if side is not None:
        for prefix, seg in MH_LIMB_BONES.items():
            if stem.startswith(prefix):
                return f"{seg}_{side}"
    return "head"


class MeshBody:
    """The shaped mesh at rest, its matched skeleton shape, and skinning by segment."""

    def __init__(self, params: MeshShapeParams, data_dir: Path | None = None) -> None:
        self.params = params
        directory = data_dir if data_dir is not None else ensure_mesh_data()
        base = _base_mesh(directory)
        verts = base.vertices_dm.copy()
        for name, w in macro_target_weights(params).items():
            idx, delta = _target(directory, name)
            verts[idx] += w * delta
        world = _to_world_m(verts)
        skin = world[: base.n_skin]
        scale = params.height_m / float(skin[:, 1].max() - skin[:, 1].min())
        floor = float(skin[:, 1].min())
        world = (world - np.array([0.0, floor, 0.0])) * scale
        self.rest = world[: base.n_skin].copy()
        self.quads = base.quads
        self.triangles = np.concatenate([base.quads[:, [0, 1, 2]], base.quads[:, [0, 2, 3]]])
        self.cube = {name: world[idx].mean(axis=0) for name, idx in base.groups.items()}
        self.joints = self._joints()
        self.shape = self._shape()
        rest_skel = forward_kinematics(self.shape, BodyPose(), self.joints["pelvis"])
        self._rest_frames(rest_skel)
        self.weights = self._weights(base)
        self.dominant = np.argmax(self.weights, axis=1)
        self.anchors = self._anchors()
        self.trunk_triangles = self._trunk_triangles()

    # -- joints and the matched skeleton shape ---------------------------------------------
    def _joints(self) -> dict[str, Vec]:
        c = self.cube
        j: dict[str, Vec] = {}
        for side, s in MH_SIDE.items():
            j[f"hip_{side}"] = c[f"joint-{s}-upper-leg"]
            j[f"knee_{side}"] = c[f"joint-{s}-knee"]
            j[f"ankle_{side}"] = c[f"joint-{s}-ankle"]
            j[f"shoulder_{side}"] = c[f"joint-{s}-shoulder"]
            j[f"elbow_{side}"] = c[f"joint-{s}-elbow"]
            j[f"wrist_{side}"] = c[f"joint-{s}-hand"]
            j[f"hand_mid_{side}"] = c[f"joint-{s}-finger-3-1"]
        j["pelvis"] = (j["hip_left"] + j["hip_right"]) / 2.0
        chain = np.array([c[name] for name in MH_SPINE_CUBES])
        chain[:, 2] = j["pelvis"][2]  # on the midline
        seg = np.linalg.norm(np.diff(chain, axis=0), axis=1)
        arc = np.concatenate([[0.0], np.cumsum(seg)])
        lumbar_share = LUMBAR_FRAC / (LUMBAR_FRAC + THORACIC_FRAC)
        fractions = [lumbar_share * k / LUMBAR_SEGMENTS for k in range(LUMBAR_SEGMENTS)] + [
            lumbar_share + (1 - lumbar_share) * k / THORACIC_SEGMENTS
            for k in range(THORACIC_SEGMENTS + 1)
        ]
        for k, f in enumerate(fractions):
            j[f"spine_{k}"] = np.array([np.interp(f * arc[-1], arc, chain[:, d]) for d in range(3)])
        j["head_joint"] = c["joint-head"].copy()
        j["head_joint"][2] = j["pelvis"][2]
        return j

    def _shape(self) -> BodyShape:
        j, rest = self.joints, self.rest
        h = self.params.height_m
        pelvis = j["pelvis"]

        def incl(a: Vec, b: Vec) -> float:
            d = b - a
            return math.degrees(math.atan2(float(d[0]), float(d[1])))

        spine = [j[f"spine_{k}"] for k in range(LUMBAR_SEGMENTS + THORACIC_SEGMENTS + 1)]
        lengths = [float(np.linalg.norm(spine[k + 1] - spine[k])) for k in range(len(spine) - 1)]
        inclinations = [incl(spine[k], spine[k + 1]) for k in range(len(spine) - 1)]
        c7, head = spine[-1], j["head_joint"]
        sh = j["shoulder_left"] - c7
        head_pts = rest[rest[:, 1] > head[1] - 0.02 * h]
        head_pts = head_pts[np.abs(head_pts[:, 2] - pelvis[2]) < 0.12 * h]
        lo, hi = head_pts.min(axis=0), head_pts.max(axis=0)
        head_centre = (lo + hi) / 2.0
        foot = rest[(rest[:, 1] < j["ankle_left"][1]) & (rest[:, 2] < pelvis[2])]
        ankle = j["ankle_left"]

        def radius(a: str, b: str, band: float = 0.25) -> float:
            pa, pb = j[a], j[b]
            axis = unit(pb - pa)
            rel = rest - pa
            along = rel @ axis
            length = float(np.linalg.norm(pb - pa))
            sel = (along > band * length) & (along < (1 - band) * length)
            dist = np.linalg.norm(rel[sel] - np.outer(along[sel], axis), axis=1)
            near = dist[dist < 0.5 * length]
            return float(np.median(near)) if near.size else 0.04 * h

        def torso(y0: float, y1: float, spine_x: float) -> TorsoPiece:
            sel = (rest[:, 1] >= y0) & (rest[:, 1] < y1)
            sel &= np.abs(rest[:, 2] - pelvis[2]) < np.abs(sh[2]) * 0.9
            pts = rest[sel]
            back, front = float(pts[:, 0].min()), float(pts[:, 0].max())
            half_w = float(np.abs(pts[:, 2] - pelvis[2]).max())
            return TorsoPiece((front - back) / 2.0, half_w, spine_x - back)

        pieces = [
            torso(float(spine[k][1]), float(spine[k + 1][1]), float(spine[k][0]))
            for k in range(len(spine) - 1)
        ]
        pelvis_piece = torso(float(pelvis[1]), float(spine[0][1]), float(spine[0][0]))
        lumbar_piece = TorsoPiece(
            *(float(np.mean([getattr(p, f) for p in pieces[:3]])) for f in TorsoPiece.__slots__)
        )
        return BodyShape(
            height_m=h,
            thigh_m=float(np.linalg.norm(j["knee_left"] - j["hip_left"])),
            shank_m=float(np.linalg.norm(j["ankle_left"] - j["knee_left"])),
            ankle_height_m=float(ankle[1]),
            foot_heel_m=float(ankle[0] - foot[:, 0].min()),
            foot_toe_m=float(foot[:, 0].max() - ankle[0]),
            upper_arm_m=float(np.linalg.norm(j["elbow_left"] - j["shoulder_left"])),
            forearm_m=float(np.linalg.norm(j["wrist_left"] - j["elbow_left"])),
            hand_m=2.0 * float(np.linalg.norm(j["hand_mid_left"] - j["wrist_left"])),
            hip_half_width_m=float(abs(j["hip_left"][2] - pelvis[2])),
            sacrum_back_m=float(pelvis[0] - spine[0][0]),
            sacrum_up_m=float(spine[0][1] - pelvis[1]),
            lumbar_m=tuple(lengths[:LUMBAR_SEGMENTS]),
            thoracic_m=tuple(lengths[LUMBAR_SEGMENTS:]),
            neck_m=float(np.linalg.norm(head - c7)),
            shoulder_forward_m=float(sh[0]),
            shoulder_down_m=float(-sh[1]),
            shoulder_half_width_m=float(abs(sh[2])),
            head_radii_m=(
                float(hi[0] - lo[0]) / 2.0,
                float(hi[1] - lo[1]) / 2.0,
                float(hi[2] - lo[2]) / 2.0,
            ),
            head_centre_up_m=float(head_centre[1] - head[1]),
            head_centre_forward_m=float(head_centre[0] - head[0]),
            lumbar_piece=lumbar_piece,
            thoracic_pieces=tuple(pieces[LUMBAR_SEGMENTS:]),
            pelvis_piece=pelvis_piece,
            buttock_radius_m=0.7 * pelvis_piece.half_depth_m,
            neck_radius_m=radius("spine_6", "head_joint", 0.3),
            upper_arm_radius_m=radius("shoulder_left", "elbow_left"),
            forearm_radius_m=radius("elbow_left", "wrist_left"),
            thigh_radius_m=radius("hip_left", "knee_left"),
            shank_radius_m=radius("knee_left", "ankle_left"),
            foot_radius_m=float(ankle[1]) * 0.6,
            build=1.0,
            lumbar_rest_deg=tuple(inclinations[:LUMBAR_SEGMENTS]),
            thoracic_rest_deg=tuple(inclinations[LUMBAR_SEGMENTS:]),
            neck_rest_deg=incl(c7, head),
        )

    def _rest_frames(self, skel: Skeleton) -> None:
        """Each segment's frame and pivot in the mesh's rest pose (limbs aligned to the mesh's
        A-pose; the trunk, neck, head and feet as the matched skeleton stands)."""
        j = self.joints
        frames = np.zeros((len(SEGMENTS), 3, 3))
        pivots = np.zeros((len(SEGMENTS), 3))
        distal = {
            "thigh": "knee",
            "shank": "ankle",
            "upper_arm": "elbow",
            "forearm": "wrist",
            "hand": "hand_mid",
        }
        for i, seg in enumerate(SEGMENTS):
            frame = skel.frames[seg]
            stem, _, side = seg.rpartition("_")
            if seg in LIMB_SEGMENTS or stem in LIMB_SEGMENTS:
                origin = j[f"{LIMB_ORIGIN[stem]}_{side}"]
                if stem in distal:
                    mesh_dir = j[f"{distal[stem]}_{side}"] - origin
                    frame = _align(frame @ np.array([0.0, -1.0, 0.0]), mesh_dir) @ frame
            else:
                origin = skel.points[self.pivot_point(seg)]
            frames[i] = frame
            pivots[i] = origin
        self.rest_frames = frames
        self.rest_pivots = pivots

    @staticmethod
    def pivot_point(segment: str) -> str:
        """The skeleton point a segment turns about."""
        if segment == "pelvis":
            return "pelvis"
        if segment in SPINE_JOINTS:
            return f"spine_{SPINE_JOINTS.index(segment)}"
        if segment == "neck":
            return f"spine_{len(SPINE_JOINTS)}"
        if segment == "head":
            return "head_joint"
        stem, _, side = segment.rpartition("_")
        return f"{LIMB_ORIGIN[stem]}_{side}"

    # -- skin weights ----------------------------------------------------------------------
    def _weights(self, base: BaseMesh) -> F64:
        n = base.n_skin
        index = {s: i for i, s in enumerate(SEGMENTS)}
        w = np.zeros((n, len(SEGMENTS)))
        trunk = np.zeros(n)
        for bone, (idx, vals) in base.weights.items():
            keep = idx < n
            seg = _segment_of_bone(bone)
            if seg == "trunk":
                np.add.at(trunk, idx[keep], vals[keep])
            else:
                np.add.at(w[:, index[seg]], idx[keep], vals[keep])
        # Spread the spine bones' weight over pelvis and the six pieces by height: hat
        # functions centred at the middle of each piece (the pelvis node half a piece below
        # L5/S1), so each piece's skin turns with it and blends across the joints.
        ys = [float(self.joints[f"spine_{k}"][1]) for k in range(len(SPINE_JOINTS) + 1)]
        centres = [(ys[k] + ys[k + 1]) / 2.0 for k in range(len(SPINE_JOINTS))]
        nodes = [ys[0] - (ys[1] - ys[0]) / 2.0, *centres]
        names = ["pelvis", *SPINE_JOINTS]
        y = self.rest[:, 1]
        for k, name in enumerate(names):
            hat = np.interp(y, nodes, np.eye(len(nodes))[k])
            w[:, index[name]] += trunk * hat
        total = w.sum(axis=1, keepdims=True)
        return np.asarray(w / np.where(total > 0, total, 1.0))

    # -- landmark anchors --------------------------------------------------------------------
    def _anchors(self) -> dict[int, tuple[int, Vec]]:
        """Landmark index -> (segment index, rest position): points fixed in one segment."""
        c, rest, j = self.cube, self.rest, self.joints
        seg = {s: i for i, s in enumerate(SEGMENTS)}
        head = seg["head"]
        out: dict[int, tuple[int, Vec]] = {}
        fwd = np.array([1.0, 0.0, 0.0])
        mid_z = float(j["pelvis"][2])
        eyes = {side: c[f"joint-{s}-eye"] for side, s in MH_SIDE.items()}
        eye_y = float((eyes["left"][1] + eyes["right"][1]) / 2.0)
        face = rest[self.dominant == head]
        near_mid = face[np.abs(face[:, 2] - mid_z) < NOSE_BAND_M]
        below_eyes = near_mid[(near_mid[:, 1] < eye_y) & (near_mid[:, 1] > eye_y - 0.07)]
        nose = below_eyes[np.argmax(below_eyes[:, 0])]
        out[Landmark.NOSE] = (head, nose)
        lips = near_mid[
            (near_mid[:, 1] < nose[1] - LIPS_BELOW_NOSE_M[0])
            & (near_mid[:, 1] > nose[1] - LIPS_BELOW_NOSE_M[1])
        ]
        mouth = lips[np.argmax(lips[:, 0])]
        for side, sign in (("left", -1.0), ("right", 1.0)):
            up = side.upper()
            eye = eyes[side] + fwd * EYEBALL_RADIUS_M
            lateral = np.array([0.0, 0.0, sign * EYE_CORNER_LATERAL_M])
            back = fwd * EYE_CORNER_BACK_M
            out[Landmark[f"{up}_EYE"]] = (head, eye)
            out[Landmark[f"{up}_EYE_INNER"]] = (head, eye - lateral - back)
            out[Landmark[f"{up}_EYE_OUTER"]] = (head, eye + lateral - back)
            band = face[np.abs(face[:, 1] - (eye_y - 0.02)) < FACE_SEARCH_M]
            ear = band[np.argmax(sign * (band[:, 2] - mid_z))]
            out[Landmark[f"{up}_EAR"]] = (head, ear)
            target = np.array([0.0, mouth[1], mid_z + sign * MOUTH_HALF_WIDTH_M])
            near = face[np.linalg.norm((face - target)[:, 1:], axis=1) < FACE_SEARCH_M]
            out[Landmark[f"MOUTH_{up}"]] = (head, near[np.argmax(near[:, 0])])
            s = MH_SIDE[side]
            hand = seg[f"hand_{side}"]
            out[Landmark[f"{up}_PINKY"]] = (hand, c[f"joint-{s}-finger-5-1"])
            out[Landmark[f"{up}_INDEX"]] = (hand, c[f"joint-{s}-finger-2-1"])
            out[Landmark[f"{up}_THUMB"]] = (hand, c[f"joint-{s}-finger-1-4"])
            foot = seg[f"foot_{side}"]
            feet = rest[self.dominant == foot]
            sole = feet[feet[:, 1] < float(feet[:, 1].min()) + HEEL_SOLE_BAND_M]
            out[Landmark[f"{up}_HEEL"]] = (foot, sole[np.argmin(sole[:, 0])])
            out[Landmark[f"{up}_FOOT_INDEX"]] = (foot, c[f"joint-{s}-toe-1-3"])
        return out

    def _trunk_triangles(self) -> npt.NDArray[np.int64]:
        trunk = np.isin(self.dominant, [SEGMENTS.index(s) for s in TRUNK_SEGMENTS])
        tris = self.triangles
        return np.asarray(tris[trunk[tris].all(axis=1)])

    # -- posing ------------------------------------------------------------------------------
    def segment_transforms(self, skel: Skeleton) -> npt.NDArray[np.float64]:
        """(S, 3, 4) rest -> posed affine transform of each segment."""
        out = np.zeros((len(SEGMENTS), 3, 4))
        for i, seg in enumerate(SEGMENTS):
            rot = skel.frames[seg] @ self.rest_frames[i].T
            out[i, :, :3] = rot
            out[i, :, 3] = skel.points[self.pivot_point(seg)] - rot @ self.rest_pivots[i]
        return out

    def skin(self, skel: Skeleton) -> F64:
        """Posed skin vertices (N, 3) for a skeleton of ``self.shape``."""
        mats = self.segment_transforms(skel).reshape(len(SEGMENTS), 12)
        return blend_points(self.weights @ mats, self.rest)

    def landmarks(self, skel: Skeleton) -> F64:
        """(33, 3) world landmarks in MediaPipe's order: joint centres from the skeleton, face,
        hand and foot points carried rigidly by their segment."""
        out = np.zeros((NUM_LANDMARKS, 3))
        mats = self.segment_transforms(skel)
        for lm, (seg, point) in self.anchors.items():
            out[lm] = mats[seg, :, :3] @ point + mats[seg, :, 3]
        for side in SIDES:
            up = side.upper()
            for joint in ("shoulder", "elbow", "wrist", "hip", "knee", "ankle"):
                out[Landmark[f"{up}_{joint.upper()}"]] = skel.points[f"{joint}_{side}"]
        return out

    # -- colours -----------------------------------------------------------------------------
    def materials(self, *, short_sleeves: bool, shorts: bool) -> list[str]:
        """A material name per skin vertex (skin, shirt, pants, shoes, hair, eye, lips)."""
        rest, j, c = self.rest, self.joints, self.cube
        seg_names = np.array(SEGMENTS)[self.dominant]
        out = np.full(len(rest), SKIN, dtype=object)
        trunk = np.isin(seg_names, TRUNK_SEGMENTS)
        out[trunk] = SHIRT
        out[trunk & (rest[:, 1] < j["spine_0"][1])] = PANTS
        for side in SIDES:
            s = MH_SIDE[side]
            out[seg_names == f"thigh_{side}"] = PANTS
            if not shorts:
                out[seg_names == f"shank_{side}"] = PANTS
            out[seg_names == f"foot_{side}"] = SHOES
            shoe_top = j[f"ankle_{side}"][1] + SHOE_TOP_ABOVE_ANKLE_M
            lower_leg = seg_names == f"shank_{side}"
            out[lower_leg & (rest[:, 1] < shoe_top)] = SHOES
            arm = seg_names == f"upper_arm_{side}"
            shoulder, elbow = j[f"shoulder_{side}"], j[f"elbow_{side}"]
            along = (rest - shoulder) @ unit(elbow - shoulder) / np.linalg.norm(elbow - shoulder)
            sleeve = arm & (along < SHORT_SLEEVE_SHARE) if short_sleeves else arm
            out[sleeve] = SHIRT
            if not short_sleeves:
                out[seg_names == f"forearm_{side}"] = SHIRT
            eye = c[f"joint-{s}-eye"]
            out[np.linalg.norm(rest - eye, axis=1) < EYE_PATCH_M] = EYE
        head = seg_names == "head"
        eye_y = float((c["joint-l-eye"][1] + c["joint-r-eye"][1]) / 2.0)
        ear_x = float(self.anchors[Landmark.LEFT_EAR][1][0])
        hair = head & (
            (rest[:, 1] > eye_y + HAIR_ABOVE_EYES_M)
            | ((rest[:, 0] < ear_x - HAIR_BEHIND_EARS_M) & (rest[:, 1] > eye_y - 0.03))
        )
        out[hair] = HAIR
        mouth = (self.anchors[Landmark.MOUTH_LEFT][1] + self.anchors[Landmark.MOUTH_RIGHT][1]) / 2
        out[head & (np.linalg.norm(rest - mouth, axis=1) < LIPS_PATCH_M)] = LIPS
        return [str(m) for m in out]


def blend_points(blended: F64, points: F64) -> F64:
    """Apply per-point affine maps (N, 12: a row-major 3x4 each) to points (N, 3)."""
    m = blended.reshape(-1, 3, 4)
    out = m[:, :, 3].copy()
    for d in range(3):
        out += m[:, :, d] * points[:, d : d + 1]
    return np.asarray(out)


@cache
def mesh_body(params: MeshShapeParams) -> MeshBody:
    """The shaped body (cached per process: building one takes about a second)."""
    return MeshBody(params)
