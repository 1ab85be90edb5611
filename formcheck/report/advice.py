"""What a person can change so that a check not judged can be judged next time."""

from __future__ import annotations

from enum import StrEnum

from formcheck.analyzers.checks.condition import NotJudged

NOT_JUDGED_ADVICE: dict[NotJudged, str] = {
    NotJudged.VIEW_ANGLE: "Film from the side: put the camera level with your hips, square "
    "to your side, about 3 m away.",
    NotJudged.BACK_HIDDEN: "Keep your back in view: wear a fitted top, keep your arms and any "
    "bar or stick off the line of your back, and film from the side.",
    NotJudged.TRACKING_LOST: "Keep your whole body in the picture, in good light, with nothing "
    "(a plate, a bench, another person) in front of you.",
    NotJudged.NO_REFERENCE: "Film three or more reps, or record a reference rep first "
    "(formcheck reference record).",
    NotJudged.POSTURE: "Go to the same depth in every rep, so each can be compared with your "
    "reference.",
    NotJudged.NOT_DEEP: "Move through more of the range so the check applies.",
    NotJudged.CHECK_OFF: "",
    NotJudged.NOT_PRESCRIBED: "Give a tempo or depth in your prescription to have it checked.",
    NotJudged.NOT_MEASURED: "Film side-on in good light with your whole body in view.",
    NotJudged.IMPLAUSIBLE: "Film side-on with your whole body in view and nothing in front "
    "of your legs.",
    NotJudged.CAMERA_CUT: "Film the whole set in one continuous shot, from one place: an "
    "edited clip that cuts between camera angles cannot be measured across the cut.",
    NotJudged.OTHER_FAULT: "",
    NotJudged.TOO_SHORT: "Hold the position for at least a few seconds.",
}


class FilmingProblem(StrEnum):
    """What in a recording got in the way of judging it (the setup check's, or the report's)."""

    NOT_SIDE_ON = "not_side_on"
    TRACKING_LOST = "tracking_lost"
    BACK_HIDDEN = "back_hidden"
    NO_STILL_MOMENT = "no_still_moment"
    TOO_SMALL = "too_small"
    FEET_OUT = "feet_out_of_frame"


# (what was wrong, what to change), shown with the camera diagram.
FILMING_TIPS: dict[FilmingProblem, tuple[str, str]] = {
    FilmingProblem.NOT_SIDE_ON: (
        "The camera was not side-on to you.",
        NOT_JUDGED_ADVICE[NotJudged.VIEW_ANGLE],
    ),
    FilmingProblem.TRACKING_LOST: (
        "You were not seen clearly in every frame.",
        NOT_JUDGED_ADVICE[NotJudged.TRACKING_LOST],
    ),
    FilmingProblem.BACK_HIDDEN: (
        "Your back could not be seen well enough to measure its shape.",
        NOT_JUDGED_ADVICE[NotJudged.BACK_HIDDEN],
    ),
    FilmingProblem.NO_STILL_MOMENT: (
        "There was no still moment before the first rep.",
        "Stand still, side-on, for two seconds before you start: your start position and "
        "how much the measures jitter are taken from that moment.",
    ),
    FilmingProblem.TOO_SMALL: (
        "You were small in the picture.",
        "Move closer to the camera (about 2.5-3 m) so that you fill most of its height.",
    ),
    FilmingProblem.FEET_OUT: (
        "Your feet were out of the picture.",
        "Tilt the camera down or step back until your feet are in view.",
    ),
}
