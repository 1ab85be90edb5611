"""Named measure providers an exercise spec asks for (its ``[[measures]]`` list).

    measures = ExerciseMeasures.from_specs(spec.measures, ProviderContext(baseline.values))
    sample = measures(sample)      # the exercise's measures added, in the spec's order

Every provider lives here, in kinematics: analyzers read Samples, never landmarks.
"""

from typing import Annotated

from pydantic import Field

from formcheck.kinematics.providers.base import (
    ExerciseMeasures,
    MeasureProvider,
    ProviderContext,
    ProviderSpec,
    with_measures,
)
from formcheck.kinematics.providers.floor_posture import (
    FloorQualitySpec,
    FloorReachSpec,
    OutlineArmsIgnoredSpec,
    PelvisTiltSpec,
    SignedLyingHipSpec,
    SpineArcSpec,
)
from formcheck.kinematics.providers.holds import BodyLineSpec
from formcheck.kinematics.providers.legs import (
    DespikeSpec,
    HeelRowSpec,
    KneeByViewSpec,
    SplitStanceSpec,
    WristThighSpec,
)

MeasureSpec = Annotated[
    HeelRowSpec
    | KneeByViewSpec
    | DespikeSpec
    | WristThighSpec
    | SplitStanceSpec
    | FloorQualitySpec
    | OutlineArmsIgnoredSpec
    | PelvisTiltSpec
    | SignedLyingHipSpec
    | SpineArcSpec
    | FloorReachSpec
    | BodyLineSpec,
    Field(discriminator="provider"),
]

__all__ = [
    "ExerciseMeasures",
    "MeasureProvider",
    "MeasureSpec",
    "ProviderContext",
    "ProviderSpec",
    "with_measures",
]
