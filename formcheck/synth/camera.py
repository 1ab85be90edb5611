"""Pinhole camera: world metres <-> image pixels.

Image coordinates are continuous pixels with the origin at the top-left corner of the image:
pixel (u, v) covers [u, u+1) x [v, v+1) and its centre is (u + 0.5, v + 0.5), the same scale
as MediaPipe's normalised landmarks multiplied by the image size. The camera frame follows
OpenCV: x right, y down, z forward (metres).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from formcheck.synth.geometry import Mat, Vec, unit

WORLD_UP = np.array([0.0, 1.0, 0.0])


@dataclass(frozen=True, slots=True)
class Camera:
    position_m: Vec
    rotation: Mat  # rows: camera x (right), y (down), z (forward) axes in world coordinates
    focal_px: float
    width_px: int
    height_px: int

    @staticmethod
    def look_at(
        position_m: Vec, target_m: Vec, vertical_fov_deg: float, width_px: int, height_px: int
    ) -> Camera:
        forward = unit(np.asarray(target_m, float) - np.asarray(position_m, float))
        right = unit(np.cross(forward, WORLD_UP))
        down = np.cross(forward, right)
        focal = (height_px / 2.0) / math.tan(math.radians(vertical_fov_deg) / 2.0)
        return Camera(
            np.asarray(position_m, float),
            np.stack([right, down, forward]),
            focal,
            width_px,
            height_px,
        )

    def to_camera(self, points_m: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """World points (..., 3) -> camera-frame points (..., 3), metres."""
        return (points_m - self.position_m) @ self.rotation.T

    def project(self, points_m: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """World points (..., 3) -> pixel coordinates (..., 2)."""
        cam = self.to_camera(points_m)
        z = cam[..., 2:3]
        return cam[..., :2] / z * self.focal_px + np.array(
            [self.width_px / 2.0, self.height_px / 2.0]
        )

    def ray_directions(self) -> npt.NDArray[np.float32]:
        """(H, W, 3) unit world directions through every pixel centre."""
        u = (np.arange(self.width_px) + 0.5 - self.width_px / 2.0) / self.focal_px
        v = (np.arange(self.height_px) + 0.5 - self.height_px / 2.0) / self.focal_px
        uu, vv = np.meshgrid(u, v)
        d = np.stack([uu, vv, np.ones_like(uu)], axis=-1)
        d /= np.linalg.norm(d, axis=-1, keepdims=True)
        return (d @ self.rotation).astype(np.float32)

    def as_dict(self) -> dict[str, object]:
        return {
            "position_m": [round(float(x), 6) for x in self.position_m],
            "rotation_world_to_camera": [
                [round(float(x), 9) for x in row] for row in self.rotation
            ],
            "focal_px": round(self.focal_px, 6),
            "principal_point_px": [self.width_px / 2.0, self.height_px / 2.0],
            "width_px": self.width_px,
            "height_px": self.height_px,
        }
