"""Typed containers passed between pipeline stages.

FrameSource -(VideoFrame)-> PoseEstimator -(PoseFrame)-> Smoother -> Kinematics -(Sample)-> Analyzer

Every container validates its arrays on construction. Times are milliseconds taken from
the video's own timestamps (or the camera clock), never frame counts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

import numpy as np
import numpy.typing as npt

from formcheck.pose.landmarks import NUM_LANDMARKS

FloatArray = npt.NDArray[np.float32] | npt.NDArray[np.float64]
ImageRGB = npt.NDArray[np.uint8]


def _check_shape(name: str, array: np.ndarray | None, shape: tuple[int | None, ...]) -> None:
    if array is None:
        return
    if array.ndim != len(shape) or any(
        want is not None and got != want for got, want in zip(array.shape, shape, strict=True)
    ):
        raise ValueError(f"{name} must have shape {shape}, got {array.shape}")


@dataclass(frozen=True, slots=True)
class VideoInfo:
    """What a frame source knows about its video before decoding it all.

    ``width_px``/``height_px`` are of the frames as delivered: after rotation metadata
    has been applied and before any downscaling for inference.
    """

    path: str
    width_px: int
    height_px: int
    fps: float
    frame_count: int  # container's estimate; 0 when unknown (cameras)
    duration_s: float  # 0.0 when unknown
    rotation_deg: int = 0
    codec: str = ""


@dataclass(frozen=True, slots=True)
class VideoFrame:
    """One decoded frame: RGB pixels, upright, with its presentation time."""

    index: int
    t_ms: float
    rgb: ImageRGB  # (H, W, 3) uint8, C-contiguous

    def __post_init__(self) -> None:
        _check_shape("rgb", self.rgb, (None, None, 3))
        if self.rgb.dtype != np.uint8:
            raise ValueError(f"rgb must be uint8, got {self.rgb.dtype}")


@dataclass(frozen=True, slots=True)
class PoseFrame:
    """Pose of the tracked person in one frame (or no pose).

    landmarks_px: (33, 3) x and y in pixels of the delivered frame, z in the same pixel
        scale (MediaPipe's relative depth, hip-centred).
    world_m: (33, 3) metric coordinates from MediaPipe's world landmarks, hip-centred,
        y pointing down.
    visibility: (33,) in 0..1.
    mask: (h, w) float32 person probability in 0..1 in the delivered frame's pixels, when
        segmentation was requested: the whole frame, or (usually) only the part around the
        trunk that the back measures read (``formcheck.kinematics.mask_crop``), whose top-left
        pixel is ``mask_origin_px`` (x, y) of the frame. Outside it the mask reads 0.
    """

    t_ms: float
    image_width_px: int
    image_height_px: int
    landmarks_px: FloatArray | None = None
    world_m: FloatArray | None = None
    visibility: FloatArray | None = None
    mask: npt.NDArray[np.float32] | None = None
    mask_origin_px: tuple[int, int] = (0, 0)
    people_detected: int = 0
    # False while the estimator is still in its multi-person start-up mode: its masks differ
    # from those of one-person tracking, so calibration must not mix the two.
    steady_tracking: bool = True
    # True on the frame that begins a new camera shot (an edited clip cuts here; see
    # formcheck.video.shots): measures across it compare two different shots.
    shot_cut: bool = False

    def __post_init__(self) -> None:
        _check_shape("landmarks_px", self.landmarks_px, (NUM_LANDMARKS, 3))
        _check_shape("world_m", self.world_m, (NUM_LANDMARKS, 3))
        _check_shape("visibility", self.visibility, (NUM_LANDMARKS,))
        if self.mask is not None:
            _check_shape("mask", self.mask, (None, None))
            x0, y0 = self.mask_origin_px
            height, width = self.mask.shape
            if x0 < 0 or y0 < 0 or x0 + width > self.image_width_px:
                raise ValueError(f"mask of {width}x{height} px at {x0},{y0} leaves the frame")
            if y0 + height > self.image_height_px:
                raise ValueError(f"mask of {width}x{height} px at {x0},{y0} leaves the frame")
        if (self.landmarks_px is None) != (self.visibility is None):
            raise ValueError("landmarks_px and visibility come together")

    @property
    def has_pose(self) -> bool:
        return self.landmarks_px is not None

    def full_mask(self) -> npt.NDArray[np.float32] | None:
        """The mask over the whole frame (0 outside its crop), or None without one."""
        if self.mask is None:
            return None
        x0, y0 = self.mask_origin_px
        if (x0, y0) == (0, 0) and self.mask.shape == (self.image_height_px, self.image_width_px):
            return self.mask
        full = np.zeros((self.image_height_px, self.image_width_px), dtype=np.float32)
        height, width = self.mask.shape
        full[y0 : y0 + height, x0 : x0 + width] = self.mask
        return full


class Facing(Enum):
    """Where the person's front points, as seen in the image."""

    LEFT = "left"  # nose towards image left (-x)
    RIGHT = "right"  # nose towards image right (+x)
    TOWARD = "toward"  # facing the camera
    AWAY = "away"  # back to the camera
    UNKNOWN = "unknown"


class CameraView(Enum):
    SIDE = "side"
    FRONT = "front"
    OBLIQUE = "oblique"
    UNKNOWN = "unknown"


class ScaleSource(Enum):
    STATED_HEIGHT = "stated_height"
    WORLD_LANDMARKS = "world_landmarks"  # MediaPipe's metric landmarks, bias-corrected
    ASSUMED_HEIGHT = "assumed_height"  # those read an implausible height: an average adult
    NONE = "none"


@dataclass(frozen=True, slots=True)
class FrameQuality:
    """Whether a frame's measures can be trusted."""

    has_pose: bool
    in_frame: bool = False  # all key joints inside the image
    mean_visibility: float = 0.0
    person_height_px: float = 0.0
    too_small: bool = False

    @property
    def usable(self) -> bool:
        return self.has_pose and self.in_frame and not self.too_small


@dataclass(frozen=True, slots=True)
class Sample:
    """Named measures at one instant, with units in their names.

    A measure that cannot be computed in this frame is NaN (never missing), so every
    Sample of a run has the same keys, in the same order.
    """

    t_ms: float
    measures: dict[str, float]
    facing: Facing
    view: CameraView
    quality: FrameQuality
    pose: PoseFrame = field(repr=False)

    def get(self, name: str) -> float:
        return self.measures.get(name, float("nan"))
