"""A person's own reference values and the jitter of every measure.

The lead's calibration (a still phase at the start of a set) supplies both. When it is not
given, the engine measures them itself from the first still window of the set
(:class:`StillWindowCalibrator`), and spine checks can instead use the first reps of the set
as the person's neutral reference.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Protocol

import numpy as np


class BaselineSource(Enum):
    CALIBRATION = "calibration"  # given by the pipeline's calibration phase
    STILL_START = "still_start"  # measured by the analyzer from its first still window
    DEFAULT = "default"  # spec defaults: nothing better was available


class CalibrationLike(Protocol):
    """What the pipeline's calibration provides (``formcheck.kinematics.calibration``)."""

    @property
    def baseline(self) -> dict[str, float]: ...

    @property
    def noise_floor(self) -> dict[str, float]: ...

    @property
    def found_still(self) -> bool: ...


@dataclass(frozen=True, slots=True)
class Baseline:
    """Standing reference per measure and its noise floor (std during a still second).

    Keys are measure names from :mod:`formcheck.kinematics.names`, so units are in the keys.
    A missing key reads as NaN.
    """

    values: Mapping[str, float] = field(default_factory=dict)
    noise_floor: Mapping[str, float] = field(default_factory=dict)
    source: BaselineSource = BaselineSource.CALIBRATION

    @classmethod
    def from_calibration(cls, calibration: CalibrationLike) -> Baseline | None:
        """The calibration's baseline, or None when it found no still second (the analyzer
        then measures its own from the set)."""
        if not calibration.found_still:
            return None
        return cls(dict(calibration.baseline), dict(calibration.noise_floor))

    def value(self, name: str) -> float:
        return float(self.values.get(name, math.nan))

    def noise(self, name: str) -> float:
        return float(self.noise_floor.get(name, math.nan))

    def with_defaults(self, noise_defaults: Mapping[str, float]) -> Baseline:
        """Fill noise floors the calibration did not measure from spec defaults."""
        noise = dict(noise_defaults)
        noise.update({k: v for k, v in self.noise_floor.items() if math.isfinite(v)})
        return Baseline(values=dict(self.values), noise_floor=noise, source=self.source)

    def to_dict(self) -> dict[str, object]:
        return {
            "source": self.source.value,
            "values": {k: v for k, v in self.values.items() if math.isfinite(v)},
            "noise_floor": {k: v for k, v in self.noise_floor.items() if math.isfinite(v)},
        }


@dataclass(frozen=True, slots=True)
class StillWindow:
    """Median and std of every measure over a window in which the primary signal was still."""

    start_s: float
    end_s: float
    median: dict[str, float]
    std: dict[str, float]


class StillWindowCalibrator:
    """Finds the first window of ``window_s`` where ``primary`` varies less than ``max_std``."""

    def __init__(self, primary: str, window_s: float, max_std: float, min_valid_fraction: float):
        self._primary = primary
        self._window_s = window_s
        self._max_std = max_std
        self._min_valid_fraction = min_valid_fraction
        self._frames: deque[tuple[float, Mapping[str, float]]] = deque()

    def update(self, t_s: float, measures: Mapping[str, float]) -> StillWindow | None:
        self._frames.append((t_s, measures))
        while self._frames and t_s - self._frames[0][0] > self._window_s:
            self._frames.popleft()
        if t_s - self._frames[0][0] < self._window_s * _WINDOW_FILL:
            return None
        primary = np.array([m.get(self._primary, math.nan) for _, m in self._frames])
        finite = primary[np.isfinite(primary)]
        if finite.size < max(_MIN_FRAMES, self._min_valid_fraction * primary.size):
            return None
        if float(np.std(finite)) > self._max_std:
            return None
        return self._summarise()

    def _summarise(self) -> StillWindow:
        names = set().union(*(m.keys() for _, m in self._frames))
        median: dict[str, float] = {}
        std: dict[str, float] = {}
        for name in sorted(names):
            column = np.array([m.get(name, math.nan) for _, m in self._frames], dtype=float)
            column = column[np.isfinite(column)]
            if column.size >= self._min_valid_fraction * len(self._frames) and column.size > 1:
                median[name] = float(np.median(column))
                std[name] = float(np.std(column))
        return StillWindow(self._frames[0][0], self._frames[-1][0], median, std)


_WINDOW_FILL = 0.95  # a window counts once its samples span 95% of the wanted duration
_MIN_FRAMES = 5  # fewer samples than this cannot estimate a standard deviation
