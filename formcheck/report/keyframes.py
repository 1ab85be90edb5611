"""Key frames of the best and the worst rep, taken at the bottom of each, as JPEG bytes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from formcheck.report.model import RepBlock
from formcheck.report.recorder import FrameOverlay
from formcheck.types import ImageRGB

KEYFRAME_MAX_SIDE_PX = 720  # key frames are shrunk to this for the report
JPEG_QUALITY = 82
CANDIDATE_WINDOW_S = 0.5  # frames further than this from the wanted time are never kept
CROP_MARGIN_FRACTION = 0.25  # space kept around the person, as a fraction of their box size
MIN_VISIBLE_FOR_CROP = 4  # fewer well-seen landmarks than this: keep the whole frame

Box = tuple[int, int, int, int]  # x0, y0, x1, y1 pixels


@dataclass(frozen=True, slots=True)
class KeyFrameSpec:
    """A moment to show: ``t_s`` is the middle of the rep's bottom pause."""

    label: str
    rep: int
    t_s: float
    score: float | None


@dataclass(frozen=True, slots=True)
class KeyFrame:
    spec: KeyFrameSpec
    frame_t_s: float
    jpeg: bytes
    width_px: int
    height_px: int
    outline_drawn: bool = False  # the back outline was measured, and drawn, on this frame


def bottom_time_s(rep: RepBlock) -> float | None:
    """The middle of a rep's bottom pause (its midpoint when the phases are unknown; None
    when its times are)."""
    start, end = rep.start_s, rep.end_s
    if start is None or end is None:
        return None
    down, pause = rep.phases.down_s, rep.phases.pause_s
    if down is None:
        return (start + end) / 2.0
    return min(end, start + down + (pause or 0.0) / 2.0)


def choose_keyframes(reps: Sequence[RepBlock]) -> list[KeyFrameSpec]:
    """Best and worst rep by score (ties: the earliest best, the latest worst).

    When every rep scored the same the first and the last rep are shown; one rep gives one
    key frame, no rep none.
    """
    if not reps:
        return []
    scored = [(r.score, i) for i, r in enumerate(reps)]
    known = [(s, i) for s, i in scored if s is not None]
    if len(reps) == 1:
        picks = [("Rep 1", 0)]
    elif not known or len({s for s, _ in known}) == 1:
        picks = [("First rep", 0), ("Last rep", len(reps) - 1)]
    else:
        best = min(known, key=lambda si: (-si[0], si[1]))[1]
        worst = min(known, key=lambda si: (si[0], -si[1]))[1]
        picks = [("Best rep", best), ("Worst rep", worst)]
    specs = []
    for label, i in picks:
        t_s = bottom_time_s(reps[i])
        if t_s is not None:  # a rep without times has no frame to show
            specs.append(KeyFrameSpec(label=label, rep=reps[i].index, t_s=t_s, score=reps[i].score))
    return specs


class KeyFrameGrabber:
    """Offered every (drawn) frame in time order, keeps the one nearest each wanted time."""

    def __init__(
        self, specs: Sequence[KeyFrameSpec], max_side_px: int = KEYFRAME_MAX_SIDE_PX
    ) -> None:
        self._specs = list(specs)
        self._max_side_px = max_side_px
        self._best: list[tuple[float, ImageRGB, bool] | None] = [None] * len(self._specs)

    def wants(self, t_s: float) -> bool:
        return any(abs(t_s - s.t_s) <= CANDIDATE_WINDOW_S for s in self._specs)

    def offer(self, t_s: float, image: ImageRGB, overlay: FrameOverlay | None = None) -> None:
        """Keep a copy of ``image`` (cropped to the person in ``overlay``) for each spec it is
        the nearest frame to so far."""
        for k, spec in enumerate(self._specs):
            gap = abs(t_s - spec.t_s)
            if gap > CANDIDATE_WINDOW_S:
                continue
            held = self._best[k]
            if held is None or gap < abs(held[0] - spec.t_s):
                box = person_box(overlay, image.shape[1], image.shape[0])
                crop = image
                if box is not None:
                    x0, y0, x1, y1 = box
                    crop = image[y0:y1, x0:x1]
                outline = overlay is not None and overlay.outline_px is not None
                self._best[k] = (t_s, self._shrink(crop), outline)

    def _shrink(self, image: ImageRGB) -> ImageRGB:
        h, w = image.shape[:2]
        factor = self._max_side_px / max(h, w)
        if factor >= 1.0:
            return np.ascontiguousarray(image.copy())
        size = (max(1, round(w * factor)), max(1, round(h * factor)))
        return np.ascontiguousarray(cv2.resize(image, size, interpolation=cv2.INTER_AREA))

    def result(self) -> list[KeyFrame]:
        frames: list[KeyFrame] = []
        for spec, held in zip(self._specs, self._best, strict=True):
            if held is None:
                continue
            t_s, image, outline = held
            frames.append(
                KeyFrame(
                    spec=spec,
                    frame_t_s=t_s,
                    jpeg=encode_jpeg(image),
                    width_px=image.shape[1],
                    height_px=image.shape[0],
                    outline_drawn=outline,
                )
            )
        return frames


def person_box(overlay: FrameOverlay | None, width_px: int, height_px: int) -> Box | None:
    """The person's landmark box in an image of this size, with a margin; None if unknown."""
    if overlay is None or overlay.landmarks_px is None or overlay.visible is None:
        return None
    if int(overlay.visible.sum()) < MIN_VISIBLE_FOR_CROP:
        return None
    sx = width_px / overlay.image_size_px[0]
    sy = height_px / overlay.image_size_px[1]
    pts = overlay.landmarks_px[overlay.visible] * np.array([sx, sy], dtype=np.float32)
    if overlay.outline_px is not None:
        pts = np.vstack([pts, overlay.outline_px * np.array([sx, sy], dtype=np.float32)])
    (x0, y0), (x1, y1) = pts.min(axis=0), pts.max(axis=0)
    margin = CROP_MARGIN_FRACTION * float(max(x1 - x0, y1 - y0))
    box = (
        max(0, int(x0 - margin)),
        max(0, int(y0 - margin)),
        min(width_px, int(x1 + margin) + 1),
        min(height_px, int(y1 + margin) + 1),
    )
    return box if box[2] - box[0] > 1 and box[3] - box[1] > 1 else None


def encode_jpeg(image: ImageRGB, quality: int = JPEG_QUALITY) -> bytes:
    ok, buffer = cv2.imencode(
        ".jpg", cv2.cvtColor(image, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality]
    )
    if not ok:
        raise ValueError("the key frame could not be encoded as JPEG")
    return bytes(buffer.tobytes())
