"""A held position against the person's own settled line: a change from their reference
beyond a limit no tighter than the noise of that reference."""

from __future__ import annotations

import math

from formcheck.analyzers.checks.condition import Condition, exceeds
from formcheck.analyzers.checks.gate import gated_limit


def beyond_own_line(
    code: str, change: float, threshold: float, jitter: float, noise_k: float, unit: str
) -> Condition | None:
    """``change`` (the running median minus the person's reference) beyond ``threshold``,
    gated by ``noise_k`` times the ``jitter`` of the reference's running median; None when
    the change is unknown this frame (nothing to judge)."""
    if not math.isfinite(change):
        return None
    return exceeds(code, change, gated_limit(threshold, jitter, noise_k), unit)
