"""A frame's brightness, for the setup check ("turn on more light") and the report.

Black bars around the picture (a phone's portrait video pillarboxed into a landscape frame,
letterboxing) are not the room being dark: they are left out.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

LUMA_SAMPLE_STRIDE_PX = 4  # brightness is averaged over every 4th pixel in each direction
# ITU-R BT.601 luma weights for R, G, B
LUMA_WEIGHTS = np.array([0.299, 0.587, 0.114], dtype=np.float32)
# An edge column or row no brighter than this anywhere is a black bar (video black is 16 on
# the 16-235 scale; compression noise adds a few levels).
BAR_MAX_LUMA = 24.0


def mean_luma(rgb: npt.NDArray[np.uint8]) -> float:
    """Mean brightness (BT.601 luma, 0..255) over a sparse grid of the picture's pixels,
    black bars at its edges left out (an all-black frame: 0)."""
    step = LUMA_SAMPLE_STRIDE_PX
    grid = rgb[::step, ::step].astype(np.float32)
    if not grid.size:
        return 0.0
    luma = grid @ LUMA_WEIGHTS
    cols = np.flatnonzero(luma.max(axis=0) > BAR_MAX_LUMA)
    rows = np.flatnonzero(luma.max(axis=1) > BAR_MAX_LUMA)
    if not len(cols) or not len(rows):
        return float(np.mean(luma))
    return float(np.mean(luma[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]))
