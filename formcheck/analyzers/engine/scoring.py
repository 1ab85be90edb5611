"""Rep scores and where form frays: the engine's scoring part."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from formcheck.analyzers.events import Finding
from formcheck.analyzers.spec import ScoringSpec

MAX_SCORE = 100.0


def rep_score(findings: Sequence[Finding], spec: ScoringSpec) -> float:
    """100 minus each fault's penalty, scaled up to ``excess_factor_max`` by how far it went."""
    score = MAX_SCORE
    for finding in findings:
        points = spec.penalty_points.get(finding.code, spec.default_penalty_points)
        score -= points * _excess(finding, spec.excess_factor_max)
    return max(0.0, score)


def _excess(finding: Finding, cap: float) -> float:
    value, threshold = abs(finding.value), abs(finding.threshold)
    if not (math.isfinite(value) and math.isfinite(threshold)) or threshold == 0 or value == 0:
        return 1.0
    ratio = max(value / threshold, threshold / value)
    return float(min(cap, max(1.0, ratio)))


def form_frays_at(scores: Sequence[float], reference_reps: int, spec: ScoringSpec) -> int | None:
    """1-based rep from which the score drops ``fray_drop_points`` below the first reps' and
    stays down to the end of the set (at least ``fray_min_reps`` reps); None if it never does."""
    n_ref = max(1, reference_reps)
    if len(scores) < n_ref + spec.fray_min_reps:
        return None
    reference = float(np.median(scores[:n_ref]))
    limit = reference - spec.fray_drop_points
    start: int | None = None
    for i in range(len(scores) - 1, n_ref - 1, -1):
        if scores[i] <= limit:
            start = i
        else:
            break
    if start is None or len(scores) - start < spec.fray_min_reps:
        return None
    return start + 1
