"""What an exercise's checks are handed, and the small types the engine shares."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict

from formcheck.analyzers.events import Phase
from formcheck.analyzers.window import SampleBuffer


@dataclass(frozen=True, slots=True)
class AnalyzerInfo:
    name: str
    description: str
    camera_placement: str


@dataclass(frozen=True, slots=True)
class FrameContext:
    """What a per-frame check may look at: causal means of measures and the references."""

    t_s: float
    phase: Phase
    depth_deg: float  # primary signal above the start position
    rest: Mapping[str, float]  # start-position values before the current rep
    buffer: SampleBuffer
    smoothing_window_s: float
    phase_since_s: float = math.nan  # when the current phase began

    def recent(self, name: str) -> float:
        return self.buffer.recent_mean(name, self.smoothing_window_s)

    @property
    def in_phase_s(self) -> float:
        """How long the current phase has lasted (NaN before any phase change)."""
        return self.t_s - self.phase_since_s


class NoChecks(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def rep_label(rep: int) -> str:
    """How a finding's message names its rep: "rep 3", or "a partial rep" (rep 0)."""
    return f"rep {rep}" if rep > 0 else "a partial rep"
