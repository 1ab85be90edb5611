"""The registry of synthetic exercises, looked up by name."""

from __future__ import annotations

from formcheck.errors import UnknownExerciseError
from formcheck.synth.floor import BirdDog, CatCamel, DeadBug, ForearmPlank, GluteBridge, SidePlank
from formcheck.synth.lunge import Lunge
from formcheck.synth.motion import Motion
from formcheck.synth.standing import HipHinge, SitToStand, Squat, StandingPosture

MOTIONS: dict[str, type[Motion]] = {
    cls.exercise: cls
    for cls in (
        HipHinge,
        Squat,
        GluteBridge,
        BirdDog,
        DeadBug,
        SidePlank,
        ForearmPlank,
        SitToStand,
        CatCamel,
        StandingPosture,
        Lunge,
    )
}
EXERCISES = tuple(MOTIONS)


def motion_class(exercise: str) -> type[Motion]:
    try:
        return MOTIONS[exercise]
    except KeyError:
        raise UnknownExerciseError(
            f"There is no synthetic exercise called {exercise!r}; "
            f"choose one of: {', '.join(EXERCISES)}."
        ) from None
