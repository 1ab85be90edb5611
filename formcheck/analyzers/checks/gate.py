"""The noise gate: no limit is tighter than the noise it would fire on."""

from __future__ import annotations

import math


def gated_limit(threshold: float, noise: float, noise_k: float, frames: float = 1.0) -> float:
    """max(``threshold``, ``noise_k`` x ``noise`` / sqrt(``frames``)): the limit for a value
    that is a median over ``frames`` samples of a measure whose per-frame jitter (standard
    deviation) is ``noise``. An unknown noise leaves the threshold as it is."""
    noise_of_value = noise / math.sqrt(max(frames, 1.0))
    if not math.isfinite(noise_of_value):
        return threshold
    return max(threshold, noise_k * noise_of_value)
