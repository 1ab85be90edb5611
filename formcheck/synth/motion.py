"""Motions: a pose per time t, with rep and phase boundaries and injected faults as truth."""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import ClassVar

import numpy as np
import numpy.typing as npt

from formcheck.synth.body import BodyShape
from formcheck.synth.faults import FAULT_UNITS, Fault, FaultEvent
from formcheck.synth.placement import Support
from formcheck.synth.raycast import Box
from formcheck.synth.skeleton import BodyPose, Skeleton
from formcheck.synth.surface import Primitive
from formcheck.synth.timeline import (
    ENDING_NONE,
    ENDINGS,
    STILL_S,
    TAIL_S,
    RepWindow,
    SetEnding,
    Tempo,
    hold_weight,
    schedule,
    set_ending,
)

EVENT_STEP_S = 0.001  # resolution of fault event times
WEIGHT_ON = 0.01  # a fault "shows" above this share of its size
WEIGHT_FULL = 0.99
HOLD_FAULT_DELAY_S = 1.5  # holds: faults start this long after the still period by default
HOLD_FAULT_RAMP_S = 1.0
ENDING_PAUSE_S = 1.2  # default time down at the put-down, letting go (people: about 0.8-2 s)
STANCE_RAMP_S = 0.5
MIN_TEMPO_FACTOR = 0.2
MS_PER_S = 1000.0

# Which true measure shows each fault's size (None: a timing fault).
FAULT_MEASURES: dict[str, str | None] = {
    "lumbar_flexion": "back_bulge_mean_mm",
    "lumbar_extension": "back_bulge_mean_mm",
    "knee_first": None,
    "hips_rise_first": None,
    "knee_dominant": "left_knee_flexion_deg",
    "plank_sag": "hip_line_offset_mm",
    "side_plank_hip_drop": "hip_line_offset_mm",
    "pelvis_rotation": "pelvis_roll_deg",
    "forward_head": "head_forward_mm",
    "stance_width": "stance_width_mm",
    "tempo": None,
    "trunk_lean": "trunk_inclination_deg",  # a lunge's own measure (Lunge.extra_measures)
    "knee_travel": "front_knee_past_toes_mm",  # a lunge's own measure
}


@dataclass(frozen=True, slots=True)
class MotionConfig:
    """Timing and posture parameters of one clip's motion.

    params: exercise-specific posture parameters (names carry units), overriding the
        exercise's defaults. variant: e.g. "bodyweight", "dowel" or "kettlebell" for hinges.
    ending: how the set ends after the last rep ("" stops there; "set_down_step_away" puts
        the weight down, stands up without it and walks out of view: not a rep).
    ending_pause_s: the time down at the put-down while letting go of the weight.
    """

    reps: int = 4
    tempo: Tempo = field(default_factory=Tempo)
    still_s: float = STILL_S
    hold_s: float = 6.0
    params: Mapping[str, float] = field(default_factory=dict)
    variant: str = ""
    ending: str = ENDING_NONE
    ending_pause_s: float = ENDING_PAUSE_S


class Motion(ABC):
    """Base of all exercises: timeline, fault weights and events. Subclasses give poses."""

    exercise: ClassVar[str]
    phase_names: ClassVar[tuple[str, str, str, str]] = ("down", "bottom", "up", "top")
    supported_faults: ClassVar[tuple[str, ...]] = ()
    defaults: ClassVar[dict[str, float]] = {}
    ranges: ClassVar[dict[str, tuple[float, float]]] = {}
    variants: ClassVar[tuple[str, ...]] = ("",)
    is_hold: ClassVar[bool] = False
    camera_view: ClassVar[str] = "side"  # "side": camera looks at the person's side; "front"
    on_floor: ClassVar[bool] = False  # lying or kneeling: filmed from a lower camera
    supports_ending: ClassVar[bool] = False  # can end the set by putting down and walking off

    def __init__(
        self, shape: BodyShape, config: MotionConfig, faults: Sequence[Fault] = ()
    ) -> None:
        self.shape = shape
        self.config = config
        unknown = set(config.params) - set(self.defaults)
        if unknown:
            raise ValueError(f"{self.exercise} has no parameters {sorted(unknown)}")
        self.params = {**self.defaults, **config.params}
        for f in faults:
            if f.kind not in self.supported_faults:
                raise ValueError(f"{self.exercise} does not support fault {f.kind!r}")
        self.faults = list(faults)
        self.variant = config.variant or self.variants[0]
        if self.variant not in self.variants:
            raise ValueError(f"{self.exercise} variants are {self.variants}, not {self.variant!r}")
        if self.is_hold:
            self.reps: list[RepWindow] = []
            self.duration_s = config.still_s + config.hold_s
        else:
            self.reps = schedule([self._rep_tempo(i) for i in range(config.reps)], config.still_s)
            self.duration_s = self.reps[-1].rest_end_s + TAIL_S if self.reps else config.still_s
        self.ending: SetEnding | None = None
        if config.ending not in ENDINGS:
            raise ValueError(f"endings are {ENDINGS}, not {config.ending!r}")
        if config.ending != ENDING_NONE:
            if not (self.supports_ending and self.reps):
                raise ValueError(f"{self.exercise} has no set ending {config.ending!r}")
            last = self.reps[-1]
            self.ending = set_ending(last.rest_end_s, config.tempo, config.ending_pause_s)
            self.duration_s = self.ending.end_s
        self.setup()

    # -- subclass hooks ---------------------------------------------------------------
    def setup(self) -> None:  # noqa: B027 - an optional hook
        """Precompute what depends on the body (called once at the end of __init__)."""

    @abstractmethod
    def pose_at(self, t_s: float, with_faults: bool = True) -> BodyPose: ...

    @abstractmethod
    def support_at(self, t_s: float) -> Support: ...

    def scenery(self) -> list[Box]:
        return []

    def props(self, skel: Skeleton) -> list[Primitive]:
        del skel
        return []

    def props_at(self, skel: Skeleton, t_s: float) -> list[Primitive]:
        """The props at ``t_s`` (a weight put down stays on the floor when the hands leave)."""
        del t_s
        return self.props(skel)

    def extra_measures(
        self, lm: npt.NDArray[np.float64], skel: Skeleton, measures: Mapping[str, float]
    ) -> dict[str, float]:
        """True measures of this exercise only, per frame (names with units), from the world
        landmarks, the skeleton and the measures every clip has; written to the NPZ."""
        del lm, skel, measures
        return {}

    def rep_truth(self, rep: RepWindow) -> dict[str, str | float]:
        """Facts of one rep beyond its times, written to the rep's entry in the JSON."""
        del rep
        return {}

    # -- timeline -----------------------------------------------------------------------
    def _rep_tempo(self, index: int) -> Tempo:
        tempo = self.config.tempo
        for f in self.faults:
            if f.kind == "tempo" and f.affects(index):
                moving = tempo.down_s + tempo.pause_s + tempo.up_s
                k = max((moving - f.size) / moving, MIN_TEMPO_FACTOR)
                tempo = replace(
                    tempo, down_s=tempo.down_s * k, pause_s=tempo.pause_s * k, up_s=tempo.up_s * k
                )
        return tempo

    def rep_at(self, t_s: float) -> RepWindow | None:
        for rep in self.reps:
            if rep.start_s <= t_s < rep.rest_end_s:
                return rep
        return None

    @property
    def set_end_s(self) -> float:
        """When the set itself ends: the end of the clip, or where its ending starts (the
        camera is framed on the set, not on the walk out of view)."""
        return self.ending.start_s if self.ending is not None else self.duration_s

    def phases(self) -> list[tuple[str, float, float]]:
        out = [("still", 0.0, self.config.still_s)]
        if self.is_hold:
            out.append(("hold", self.config.still_s, self.duration_s))
            return out
        for rep in self.reps:
            out.extend(rep.phases(self.phase_names))
        if self.ending is not None:
            out.extend(self.ending.phases())
        return out

    # -- faults -------------------------------------------------------------------------
    def hold_fault_window(self, fault: Fault) -> tuple[float, float]:
        start = (
            fault.start_s if fault.start_s is not None else self.config.still_s + HOLD_FAULT_DELAY_S
        )
        return start, HOLD_FAULT_RAMP_S

    def rep_fault_weight(self, fault: Fault, rep: RepWindow, t_s: float) -> float:
        """How much of ``fault`` shows at ``t_s`` within ``rep`` (0..1)."""
        if fault.kind == "knee_first":
            return 1.0 if rep.start_s <= t_s < rep.start_s + fault.size / MS_PER_S else 0.0
        if fault.kind == "hips_rise_first":
            return 1.0 if rep.up_start_s <= t_s < rep.up_start_s + fault.size / MS_PER_S else 0.0
        if fault.kind == "tempo":
            return 1.0 if rep.start_s <= t_s < rep.end_s else 0.0
        return rep.bottom_weight(t_s)

    def fault_weight(self, fault: Fault, t_s: float) -> float:
        if self.is_hold:
            start, ramp = self.hold_fault_window(fault)
            return hold_weight(t_s, start, ramp)
        if fault.kind == "stance_width":
            total = sum(
                hold_weight(
                    t_s, r.start_s - STANCE_RAMP_S, STANCE_RAMP_S, r.rest_end_s - STANCE_RAMP_S
                )
                for r in self.reps
                if fault.affects(r.index)
            )
            return min(total, 1.0)
        rep = self.rep_at(t_s)
        if rep is None or not fault.affects(rep.index):
            return 0.0
        return self.rep_fault_weight(fault, rep, t_s)

    def active_faults(self, t_s: float) -> list[tuple[Fault, float]]:
        out = []
        for f in self.faults:
            w = self.fault_weight(f, t_s)
            if w > 0.0:
                out.append((f, w))
        return out

    def fault_events(self) -> list[tuple[Fault, int | None, float, float, float, float]]:
        """(fault, rep, onset, full start, full end, end) for every occurrence."""
        windows: list[tuple[int | None, float, float]] = []
        if self.is_hold:
            windows = [(None, 0.0, self.duration_s)]
        else:
            windows = [(r.index, r.start_s - STANCE_RAMP_S, r.rest_end_s) for r in self.reps]
        out = []
        for f in self.faults:
            for rep_index, t0, t1 in windows:
                if rep_index is not None and not f.affects(rep_index):
                    continue
                n = math.ceil((t1 - t0) / EVENT_STEP_S)
                ts = [t0 + i * EVENT_STEP_S for i in range(n)]
                ws = [
                    self.fault_weight(f, t)
                    if (rep_index is None or self._rep_owns(rep_index, t, f))
                    else 0.0
                    for t in ts
                ]
                on = [t for t, w in zip(ts, ws, strict=True) if w > WEIGHT_ON]
                full = [t for t, w in zip(ts, ws, strict=True) if w > WEIGHT_FULL]
                if not on:
                    continue
                full_start = full[0] if full else on[len(on) // 2]
                full_end = full[-1] + EVENT_STEP_S if full else full_start
                out.append((f, rep_index, on[0], full_start, full_end, on[-1] + EVENT_STEP_S))
        return out

    def _rep_owns(self, rep_index: int, t_s: float, fault: Fault) -> bool:
        if fault.kind == "stance_width":
            rep = self.reps[rep_index]
            return rep.start_s - STANCE_RAMP_S <= t_s < rep.rest_end_s - STANCE_RAMP_S
        rep_now = self.rep_at(t_s)
        return rep_now is not None and rep_now.index == rep_index


def make_event(
    fault: Fault, rep: int | None, times: tuple[float, float, float, float], measured: float
) -> FaultEvent:
    measure = FAULT_MEASURES[fault.kind] or ""
    return FaultEvent(
        kind=fault.kind,
        size=fault.size,
        unit=FAULT_UNITS[fault.kind],
        rep=rep,
        onset_s=round(times[0], 4),
        full_start_s=round(times[1], 4),
        full_end_s=round(times[2], 4),
        end_s=round(times[3], 4),
        measured_size=measured,
        measure=measure,
    )
