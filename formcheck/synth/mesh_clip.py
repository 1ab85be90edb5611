"""Render a clip of the MakeHuman mesh body, with the same files and truth as ``render_clip``.

The skeleton moves exactly as for the capsule body (any ``Motion``, faults and all); the mesh
follows it (``formcheck.synth.mesh_body``), loose clothes are laid over it
(``formcheck.synth.cloth``), and the frame is drawn with OpenGL (``formcheck.synth.gl_render``)
over the same backdrop, shadow and lens blur as the ray-caster's. The truth comes from the
posed mesh: landmarks (joint centres of the skeleton that drives it; face, hand and foot points
on the mesh), angles, the back profile of the skin (``formcheck.synth.mesh_truth``) and the
silhouette (skin, clothes; props and the chair excluded, occlusion by them included).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

from formcheck.synth.camera import Camera
from formcheck.synth.clip import ClipTruth, TruthRecorder, _camera, camera_document
from formcheck.synth.cloth import GARMENTS, ClothLayer
from formcheck.synth.exercises import motion_class
from formcheck.synth.gl_render import GLRenderer, MeshDraw, vertex_normals
from formcheck.synth.mesh_body import MeshBody, MeshShapeParams, mesh_body
from formcheck.synth.mesh_truth import mesh_measures, triangle_edges
from formcheck.synth.motion import FAULT_MEASURES, Motion
from formcheck.synth.output import Mp4Writer
from formcheck.synth.placement import place
from formcheck.synth.primitive_mesh import primitive_mesh
from formcheck.synth.scene import cast_shadow, render_background
from formcheck.synth.skeleton import Skeleton
from formcheck.synth.spec import ClipSpec

OCCLUSION_MARGIN_FRAC = 0.07  # of body height: how deep a landmark may lie under the surface
TOPS = ("fitted", "tshirt", "hoodie")
BOTTOMS = ("fitted", "trousers")
JSON_DIGITS = 4
EXTRA_MATERIALS = ("prop", "chair")


@dataclass(frozen=True, slots=True)
class MeshClipSpec:
    """A clip of the mesh body: the clip (motion, faults, camera, scene: ``clip.height_m``
    and ``clip.vary_body`` are not used), the body's shape, and its clothes.

    top: "fitted" (the skin coloured as a shirt), "tshirt" or "hoodie" (loose, see
    ``formcheck.synth.cloth``); bottom: "fitted" or "trousers" (loose).
    """

    clip: ClipSpec
    body: MeshShapeParams
    top: str = "fitted"
    bottom: str = "fitted"
    label: str = field(default="")

    def __post_init__(self) -> None:
        if self.top not in TOPS:
            raise ValueError(f"top must be one of {TOPS}, not {self.top!r}")
        if self.bottom not in BOTTOMS:
            raise ValueError(f"bottom must be one of {BOTTOMS}, not {self.bottom!r}")

    @property
    def clothing(self) -> str:
        return f"{self.top}/{self.bottom}"

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(slots=True)
class PosedMesh:
    skeleton: Skeleton
    skin: npt.NDArray[np.float64]
    landmarks: npt.NDArray[np.float64]
    transforms: npt.NDArray[np.float64]  # (S, 3, 4) rest -> posed, per segment


def pose_mesh(body: MeshBody, motion: Motion, t_s: float, with_faults: bool = True) -> PosedMesh:
    """The body at ``t_s``: the skeleton placed by the motion's support, the skin skinned to it
    and set on the floor (its lowest point at y = 0)."""
    placed = place(body.shape, motion.pose_at(t_s, with_faults), motion.support_at(t_s))
    skel = placed.skeleton
    skin = body.skin(skel)
    lift = np.array([0.0, -float(skin[:, 1].min()), 0.0])
    skel.translate(lift)
    return PosedMesh(skel, skin + lift, body.landmarks(skel), body.segment_transforms(skel))


def mesh_fault_size(
    body: MeshBody,
    motion: Motion,
    edges: npt.NDArray[np.int64],
    times: tuple[float, float, float, float],
    kind: str,
) -> float:
    """How much the fault's true measure changes at full size on the mesh (mid-way through
    the full-size window, against the same instant without faults); NaN for timing faults."""
    measure = FAULT_MEASURES[kind]
    if measure is None:
        return float("nan")
    t = (times[1] + times[2]) / 2.0
    values = []
    for with_faults in (True, False):
        posed = pose_mesh(body, motion, t, with_faults)
        values.append(mesh_measures(posed.landmarks, posed.skeleton, posed.skin, edges)[0][measure])
    return round(values[0] - values[1], JSON_DIGITS)


def _visible(
    renderer: GLRenderer,
    px: npt.NDArray[np.float64],
    lm: npt.NDArray[np.float64],
    camera: Camera,
    height_m: float,
) -> npt.NDArray[np.bool_]:
    """Per landmark: inside the image and not hidden behind another surface (the nearest one at
    its pixel lies at most OCCLUSION_MARGIN_FRAC * height in front of it), as for the capsules."""
    w, h = camera.width_px, camera.height_px
    inside = (px[:, 0] >= 0) & (px[:, 0] < w) & (px[:, 1] >= 0) & (px[:, 1] < h)
    dist = np.linalg.norm(lm - camera.position_m, axis=1)
    surface = renderer.distance_at(px)
    return np.asarray(inside & (surface >= dist - OCCLUSION_MARGIN_FRAC * height_m))


def _blur(img: npt.NDArray[np.float32]) -> npt.NDArray[np.uint8]:
    """The ray-caster's lens softening: a [1, 2, 1] / 4 blur in x and y."""
    img[:, 1:-1] = (img[:, :-2] + 2.0 * img[:, 1:-1] + img[:, 2:]) / 4.0
    img[1:-1] = (img[:-2] + 2.0 * img[1:-1] + img[2:]) / 4.0
    return np.clip(img + 0.5, 0.0, 255.0).astype(np.uint8)


def render_mesh_clip(spec: MeshClipSpec, out_dir: Path, name: str) -> ClipTruth:
    """Render ``spec`` into ``out_dir/<name>.*`` (files as ``render_clip`` writes them)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    clip = spec.clip
    body = mesh_body(spec.body)
    shape = body.shape
    motion = motion_class(clip.exercise)(shape, clip.motion, clip.faults)
    camera, target = _camera(clip, motion, shape)
    style = clip.style
    names, colours = style.material_colours(EXTRA_MATERIALS)
    material_index = {n: i for i, n in enumerate(names)}
    person_materials = len(names) - len(EXTRA_MATERIALS)
    short_sleeves = style.short_sleeves if spec.top == "fitted" else spec.top == "tshirt"
    shorts = style.shorts and spec.bottom == "fitted"
    skin_material = np.array(
        [material_index[m] for m in body.materials(short_sleeves=short_sleeves, shorts=shorts)]
    )
    layers = [
        ClothLayer(body, GARMENTS[kind], clip.seed + i)
        for i, kind in enumerate((spec.bottom, spec.top))
        if kind != "fitted"
    ]
    edges = triangle_edges(body.trunk_triangles)
    renderer = GLRenderer(camera, colours, style.light_direction(), style.ambient, style.diffuse)
    backdrop = render_background(style, camera, camera.ray_directions(), target)
    scenery = [(primitive_mesh(box), material_index[box.material]) for box in motion.scenery()]
    fps = clip.camera.fps
    h, w = camera.height_px, camera.width_px
    record = TruthRecorder(motion, fps, h, w, clip.write_masks)
    video_path = out_dir / f"{name}.mp4"
    try:
        with Mp4Writer(video_path, w, h, fps, clip.crf) as writer:
            for k in range(record.n_frames):
                posed = pose_mesh(body, motion, record.time_s(k))
                lm = posed.landmarks
                values, profile = mesh_measures(lm, posed.skeleton, posed.skin, edges)
                record.record_pose(k, lm, camera, values, profile)
                normals = vertex_normals(posed.skin, body.triangles)
                draws = [MeshDraw(posed.skin, normals, skin_material, body.triangles)]
                for layer in layers:
                    surface = layer.surface(posed.skin, normals, posed.transforms)
                    draws.append(
                        MeshDraw(
                            surface,
                            layer.normals(surface),
                            np.full(len(surface), material_index[layer.material]),
                            layer.triangles,
                        )
                    )
                props = [
                    (primitive_mesh(p), material_index[p.material])
                    for p in motion.props_at(posed.skeleton, record.time_s(k))
                ]
                for (verts, nrm, tris), mat in props + scenery:
                    draws.append(MeshDraw(verts, nrm, np.full(len(verts), mat), tris))
                frame = renderer.draw(draws)
                hit = frame.material >= 0
                background = cast_shadow(backdrop, camera, lm)
                img = np.where(hit[..., None], frame.colour, background).astype(np.float32)
                writer.write(_blur(img))
                person = hit & (frame.material < person_materials)
                record.record_image(
                    k, _visible(renderer, record.lm_px[k], lm, camera, shape.height_m), person
                )
    finally:
        renderer.release()
    doc: dict[str, object] = {
        "exercise": clip.exercise,
        "variant": motion.variant,
        "label": spec.label or clip.label,
        "seed": clip.seed,
        "spec": clip.as_dict(),
        "params": motion.params,
        "body": {
            "model": "makehuman",
            "shape": asdict(spec.body),
            "height_m": shape.height_m,
            "build": shape.build,
            "thigh_m": shape.thigh_m,
            "shank_m": shape.shank_m,
            "upper_arm_m": shape.upper_arm_m,
            "forearm_m": shape.forearm_m,
        },
        "clothing": {"top": spec.top, "bottom": spec.bottom},
    }
    return record.write(
        out_dir,
        name,
        video_path,
        doc,
        camera_document(camera, clip, motion.camera_view),
        lambda times, kind: mesh_fault_size(body, motion, edges, times, kind),
    )
