"""The terminal's summary line and finding lines, read from the typed report."""

from __future__ import annotations

from formcheck.report.terminal import finding_lines, summary_line
from tests.report.test_verdict import CALIBRATION
from tests.reports import finding, make_report, rep


def test_reps_attempts_and_where_form_frayed() -> None:
    report = make_report(summary={"reps": 5, "attempts": 1, "form_frays_at_rep": 4})
    assert summary_line(report) == "hip_hinge: 5 reps, 1 partial attempt, form frays from rep 4"
    steady = make_report(summary={"reps": 3, "attempts": 0, "form_frays_at_rep": None})
    assert summary_line(steady) == "hip_hinge: 3 reps, 0 partial attempts"


def test_a_hold_says_how_long_of_what_target() -> None:
    summary = {"reps": 0, "attempts": 0, "form_frays_at_rep": None, "hold_s": 18.26,
               "target_hold_s": 20.0}  # fmt: skip
    report = make_report(exercise="plank", summary=summary)
    assert summary_line(report) == "plank: held 18.3 s of 20 s"
    untargeted = make_report(exercise="plank", summary={**summary, "target_hold_s": None})
    assert summary_line(untargeted) == "plank: held 18.3 s"


def test_measures_only_and_the_findings() -> None:
    assert summary_line(make_report(exercise=None, summary=None)) == "set: not analysed"
    report = make_report(
        calibration=CALIBRATION,
        findings=[finding("a", message="One."), finding("b", message="Two.")],
    )
    assert finding_lines(report) == ["  - One.", "  - Two."]


def test_what_was_not_judged_is_grouped_by_reason_with_the_verdicts_words() -> None:
    cut = {"status": "not_judged", "fault": None, "reason": "camera_cut"}
    report = make_report(
        calibration=CALIBRATION,
        summary={"reps": 1, "attempts": 0, "form_frays_at_rep": None},
        reps=[rep(1, checks=[{"code": "spine_rounded", **cut}, {"code": "head_forward", **cut}])],
        not_judged=[
            {"code": "spine_rounded", "reason": "camera_cut", "reps": [1]},
            {"code": "head_forward", "reason": "camera_cut", "reps": [1]},
            {"code": "tempo_up_fast", "reason": "not_prescribed", "reps": [1]},
        ],
    )
    lines = finding_lines(report)
    assert lines[0] == "  nothing could be judged"
    assert lines[1].startswith(
        "  ? not judged, because the video cut to another camera shot during the rep: rounded "
        "lower back (in rep 1) and head pushed forward (in rep 1). Film the whole set"
    )
    assert lines[2].startswith("  Not asked for: rushed return.")
    assert len(lines) == 3


def test_the_filming_help_the_not_judged_lines_point_to_is_printed() -> None:
    view = {"status": "not_judged", "fault": None, "reason": "view_angle"}
    report = make_report(
        calibration=CALIBRATION,
        summary={"reps": 2, "attempts": 0, "form_frays_at_rep": None},
        reps=[rep(i, checks=[{"code": "spine_rounded", **view}]) for i in (1, 2)],
        not_judged=[{"code": "spine_rounded", "reason": "view_angle", "reps": [1, 2]}],
    )
    lines = finding_lines(report)
    help_at = next(i for i, line in enumerate(lines) if line.startswith("  filming help: "))
    pointer = next(i for i, line in enumerate(lines) if "under Filming help" in line)
    assert help_at < pointer
    assert "Film from the side" in lines[help_at]
