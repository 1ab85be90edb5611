"""Time the mesh body's renderer per 640x480 frame, stage by stage (posing and skinning, loose
clothes, the truth measures, the OpenGL draw and read-back, compositing, H.264 encoding),
against the capsule ray-caster's whole frame in the same run. Prints figures.

    .venv/bin/python bench/mesh_render_speed.py [--frames 60]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from formcheck.synth.body import make_body
from formcheck.synth.camera import Camera
from formcheck.synth.cloth import HOODIE, LOOSE_TROUSERS, ClothLayer
from formcheck.synth.exercises import motion_class
from formcheck.synth.gl_render import GLRenderer, MeshDraw, vertex_normals
from formcheck.synth.landmarks import landmarks_world
from formcheck.synth.mesh_body import mesh_body
from formcheck.synth.mesh_clip import pose_mesh
from formcheck.synth.mesh_truth import mesh_measures, triangle_edges
from formcheck.synth.motion import MotionConfig
from formcheck.synth.output import Mp4Writer
from formcheck.synth.placement import place
from formcheck.synth.raycast import HitBuffer, RayCaster
from formcheck.synth.real_use import BODY_SHAPES
from formcheck.synth.scene import SceneStyle, cast_shadow, render_background, shade
from formcheck.synth.truth import all_measures

WIDTH_PX, HEIGHT_PX = 640, 480


def capsule_ms(frames: int, camera: Camera, style: SceneStyle) -> float:
    shape = make_body(1.75)
    motion = motion_class("hip_hinge")(shape, MotionConfig(reps=1))
    caster = RayCaster(camera)
    names, colours = style.material_colours(("prop", "chair"))
    index = {n: i for i, n in enumerate(names)}
    backdrop = render_background(style, camera, caster.rays, np.array([0.1, 0.8, 0.0]))
    start = time.perf_counter()
    for k in range(frames):
        t = motion.duration_s * k / frames
        placed = place(shape, motion.pose_at(t), motion.support_at(t), style.clothing)
        lm = landmarks_world(shape, placed.skeleton)
        all_measures(lm, placed.skeleton, placed.prims)
        buf = HitBuffer.empty(HEIGHT_PX, WIDTH_PX)
        for prim in placed.prims:
            caster.draw(buf, prim, index[prim.material])
        shade(buf, cast_shadow(backdrop, camera, lm), colours, style)
    return (time.perf_counter() - start) / frames * 1000.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--frames", type=int, default=60)
    frames = parser.parse_args().frames
    style = SceneStyle()
    target = np.array([0.1, 0.8, 0.0])
    camera = Camera.look_at(target + np.array([0.0, 0.2, -3.0]), target, 45.0, WIDTH_PX, HEIGHT_PX)
    _, colours = style.material_colours(("prop", "chair"))
    body = mesh_body(BODY_SHAPES[4])
    motion = motion_class("hip_hinge")(body.shape, MotionConfig(reps=1))
    layers = [ClothLayer(body, g, 1) for g in (LOOSE_TROUSERS, HOODIE)]
    edges = triangle_edges(body.trunk_triangles)
    renderer = GLRenderer(camera, colours, style.light_direction(), style.ambient, style.diffuse)
    backdrop = render_background(style, camera, camera.ray_directions(), target)
    skin_material = np.zeros(len(body.rest), int)
    stages = dict.fromkeys(("pose", "cloth", "truth", "draw", "composite", "encode"), 0.0)
    with tempfile.TemporaryDirectory() as tmp:
        writer = Mp4Writer(Path(tmp) / "speed.mp4", WIDTH_PX, HEIGHT_PX, 30.0)
        for k in range(frames):
            t = motion.duration_s * k / frames
            t0 = time.perf_counter()
            posed = pose_mesh(body, motion, t)
            normals = vertex_normals(posed.skin, body.triangles)
            t1 = time.perf_counter()
            draws = [MeshDraw(posed.skin, normals, skin_material, body.triangles)]
            for layer in layers:
                surface = layer.surface(posed.skin, normals, posed.transforms)
                draws.append(MeshDraw(surface, layer.normals(surface),
                                      np.ones(len(surface), int), layer.triangles))  # fmt: skip
            t2 = time.perf_counter()
            mesh_measures(posed.landmarks, posed.skeleton, posed.skin, edges)
            t3 = time.perf_counter()
            frame = renderer.draw(draws)
            renderer.distance_at(camera.project(posed.landmarks))
            t4 = time.perf_counter()
            background = cast_shadow(backdrop, camera, posed.landmarks)
            img = np.where((frame.material >= 0)[..., None], frame.colour, background)
            rgb = np.clip(img + 0.5, 0, 255).astype(np.uint8)
            t5 = time.perf_counter()
            writer.write(rgb)
            t6 = time.perf_counter()
            for key, dt in zip(stages, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4, t6 - t5),
                               strict=True):  # fmt: skip
                stages[key] += dt
        writer.close()
    renderer.release()
    total = sum(stages.values()) / frames * 1000.0
    figures = ", ".join(f"{k} {v / frames * 1000:.1f}" for k, v in stages.items())
    baseline = capsule_ms(frames, camera, style)
    print(f"mesh body {WIDTH_PX}x{HEIGHT_PX}, hoodie and trousers, ms per frame: {figures}; "
          f"total {total:.1f}")  # fmt: skip
    print(f"capsule body (ray-caster, no encoding) {baseline:.1f} ms per frame; "
          f"mesh / capsule {total / baseline:.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
