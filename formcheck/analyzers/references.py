"""The person's own reference: a metric over their first reps.

Every check compares a rep with the same person's first reps (their reference reps), never
with a population norm. ``pick`` chooses which value of those reps: their median, or the
lowest ("min") or highest ("max") one, the reference for a fault that raises or lowers the
metric (a fault that starts in the second rep then does not hide in the reference: it is
still measured against the first).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import numpy as np

from formcheck.analyzers.events import RepRecord

Pick = Literal["median", "min", "max"]


def own_reference(reps: Sequence[RepRecord], metric: str, pick: str = "median") -> float:
    """The metric over ``reps`` (NaN when none has it)."""
    values = np.asarray([r.metrics.get(metric, math.nan) for r in reps], dtype=float)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return math.nan
    if pick == "min":
        return float(values.min())
    if pick == "max":
        return float(values.max())
    return float(np.median(values))


def own_reference_rep(reps: Sequence[RepRecord], metric: str, pick: str) -> RepRecord | None:
    """The rep of ``reps`` with the lowest ("min") or highest ("max") value of the metric,
    for checks that also need that rep's other metrics (e.g. its posture)."""
    having = [r for r in reps if math.isfinite(r.metrics.get(metric, math.nan))]
    if not having:
        return None
    return (min if pick == "min" else max)(having, key=lambda r: r.metrics[metric])
