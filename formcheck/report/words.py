"""Plain words for every fault code and every reason a check was not judged: the one place
the page, the report and the terminal take them from."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from formcheck.analyzers import codes as c
from formcheck.analyzers.checks.condition import NotJudged
from formcheck.analyzers.events import NotARepSign


class Basis(StrEnum):
    """What a check's number is compared with, so that "9 mm" always says "than what"."""

    REFERENCE = "reference"  # the set's reference: its first reps, a saved reference rep,
    # or (a hold) its own first settled second
    PRESCRIPTION = "prescription"  # the tempo or depth the prescription asks for
    WITHIN_REP = "within_rep"  # a timing or ratio inside the rep itself
    FIXED = "fixed"  # a fixed limit of the exercise (a straight line, level hips)


@dataclass(frozen=True, slots=True)
class FaultWords:
    name: str  # a plain name ("Rounded lower back")
    explanation: str  # one line a person with back pain understands
    basis: Basis = Basis.REFERENCE


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
        "Rushed first half",
        "The move away from the start was quicker than prescribed.",
        Basis.PRESCRIPTION,
    ),
    c.TEMPO_UP_FAST: FaultWords(
        "Rushed return", "The return to the start was quicker than prescribed.", Basis.PRESCRIPTION
    ),
    c.KNEE_FIRST: FaultWords(
        "Knees first", "The knees bent before the hips moved back.", Basis.WITHIN_REP
    ),
    c.KNEE_DOMINANT: FaultWords(
        "Squatting instead of hinging",
        "The knees did most of the bending where the hips should lead.",
        Basis.WITHIN_REP,
    ),
    c.HIPS_RISE_FIRST: FaultWords(
        "Hips rising first",
        "The hips came up before the chest, tipping the back forward.",
        Basis.WITHIN_REP,
    ),
    c.DEPTH_SHORT: FaultWords(
        "Not deep enough", "The rep stopped short of the prescribed depth.", Basis.PRESCRIPTION
    ),
    c.STANCE_WIDTH_CHANGE: FaultWords(
        "Feet moved", "The feet moved apart or together during the set."
    ),
    c.HEEL_LIFT: FaultWords("Heels lifting", "The heels came off the floor."),
    c.HANDS_ON_THIGHS: FaultWords(
        "Pushing off the thighs", "The hands pushed on the thighs to stand up.", Basis.WITHIN_REP
    ),
    c.TRUNK_LEAN: FaultWords(
        "Leaning forward", "The trunk tipped further forward than in the first reps."
    ),
    c.KNEE_TRAVEL: FaultWords(
        "Front knee travelling", "The front knee moved further past the toes."
    ),
    c.HIPS_LOW: FaultWords(
        "Hips low", "The hips stopped short of a straight line at the top.", Basis.FIXED
    ),
    c.PELVIS_TILT: FaultWords("Pelvis tilted", "One hip was lower than the other.", Basis.FIXED),
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
    c.SHOULDERS_FORWARD: FaultWords("Slouching", "The shoulders moved ahead of the hips."),
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
    NotJudged.CAMERA_CUT: "the video cut to another camera shot during the rep",
    NotJudged.OTHER_FAULT: "another fault was the cue",
    NotJudged.TOO_SHORT: "the hold was too short to settle",
}


# What a movement after the last rep that was not counted looked like, by what followed it.
NOT_COUNTED_LOOKED_LIKE: dict[NotARepSign, str] = {
    NotARepSign.FEET_LEFT_STANCE: "putting the weight down and stepping away",
    NotARepSign.LEFT_VIEW: "putting the weight down and walking out of view",
}


def not_counted_message(sign: NotARepSign, pause_s: float, reps_pause_max_s: float) -> str:
    """The sentence a person reads about one movement after the last rep not counted."""
    return (
        f"The movement after your last rep was not counted: it looked like "
        f"{NOT_COUNTED_LOOKED_LIKE[sign]} (down {pause_s:.1f} s, your reps at most "
        f"{reps_pause_max_s:.1f} s)."
    )


def fault_name(code: str) -> str:
    words = FAULTS.get(code)
    return words.name if words else code.replace("_", " ").capitalize()


def fault_explanation(code: str) -> str:
    words = FAULTS.get(code)
    return words.explanation if words else ""


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """``1 rep``, ``2 reps``, ``0 partial attempts``."""
    word = singular if count == 1 else (plural_form or singular + "s")
    return f"{count} {word}"


def and_list(items: Sequence[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def rep_list(reps: Sequence[int]) -> str:
    """``rep 3``, ``reps 3 and 5``, ``reps 1-4 and 7``: runs of three or more as ranges."""
    ordered = sorted(set(reps))
    if not ordered:
        return ""
    parts: list[str] = []
    run = [ordered[0]]
    for rep in [*ordered[1:], None]:
        if rep is not None and rep == run[-1] + 1:
            run.append(rep)
            continue
        if len(run) >= 3:
            parts.append(f"{run[0]}–{run[-1]}")
        else:
            parts += [str(r) for r in run]
        if rep is not None:
            run = [rep]
    word = "rep" if len(ordered) == 1 else "reps"
    return f"{word} {and_list(parts)}"


def words_for_page() -> dict[str, dict[str, str]]:
    """Every fault code's plain name, explanation and basis, for the live page
    (``GET /api/words``): the page says a code exactly as the report does."""
    return {
        code: {"name": w.name, "explanation": w.explanation, "basis": w.basis.value}
        for code, w in FAULTS.items()
    }
