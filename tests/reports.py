"""Reports for tests: a small valid Report from only the fields a test cares about, and the
check every written report must pass (the JSON Schema that ``formcheck schema report``
prints, applied by an independent validator, then the typed model)."""

from __future__ import annotations

from typing import Any

from formcheck.analyzers.summary import SetSummary
from formcheck.report.build import build_report
from formcheck.report.model import (
    ModelBlock,
    Report,
    ReportSource,
    VideoBlock,
    report_json_schema,
)

VIDEO: dict[str, Any] = {
    "path": "clip.mp4",
    "frames": 3,
    "frames_with_pose": 3,
    "pose_rate": 1.0,
    "fps": 30.0,
    "width_px": 640,
    "height_px": 480,
    "rotation_deg": 0,
    "duration_s": 6.0,
    "first_frame_t_s": 0.0,
    "last_frame_t_s": 0.067,
    "inference_size_px": [640, 480],
}


def rep(index: int = 1, **fields: Any) -> dict[str, Any]:
    """A rep block; ``fields`` replace its defaults."""
    out: dict[str, Any] = {
        "index": index,
        "start_s": 1.0,
        "end_s": 3.0,
        "phases": {"down_s": 1.0, "pause_s": 0.5, "up_s": 0.5},
        "metrics": {},
        "faults": [],
        "score": 100.0,
    }
    out.update(fields)
    return out


def finding(code: str, **fields: Any) -> dict[str, Any]:
    """A finding block; ``fields`` replace its defaults."""
    out: dict[str, Any] = {
        "code": code,
        "severity": "warning",
        "rep": 1,
        "t_s": 2.0,
        "value": 1.0,
        "threshold": 0.5,
        "unit": "",
        "message": f"{code} in rep 1.",
    }
    out.update(fields)
    return out


def make_report(**fields: Any) -> Report:
    """A hip-hinge report of a file; ``fields`` replace (or add to) its top-level keys."""
    data: dict[str, Any] = {
        "formcheck_version": "0.0.0",
        "source": "file",
        "video": VIDEO,
        "model": {"source": "test"},
        "calibration": None,
        "noise_floor": {},
        "exercise": "hip_hinge",
        "summary": {"reps": 0, "attempts": 0, "form_frays_at_rep": None},
    }
    data.update(fields)
    return Report.model_validate(data)


def assert_valid_report(data: Any) -> Report:
    """``data`` (parsed JSON) validates against the published schema and reads as a Report."""
    import jsonschema

    jsonschema.Draft202012Validator(report_json_schema()).validate(data)
    return Report.model_validate(data)


def report_of(summary: SetSummary) -> Report:
    """The report an analyzer's set summary gives (a file of three frames, no calibration)."""
    return build_report(
        source=ReportSource.FILE,
        video=VideoBlock.model_validate(VIDEO),
        model=ModelBlock(source="test"),
        calibration=None,
        summary=summary,
    )
