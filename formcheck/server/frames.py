"""Browser frames: the binary message (header + image bytes) to an RGB VideoFrame.

The image's size is read from its header before decoding, so a small file that claims
an enormous picture (a decompression bomb) is refused without allocating it.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from formcheck.server.messages import FRAME_HEADER_FORMAT

FRAME_HEADER_BYTES = struct.calcsize(FRAME_HEADER_FORMAT)
JPEG_SOI = b"\xff\xd8"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG_IHDR_SIZE = struct.Struct(">II")
PNG_IHDR_OFFSET = 16  # signature (8) + chunk length (4) + "IHDR" (4)
# JPEG start-of-frame markers (baseline, extended, progressive, lossless, ...): not DHT (C4),
# JPG (C8) or DAC (CC), which share the range.
JPEG_SOF_MARKERS = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
JPEG_STANDALONE_MARKERS = frozenset(range(0xD0, 0xDA)) | {0x01}


class FrameError(Exception):
    """A frame message that cannot be used; ``code`` is an ErrorMessage code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class FramePacket:
    seq: int
    t_ms: float
    image: bytes


def parse_frame_message(data: bytes, max_frame_bytes: int) -> FramePacket:
    if len(data) > max_frame_bytes:
        raise FrameError(
            "frame_too_large",
            f"The frame is {len(data)} bytes, more than the {max_frame_bytes} allowed; send "
            "a smaller JPEG (640x480 at quality 0.8 is about 50 kB).",
        )
    if len(data) <= FRAME_HEADER_BYTES:
        raise FrameError(
            "bad_frame",
            f"A frame message is a {FRAME_HEADER_BYTES}-byte header (seq, t_ms) followed by "
            "a JPEG image; this one is too short.",
        )
    seq, t_ms = struct.unpack_from(FRAME_HEADER_FORMAT, data)
    if not math.isfinite(t_ms):
        raise FrameError("bad_frame", "The frame's capture time t_ms is not a finite number.")
    return FramePacket(seq=seq, t_ms=t_ms, image=data[FRAME_HEADER_BYTES:])


def image_size_px(image: bytes) -> tuple[int, int] | None:
    """(width, height) from a JPEG or PNG header, or None when it is neither."""
    if image.startswith(PNG_SIGNATURE) and len(image) >= PNG_IHDR_OFFSET + PNG_IHDR_SIZE.size:
        width, height = PNG_IHDR_SIZE.unpack_from(image, PNG_IHDR_OFFSET)
        return int(width), int(height)
    if image.startswith(JPEG_SOI):
        return _jpeg_size_px(image)
    return None


def _jpeg_size_px(image: bytes) -> tuple[int, int] | None:
    pos = len(JPEG_SOI)
    end = len(image)
    while pos + 4 <= end:
        if image[pos] != 0xFF:
            return None
        marker = image[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in JPEG_STANDALONE_MARKERS:
            pos += 2
            continue
        (length,) = struct.unpack_from(">H", image, pos + 2)
        if marker in JPEG_SOF_MARKERS:
            if pos + 9 > end:
                return None
            height, width = struct.unpack_from(">HH", image, pos + 5)
            return int(width), int(height)
        if length < 2:
            return None
        pos += 2 + length
    return None


def decode_image(image: bytes, max_side_px: int) -> npt.NDArray[np.uint8]:
    """RGB pixels of a JPEG or PNG; raises FrameError for anything else."""
    size = image_size_px(image)
    if size is None:
        raise FrameError("bad_frame", "The frame is not a JPEG or PNG image.")
    width_px, height_px = size
    if width_px <= 0 or height_px <= 0 or max(width_px, height_px) > max_side_px:
        raise FrameError(
            "frame_too_large" if max(width_px, height_px) > max_side_px else "bad_frame",
            f"The image is {width_px}x{height_px} px; send frames with no side over "
            f"{max_side_px} px.",
        )
    bgr = cv2.imdecode(np.frombuffer(image, dtype=np.uint8), cv2.IMREAD_COLOR)
    if bgr is None or bgr.ndim != 3 or bgr.shape[2] != 3:
        raise FrameError("bad_frame", "The frame's image data could not be decoded.")
    return np.ascontiguousarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))


def fit_within(rgb: npt.NDArray[np.uint8], max_side_px: int) -> npt.NDArray[np.uint8]:
    """The image shrunk (keeping its aspect) so that its longer side is at most max_side_px."""
    height_px, width_px = rgb.shape[:2]
    longest_px = max(height_px, width_px)
    if longest_px <= max_side_px:
        return rgb
    scale = max_side_px / longest_px
    size = (max(1, round(width_px * scale)), max(1, round(height_px * scale)))
    return np.ascontiguousarray(cv2.resize(rgb, size, interpolation=cv2.INTER_AREA))
