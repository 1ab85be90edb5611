"""Still frames of a body held at a chosen posture, with the posture's truth (issue 14).

The back-shape model learns from single frames at the bottom of hinges and squats and at the
forward lean of a sit-to-stand, with the lumbar spine flexed or extended by a known amount.
Whole clips are not needed: a still is the exercise's own posture at a chosen point of its
rep (``formcheck.synth`` motions, their parameters widened), plus lumbar flexion (the pelvis
gives some of it back, as the synth's ``lumbar_flexion`` fault does), drawn on either body
(the capsule body with random proportions, or the MakeHuman mesh with loose clothes) with
the same cameras, scenes and renderers as the synth's clips.

``render_still(spec)`` returns the RGB image (after a JPEG round trip at the spec's quality:
video frames reach the pose model compressed) and the truth (lumbar flexion, angles, the
true back profile of the skin).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import ClassVar

import cv2
import numpy as np
import numpy.typing as npt

from formcheck.synth.body import BodyShape, make_body
from formcheck.synth.camera import Camera
from formcheck.synth.cloth import GARMENTS, ClothLayer
from formcheck.synth.exercises import motion_class
from formcheck.synth.gl_render import GLRenderer, MeshDraw, vertex_normals
from formcheck.synth.landmarks import landmarks_world
from formcheck.synth.mesh_body import MeshShapeParams, mesh_body
from formcheck.synth.mesh_clip import pose_mesh
from formcheck.synth.mesh_truth import mesh_measures, triangle_edges
from formcheck.synth.motion import Motion, MotionConfig
from formcheck.synth.placement import Support, place
from formcheck.synth.posture import SagittalPosture
from formcheck.synth.primitive_mesh import primitive_mesh
from formcheck.synth.raycast import Box, HitBuffer, RayCaster
from formcheck.synth.scene import SceneStyle, cast_shadow, render_background, shade
from formcheck.synth.skeleton import BodyPose, Skeleton
from formcheck.synth.spec import CameraSpec
from formcheck.synth.standing import StandingRepMotion
from formcheck.synth.surface import Primitive
from formcheck.synth.timeline import Tempo
from formcheck.synth.truth import all_measures

U8 = npt.NDArray[np.uint8]
F64 = npt.NDArray[np.float64]

EXTRA_MATERIALS = ("prop", "chair")
STILL_EXERCISES = ("hip_hinge", "squat", "sit_to_stand")
STILL_TEMPO = Tempo(down_s=2.0, pause_s=0.5, up_s=2.0, rest_s=0.5)  # only places the posture
STILL_HOLD_S = 1.0


@dataclass(frozen=True, slots=True)
class StillSpec:
    """One still: exercise posture, lumbar flexion, body, clothes, camera and scene.

    down_fraction: where in the rep's way down the posture is taken (1 = the bottom; for a
        sit-to-stand the rise, whose forward lean peaks half-way).
    lumbar_deg: lumbar flexion added to the exercise's posture (+ rounded, - arched): the truth.
    pelvis_share: share of that flexion the pelvis gives back (the trunk tilts less).
    thoracic_deg: thoracic flexion added (not part of the truth: the upper back may round too).
    body: "capsule" (``capsule_seed`` draws its proportions, ``height_m`` its size) or "mesh"
        (``mesh`` shape, ``top``/``bottom`` clothes).
    jpeg_quality: the image's JPEG round trip (compression as in a video).
    """

    exercise: str
    variant: str
    params: dict[str, float]
    down_fraction: float
    lumbar_deg: float
    pelvis_share: float
    thoracic_deg: float
    body: str
    camera: CameraSpec
    style: SceneStyle
    height_m: float = 1.75
    capsule_seed: int = 0
    mesh: MeshShapeParams | None = None
    top: str = "fitted"
    bottom: str = "fitted"
    jpeg_quality: int = 85

    def __post_init__(self) -> None:
        if self.exercise not in STILL_EXERCISES:
            raise ValueError(f"exercise must be one of {STILL_EXERCISES}, not {self.exercise!r}")
        if self.body not in ("capsule", "mesh"):
            raise ValueError(f"body must be 'capsule' or 'mesh', not {self.body!r}")
        if self.body == "mesh" and self.mesh is None:
            raise ValueError("a mesh still needs its mesh shape")

    @property
    def body_name(self) -> str:
        return self.mesh.name if self.mesh is not None and self.body == "mesh" else "capsule"

    @property
    def clothing(self) -> str:
        return f"{self.top}/{self.bottom}" if self.body == "mesh" else "capsule"


@dataclass(frozen=True, slots=True)
class StillTruth:
    lumbar_deg: float
    trunk_inclination_deg: float
    hip_flexion_deg: float
    knee_flexion_deg: float
    back_profile_mm: F64  # the skin's dorsal outline against its end chord (synth.truth)
    back_bulge_mean_mm: float
    landmarks_px: F64  # (33, 2)
    person_px: npt.NDArray[np.bool_] = field(repr=False)


@dataclass(frozen=True, slots=True)
class Still:
    spec: StillSpec
    rgb: U8
    truth: StillTruth


class StillMotion(Motion):
    """A motion that holds one posture; props and scenery come from the exercise's motion."""

    exercise: ClassVar[str] = "still"
    is_hold: ClassVar[bool] = True

    def __init__(self, inner: StandingRepMotion, posture: SagittalPosture) -> None:
        self.inner = inner
        self.posture = posture
        super().__init__(inner.shape, MotionConfig(still_s=0.0, hold_s=STILL_HOLD_S))

    def pose_at(self, t_s: float, with_faults: bool = True) -> BodyPose:
        del t_s, with_faults
        return self.posture.to_pose()

    def support_at(self, t_s: float) -> Support:
        return self.inner.support_at(t_s)

    def scenery(self) -> list[Box]:
        return self.inner.scenery()

    def props(self, skel: Skeleton) -> list[Primitive]:
        return self.inner.props(skel)


def still_posture(spec: StillSpec, shape: BodyShape) -> tuple[StandingRepMotion, SagittalPosture]:
    """The exercise's motion (for props and the chair) and the still's posture."""
    config = MotionConfig(reps=1, tempo=STILL_TEMPO, params=spec.params, variant=spec.variant)
    inner = motion_class(spec.exercise)(shape, config)
    assert isinstance(inner, StandingRepMotion)
    rep = inner.reps[0]
    t = rep.start_s + spec.down_fraction * (rep.bottom_start_s - rep.start_s)
    base = inner.posture_at(t, with_faults=False)
    delta = SagittalPosture(
        lumbar_deg=spec.lumbar_deg,
        pelvis_tilt_deg=-spec.pelvis_share * spec.lumbar_deg,
        thoracic_deg=spec.thoracic_deg,
    )
    return inner, base + delta


def _jpeg(rgb: U8, quality: int) -> U8:
    ok, buf = cv2.imencode(".jpg", rgb[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise RuntimeError("JPEG encoding failed")
    decoded = cv2.imdecode(buf, cv2.IMREAD_COLOR)
    if decoded is None:
        raise RuntimeError("JPEG decoding failed")
    return np.ascontiguousarray(decoded[:, :, ::-1])


def _truth(
    spec: StillSpec,
    values: dict[str, float],
    profile: F64,
    lm_world: F64,
    camera: Camera,
    person: npt.NDArray[np.bool_],
) -> StillTruth:
    side = "left" if spec.camera.side == "left" else "right"
    return StillTruth(
        lumbar_deg=spec.lumbar_deg,
        trunk_inclination_deg=float(values[f"{side}_trunk_inclination_deg"]),
        hip_flexion_deg=float(values[f"{side}_hip_flexion_deg"]),
        knee_flexion_deg=float(values[f"{side}_knee_flexion_deg"]),
        back_profile_mm=np.asarray(profile, np.float64),
        back_bulge_mean_mm=float(profile[1:-1].mean()),
        landmarks_px=np.asarray(camera.project(lm_world), np.float64),
        person_px=person,
    )


def _still_camera(
    spec: StillSpec, motion: StillMotion, shape: BodyShape
) -> tuple[Camera, npt.NDArray[np.float64]]:
    """Placed as ``synth.clip._camera`` places a clip's camera, framed on the one posture
    (the clip's samples 24 poses of the movement; a still has one)."""
    placed = place(shape, motion.pose_at(0.0), motion.support_at(0.0))
    pts = landmarks_world(shape, placed.skeleton)
    target = (pts.min(axis=0) + pts.max(axis=0)) / 2.0
    cam = spec.camera
    yaw = math.radians(cam.yaw_deg)
    side = -1.0 if cam.side == "left" else 1.0
    position = target + cam.distance_m * np.array([math.sin(yaw), 0.0, side * math.cos(yaw)])
    position[1] = cam.height_m
    camera = Camera.look_at(position, target, cam.vertical_fov_deg, cam.width_px, cam.height_px)
    return camera, target


def _blur(img: npt.NDArray[np.float32]) -> U8:
    """The renderers' lens softening: a [1, 2, 1] / 4 blur in x and y."""
    img[:, 1:-1] = (img[:, :-2] + 2.0 * img[:, 1:-1] + img[:, 2:]) / 4.0
    img[1:-1] = (img[:-2] + 2.0 * img[1:-1] + img[2:]) / 4.0
    return np.clip(img + 0.5, 0.0, 255.0).astype(np.uint8)


def _render_capsule(spec: StillSpec) -> Still:
    rng = np.random.default_rng(spec.capsule_seed)
    shape = make_body(spec.height_m, rng)
    inner, posture = still_posture(spec, shape)
    motion = StillMotion(inner, posture)
    camera, target = _still_camera(spec, motion, shape)
    caster = RayCaster(camera)
    names, colours = spec.style.material_colours(EXTRA_MATERIALS)
    material_index = {n: i for i, n in enumerate(names)}
    person_materials = len(names) - len(EXTRA_MATERIALS)
    backdrop = render_background(spec.style, camera, caster.rays, target)
    placed = place(shape, motion.pose_at(0.0), motion.support_at(0.0), spec.style.clothing)
    lm = landmarks_world(shape, placed.skeleton)
    values, profile = all_measures(lm, placed.skeleton, placed.prims)
    buf = HitBuffer.empty(camera.height_px, camera.width_px)
    for prim in placed.prims:
        caster.draw(buf, prim, material_index[prim.material])
    for prop in motion.props(placed.skeleton):
        caster.draw(buf, prop, material_index[prop.material])
    for box in motion.scenery():
        caster.draw(buf, box, material_index[box.material])
    rgb = shade(buf, cast_shadow(backdrop, camera, lm), colours, spec.style)
    person = (buf.material >= 0) & (buf.material < person_materials)
    truth = _truth(spec, values, profile, lm, camera, person)
    return Still(spec, _jpeg(rgb, spec.jpeg_quality), truth)


def _render_mesh(spec: StillSpec) -> Still:
    assert spec.mesh is not None
    body = mesh_body(spec.mesh)
    shape = body.shape
    inner, posture = still_posture(spec, shape)
    motion = StillMotion(inner, posture)
    camera, target = _still_camera(spec, motion, shape)
    style = spec.style
    names, colours = style.material_colours(EXTRA_MATERIALS)
    material_index = {n: i for i, n in enumerate(names)}
    person_materials = len(names) - len(EXTRA_MATERIALS)
    short_sleeves = style.short_sleeves if spec.top == "fitted" else spec.top == "tshirt"
    shorts = style.shorts and spec.bottom == "fitted"
    skin_material = np.array(
        [material_index[m] for m in body.materials(short_sleeves=short_sleeves, shorts=shorts)]
    )
    posed = pose_mesh(body, motion, 0.0)
    lm = posed.landmarks
    values, profile = mesh_measures(
        lm, posed.skeleton, posed.skin, triangle_edges(body.trunk_triangles)
    )
    normals = vertex_normals(posed.skin, body.triangles)
    draws = [MeshDraw(posed.skin, normals, skin_material, body.triangles)]
    for i, kind in enumerate((spec.bottom, spec.top)):
        if kind == "fitted":
            continue
        layer = ClothLayer(body, GARMENTS[kind], spec.capsule_seed + i)
        surface = layer.surface(posed.skin, normals, posed.transforms)
        draws.append(
            MeshDraw(
                surface,
                layer.normals(surface),
                np.full(len(surface), material_index[layer.material]),
                layer.triangles,
            )
        )
    extras = [(primitive_mesh(p), material_index[p.material]) for p in motion.props(posed.skeleton)]
    extras += [(primitive_mesh(b), material_index[b.material]) for b in motion.scenery()]
    for (verts, nrm, tris), mat in extras:
        draws.append(MeshDraw(verts, nrm, np.full(len(verts), mat), tris))
    renderer = GLRenderer(camera, colours, style.light_direction(), style.ambient, style.diffuse)
    try:
        backdrop = render_background(style, camera, camera.ray_directions(), target)
        frame = renderer.draw(draws)
    finally:
        renderer.release()
    hit = frame.material >= 0
    background = cast_shadow(backdrop, camera, lm)
    img = np.where(hit[..., None], frame.colour, background).astype(np.float32)
    person = hit & (frame.material < person_materials)
    truth = _truth(spec, values, profile, lm, camera, person)
    return Still(spec, _jpeg(_blur(img), spec.jpeg_quality), truth)


def render_still(spec: StillSpec) -> Still:
    """Render ``spec``: the image as the pose model will see it, and its truth."""
    return _render_mesh(spec) if spec.body == "mesh" else _render_capsule(spec)
