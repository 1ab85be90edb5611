"""Pose computed elsewhere (the browser): the binary payload it sends for each frame.

In browser-pose mode the page runs MediaPipe's PoseLandmarker itself (WebAssembly) and sends,
per camera frame, only what the server's pipeline reads: the capture time, the image
landmarks, the world landmarks and the person mask inside the box around the trunk that the
back measures use (``formcheck.kinematics.mask_crop``). No image bytes. :func:`decode_payload`
checks every field and turns the payload into the same :class:`PoseFrame` the server's own
:class:`~formcheck.pose.estimator.PoseEstimator` produces; :func:`encode_payload` is the
reference encoder (the page's JavaScript writes the same bytes; tests and benchmarks use it).

Layout, little-endian, version 1 (``PAYLOAD_MAGIC``)::

    offset  type         field
    0       4 bytes      magic b"FCP1"
    4       uint32       seq: numbers the frame; the answer carries it back
    8       float64      t_ms: capture time on the client's clock, milliseconds
    16      uint16 x2    image width, height (px) the landmarks are normalised to
    20      uint8        flags: 1 pose, 2 steady tracking (one person locked), 4 mask
    21      uint8        people detected in the frame
    22      uint16       reserved, 0
    24      float32      mean luma of the frame, 0..255 (the setup check asks for light)
    28      float32 x132 (pose) 33 x [x / width, y / height, z / width, visibility]
    556     float32 x99  (pose) 33 x [x, y, z] world landmarks, metres, hip-centred
    952     uint16 x4    (mask) crop x, y, width, height in px of the image
    960     uint8        (mask) encoding: 1 = zlib-deflated uint8 rows (value / 255)
    961     uint32       (mask) length of the encoded mask in bytes
    965     bytes        (mask) the encoded mask

The mask is quantised to 1/255: the 0.5 crossing the back outline is read from moves by
well under a hundredth of a pixel for it (the mask rises over a few pixels at the edge).
"""

from __future__ import annotations

import math
import struct
import zlib
from dataclasses import dataclass
from enum import IntFlag

import numpy as np
import numpy.typing as npt

from formcheck.errors import FormcheckError
from formcheck.kinematics.mask_crop import (
    DEFAULT_MASK_CROP,
    MaskBox,
    MaskCropConfig,
    trunk_mask_box,
)
from formcheck.pose.landmarks import NUM_LANDMARKS
from formcheck.types import PoseFrame

PAYLOAD_MAGIC = b"FCP1"
HEADER = struct.Struct("<4sIdHHBBHf")
MASK_HEADER = struct.Struct("<HHHHBI")
IMAGE_VALUES_PER_LANDMARK = 4  # x, y, z, visibility
WORLD_VALUES_PER_LANDMARK = 3
IMAGE_LANDMARK_BYTES = NUM_LANDMARKS * IMAGE_VALUES_PER_LANDMARK * 4
WORLD_LANDMARK_BYTES = NUM_LANDMARKS * WORLD_VALUES_PER_LANDMARK * 4
MASK_ENCODING_DEFLATE_U8 = 1
MASK_LEVELS = 255.0
MIN_IMAGE_SIDE_PX = 16  # smaller pictures cannot hold a person the model finds
# Normalised image landmarks may lie outside the picture (a cut-off foot is extrapolated),
# but not by more than the picture again on each side.
MAX_OUTSIDE_IMAGE = 1.0
MAX_ABS_Z = 10.0  # relative depth, in image widths
MAX_ABS_WORLD_M = 5.0  # hip-centred metric coordinates of a body
MAX_LUMA = 255.0
ZLIB_LEVEL = 6


class PayloadFlag(IntFlag):
    POSE = 1
    STEADY = 2
    MASK = 4


class PosePayloadError(FormcheckError):
    """A pose payload that cannot be used; ``code`` names the kind for the client."""

    code = "bad_pose"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class PayloadFormatError(PosePayloadError):
    """Wrong magic, wrong length, unknown flags or encoding: not a version-1 payload."""


class PayloadValueError(PosePayloadError):
    """A number that is not finite or outside its range, or a mask that does not fit."""


class PayloadTooLargeError(PosePayloadError):
    """More bytes than allowed, or a mask crop larger than the picture."""

    code = "pose_too_large"


class TimestampOrderError(PosePayloadError):
    """A capture time that is not after the previous frame's."""

    code = "time_not_increasing"


@dataclass(frozen=True, slots=True)
class PayloadLimits:
    max_payload_bytes: int
    max_image_side_px: int


@dataclass(frozen=True, slots=True)
class PosePayload:
    """One decoded payload; ``pose`` has t_ms = the client's capture time until re-timed."""

    seq: int
    t_ms: float
    mean_luma: float
    pose: PoseFrame


def encode_payload(
    pose: PoseFrame,
    *,
    seq: int,
    t_ms: float,
    mean_luma: float,
    mask_crop: MaskCropConfig = DEFAULT_MASK_CROP,
) -> bytes:
    """The payload the page would send for ``pose`` (its mask cropped to the trunk box)."""
    width_px, height_px = pose.image_width_px, pose.image_height_px
    flags = PayloadFlag(0)
    body = b""
    if pose.landmarks_px is not None and pose.visibility is not None:
        flags |= PayloadFlag.POSE
        scale = np.array([width_px, height_px, width_px], dtype=np.float64)
        image = np.concatenate(
            [pose.landmarks_px / scale, np.asarray(pose.visibility)[:, None]], axis=1
        )
        world = pose.world_m if pose.world_m is not None else np.zeros((NUM_LANDMARKS, 3))
        body = image.astype("<f4").tobytes() + np.asarray(world).astype("<f4").tobytes()
        full = pose.full_mask()
        box = trunk_mask_box(pose.landmarks_px, width_px, height_px, mask_crop)
        if full is not None and box is not None:
            flags |= PayloadFlag.MASK
            crop = full[box.y0 : box.y1, box.x0 : box.x1]
            levels = np.clip(np.rint(crop * MASK_LEVELS), 0, MASK_LEVELS).astype(np.uint8)
            encoded = zlib.compress(levels.tobytes(), ZLIB_LEVEL)
            body += MASK_HEADER.pack(
                box.x0, box.y0, box.width_px, box.height_px, MASK_ENCODING_DEFLATE_U8, len(encoded)
            )
            body += encoded
    if pose.steady_tracking:
        flags |= PayloadFlag.STEADY
    header = HEADER.pack(
        PAYLOAD_MAGIC,
        seq,
        t_ms,
        width_px,
        height_px,
        int(flags),
        min(pose.people_detected, 255),
        0,
        mean_luma,
    )
    return header + body


def is_pose_payload(data: bytes) -> bool:
    return data[: len(PAYLOAD_MAGIC)] == PAYLOAD_MAGIC


def decode_payload(
    data: bytes, limits: PayloadLimits, mask_crop: MaskCropConfig = DEFAULT_MASK_CROP
) -> PosePayload:
    """Check every field of a payload and build its PoseFrame; raises PosePayloadError."""
    if len(data) > limits.max_payload_bytes:
        raise PayloadTooLargeError(
            f"The pose payload is {len(data)} bytes, more than the {limits.max_payload_bytes} "
            "allowed."
        )
    if len(data) < HEADER.size or not is_pose_payload(data):
        raise PayloadFormatError(
            f"A pose payload starts with {PAYLOAD_MAGIC!r} and a {HEADER.size}-byte header; "
            "this message does not."
        )
    _, seq, t_ms, width_px, height_px, flag_bits, people, reserved, luma = HEADER.unpack_from(data)
    if flag_bits & ~int(PayloadFlag.POSE | PayloadFlag.STEADY | PayloadFlag.MASK) or reserved:
        raise PayloadFormatError("The pose payload sets unknown flags or reserved bytes.")
    flags = PayloadFlag(flag_bits)
    if not math.isfinite(t_ms) or t_ms < 0:
        raise PayloadValueError("The frame's capture time t_ms must be a finite number >= 0.")
    if not (0.0 <= luma <= MAX_LUMA):  # also refuses NaN
        raise PayloadValueError(f"mean_luma must be within 0..{MAX_LUMA:.0f}, got {luma}.")
    _check_image_size(width_px, height_px, limits.max_image_side_px)
    steady = PayloadFlag.STEADY in flags
    if PayloadFlag.POSE not in flags:
        if PayloadFlag.MASK in flags:
            raise PayloadFormatError("A payload without a pose cannot carry a mask.")
        _expect_end(data, HEADER.size)
        pose = PoseFrame(t_ms, width_px, height_px, people_detected=people, steady_tracking=steady)
        return PosePayload(seq=seq, t_ms=t_ms, mean_luma=luma, pose=pose)
    offset = HEADER.size
    need = offset + IMAGE_LANDMARK_BYTES + WORLD_LANDMARK_BYTES
    if len(data) < need:
        raise PayloadFormatError(
            f"A payload with a pose holds {IMAGE_LANDMARK_BYTES + WORLD_LANDMARK_BYTES} bytes "
            f"of landmarks after the header; this one is {len(data)} bytes long in all."
        )
    image = np.frombuffer(data, "<f4", NUM_LANDMARKS * IMAGE_VALUES_PER_LANDMARK, offset)
    image = image.reshape(NUM_LANDMARKS, IMAGE_VALUES_PER_LANDMARK).astype(np.float64)
    offset += IMAGE_LANDMARK_BYTES
    world = np.frombuffer(data, "<f4", NUM_LANDMARKS * WORLD_VALUES_PER_LANDMARK, offset)
    world = world.reshape(NUM_LANDMARKS, WORLD_VALUES_PER_LANDMARK).astype(np.float64)
    offset += WORLD_LANDMARK_BYTES
    _check_landmarks(image, world)
    landmarks_px = image[:, :3] * np.array([width_px, height_px, width_px], dtype=np.float64)
    visibility = np.ascontiguousarray(image[:, 3])
    mask = None
    origin = (0, 0)
    if PayloadFlag.MASK in flags:
        box, mask, offset = _read_mask(data, offset, width_px, height_px)
        required = trunk_mask_box(landmarks_px, width_px, height_px, mask_crop)
        # The page computes the box from the same landmarks before rounding them to float32.
        if required is not None and not box.contains(required, tolerance_px=1):
            raise PayloadValueError(
                f"The mask crop {box} does not cover the trunk box {required} the back "
                "outline needs."
            )
        origin = (box.x0, box.y0)
    _expect_end(data, offset)
    pose = PoseFrame(
        t_ms=t_ms,
        image_width_px=width_px,
        image_height_px=height_px,
        landmarks_px=landmarks_px,
        world_m=world,
        visibility=visibility,
        mask=mask,
        mask_origin_px=origin,
        people_detected=people,
        steady_tracking=steady,
    )
    return PosePayload(seq=seq, t_ms=t_ms, mean_luma=luma, pose=pose)


def _check_image_size(width_px: int, height_px: int, max_side_px: int) -> None:
    if min(width_px, height_px) < MIN_IMAGE_SIDE_PX:
        raise PayloadValueError(
            f"The image is {width_px}x{height_px} px; both sides must be at least "
            f"{MIN_IMAGE_SIDE_PX} px."
        )
    if max(width_px, height_px) > max_side_px:
        raise PayloadTooLargeError(
            f"The image is {width_px}x{height_px} px; no side may be over {max_side_px} px."
        )


def _check_landmarks(image: npt.NDArray[np.float64], world: npt.NDArray[np.float64]) -> None:
    if not (np.isfinite(image).all() and np.isfinite(world).all()):
        raise PayloadValueError("Every landmark value must be a finite number.")
    xy = image[:, :2]
    if (xy < -MAX_OUTSIDE_IMAGE).any() or (xy > 1.0 + MAX_OUTSIDE_IMAGE).any():
        raise PayloadValueError(
            f"Image landmarks are normalised to the image: x and y must lie within "
            f"{-MAX_OUTSIDE_IMAGE:g}..{1 + MAX_OUTSIDE_IMAGE:g}."
        )
    if (np.abs(image[:, 2]) > MAX_ABS_Z).any():
        raise PayloadValueError(f"Landmark depth z must lie within +-{MAX_ABS_Z:g} image widths.")
    visibility = image[:, 3]
    if (visibility < 0.0).any() or (visibility > 1.0).any():
        raise PayloadValueError("Landmark visibility must lie within 0..1.")
    if (np.abs(world) > MAX_ABS_WORLD_M).any():
        raise PayloadValueError(
            f"World landmarks are hip-centred metres: no coordinate may exceed "
            f"+-{MAX_ABS_WORLD_M:g} m."
        )


def _read_mask(
    data: bytes, offset: int, width_px: int, height_px: int
) -> tuple[MaskBox, npt.NDArray[np.float32], int]:
    if len(data) < offset + MASK_HEADER.size:
        raise PayloadFormatError("The payload's mask flag is set but its mask header is missing.")
    x0, y0, crop_w, crop_h, encoding, length = MASK_HEADER.unpack_from(data, offset)
    offset += MASK_HEADER.size
    if encoding != MASK_ENCODING_DEFLATE_U8:
        raise PayloadFormatError(f"Unknown mask encoding {encoding}; version 1 uses 1 (deflate).")
    if crop_w == 0 or crop_h == 0 or x0 + crop_w > width_px or y0 + crop_h > height_px:
        raise PayloadTooLargeError(
            f"The mask crop {crop_w}x{crop_h} px at {x0},{y0} does not lie inside the "
            f"{width_px}x{height_px} px image."
        )
    if len(data) < offset + length:
        raise PayloadFormatError(
            f"The mask claims {length} bytes but only {len(data) - offset} follow."
        )
    expected = crop_w * crop_h
    decompressor = zlib.decompressobj()
    try:
        # Never more than the crop's size, however the stream claims to expand.
        raw = decompressor.decompress(data[offset : offset + length], expected + 1)
    except zlib.error as exc:
        raise PayloadFormatError(f"The mask is not a valid deflate stream ({exc}).") from exc
    if len(raw) != expected or not decompressor.eof or decompressor.unused_data:
        raise PayloadValueError(
            f"The mask must expand to exactly {crop_w}x{crop_h} = {expected} bytes, in one "
            "complete deflate stream."
        )
    levels = np.frombuffer(raw, dtype=np.uint8).reshape(crop_h, crop_w)
    mask = levels.astype(np.float32) * np.float32(1.0 / MASK_LEVELS)
    return MaskBox(x0, y0, x0 + crop_w, y0 + crop_h), mask, offset + length


def _expect_end(data: bytes, offset: int) -> None:
    if len(data) != offset:
        raise PayloadFormatError(
            f"The pose payload has {len(data) - offset} bytes after its last field."
        )
