"""The one place a Report is made, for a file, a job and a live set alike.

The analysis side keeps its own dataclasses (``SetSummary``, ``RepRecord``, ``Finding``,
``Baseline``, ``Calibration``); they are turned into report blocks here and nowhere else.
Numbers are rounded as report.json has always had them: rep and finding values to 0.001,
calibration values to 0.0001; NaN becomes null.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Literal

from formcheck import __version__
from formcheck.analyzers import events as analysis
from formcheck.analyzers.baseline import Baseline
from formcheck.analyzers.events import Finding, NotARep, RepRecord
from formcheck.analyzers.summary import SetSummary
from formcheck.kinematics.calibration import Calibration
from formcheck.pose.model import ModelInfo
from formcheck.report.advice import NOT_JUDGED_ADVICE
from formcheck.report.model import (
    BaselineBlock,
    CalibrationBlock,
    CheckResult,
    CheckStatus,
    FilmingBlock,
    FindingBlock,
    ModelBlock,
    NotCountedBlock,
    NotJudgedBlock,
    NotJudgedReason,
    PhasesBlock,
    ReferenceBlock,
    ReferenceKind,
    RepBlock,
    Report,
    ReportSource,
    SummaryBlock,
    VideoBlock,
)
from formcheck.report.words import not_counted_message
from formcheck.types import VideoInfo

MS_PER_S = 1000.0
VALUE_DIGITS = 3  # rep and finding values: 1 ms, 0.001 deg or mm
CALIBRATION_DIGITS = 4  # scale and baseline values
SUMMARY_HOLD_DIGITS = 3


def _round(value: float, digits: int = VALUE_DIGITS) -> float | None:
    return round(float(value), digits) if math.isfinite(value) else None


def build_report(
    *,
    source: ReportSource,
    video: VideoBlock,
    model: ModelBlock,
    calibration: Calibration | None,
    summary: SetSummary | None,
    set_started: bool | None = None,
    pose: Literal["browser", "server"] | None = None,
    filming: FilmingBlock | None = None,
) -> Report:
    """The report of one run; ``summary`` is the analyzer's (None: measures only);
    ``filming``: the set's frames' :class:`~formcheck.report.filming.FilmingTally` block."""
    return Report(
        formcheck_version=__version__,
        source=source,
        video=video,
        model=model,
        calibration=calibration_block(calibration) if calibration is not None else None,
        noise_floor=dict(calibration.noise_floor) if calibration is not None else {},
        exercise=summary.exercise if summary is not None else None,
        set_started=set_started,
        pose=pose,
        summary=summary_block(summary) if summary is not None else None,
        reps=[rep_block(r) for r in summary.reps] if summary is not None else [],
        attempts=[rep_block(a) for a in summary.attempts] if summary is not None else [],
        not_counted=[not_counted_block(n) for n in summary.not_counted] if summary else [],
        findings=[finding_block(f) for f in summary.findings] if summary is not None else [],
        baseline=(
            baseline_block(summary.baseline)
            if summary is not None and summary.baseline is not None
            else None
        ),
        not_judged=not_judged_blocks(summary) if summary is not None else [],
        reference=reference_block(summary) if summary is not None else None,
        filming=filming,
    )


def file_video_block(
    label: str,
    info: VideoInfo,
    *,
    frames: int,
    frames_with_pose: int,
    first_t_ms: float,
    last_t_ms: float,
    inference_size_px: tuple[int, int],
) -> VideoBlock:
    """A video file's (or upload's) block; ``label`` is the path or name shown for it."""
    return VideoBlock(
        path=label,
        frames=frames,
        frames_with_pose=frames_with_pose,
        pose_rate=frames_with_pose / frames if frames else 0.0,
        fps=info.fps,
        width_px=info.width_px,
        height_px=info.height_px,
        rotation_deg=info.rotation_deg,
        duration_s=info.duration_s,
        first_frame_t_s=first_t_ms / MS_PER_S,
        last_frame_t_s=last_t_ms / MS_PER_S,
        inference_size_px=inference_size_px,
    )


def stream_video_block(
    *, frames: int, frames_with_pose: int, first_t_ms: float | None, last_t_ms: float
) -> VideoBlock:
    """A live set's frames (times on the connection's clock; no frame: nulls)."""
    first_s = first_t_ms / MS_PER_S if first_t_ms is not None else None
    last_s = last_t_ms / MS_PER_S if first_t_ms is not None else None
    duration_s = (last_t_ms - first_t_ms) / MS_PER_S if first_t_ms is not None else 0.0
    return VideoBlock(
        path=None,
        frames=frames,
        frames_with_pose=frames_with_pose,
        pose_rate=frames_with_pose / frames if frames else 0.0,
        fps=None,
        width_px=None,
        height_px=None,
        rotation_deg=None,
        duration_s=_round(duration_s),
        first_frame_t_s=first_s,
        last_frame_t_s=last_s,
        inference_size_px=None,
    )


def model_block(info: ModelInfo) -> ModelBlock:
    return ModelBlock(source=info.source, path=str(info.path), sha256=info.sha256)


def calibration_block(calibration: Calibration) -> CalibrationBlock:
    return CalibrationBlock(
        scale_source=calibration.scale_source,
        mm_per_px=_round(calibration.mm_per_px, CALIBRATION_DIGITS),
        stated_height_cm=calibration.stated_height_cm,
        estimated_height_cm=_round(calibration.estimated_height_cm, CALIBRATION_DIGITS),
        still_window_s=(
            round(calibration.still_start_s, VALUE_DIGITS),
            round(calibration.still_end_s, VALUE_DIGITS),
        ),
        found_still=calibration.found_still,
        spread_in_still_window_torso_lengths=_round(calibration.motion_body, CALIBRATION_DIGITS),
        baseline={k: _round(v, CALIBRATION_DIGITS) for k, v in calibration.baseline.items()},
    )


def summary_block(summary: SetSummary) -> SummaryBlock:
    sides = [r.side for r in summary.reps if r.side is not None]
    return SummaryBlock(
        reps=len(summary.reps),
        attempts=len(summary.attempts),
        not_counted=len(summary.not_counted),
        form_frays_at_rep=summary.form_frays_at_rep,
        reps_per_side={side: sides.count(side) for side in sorted(set(sides))} or None,
        hold_s=_round(summary.hold_s, SUMMARY_HOLD_DIGITS) if summary.hold_s is not None else None,
        target_reps=summary.target_reps,
        target_hold_s=summary.target_hold_s,
    )


def rep_block(rep: RepRecord) -> RepBlock:
    return RepBlock(
        index=rep.index,
        start_s=_round(rep.start_s),
        end_s=_round(rep.end_s),
        phases=PhasesBlock(
            down_s=_round(rep.phases.down_s),
            pause_s=_round(rep.phases.pause_s),
            up_s=_round(rep.phases.up_s),
        ),
        metrics={k: _round(v) for k, v in rep.metrics.items()},
        faults=list(rep.faults),
        score=_round(rep.score),
        side=rep.side,
        checks=[check_block(c) for c in rep.checks],
    )


def not_counted_block(moved: NotARep) -> NotCountedBlock:
    return NotCountedBlock(
        start_s=_round(moved.start_s),
        end_s=_round(moved.end_s),
        pause_s=_round(moved.pause_s),
        reps_pause_max_s=_round(moved.reps_pause_max_s),
        sign=moved.sign,
        feet_moved_mm=_round(moved.feet_moved_mm),
        gone_s=_round(moved.gone_s),
        message=not_counted_message(moved.sign, moved.pause_s, moved.reps_pause_max_s),
    )


def check_block(check: analysis.CheckResult) -> CheckResult:
    return CheckResult(
        code=check.code,
        status=CheckStatus.JUDGED if check.judged else CheckStatus.NOT_JUDGED,
        fault=check.found if check.judged else None,
        value=_round(check.value),
        limit=_round(check.limit),
        unit=check.unit,
        reason=None if check.judged else check.reason,
    )


def not_judged_blocks(summary: SetSummary) -> list[NotJudgedBlock]:
    """Each check the set could not judge, by reason, with the reps concerned (a hold: the
    whole set) and what to change; checks the spec turns off, or that another fault masked,
    are not listed."""
    unlisted = {NotJudgedReason.CHECK_OFF, NotJudgedReason.OTHER_FAULT}
    reps: dict[tuple[str, NotJudgedReason], list[int]] = {}
    for rep in summary.reps:
        for check in rep.checks:
            if not check.judged and check.reason is not None:
                reps.setdefault((check.code, check.reason), []).append(rep.index)
    for check in summary.hold_checks:
        if not check.judged and check.reason is not None:
            reps.setdefault((check.code, check.reason), [])
    return [
        NotJudgedBlock(code=code, reason=reason, reps=indices, advice=NOT_JUDGED_ADVICE[reason])
        for (code, reason), indices in reps.items()
        if reason not in unlisted
    ]


def reference_block(summary: SetSummary) -> ReferenceBlock:
    saved = summary.personal_reference
    if saved is not None:
        return ReferenceBlock(
            kind=ReferenceKind.SAVED,
            path=saved.source,
            exercise=saved.exercise,
            recorded_at=saved.recorded_at,
            reps=[r.index for r in saved.reps],
        )
    return ReferenceBlock(
        kind=ReferenceKind.FIRST_REPS,
        exercise=summary.exercise,
        reps=[r.index for r in summary.reps[: summary.first_reps_compared]],
    )


def finding_block(finding: Finding) -> FindingBlock:
    return FindingBlock(
        code=finding.code,
        severity=finding.severity,
        rep=finding.rep,
        t_s=_round(finding.t_s),
        value=_round(finding.value),
        threshold=_round(finding.threshold),
        unit=finding.unit,
        message=finding.message,
    )


def baseline_block(baseline: Baseline) -> BaselineBlock:
    return BaselineBlock(
        source=baseline.source,
        values=_finite(baseline.values),
        noise_floor=_finite(baseline.noise_floor),
    )


def _finite(values: Mapping[str, float]) -> dict[str, float]:
    return {k: float(v) for k, v in values.items() if math.isfinite(v)}
