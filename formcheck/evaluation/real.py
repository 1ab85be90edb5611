"""Accuracy on the labelled real clips in ``../shared/videos`` (a development set)."""

from __future__ import annotations

import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from formcheck.evaluation.real_labels import RealClipLabel


@dataclass
class RealClipResult:
    file: str
    exercise: str
    view: str
    analyzer: str | None
    frames: int
    frames_with_pose: int
    true_reps: int | None
    counted_reps: int | None
    true_faults: list[str] | None  # None: the clip has no fault label
    found_faults: list[str] | None
    true_hold_s: float | None = None
    counted_hold_s: float | None = None
    error: str = ""
    findings: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def evaluate_real_clip(label: RealClipLabel, *, model: Path | None = None) -> RealClipResult:
    from formcheck.analyzers import exercise_names
    from formcheck.errors import FormcheckError
    from formcheck.offline import analyze_video

    analyzer = label.exercise if label.exercise in exercise_names() else None
    result = RealClipResult(
        file=f"{label.path.parent.name}/{label.path.name}",
        exercise=label.exercise,
        view=label.view,
        analyzer=analyzer,
        frames=0,
        frames_with_pose=0,
        true_reps=label.reps,
        counted_reps=None,
        true_faults=sorted(label.faults) if label.faults is not None else None,
        found_faults=None,
        true_hold_s=label.hold_s,
    )
    try:
        with tempfile.TemporaryDirectory() as out:
            run = analyze_video(label.path, Path(out), model=model, exercise=analyzer,
                                keep_masks=False)
    except FormcheckError as exc:
        result.error = str(exc)
        return result
    result.frames = run.frames
    result.frames_with_pose = run.frames_with_pose
    if analyzer is not None:
        summary = run.report.summary
        result.counted_reps = summary.reps if summary is not None else 0
        if summary is not None and summary.hold_s is not None:
            result.counted_hold_s = summary.hold_s
        result.findings = [f.model_dump(mode="json") for f in run.report.findings]
        result.found_faults = sorted({f.code for f in run.report.findings})
    return result
