"""Frame geometry: display rotation and the size frames are delivered at."""

from __future__ import annotations

import logging

import cv2
import numpy as np
import numpy.typing as npt

log = logging.getLogger(__name__)

QUARTER_TURN_DEG = 90
FULL_TURN_DEG = 360

# cv2.rotate code for each clockwise rotation that makes a stored frame upright.
_CV2_ROTATE_CODES: dict[int, int] = {
    90: cv2.ROTATE_90_CLOCKWISE,
    180: cv2.ROTATE_180,
    270: cv2.ROTATE_90_COUNTERCLOCKWISE,
}


def upright_rotation_cw_deg(display_rotation_ccw_deg: float) -> int:
    """Clockwise turn (0, 90, 180 or 270) that shows a stored frame upright.

    ``display_rotation_ccw_deg`` is FFmpeg's display-matrix angle as PyAV reports it
    (``av.VideoFrame.rotation``: counter-clockwise, -180..180). A phone held upright usually
    stores landscape frames with -90 here (the old ``rotate=90`` tag): turn 90 clockwise.
    Angles between quarter turns are rounded to the nearest one.
    """
    cw_deg = -float(display_rotation_ccw_deg) % FULL_TURN_DEG
    quarter_turns = round(cw_deg / QUARTER_TURN_DEG)
    snapped_deg = (quarter_turns * QUARTER_TURN_DEG) % FULL_TURN_DEG
    if abs(cw_deg - quarter_turns * QUARTER_TURN_DEG) > 1.0:
        log.warning(
            "Display rotation of %.1f deg is not a quarter turn; using %d deg.",
            cw_deg,
            snapped_deg,
        )
    return snapped_deg


def swaps_axes(rotation_cw_deg: int) -> bool:
    return rotation_cw_deg % (2 * QUARTER_TURN_DEG) != 0


def rotate_upright(image: npt.NDArray[np.uint8], rotation_cw_deg: int) -> npt.NDArray[np.uint8]:
    """Turn ``image`` clockwise by ``rotation_cw_deg``; always returns a C-contiguous array."""
    code = _CV2_ROTATE_CODES.get(rotation_cw_deg)
    if code is None:
        return image if image.flags.c_contiguous else np.ascontiguousarray(image)
    return np.asarray(cv2.rotate(image, code), dtype=np.uint8)


def delivered_size_px(width_px: int, height_px: int, max_side_px: int | None) -> tuple[int, int]:
    """(width, height) after shrinking so the long side is at most ``max_side_px``.

    Keeps the aspect ratio; never enlarges; ``None`` keeps the native size.
    """
    long_side_px = max(width_px, height_px)
    if max_side_px is None or long_side_px <= max_side_px:
        return width_px, height_px
    scale = max_side_px / long_side_px
    return max(1, round(width_px * scale)), max(1, round(height_px * scale))
