"""Time the synthetic renderer per 640x480 frame (one core): placing the body, ray-casting
and shading, the truth measures, and H.264 encoding, each separately. Prints figures."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np

from formcheck.synth.body import make_body
from formcheck.synth.camera import Camera
from formcheck.synth.exercises import motion_class
from formcheck.synth.landmarks import landmarks_world
from formcheck.synth.motion import MotionConfig
from formcheck.synth.output import Mp4Writer
from formcheck.synth.placement import place
from formcheck.synth.raycast import HitBuffer, RayCaster
from formcheck.synth.scene import SceneStyle, cast_shadow, render_background, shade
from formcheck.synth.truth import all_measures

FRAMES = 60
WIDTH_PX, HEIGHT_PX = 640, 480


def main() -> None:
    shape = make_body(1.75)
    style = SceneStyle()
    for exercise in ("hip_hinge", "forearm_plank", "sit_to_stand"):
        motion = motion_class(exercise)(shape, MotionConfig(reps=1))
        target = np.array([0.1, 0.8, 0.0])
        cam = Camera.look_at(target + np.array([0.0, 0.2, -3.0]), target, 45.0, WIDTH_PX, HEIGHT_PX)
        caster = RayCaster(cam)
        names, colours = style.material_colours(("prop", "chair"))
        index = {n: i for i, n in enumerate(names)}
        backdrop = render_background(style, cam, caster.rays, target)
        times = {"place": 0.0, "truth": 0.0, "render": 0.0, "encode": 0.0}
        with tempfile.TemporaryDirectory() as tmp:
            writer = Mp4Writer(Path(tmp) / "speed.mp4", WIDTH_PX, HEIGHT_PX, 30.0)
            for k in range(FRAMES):
                t = motion.duration_s * k / FRAMES
                t0 = time.perf_counter()
                placed = place(shape, motion.pose_at(t), motion.support_at(t), style.clothing)
                t1 = time.perf_counter()
                lm = landmarks_world(shape, placed.skeleton)
                all_measures(lm, placed.skeleton, placed.prims)
                t2 = time.perf_counter()
                buf = HitBuffer.empty(HEIGHT_PX, WIDTH_PX)
                for prim in placed.prims:
                    caster.draw(buf, prim, index[prim.material])
                for box in motion.scenery():
                    caster.draw(buf, box, index[box.material])
                background = cast_shadow(backdrop, cam, lm)
                frame = shade(buf, background, colours, style)
                t3 = time.perf_counter()
                writer.write(frame)
                t4 = time.perf_counter()
                for key, dt in zip(times, (t1 - t0, t2 - t1, t3 - t2, t4 - t3), strict=True):
                    times[key] += dt
            writer.close()
        figures = ", ".join(f"{k} {v / FRAMES * 1000:.1f} ms" for k, v in times.items())
        print(f"{exercise} {WIDTH_PX}x{HEIGHT_PX}, per frame: {figures}")


if __name__ == "__main__":
    main()
