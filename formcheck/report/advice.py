"""What a person can change so that a check not judged can be judged next time."""

from __future__ import annotations

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
    NotJudged.OTHER_FAULT: "",
    NotJudged.TOO_SHORT: "Hold the position for at least a few seconds.",
}
