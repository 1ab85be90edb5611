"""Scene style (background, lighting, colours) and the composition of a shaded frame."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import numpy.typing as npt

from formcheck.pose.landmarks import NUM_LANDMARKS
from formcheck.synth.camera import Camera
from formcheck.synth.raycast import HitBuffer
from formcheck.synth.surface import EYE, HAIR, LIPS, MATERIALS, PANTS, SHIRT, SHOES, SKIN, Clothing

RGB = tuple[int, int, int]
BACKGROUNDS = ("plain", "gradient", "room")
FLOOR_TEXTURES = ("plain", "checker", "planks")
CHECKER_TILE_M = 0.5
PLANK_WIDTH_M = 0.2
WALL_BEHIND_TARGET_M = 2.5
TEXTURE_CONTRAST = 0.12
SHADOW_MARGIN_M = 0.4  # floor around the body's foot-points that may be shadowed
SHADOW_RADIUS_M = 0.12
SHADOW_HEIGHT_M = 0.35  # a body point this high casts 1/e of the shadow of one on the floor
SHADOW_STRENGTH = 0.22
SHADOW_MAX = 0.55
# Landmarks that cast the shadow: shoulders, elbows, wrists, hips, knees, ankles, heels, toes.
SHADOW_LANDMARKS = (*range(11, 17), *range(23, 33))
EDGE_SOFTNESS = 4.0  # sharpness of the soft checker edges (dimensionless)

SKIN_TONES: tuple[RGB, ...] = (
    (241, 194, 167),
    (224, 172, 138),
    (198, 134, 96),
    (161, 102, 68),
    (110, 70, 45),
    (232, 190, 150),
)
HAIR_COLOURS: tuple[RGB, ...] = (
    (40, 30, 25),
    (90, 60, 35),
    (150, 110, 60),
    (20, 20, 20),
    (170, 160, 150),
)
CLOTH_COLOURS: tuple[RGB, ...] = (
    (40, 60, 120),
    (20, 20, 25),
    (180, 40, 40),
    (60, 110, 60),
    (120, 120, 130),
    (230, 230, 230),
    (200, 150, 40),
    (90, 50, 120),
    (30, 120, 140),
    (150, 80, 60),
)
WALL_COLOURS: tuple[RGB, ...] = (
    (225, 222, 215),
    (200, 210, 220),
    (180, 190, 170),
    (235, 230, 210),
    (160, 160, 165),
    (90, 95, 105),
)
FLOOR_COLOURS: tuple[RGB, ...] = (
    (150, 120, 90),
    (110, 110, 115),
    (190, 180, 160),
    (70, 80, 95),
    (120, 90, 70),
)
EYE_RGB: RGB = (30, 25, 25)
LIPS_RGB: RGB = (150, 70, 70)
PERSON_MATERIALS = MATERIALS
PROP_RGB: RGB = (130, 100, 70)


@dataclass(frozen=True, slots=True)
class SceneStyle:
    """Everything about a clip's look that is not the body's shape or motion."""

    background: str = "room"
    floor_texture: str = "planks"
    wall_rgb: RGB = (225, 222, 215)
    wall_bottom_rgb: RGB = (200, 198, 190)
    floor_rgb: RGB = (150, 120, 90)
    skin_rgb: RGB = (224, 172, 138)
    shirt_rgb: RGB = (40, 60, 120)
    pants_rgb: RGB = (20, 20, 25)
    shoes_rgb: RGB = (230, 230, 230)
    hair_rgb: RGB = (40, 30, 25)
    prop_rgb: RGB = PROP_RGB
    short_sleeves: bool = True
    shorts: bool = False
    light_azimuth_deg: float = 30.0  # about world up, from +x towards +z
    light_elevation_deg: float = 50.0
    ambient: float = 0.45
    diffuse: float = 0.6

    @property
    def clothing(self) -> Clothing:
        return Clothing(short_sleeves=self.short_sleeves, shorts=self.shorts)

    def as_dict(self) -> dict[str, object]:
        return asdict(self)

    def material_colours(
        self, extra: tuple[str, ...] = ()
    ) -> tuple[tuple[str, ...], npt.NDArray[np.float32]]:
        """Material names (person materials first, then ``extra``) and their RGB in 0..255."""
        table = {
            SKIN: self.skin_rgb,
            SHIRT: self.shirt_rgb,
            PANTS: self.pants_rgb,
            SHOES: self.shoes_rgb,
            HAIR: self.hair_rgb,
            EYE: EYE_RGB,
            LIPS: LIPS_RGB,
        }
        names = PERSON_MATERIALS + extra
        colours = [table.get(n, self.prop_rgb) for n in names]
        return names, np.array(colours, np.float32)

    def light_direction(self) -> npt.NDArray[np.float32]:
        az, el = math.radians(self.light_azimuth_deg), math.radians(self.light_elevation_deg)
        return np.array(
            [math.cos(el) * math.cos(az), math.sin(el), math.cos(el) * math.sin(az)], np.float32
        )


def _pick(rng: np.random.Generator, options: tuple[RGB, ...]) -> RGB:
    return options[int(rng.integers(len(options)))]


def random_style(rng: np.random.Generator) -> SceneStyle:
    shirt = _pick(rng, CLOTH_COLOURS)
    pants = _pick(rng, CLOTH_COLOURS)
    wall = _pick(rng, WALL_COLOURS)
    return SceneStyle(
        background=BACKGROUNDS[int(rng.choice(3, p=[0.15, 0.2, 0.65]))],
        floor_texture=FLOOR_TEXTURES[int(rng.integers(3))],
        wall_rgb=wall,
        wall_bottom_rgb=tuple(int(c * 0.85) for c in wall),  # type: ignore[arg-type]
        floor_rgb=_pick(rng, FLOOR_COLOURS),
        skin_rgb=_pick(rng, SKIN_TONES),
        shirt_rgb=shirt,
        pants_rgb=pants,
        shoes_rgb=_pick(rng, CLOTH_COLOURS),
        hair_rgb=_pick(rng, HAIR_COLOURS),
        short_sleeves=bool(rng.random() < 0.6),
        shorts=bool(rng.random() < 0.3),
        light_azimuth_deg=float(rng.uniform(-180.0, 180.0)),
        light_elevation_deg=float(rng.uniform(25.0, 70.0)),
        ambient=float(rng.uniform(0.35, 0.55)),
        diffuse=float(rng.uniform(0.45, 0.7)),
    )


@dataclass(frozen=True, slots=True)
class Backdrop:
    """What is behind the person for a fixed camera: the image, and where it shows floor
    (with the floor point seen through each pixel, for shadows)."""

    image: npt.NDArray[np.float32]  # (H, W, 3) 0..255
    floor_mask: npt.NDArray[np.bool_]  # (H, W)
    floor_xz_m: npt.NDArray[np.float32]  # (H, W, 2)


def render_background(
    style: SceneStyle,
    camera: Camera,
    rays: npt.NDArray[np.float32],
    target_m: npt.NDArray[np.float64],
) -> Backdrop:
    """The background for a fixed camera: plain, gradient, or a room with a wall behind the
    person and a textured floor (only the room has a floor to cast shadows on)."""
    h, w = camera.height_px, camera.width_px
    no_floor = np.zeros((h, w), bool)
    no_xz = np.zeros((h, w, 2), np.float32)
    if style.background == "plain":
        flat = np.broadcast_to(np.array(style.wall_rgb, np.float32), (h, w, 3)).copy()
        return Backdrop(flat, no_floor, no_xz)
    if style.background == "gradient":
        k = np.linspace(0.0, 1.0, h, dtype=np.float32)[:, None, None]
        top = np.array(style.wall_rgb, np.float32)
        bottom = np.array(style.wall_bottom_rgb, np.float32)
        grad = np.broadcast_to(top * (1 - k) + bottom * k, (h, w, 3)).copy()
        return Backdrop(grad, no_floor, no_xz)
    origin = camera.position_m.astype(np.float32)
    # Wall: vertical plane facing the camera, behind the target.
    fwd = camera.rotation[2].copy()
    fwd[1] = 0.0
    fwd /= max(float(np.linalg.norm(fwd)), 1e-9)
    wall_dist = float(np.dot(target_m - camera.position_m, fwd)) + WALL_BEHIND_TARGET_M
    denom = rays @ fwd.astype(np.float32)
    with np.errstate(divide="ignore", invalid="ignore"):
        t_wall = np.where(denom > 1e-6, wall_dist / denom, np.inf)
        t_floor = np.where(rays[..., 1] < -1e-6, -origin[1] / rays[..., 1], np.inf)
    floor_hit = t_floor < t_wall
    height = origin[1] + np.where(np.isfinite(t_wall), t_wall, 0.0) * rays[..., 1]
    k = np.clip(height / 2.5, 0.0, 1.0)[..., None]
    top, bottom = np.array(style.wall_rgb, np.float32), np.array(style.wall_bottom_rgb, np.float32)
    img = bottom * (1 - k) + top * k
    fx = origin[0] + np.where(floor_hit, t_floor, 0.0) * rays[..., 0]
    fz = origin[2] + np.where(floor_hit, t_floor, 0.0) * rays[..., 2]
    if style.floor_texture == "checker":
        pattern = np.tanh(
            EDGE_SOFTNESS
            * np.sin(np.pi * fx / CHECKER_TILE_M)
            * np.sin(np.pi * fz / CHECKER_TILE_M)
        )
    elif style.floor_texture == "planks":
        pattern = np.tanh(EDGE_SOFTNESS * np.sin(np.pi * fz / PLANK_WIDTH_M)) * 0.5 + 0.5 * np.sin(
            7.0 * fx + 3.0 * np.floor(fz / PLANK_WIDTH_M)
        )
    else:
        pattern = np.zeros_like(fx)
    fade = np.exp(-np.where(floor_hit, t_floor, 0.0) / 12.0)
    floor = (
        np.array(style.floor_rgb, np.float32) * (1.0 + TEXTURE_CONTRAST * pattern * fade)[..., None]
    )
    img = np.where(floor_hit[..., None], floor, img)
    xz = np.stack([fx, fz], axis=-1).astype(np.float32)
    return Backdrop(np.asarray(img, np.float32), floor_hit, xz)


def cast_shadow(
    backdrop: Backdrop, camera: Camera, points_m: npt.NDArray[np.float64]
) -> npt.NDArray[np.float32]:
    """The backdrop image with a soft contact shadow under the body: each body point darkens
    the floor around its foot-point, less the higher it is."""
    img = backdrop.image
    if not backdrop.floor_mask.any():
        return img
    points_m = points_m[list(SHADOW_LANDMARKS)] if len(points_m) == NUM_LANDMARKS else points_m
    ground = points_m.copy()
    ground[:, 1] = 0.0
    reach = np.array(
        [
            [dx, 0.0, dz]
            for dx in (-SHADOW_MARGIN_M, SHADOW_MARGIN_M)
            for dz in (-SHADOW_MARGIN_M, SHADOW_MARGIN_M)
        ]
    )
    corners = (ground[:, None, :] + reach[None, :, :]).reshape(-1, 3)
    in_front = camera.to_camera(corners)[:, 2] > 0.1
    if not in_front.all():
        return img
    px = camera.project(corners)
    x0, y0 = np.floor(px.min(axis=0)).astype(int)
    x1, y1 = np.ceil(px.max(axis=0)).astype(int)
    x0, y0 = max(x0, 0), max(y0, 0)
    x1, y1 = min(x1, camera.width_px), min(y1, camera.height_px)
    if x0 >= x1 or y0 >= y1:
        return img
    xz = backdrop.floor_xz_m[y0:y1, x0:x1]
    strength = SHADOW_STRENGTH * np.exp(-np.maximum(points_m[:, 1], 0.0) / SHADOW_HEIGHT_M)
    d2 = (xz[..., None, 0] - points_m[:, 0]) ** 2 + (xz[..., None, 1] - points_m[:, 2]) ** 2
    dark = np.clip(
        (strength * np.exp(-d2 / (2 * SHADOW_RADIUS_M**2))).sum(axis=-1), 0.0, SHADOW_MAX
    )
    dark = np.where(backdrop.floor_mask[y0:y1, x0:x1], dark, 0.0)
    out = img.copy()
    out[y0:y1, x0:x1] *= (1.0 - dark)[..., None].astype(np.float32)
    return out


def shade(
    buf: HitBuffer,
    background: npt.NDArray[np.float32],
    colours: npt.NDArray[np.float32],
    style: SceneStyle,
) -> npt.NDArray[np.uint8]:
    """Composite lit primitives over the background; returns (H, W, 3) uint8 RGB."""
    img = background.copy()
    sel = buf.material >= 0
    n = buf.normal[sel]
    lam = np.clip(n @ style.light_direction(), 0.0, None)
    light = style.ambient * (0.8 + 0.2 * n[:, 1]) + style.diffuse * lam
    img[sel] = colours[buf.material[sel]] * light[:, None]
    # A camera's optics soften edges: a [1, 2, 1] / 4 blur in x and y (anti-aliasing look).
    img[:, 1:-1] = (img[:, :-2] + 2.0 * img[:, 1:-1] + img[:, 2:]) / 4.0
    img[1:-1] = (img[:-2] + 2.0 * img[1:-1] + img[2:]) / 4.0
    return np.clip(img + 0.5, 0.0, 255.0).astype(np.uint8)
