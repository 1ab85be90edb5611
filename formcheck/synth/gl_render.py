"""Triangle meshes drawn with OpenGL (moderngl) on a headless EGL context: Mesa's CPU renderer
(llvmpipe) on machines without a GPU. One draw gives the lit colours, the material of each
pixel (its silhouette) and the distance along each pixel's ray (for occlusion), in the same
pixel convention as ``formcheck.synth.camera`` (pixel (u, v) covers [u, u+1) x [v, v+1)).

Shading is the ray-caster's: Lambertian with a hemispheric ambient term, per-material colours.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
import numpy.typing as npt

from formcheck.errors import RendererUnavailableError
from formcheck.synth.camera import Camera

F32 = npt.NDArray[np.float32]
NEAR_M = 0.05
FAR_M = 60.0
MAX_MATERIALS = 16  # also below 255: the material rides in an 8-bit alpha channel
NO_HIT = -1

VERTEX_SHADER = """
#version 330
uniform mat3 world_to_camera;
uniform vec3 camera_position;
uniform mat4 projection;
in vec3 in_position;
in vec3 in_normal;
in float in_material;
out vec3 v_normal;
flat out int v_material;
void main() {
    vec3 cam = world_to_camera * (in_position - camera_position);
    gl_Position = projection * vec4(cam, 1.0);
    v_normal = in_normal;
    v_material = int(in_material + 0.5);
}
"""
FRAGMENT_SHADER = """
#version 330
uniform vec3 colours[16];
uniform vec3 light_direction;
uniform float ambient;
uniform float diffuse;
in vec3 v_normal;
flat in int v_material;
out vec4 out_colour;
void main() {
    vec3 n = normalize(v_normal);
    float lambert = max(dot(n, light_direction), 0.0);
    float light = ambient * (0.8 + 0.2 * n.y) + diffuse * lambert;
    // the material (1-based; 0 = nothing drawn) rides in the alpha channel
    out_colour = vec4(colours[v_material] * light / 255.0, float(v_material + 1) / 255.0);
}
"""


@cache
def gl_context() -> Any:
    """The process's headless OpenGL context (EGL)."""
    try:
        import moderngl
    except ImportError as error:  # pragma: no cover - moderngl is a dependency
        raise RendererUnavailableError(
            f"moderngl is not installed ({error}); reinstall formcheck."
        ) from error
    try:
        return moderngl.create_standalone_context(backend="egl")  # type: ignore[arg-type]
    except Exception as error:  # moderngl raises a plain Exception when EGL is missing
        raise RendererUnavailableError(
            "No headless OpenGL context could be created through EGL "
            f"({error}); install Mesa's EGL and OpenGL drivers (Debian: libegl1 "
            "libegl-mesa0 libgl1-mesa-dri libgl1)."
        ) from error


def renderer_unavailable_reason() -> str | None:
    """Why meshes cannot be drawn here (None when they can): for tests to skip on."""
    try:
        gl_context()
    except RendererUnavailableError as error:
        return str(error)
    return None


@dataclass(frozen=True, slots=True)
class MeshDraw:
    """One triangle mesh to draw: world positions, unit normals, a material index per vertex."""

    positions_m: npt.NDArray[np.float64]
    normals: npt.NDArray[np.float64]
    material: npt.NDArray[np.int_]
    triangles: npt.NDArray[np.int64]


@dataclass(slots=True)
class Frame:
    colour: F32  # (H, W, 3) 0..255 where something was drawn
    material: npt.NDArray[np.int16]  # (H, W) material index, -1 where nothing was drawn


def vertex_normals(
    positions: npt.NDArray[np.float64], triangles: npt.NDArray[np.int64]
) -> npt.NDArray[np.float64]:
    """Area-weighted vertex normals (the triangles' winding gives the outside)."""
    a, b, c = (positions[triangles[:, k]] for k in range(3))
    u, v = b - a, c - a
    face = np.stack(
        [
            u[:, 1] * v[:, 2] - u[:, 2] * v[:, 1],
            u[:, 2] * v[:, 0] - u[:, 0] * v[:, 2],
            u[:, 0] * v[:, 1] - u[:, 1] * v[:, 0],
        ],
        axis=1,
    )
    # One bincount over (vertex, axis) slots: every corner adds its face's normal.
    slots = (triangles[:, :, None] * 3 + np.arange(3)).reshape(-1)
    summed = np.bincount(slots, np.repeat(face[:, None, :], 3, axis=1).reshape(-1),
                         minlength=3 * len(positions))  # fmt: skip
    normals = summed.reshape(-1, 3)
    length = np.linalg.norm(normals, axis=1, keepdims=True)
    return np.asarray(normals / np.where(length > 0, length, 1.0))


def projection_matrix(camera: Camera) -> npt.NDArray[np.float64]:
    """Camera frame (OpenCV axes) -> OpenGL clip space, for ``camera``'s pinhole model."""
    f, w, h = camera.focal_px, camera.width_px, camera.height_px
    cx, cy = w / 2.0, h / 2.0
    return np.array(
        [
            [2 * f / w, 0.0, 2 * cx / w - 1.0, 0.0],
            [0.0, -2 * f / h, 1.0 - 2 * cy / h, 0.0],
            [0.0, 0.0, (FAR_M + NEAR_M) / (FAR_M - NEAR_M), -2 * FAR_M * NEAR_M / (FAR_M - NEAR_M)],
            [0.0, 0.0, 1.0, 0.0],
        ]
    )


class GLRenderer:
    """Draws meshes for one fixed camera and one set of material colours and lighting."""

    def __init__(
        self,
        camera: Camera,
        colours: F32,
        light_direction: F32,
        ambient: float,
        diffuse: float,
    ) -> None:
        if len(colours) > MAX_MATERIALS:
            raise ValueError(f"at most {MAX_MATERIALS} materials, got {len(colours)}")
        ctx = gl_context()
        self.ctx = ctx
        self.camera = camera
        w, h = camera.width_px, camera.height_px
        self.program = ctx.program(vertex_shader=VERTEX_SHADER, fragment_shader=FRAGMENT_SHADER)
        self.program["world_to_camera"].write(camera.rotation.T.astype("f4").tobytes())
        self.program["camera_position"].write(camera.position_m.astype("f4").tobytes())
        self.program["projection"].write(projection_matrix(camera).T.astype("f4").tobytes())
        table = np.zeros((MAX_MATERIALS, 3), np.float32)
        table[: len(colours)] = colours
        self.program["colours"].write(table.tobytes())
        self.program["light_direction"].write(np.asarray(light_direction, "f4").tobytes())
        self.program["ambient"].value = float(ambient)
        self.program["diffuse"].value = float(diffuse)
        self.colour_rb = ctx.renderbuffer((w, h), components=4)
        self.depth_rb = ctx.depth_renderbuffer((w, h))
        self.fbo = ctx.framebuffer([self.colour_rb], self.depth_rb)
        u = (np.arange(w) + 0.5 - w / 2.0) / camera.focal_px
        v = (np.arange(h) + 0.5 - h / 2.0) / camera.focal_px
        uu, vv = np.meshgrid(u, v)
        self.ray_length = np.sqrt(uu**2 + vv**2 + 1.0).astype(np.float32)

    def draw(self, meshes: list[MeshDraw]) -> Frame:
        import moderngl

        ctx = self.ctx
        self.fbo.use()
        ctx.enable(moderngl.DEPTH_TEST)
        ctx.disable(moderngl.CULL_FACE)
        self.fbo.clear(0.0, 0.0, 0.0, 0.0, depth=1.0)
        for mesh in meshes:
            data = np.concatenate(
                [
                    mesh.positions_m.astype("f4"),
                    mesh.normals.astype("f4"),
                    mesh.material.astype("f4")[:, None],
                ],
                axis=1,
            )
            vbo = ctx.buffer(np.ascontiguousarray(data).tobytes())
            ibo = ctx.buffer(np.ascontiguousarray(mesh.triangles.astype("u4")).tobytes())
            vao = ctx.vertex_array(
                self.program,
                [(vbo, "3f 3f 1f", "in_position", "in_normal", "in_material")],
                index_buffer=ibo,
            )
            vao.render(moderngl.TRIANGLES)
            vao.release()
            vbo.release()
            ibo.release()
        w, h = self.camera.width_px, self.camera.height_px
        rgba = np.frombuffer(self.fbo.read(components=4), np.uint8).reshape(h, w, 4)[::-1]
        material = rgba[..., 3].astype(np.int16) - 1
        return Frame(rgba[..., :3].astype(np.float32), material)

    def distance_at(self, px: npt.NDArray[np.float64]) -> F32:
        """Distance (m) along the ray to the nearest drawn surface at pixels (K, 2) of the last
        draw; inf where nothing was drawn or the pixel is outside the image."""
        w, h = self.camera.width_px, self.camera.height_px
        out = np.full(len(px), np.inf, np.float32)
        for i, (u, v) in enumerate(px):
            if not (0 <= u < w and 0 <= v < h):
                continue
            col, row = int(u), int(v)
            raw = self.fbo.read(viewport=(col, h - 1 - row, 1, 1), attachment=-1, dtype="f4")
            d = float(np.frombuffer(raw, np.float32)[0])
            if d >= 1.0:
                continue
            z_ndc = 2.0 * d - 1.0
            z = 2.0 * FAR_M * NEAR_M / ((FAR_M + NEAR_M) - z_ndc * (FAR_M - NEAR_M))
            out[i] = z * self.ray_length[row, col]
        return out

    def release(self) -> None:
        for item in (self.fbo, self.colour_rb, self.depth_rb, self.program):
            item.release()
