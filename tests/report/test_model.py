"""The typed report: its JSON Schema, what it refuses, NaN as null, and the room for
per-check verdicts (issue 14)."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from pydantic import ValidationError

from formcheck.report.files import read_report, write_report
from formcheck.report.model import (
    SCHEMA_VERSION,
    CheckResult,
    CheckStatus,
    NotJudgedReason,
    Report,
    report_json_schema,
)
from tests.reports import VIDEO, assert_valid_report, finding, make_report, rep

# report.json as formcheck wrote it before the typed model (version 1): no schema_version,
# no source, video.width/height without units, keys left out rather than null.
V1_REPORT: dict[str, Any] = {
    "formcheck_version": "0.1.0",
    "video": {**{k: v for k, v in VIDEO.items() if not k.endswith("_px")}, "width": 640,
              "height": 480},
    "model": {"path": "m.task", "source": "built", "sha256": "00"},
    "calibration": None,
    "noise_floor": {},
    "exercise": "hip_hinge",
    "reps": [],
    "attempts": [],
    "findings": [],
    "summary": {"reps": 0, "attempts": 0, "form_frays_at_rep": None},
}  # fmt: skip


def _dumped(report: Report) -> Any:
    return json.loads(report.model_dump_json())


def test_schema_is_a_valid_2020_12_schema_requiring_every_top_level_key() -> None:
    schema = report_json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["additionalProperties"] is False
    assert set(schema["required"]) == set(Report.model_fields)
    assert schema["properties"]["schema_version"]["const"] == SCHEMA_VERSION == 3
    assert {"file", "live", "job"} == set(schema["$defs"]["ReportSource"]["enum"])


def test_a_report_written_and_read_back_is_the_same(tmp_path: Path) -> None:
    report = make_report(
        reps=[rep(1, metrics={"depth_deg": 80.0}), rep(2, side="left")],
        findings=[finding("spine_rounded", severity="safety", unit="mm")],
    )
    path = tmp_path / "out" / "report.json"
    write_report(report, path)
    assert not list(path.parent.glob("*.tmp"))
    assert read_report(path) == report
    data = json.loads(path.read_text(encoding="utf-8"))
    assert_valid_report(data)
    assert data["schema_version"] == 3 and data["source"] == "file"
    assert data["reps"][0]["side"] is None and data["reps"][0]["checks"] == []  # always there
    assert data["not_judged"] == [] and data["reference"] is None


def test_nan_and_infinities_are_written_as_null() -> None:
    report = make_report(
        noise_floor={"hip_flexion_deg": math.nan},
        reps=[rep(1, metrics={"curve_change_mm": math.nan, "depth_deg": math.inf}, score=math.nan)],
    )
    data = _dumped(report)
    assert data["noise_floor"] == {"hip_flexion_deg": None}
    assert data["reps"][0]["metrics"] == {"curve_change_mm": None, "depth_deg": None}
    assert data["reps"][0]["score"] is None
    assert_valid_report(data)


def test_a_version_1_report_is_refused_by_the_schema_and_the_model() -> None:
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(V1_REPORT, report_json_schema())
    with pytest.raises(ValidationError) as error:
        Report.model_validate(V1_REPORT)
    missing = {".".join(map(str, e["loc"])) for e in error.value.errors()}
    assert {"source", "video.width_px", "video.width"} <= missing


def test_a_version_2_report_reads_as_version_3_without_a_filming_block() -> None:
    data = _dumped(make_report())
    data["schema_version"] = 2
    del data["filming"]
    report = Report.model_validate(data)
    assert report.schema_version == 3 and report.filming is None
    assert _dumped(report) == {**data, "schema_version": 3, "filming": None}


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("schema_version",), 1),
        (("filming",), {"frames": 1}),
        (("source",), "camera"),
        (("video", "pose_rate"), 1.5),
        (("reps",), [rep(0)]),  # reps count from 1
        (("findings",), [finding("x", severity="fatal")]),
        (("exercise_name",), "hip_hinge"),  # unknown key
        (("video", "frames"), -1),
    ],
)
def test_the_schema_and_the_model_refuse_what_is_not_a_report(
    path: tuple[str, ...], value: Any
) -> None:
    data = _dumped(make_report())
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, report_json_schema())
    with pytest.raises(ValidationError):
        Report.model_validate(data)


def test_room_for_per_check_verdicts_what_was_not_judged_and_the_reference() -> None:
    checks = [
        {"code": "spine_rounded", "status": "judged", "fault": True, "value": 18.0,
         "limit": 8.0, "unit": "mm"},
        {"code": "hips_rise_first", "status": "not_judged", "reason": "tracking_lost"},
    ]  # fmt: skip
    report = make_report(
        reps=[rep(1, checks=checks)],
        not_judged=[
            {
                "code": "spine_rounded",
                "reason": "view_angle",
                "reps": [2, 3],
                "advice": "Turn the camera to film from the side.",
            }
        ],
        reference={
            "kind": "saved",
            "path": "me.reference.json",
            "exercise": "hip_hinge",
            "recorded_at": datetime(2026, 1, 5, 9, 30, tzinfo=UTC),
        },
    )
    data = _dumped(report)
    assert_valid_report(data)
    assert data["reps"][0]["checks"][1] == {
        "code": "hips_rise_first", "status": "not_judged", "fault": None, "value": None,
        "limit": None, "unit": "", "reason": "tracking_lost",
    }  # fmt: skip
    assert data["reference"]["recorded_at"] == "2026-01-05T09:30:00Z"
    assert set(data["not_judged"][0]) == {"code", "reason", "reps", "advice"}
    reasons = set(report_json_schema()["$defs"]["NotJudged"]["enum"])
    assert {"view_angle", "back_hidden", "tracking_lost", "no_reference",
            "implausible_value", "not_prescribed"} <= reasons  # fmt: skip


@pytest.mark.parametrize(
    "check",
    [
        {"code": "x", "status": "not_judged"},
        {"code": "x", "status": "not_judged", "reason": "view_angle", "fault": False},
        {"code": "x", "status": "judged", "fault": True, "reason": "back_hidden"},
    ],
)
def test_the_schema_refuses_a_check_without_its_reason_or_with_both(check: dict[str, Any]) -> None:
    full = {"fault": None, "value": None, "limit": None, "unit": "", "reason": None, **check}
    data = _dumped(make_report(reps=[rep(1)]))
    data["reps"][0]["checks"] = [full]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, report_json_schema())
    with pytest.raises(ValidationError):
        Report.model_validate(data)


def test_a_check_verdict_is_judged_or_says_why_not() -> None:
    with pytest.raises(ValidationError, match="reason"):
        CheckResult(code="x", status=CheckStatus.NOT_JUDGED)
    with pytest.raises(ValidationError, match="judged"):
        CheckResult(code="x", status=CheckStatus.JUDGED, reason=NotJudgedReason.BACK_HIDDEN)
    with pytest.raises(ValidationError):
        CheckResult(
            code="x", status=CheckStatus.NOT_JUDGED, reason=NotJudgedReason.VIEW_ANGLE, fault=False
        )
    with pytest.raises(ValidationError):  # a recording time without its time zone
        make_report(reference={"kind": "saved", "recorded_at": "2026-01-05T09:30:00"})


def test_reports_are_immutable() -> None:
    report = make_report()
    with pytest.raises(ValidationError):
        report.exercise = "squat"  # type: ignore[misc]
