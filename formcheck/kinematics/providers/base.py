"""What a measure provider is, and the chain that applies an exercise's providers in order.

The kinematics stage computes the measures every exercise shares. An exercise spec can ask
for more (its ``[[measures]]`` list): a knee angle from both legs' midpoints, the signed hip
angle of a person lying on their back, the limb reaches of a floor exercise, a frame quality
judged for a floor posture, ... Each provider takes a Sample and returns it with its measures
added (or a shared measure replaced by the better estimate this exercise needs, which the
spec then says), and possibly its quality judged for the exercise's posture. Analyzers read
the result; they never read landmarks.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from pydantic import BaseModel, ConfigDict

from formcheck.config import QualityConfig
from formcheck.types import FrameQuality, Sample


class MeasureProvider(Protocol):
    """One stream's provider (it may keep state from frame to frame)."""

    def __call__(self, sample: Sample) -> Sample: ...


def _unknown(name: str) -> float:
    return math.nan


@dataclass(frozen=True, slots=True)
class ProviderContext:
    """What a provider may know besides the frame: the person's baseline value of a
    measure as it stands now (their still start, which the analyzer may still be measuring)
    and the pipeline's quality limits."""

    baseline_value: Callable[[str], float] = _unknown
    quality: QualityConfig = field(default_factory=QualityConfig)


class ProviderSpec(BaseModel):
    """One ``[[measures]]`` entry of an exercise spec: ``provider`` names it, the other keys
    are its settings (units in their names)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    def build(self, context: ProviderContext) -> MeasureProvider:
        raise NotImplementedError


def with_measures(sample: Sample, extra: Mapping[str, float]) -> Sample:
    """The sample with ``extra`` measures added (or replacing those of the same name)."""
    return dataclasses.replace(sample, measures={**sample.measures, **extra})


def with_quality(sample: Sample, quality: FrameQuality) -> Sample:
    return dataclasses.replace(sample, quality=quality)


class ExerciseMeasures:
    """An exercise's providers for one stream, applied in the spec's order."""

    def __init__(self, providers: Sequence[MeasureProvider] = ()) -> None:
        self._providers = tuple(providers)

    @classmethod
    def from_specs(
        cls, specs: Sequence[ProviderSpec], context: ProviderContext | None = None
    ) -> ExerciseMeasures:
        ctx = context or ProviderContext()
        return cls([spec.build(ctx) for spec in specs])

    def __call__(self, sample: Sample) -> Sample:
        for provider in self._providers:
            sample = provider(sample)
        return sample
