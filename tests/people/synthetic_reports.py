"""report.json contents made in the test: a set with chosen reps, back change per rep, tempo
verdicts, fray rep and findings (the same typed model every real report validates as)."""

from __future__ import annotations

from typing import Any

from formcheck import __version__
from formcheck.report.model import (
    CheckResult,
    CheckStatus,
    FindingBlock,
    ModelBlock,
    PhasesBlock,
    RepBlock,
    Report,
    ReportSource,
    SummaryBlock,
    VideoBlock,
)

REP_S = 5.0


def set_report(
    exercise: str = "glute_bridge",
    *,
    back_mm: list[float] | None = None,
    on_tempo: list[bool] | None = None,
    fray: int | None = None,
    spine_findings: int = 0,
    source: str = "live",
    down_s: float = 2.0,
) -> dict[str, Any]:
    back = back_mm if back_mm is not None else [6.0, 7.0, 5.5, 6.5, 6.0, 7.5, 5.0, 6.0, 6.5, 7.0]
    tempo = on_tempo if on_tempo is not None else [True] * len(back)
    reps = [
        RepBlock(
            index=i + 1, start_s=i * REP_S, end_s=(i + 1) * REP_S,
            phases=PhasesBlock(down_s=down_s, pause_s=1.0, up_s=2.0),
            metrics={"curve_change_mm": value}, faults=[], score=90.0,
            checks=[CheckResult(code="tempo_down_fast", status=CheckStatus.JUDGED,
                                fault=not kept, value=down_s, limit=1.6, unit="s")],
        )
        for i, (value, kept) in enumerate(zip(back, tempo, strict=True))
    ]  # fmt: skip
    findings = [
        FindingBlock(code="spine_rounded", severity="safety", rep=1, t_s=1.0, value=12.0,
                     threshold=8.0, unit="mm", message="keep the back long")
        for _ in range(spine_findings)
    ]  # fmt: skip
    duration_s = len(back) * REP_S
    report = Report(
        formcheck_version=__version__,
        source=ReportSource(source),
        video=VideoBlock(path=None, frames=300, frames_with_pose=300, pose_rate=1.0, fps=None,
                         width_px=None, height_px=None, rotation_deg=None, duration_s=duration_s,
                         first_frame_t_s=0.0, last_frame_t_s=duration_s,
                         inference_size_px=None),
        model=ModelBlock(source="test"),
        calibration=None,
        noise_floor={},
        exercise=exercise,
        summary=SummaryBlock(reps=len(back), attempts=0, form_frays_at_rep=fray),
        reps=reps,
        findings=findings,
    )  # fmt: skip
    return report.model_dump(mode="json")
