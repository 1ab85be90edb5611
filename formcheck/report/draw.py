"""Drawing on RGB frames: skeleton, back outline and a heads-up display (rep counter, cues).

Sizes scale with the frame height so a phone clip and a 640x480 clip look alike. Text is
drawn with OpenCV's Hershey fonts, which know only ASCII: messages are transliterated.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from formcheck.pose.landmarks import SKELETON_EDGES
from formcheck.report.recorder import FrameOverlay
from formcheck.types import ImageRGB

Color = tuple[int, int, int]  # RGB

SKELETON_RGB: Color = (80, 220, 255)
JOINT_RGB: Color = (255, 255, 255)
OUTLINE_RGB: Color = (255, 70, 200)
HUD_TEXT_RGB: Color = (255, 255, 255)
HUD_BOX_RGB: Color = (20, 20, 20)
SEVERITY_RGB: dict[str, Color] = {
    "safety": (230, 40, 40),
    "warning": (245, 150, 20),
    "info": (40, 120, 230),
}
REFERENCE_HEIGHT_PX = 480.0  # sizes below are for a frame this tall, scaled for others
LINE_WIDTH_PX = 2.0
JOINT_RADIUS_PX = 3.0
OUTLINE_WIDTH_PX = 3.0
FONT_SCALE = 0.6
TEXT_PAD_PX = 6.0
HUD_BOX_ALPHA = 0.6
FONT = cv2.FONT_HERSHEY_SIMPLEX
ASCII_REPLACEMENTS = {"°": " deg", "–": "-", "—": "-", "’": "'", "‘": "'", "“": '"', "”": '"'}


@dataclass(frozen=True, slots=True)
class HudCue:
    """A message shown from ``t_s`` for a while, coloured by severity."""

    t_s: float
    message: str
    severity: str


@dataclass(frozen=True, slots=True)
class Hud:
    """Heads-up display lines for one frame."""

    rep_line: str
    cues: tuple[HudCue, ...] = ()


def _scale(image: ImageRGB) -> float:
    return max(0.5, image.shape[0] / REFERENCE_HEIGHT_PX)


def ascii_text(text: str) -> str:
    for old, new in ASCII_REPLACEMENTS.items():
        text = text.replace(old, new)
    return text.encode("ascii", "replace").decode("ascii")


def draw_pose(image: ImageRGB, overlay: FrameOverlay | None) -> None:
    """Draw the skeleton and back outline of ``overlay`` onto ``image`` in place.

    The overlay's coordinates are scaled from its own frame size to the image's.
    """
    if overlay is None or overlay.landmarks_px is None or overlay.visible is None:
        return
    scale = _scale(image)
    sx = image.shape[1] / overlay.image_size_px[0]
    sy = image.shape[0] / overlay.image_size_px[1]
    points = overlay.landmarks_px * np.array([sx, sy], dtype=np.float32)
    width = max(1, round(LINE_WIDTH_PX * scale))
    for a, b in SKELETON_EDGES:
        if overlay.visible[a] and overlay.visible[b]:
            cv2.line(image, _pt(points[a]), _pt(points[b]), SKELETON_RGB, width, cv2.LINE_AA)
    radius = max(1, round(JOINT_RADIUS_PX * scale))
    for i in np.flatnonzero(overlay.visible):
        cv2.circle(image, _pt(points[i]), radius, JOINT_RGB, -1, cv2.LINE_AA)
    if overlay.outline_px is not None:
        outline = overlay.outline_px * np.array([sx, sy], dtype=np.float32)
        poly = np.round(outline).astype(np.int32).reshape(-1, 1, 2)
        thick = max(1, round(OUTLINE_WIDTH_PX * scale))
        cv2.polylines(image, [poly], False, OUTLINE_RGB, thick, cv2.LINE_AA)


def _pt(xy: np.ndarray) -> tuple[int, int]:
    return round(float(xy[0])), round(float(xy[1]))


def draw_hud(image: ImageRGB, hud: Hud) -> None:
    """Rep counter at the top left, active cues at the bottom (wrapped to the frame width)."""
    scale = _scale(image)
    font_scale = FONT_SCALE * scale
    thickness = max(1, round(scale))
    pad = round(TEXT_PAD_PX * scale)
    _text_box(image, [ascii_text(hud.rep_line)], (pad, pad), font_scale, thickness, HUD_BOX_RGB)
    y_bottom = image.shape[0] - pad
    for cue in reversed(hud.cues):
        lines = _wrap(ascii_text(cue.message), image.shape[1] - 4 * pad, font_scale, thickness)
        color = SEVERITY_RGB.get(cue.severity, HUD_BOX_RGB)
        height = _box_height(len(lines), font_scale, thickness, pad)
        y_bottom -= height
        _text_box(image, lines, (pad, y_bottom), font_scale, thickness, color)
        y_bottom -= pad


def _line_height(font_scale: float, thickness: int) -> int:
    (_, h), baseline = cv2.getTextSize("Ag", FONT, font_scale, thickness)
    return int(h + baseline)


def _box_height(n_lines: int, font_scale: float, thickness: int, pad: int) -> int:
    return n_lines * (_line_height(font_scale, thickness) + pad // 2) + pad


def _wrap(text: str, max_width_px: int, font_scale: float, thickness: int) -> list[str]:
    lines: list[str] = []
    current = ""
    for word in text.split():
        trial = f"{current} {word}".strip()
        (w, _), _ = cv2.getTextSize(trial, FONT, font_scale, thickness)
        if current and w > max_width_px:
            lines.append(current)
            current = word
        else:
            current = trial
    if current:
        lines.append(current)
    return lines or [""]


def _text_box(
    image: ImageRGB,
    lines: Sequence[str],
    top_left: tuple[int, int],
    font_scale: float,
    thickness: int,
    box_rgb: Color,
) -> None:
    pad = round(TEXT_PAD_PX * _scale(image))
    line_h = _line_height(font_scale, thickness)
    width = max(cv2.getTextSize(line, FONT, font_scale, thickness)[0][0] for line in lines)
    x0, y0 = top_left
    x1 = min(image.shape[1], x0 + width + 2 * pad)
    y1 = min(image.shape[0], y0 + _box_height(len(lines), font_scale, thickness, pad))
    x0, y0 = max(0, x0), max(0, y0)
    if x1 <= x0 or y1 <= y0:
        return
    region = image[y0:y1, x0:x1]
    tint = np.array(box_rgb, dtype=np.float32)
    blended = region.astype(np.float32) * (1.0 - HUD_BOX_ALPHA) + tint * HUD_BOX_ALPHA
    region[:] = blended.astype(np.uint8)
    (_, text_h), _ = cv2.getTextSize("Ag", FONT, font_scale, thickness)
    for k, line in enumerate(lines):
        y = y0 + pad + k * (line_h + pad // 2) + text_h
        cv2.putText(
            image, line, (x0 + pad, y), FONT, font_scale, HUD_TEXT_RGB, thickness, cv2.LINE_AA
        )
