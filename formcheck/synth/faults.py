"""Form faults as parameters with a true size, and the events that record when they happened."""

from __future__ import annotations

from dataclasses import dataclass

# Fault kind -> unit of its size.
FAULT_UNITS: dict[str, str] = {
    "lumbar_flexion": "deg",  # rounded lower back at the bottom of a rep (added lumbar flexion)
    "lumbar_extension": "deg",  # arched lower back (added lumbar extension)
    "knee_first": "ms",  # knee flexion starts this long before the trunk starts to tip (descent)
    "hips_rise_first": "ms",  # knees extend and hips rise this long before the trunk rises (ascent)
    "knee_dominant": "deg",  # extra knee flexion at the bottom of a hinge ("squatty" hinge)
    "plank_sag": "mm",  # forearm plank: hips sink below the shoulder-ankle line (negative = pike)
    "side_plank_hip_drop": "mm",  # side plank: hips sink towards the floor
    "pelvis_rotation": "deg",  # bird-dog: pelvis turns/hikes about the trunk's long axis
    "forward_head": "mm",  # ear moves forward of the shoulder
    "stance_width": "mm",  # feet further apart (negative = closer) than in the first rep
    "tempo": "s",  # reps faster than prescribed: size = seconds the rep is shorter in all
    "trunk_lean": "deg",  # lunge: extra forward lean of the trunk at the bottom
    "knee_travel": "mm",  # lunge: the front knee goes this much further past the toes
}


@dataclass(frozen=True, slots=True)
class Fault:
    """A fault to inject. ``reps`` lists the affected reps (0-based; None = every rep); for
    holds, ``start_s`` is when it starts ramping in (None = the exercise's default)."""

    kind: str
    size: float
    reps: tuple[int, ...] | None = None
    start_s: float | None = None

    def __post_init__(self) -> None:
        if self.kind not in FAULT_UNITS:
            raise ValueError(f"unknown fault {self.kind!r}; known: {', '.join(FAULT_UNITS)}")

    @property
    def unit(self) -> str:
        return FAULT_UNITS[self.kind]

    def affects(self, rep_index: int) -> bool:
        return self.reps is None or rep_index in self.reps


@dataclass(frozen=True, slots=True)
class FaultEvent:
    """One occurrence of a fault in the clip (seconds from clip start).

    onset_s: it starts to show; full_start_s..full_end_s: at full size; end_s: gone.
    measured_size: the change of the matching true measure at full size, where one exists
    (e.g. back_bulge_mm for lumbar faults, hip_line_offset_mm for sag), else NaN.
    """

    kind: str
    size: float
    unit: str
    rep: int | None
    onset_s: float
    full_start_s: float
    full_end_s: float
    end_s: float
    measured_size: float
    measure: str
