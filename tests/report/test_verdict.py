"""The verdict in plain words: counted, judged against what, found, not judged, filming help."""

from __future__ import annotations

from typing import Any

from formcheck.report.model import FilmingProblem
from formcheck.report.verdict import Tone, build_verdict, number_with_unit
from formcheck.report.words import plural, rep_list
from tests.reports import make_report, rep

CALIBRATION: dict[str, Any] = {
    "scale_source": "stated_height",
    "mm_per_px": 2.5,
    "stated_height_cm": 180.0,
    "estimated_height_cm": None,
    "still_window_s": [0.0, 1.0],
    "found_still": True,
    "spread_in_still_window_torso_lengths": 0.01,
    "baseline": {"camera_yaw_from_side_deg": 4.0},
}
FIRST_REPS = {"kind": "first_reps", "exercise": "hip_hinge", "reps": [1, 2]}


def _judged_rep(index: int, *codes: str) -> dict[str, Any]:
    checks = [{"code": c, "status": "judged", "fault": False} for c in codes]
    return rep(index, checks=checks)


def _rounded(rep_index: int, value_mm: float) -> dict[str, Any]:
    return {
        "code": "spine_rounded",
        "severity": "safety",
        "rep": rep_index,
        "t_s": float(rep_index),
        "value": value_mm,
        "threshold": 6.4,
        "unit": "mm",
        "message": f"Keep your back long: it rounded {value_mm:.0f} mm in rep {rep_index}.",
    }


def test_words_pluralise_and_list_reps() -> None:
    assert plural(1, "rep") == "1 rep" and plural(0, "rep") == "0 reps"
    assert plural(2, "partial attempt") == "2 partial attempts"
    assert rep_list([4]) == "rep 4" and rep_list([3, 5]) == "reps 3 and 5"
    assert rep_list([9, 8, 10, 1]) == "reps 1 and 8–10"
    assert number_with_unit(12.4, "mm") == "12 mm" and number_with_unit(0.84, "s") == "0.8 s"


def test_findings_are_grouped_by_fault_with_what_they_are_compared_with() -> None:
    reps = [_judged_rep(i, "spine_rounded", "head_forward") for i in range(1, 11)]
    report = make_report(
        calibration=CALIBRATION,
        summary={"reps": 10, "attempts": 1, "form_frays_at_rep": 8},
        reps=reps,
        findings=[_rounded(8, 9.0), _rounded(9, 8.0), _rounded(10, 12.0)],
        reference=FIRST_REPS,
    )
    verdict = build_verdict(report)
    assert verdict.tone is Tone.SAFETY and verdict.headline == "1 thing to work on"
    assert verdict.counted == (
        "10 reps counted; 1 partial attempt did not go deep enough to count."
    )
    (found,) = verdict.findings
    assert found.name == "Rounded lower back" and found.where == "in reps 8–10"
    assert found.measured == (
        "12 mm at most (rep 10), the limit 6 mm; compared with your first reps of this set "
        "(1 and 2)"
    )
    assert found.advice.endswith("rounded 12 mm in rep 10.")  # the largest occurrence's cue
    assert "From rep 8" in verdict.form
    assert verdict.judged.startswith("Checked: rounded lower back and head pushed forward.")
    assert verdict.filming == []  # side-on, still start, every frame posed


def test_no_faults_is_good_only_when_everything_was_judged() -> None:
    reps = [_judged_rep(i, "spine_rounded") for i in range(1, 5)]
    base: dict[str, Any] = {
        "calibration": CALIBRATION,
        "summary": {"reps": 4, "attempts": 0, "form_frays_at_rep": None},
        "reps": reps,
        "reference": FIRST_REPS,
    }
    verdict = build_verdict(make_report(**base))
    assert verdict.tone is Tone.GOOD and verdict.headline == "No faults found"
    assert verdict.form.startswith("Your form held up")

    # rep 1 not judged for want of a reference is the reference itself: not a gap
    own = {"code": "spine_rounded", "reason": "no_reference", "reps": [1], "advice": ""}
    verdict = build_verdict(make_report(**base, not_judged=[own]))
    assert verdict.tone is Tone.GOOD and verdict.not_judged == []

    # a tempo nobody asked for is "not asked for", not a gap either
    tempo = {"code": "tempo_up_fast", "reason": "not_prescribed", "reps": [1, 2, 3, 4]}
    verdict = build_verdict(make_report(**base, not_judged=[tempo]))
    assert verdict.tone is Tone.GOOD and verdict.not_asked.startswith("Not asked for: rushed")

    hidden = {"code": "spine_rounded", "reason": "back_hidden", "reps": [3]}
    verdict = build_verdict(make_report(**base, not_judged=[hidden]))
    assert verdict.tone is Tone.UNKNOWN
    assert verdict.headline == "No faults found in what could be judged"
    (gap,) = verdict.not_judged
    # what to change is said once, in the filming help, which names the check
    assert gap.where == "in rep 3" and gap.advice == "What to change is under Filming help, above."
    assert [t.problem for t in verdict.filming] == [FilmingProblem.BACK_HIDDEN]
    assert "fitted top" in verdict.filming[0].advice
    assert verdict.filming[0].checks == ["Rounded lower back"]


def test_a_single_lift_never_judged_against_a_reference_says_so() -> None:
    # one rep, the first-reps reference of itself: nothing was compared with it
    report = make_report(
        calibration=CALIBRATION,
        summary={"reps": 1, "attempts": 0, "form_frays_at_rep": None},
        reps=[_judged_rep(1, "knee_dominant")],
        not_judged=[{"code": "spine_rounded", "reason": "no_reference", "reps": [1]}],
        reference={"kind": "first_reps", "exercise": "hip_hinge", "reps": [1]},
    )
    verdict = build_verdict(report)
    assert verdict.headline == "No faults found in what could be judged"
    (gap,) = verdict.not_judged
    assert gap.name == "Rounded lower back" and "record a reference" in gap.advice


def test_nothing_judged_is_said_so() -> None:
    # a rep counted across a camera cut: every check not judged, none found
    checks = [
        {"code": c, "status": "not_judged", "fault": None, "reason": "camera_cut"}
        for c in ("spine_rounded", "hips_rise_first")
    ]
    gaps = [
        {"code": c, "reason": "camera_cut", "reps": [1], "advice": ""}
        for c in ("spine_rounded", "hips_rise_first")
    ]
    report = make_report(
        calibration=CALIBRATION,
        summary={"reps": 1, "attempts": 0, "form_frays_at_rep": None},
        reps=[rep(1, checks=checks)],
        not_judged=gaps,
        reference=FIRST_REPS,
    )
    verdict = build_verdict(report)
    assert verdict.tone is Tone.UNKNOWN and verdict.headline == "Nothing could be judged"
    assert verdict.judged == "No check could be judged."
    assert {g.name for g in verdict.not_judged} == {"Rounded lower back", "Hips rising first"}
    assert "another camera shot" in verdict.not_judged[0].why


def test_nothing_counted_is_not_a_clean_set() -> None:
    verdict = build_verdict(make_report(calibration=CALIBRATION))
    assert verdict.tone is Tone.UNKNOWN and verdict.headline == "No rep was counted"
    assert verdict.counted == "0 reps counted."
    live = make_report(source="live", set_started=False, calibration=None)
    assert build_verdict(live).headline.startswith("The set did not start")


def test_filming_problems_say_what_to_change() -> None:
    still_missing = {**CALIBRATION, "found_still": False}
    turned = {**still_missing, "baseline": {"camera_yaw_from_side_deg": 55.0}}
    patchy = {"frames": 100, "frames_with_pose": 60, "pose_rate": 0.6}
    from tests.reports import VIDEO

    report = make_report(
        calibration=turned,
        video={**VIDEO, **patchy},
        summary={"reps": 2, "attempts": 0, "form_frays_at_rep": None},
        reps=[rep(1), rep(2)],
    )
    tips = build_verdict(report).filming
    assert [t.problem for t in tips] == [
        FilmingProblem.NOT_SIDE_ON,
        FilmingProblem.TRACKING_LOST,
        FilmingProblem.NO_STILL_MOMENT,
    ]
    assert "Stand still, side-on, for two seconds" in tips[-1].advice
    assert "3 m away" in tips[0].advice


def test_a_hold_is_compared_with_its_first_settled_second() -> None:
    report = make_report(
        exercise="plank",
        calibration=CALIBRATION,
        summary={
            "reps": 0,
            "attempts": 0,
            "form_frays_at_rep": None,
            "hold_s": 31.25,
            "target_hold_s": 30.0,
        },
        findings=[
            {
                "code": "hip_sag",
                "severity": "warning",
                "rep": 0,
                "t_s": 20.0,
                "value": 31.0,
                "threshold": 25.0,
                "unit": "mm",
                "message": "Lift your hips: they sagged 31 mm.",
            }
        ],
    )
    verdict = build_verdict(report)
    assert verdict.counted == "Held for 31.2 s of the 30 s asked for."
    (found,) = verdict.findings
    assert found.where == "during the hold"
    assert found.measured.endswith("compared with the first settled second of your hold")


def test_a_movement_not_counted_after_the_last_rep_is_said() -> None:
    gone = {
        "start_s": 20.0,
        "end_s": 24.0,
        "pause_s": 1.6,
        "reps_pause_max_s": 0.5,
        "sign": "left_view",
        "feet_moved_mm": 0.0,
        "gone_s": 2.0,
        "message": "not counted",
    }
    report = make_report(
        summary={"reps": 2, "attempts": 0, "form_frays_at_rep": None, "not_counted": 1},
        reps=[rep(1), rep(2)],
        not_counted=[gone],
    )
    assert build_verdict(report).counted == (
        "2 reps counted; 1 movement after the last rep was not counted: it looked like "
        "putting the weight down and walking out of view."
    )
