"""What a person can change so that a check not judged can be judged next time."""

from __future__ import annotations

from formcheck.analyzers.checks.condition import NotJudged
from formcheck.report.model import FilmingProblem

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
        "Move the camera closer (about 2.5-3 m) so that you fill most of the picture.",
    ),
    FilmingProblem.FEET_OUT: (
        "Your feet were cut off at the edge of the picture.",
        "Step back, or tilt the camera down, until your feet are in the picture.",
    ),
    FilmingProblem.HEAD_OUT: (
        "Your head was cut off at the edge of the picture.",
        "Step back, or tilt the camera up, until your head is in the picture.",
    ),
    FilmingProblem.TOO_DARK: (
        "The picture was too dark.",
        "Turn on more light or face a window; keep the light in front of you, not behind you.",
    ),
}

# The checks a filming problem can keep from being judged (by why they were not judged): the
# verdict names them with the tip.
_LOST_OR_UNMEASURED = frozenset(
    {NotJudged.TRACKING_LOST, NotJudged.NOT_MEASURED, NotJudged.IMPLAUSIBLE}
)
FILMING_REASONS: dict[FilmingProblem, frozenset[NotJudged]] = {
    FilmingProblem.NOT_SIDE_ON: frozenset({NotJudged.VIEW_ANGLE}),
    FilmingProblem.TRACKING_LOST: _LOST_OR_UNMEASURED,
    FilmingProblem.BACK_HIDDEN: frozenset({NotJudged.BACK_HIDDEN}),
    FilmingProblem.TOO_SMALL: _LOST_OR_UNMEASURED | {NotJudged.BACK_HIDDEN},
    FilmingProblem.FEET_OUT: _LOST_OR_UNMEASURED,
    FilmingProblem.HEAD_OUT: _LOST_OR_UNMEASURED,
    FilmingProblem.TOO_DARK: _LOST_OR_UNMEASURED | {NotJudged.BACK_HIDDEN},
    FilmingProblem.NO_STILL_MOMENT: frozenset(),
}
