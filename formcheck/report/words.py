"""Plain words for every fault code and every reason a check was not judged: the one place
the page, the report and the terminal take them from."""

from __future__ import annotations

from dataclasses import dataclass

from formcheck.analyzers import codes as c
from formcheck.analyzers.checks.condition import NotJudged


@dataclass(frozen=True, slots=True)
class FaultWords:
    name: str  # a plain name ("Rounded lower back")
    explanation: str  # one line a person with back pain understands


FAULTS: dict[str, FaultWords] = {
    c.SPINE_ROUNDED: FaultWords(
        "Rounded lower back", "The lower back bent forward instead of staying long."
    ),
    c.SPINE_ARCHED: FaultWords(
        "Over-arched lower back", "The lower back hollowed more than in a neutral position."
    ),
    c.HEAD_FORWARD: FaultWords(
        "Head pushed forward", "The head moved forward of the line of the back."
    ),
    c.TEMPO_DOWN_FAST: FaultWords(
        "Rushed first half", "The move away from the start was quicker than prescribed."
    ),
    c.TEMPO_UP_FAST: FaultWords(
        "Rushed return", "The return to the start was quicker than prescribed."
    ),
    c.KNEE_FIRST: FaultWords(
        "Knees first", "The knees bent before the hips moved back."
    ),
    c.KNEE_DOMINANT: FaultWords(
        "Squatting instead of hinging",
        "The knees did most of the bending where the hips should lead.",
    ),
    c.HIPS_RISE_FIRST: FaultWords(
        "Hips rising first", "The hips came up before the chest, tipping the back forward."
    ),
    c.DEPTH_SHORT: FaultWords("Not deep enough", "The rep stopped short of the prescribed depth."),
    c.STANCE_WIDTH_CHANGE: FaultWords(
        "Feet moved", "The feet moved apart or together during the set."
    ),
    c.HEEL_LIFT: FaultWords("Heels lifting", "The heels came off the floor."),
    c.HANDS_ON_THIGHS: FaultWords(
        "Pushing off the thighs", "The hands pushed on the thighs to stand up."
    ),
    c.TRUNK_LEAN: FaultWords(
        "Leaning forward", "The trunk tipped further forward than in the first reps."
    ),
    c.KNEE_TRAVEL: FaultWords(
        "Front knee travelling", "The front knee moved further past the toes."
    ),
    c.HIPS_LOW: FaultWords("Hips low", "The hips stopped short of a straight line at the top."),
    c.PELVIS_TILT: FaultWords("Pelvis tilted", "One hip was lower than the other."),
    c.PELVIS_ROTATION: FaultWords(
        "Pelvis turning", "The pelvis turned or hitched up with the lifted leg."
    ),
    c.RANGE_SHORT: FaultWords(
        "Small range", "The spine moved through less range than in the first cycle."
    ),
    c.HIP_SAG: FaultWords("Hips sagging", "The hips sank below the line of shoulders and ankles."),
    c.HIP_PIKE: FaultWords("Hips piking", "The hips rose above the line of shoulders and ankles."),
    c.HIP_DROP: FaultWords("Hips dropping", "The hips sank towards the floor in the side plank."),
    c.TRUNK_ROTATION: FaultWords("Trunk turning", "The chest turned out of the body's plane."),
    c.CHIN_DOWN: FaultWords("Chin dropping", "The chin dropped towards the chest."),
    c.CHIN_UP: FaultWords("Chin lifting", "The chin lifted, tipping the head back."),
    c.SHOULDERS_FORWARD: FaultWords(
        "Slouching", "The shoulders moved ahead of the hips."
    ),
    c.SHOULDERS_BACK: FaultWords(
        "Leaning back", "The shoulders moved behind the hips (a sway-back)."
    ),
}

NOT_JUDGED: dict[NotJudged, str] = {
    NotJudged.VIEW_ANGLE: "the camera was not side-on",
    NotJudged.BACK_HIDDEN: "the back was hidden or crossed (arms, a bar, loose clothes)",
    NotJudged.TRACKING_LOST: "the person was not tracked well enough",
    NotJudged.NO_REFERENCE: "there was no earlier rep or reference to compare with",
    NotJudged.POSTURE: "the rep's posture differed too much from the reference's",
    NotJudged.NOT_DEEP: "the rep did not go deep enough for it",
    NotJudged.CHECK_OFF: "the check is off",
    NotJudged.NOT_PRESCRIBED: "nothing was prescribed to check against",
    NotJudged.NOT_MEASURED: "a measure it needs could not be read",
    NotJudged.IMPLAUSIBLE: "the measured value was impossible (a tracking error)",
    NotJudged.OTHER_FAULT: "another fault was the cue",
    NotJudged.TOO_SHORT: "the hold was too short to settle",
}


def fault_name(code: str) -> str:
    words = FAULTS.get(code)
    return words.name if words else code.replace("_", " ").capitalize()
