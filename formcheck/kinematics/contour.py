"""Sub-pixel edges of a probability mask along straight rays.

The person mask is a float probability map. Its outline is where it crosses 0.5; reading that
crossing by linear interpolation between bilinear samples gives a fraction of a pixel, which
the back-outline measures need (their signal is 2-6 px at 3 m in a 640x480 frame).

Only the samples along the rays are read: the mask is never copied or resized. The mask may be
a crop of the frame (``mask_origin_px`` is its top-left pixel in the frame); points are given
in the frame's pixels either way, and outside the crop the mask reads 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

EDGE_LEVEL = 0.5  # the mask level taken as the outline


def sample_bilinear(
    mask: npt.NDArray[np.floating],
    x_px: F64,
    y_px: F64,
    mask_origin_px: tuple[int, int] = (0, 0),
) -> F64:
    """Mask values at sub-pixel points (pixel centres at integer coordinates).

    Points outside the image read as 0 (no person), so a ray leaving the frame ends there.
    Subtracting the crop's whole-pixel origin is exact, so a crop reads the same values as
    the whole-frame mask wherever it covers.
    """
    if mask_origin_px != (0, 0):
        x_px = x_px - mask_origin_px[0]
        y_px = y_px - mask_origin_px[1]
    height, width = mask.shape
    inside = (x_px >= 0.0) & (x_px <= width - 1.0) & (y_px >= 0.0) & (y_px <= height - 1.0)
    # np.minimum(np.maximum(...)) is np.clip without its per-call overhead (same values).
    x0 = np.minimum(np.maximum(np.floor(x_px), 0), max(width - 2, 0)).astype(np.intp)
    y0 = np.minimum(np.maximum(np.floor(y_px), 0), max(height - 2, 0)).astype(np.intp)
    fx = np.minimum(np.maximum(x_px - x0, 0.0), 1.0)
    fy = np.minimum(np.maximum(y_px - y0, 0.0), 1.0)
    # The four neighbours by flat index: the same values as mask[y, x], gathered faster.
    flat = np.ravel(mask)
    at = y0 * width + x0
    below = np.minimum(at + width, flat.size - 1)  # a one-row mask has no row below
    right = np.minimum(at + 1, flat.size - 1)
    right_below = np.minimum(below + 1, flat.size - 1)
    top = flat.take(at) * (1.0 - fx) + flat.take(right) * fx
    bottom = flat.take(below) * (1.0 - fx) + flat.take(right_below) * fx
    out = top * (1.0 - fy) + bottom * fy
    return np.where(inside, out, 0.0).astype(np.float64, copy=False)


@dataclass(frozen=True, slots=True)
class RayEdges:
    """Where each ray leaves the mask.

    distance_px: (N,) distance from the ray origin to the 0.5 crossing, NaN when not found.
    contrast: (N,) mask value a few px inside the edge minus a few px outside (1 = crisp).
    """

    distance_px: F64
    contrast: F64


def outward_edges(
    mask: npt.NDArray[np.floating],
    origins_px: F64,
    directions: F64,
    *,
    start_px: float,
    stop_px: float,
    step_px: float,
    min_outside_px: float,
    contrast_offset_px: float,
    mask_origin_px: tuple[int, int] = (0, 0),
) -> RayEdges:
    """First inside-to-outside crossing of each ray beyond its origin.

    origins_px: (N, 2) x, y; directions: (N, 2) unit vectors. Each ray is sampled from
    ``start_px`` (negative: behind the origin) to ``stop_px``. The crossing searched for is the
    first one after the inside sample nearest the origin (at or behind it), which is followed by
    at least ``min_outside_px`` of outside, so small holes in the mask are stepped over.
    """
    n_rays = origins_px.shape[0]
    s = np.arange(start_px, stop_px + 0.5 * step_px, step_px, dtype=np.float64)
    n_steps = s.size
    nan = np.full(n_rays, np.nan)
    if n_rays == 0 or n_steps < 2:
        return RayEdges(nan, nan.copy())
    xs = origins_px[:, 0:1] + directions[:, 0:1] * s[None, :]
    ys = origins_px[:, 1:2] + directions[:, 1:2] * s[None, :]
    values = sample_bilinear(mask, xs, ys, mask_origin_px)
    inside = values >= EDGE_LEVEL
    j_origin = int(np.clip(np.searchsorted(s, 0.0), 0, n_steps - 1))
    # Anchor: the inside sample nearest the origin, looking back towards start_px.
    idx = np.arange(n_steps)
    behind = inside & (idx[None, :] <= j_origin)
    anchor = np.where(behind, idx[None, :], -1).max(axis=1)
    has_anchor = anchor >= 0
    # Crossing at j: inside at j-1, outside for k samples from j on.
    k = max(1, int(np.ceil(min_outside_px / step_px)))
    outside = ~inside
    cs = np.concatenate([np.zeros((n_rays, 1), dtype=np.int64), np.cumsum(outside, axis=1)], axis=1)
    j = idx[1:]
    j_end = np.minimum(j + k, n_steps)
    run_out = (cs[:, j_end] - cs[:, j]) == (j_end - j)[None, :]
    cross = inside[:, :-1] & run_out & (j[None, :] > anchor[:, None])
    found = has_anchor & cross.any(axis=1)
    jc = np.argmax(cross, axis=1) + 1  # first outside sample
    rows = np.arange(n_rays)
    v_in = values[rows, jc - 1]
    v_out = values[rows, jc]
    frac = (v_in - EDGE_LEVEL) / np.maximum(v_in - v_out, 1e-12)
    dist = s[jc - 1] + step_px * frac
    dist = np.where(found, dist, np.nan)
    # Contrast around the edge: read a few px either side.
    d_safe = np.where(found, dist, 0.0)
    probe_in = origins_px + directions * (d_safe - contrast_offset_px)[:, None]
    probe_out = origins_px + directions * (d_safe + contrast_offset_px)[:, None]
    c_in = sample_bilinear(mask, probe_in[:, 0], probe_in[:, 1], mask_origin_px)
    c_out = sample_bilinear(mask, probe_out[:, 0], probe_out[:, 1], mask_origin_px)
    contrast = np.where(found, c_in - c_out, np.nan)
    return RayEdges(distance_px=dist, contrast=contrast)
