"""Exercise specs (TOML, units in every key) and prescriptions that tune them.

A spec says which signal drives the phases, the phase thresholds, calibration, cue policy,
tempo, scoring and the exercise's own check thresholds (``[checks]``, validated by the
analyzer's model). A prescription (TOML or JSON) tunes a spec for one person: reps or hold
time, tempo such as ``"3-1-2"`` (down-pause-up seconds), a target depth, threshold overrides by
dotted key and movement directions to avoid.
"""

from __future__ import annotations

import json
import math
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from formcheck.analyzers.errors import PrescriptionError, SpecError
from formcheck.kinematics.providers import MeasureSpec

SPEC_DIR = Path(__file__).parent / "specs"
DEFAULTS_PATH = SPEC_DIR / "_defaults.toml"  # engine settings every spec starts from
CheckValue = float | int | bool | str | list[str] | list[float]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PhaseSpec(_Strict):
    """Phase state machine on the primary signal, relative to the person's start position."""

    primary_signal: str
    direction: Literal["increase", "decrease"]
    start_default_deg: float
    start_max_deg: float
    leave_start_deg: float
    return_start_deg: float
    rep_min_depth_deg: float
    attempt_min_depth_deg: float
    reverse_deg: float
    plateau_band_deg: float
    bottom_speed_max_deg_s: float
    speed_window_s: float
    settle_wait_s: float
    max_gap_s: float
    smoothing_window_s: float
    onset_fit_fractions: tuple[float, float]
    onset_exponent_min: float
    onset_exponent_max: float
    preroll_max_s: float
    # Phase ends from minimum-jerk fits of each transition (empty joint list: primary only).
    transition_min_s: float
    transition_max_s: float
    transition_core_fractions: tuple[float, float]
    joint_signals: list[str]
    bounding_signals: list[str]
    joint_range_min_deg: float
    joint_fit_rms_max_fraction: float
    count_returning_rep_at_end: bool
    glitch_max_s: float
    glitch_max_frame_count: int
    rep_lost_max_fraction: float = Field(ge=0.0, le=1.0)
    bottom_rise_fraction: float

    @field_validator("primary_signal")
    @classmethod
    def _angle_signal(cls, value: str) -> str:
        if not value.endswith("_deg"):
            raise ValueError("the primary signal must be an angle measure ending in _deg")
        return value

    @model_validator(mode="after")
    def _hysteresis(self) -> PhaseSpec:
        if self.return_start_deg >= self.leave_start_deg:
            raise ValueError("return_start_deg must be below leave_start_deg (hysteresis)")
        if not self.leave_start_deg <= self.attempt_min_depth_deg <= self.rep_min_depth_deg:
            raise ValueError("need leave_start_deg <= attempt_min_depth_deg <= rep_min_depth_deg")
        return self


class CalibrationSpec(_Strict):
    still_window_s: float
    still_max_std_deg: float
    min_valid_fraction: float
    rest_window_s: float
    rest_margin_s: float
    reference_reps: int
    default_noise_floor: dict[str, float]


class CueSpec(_Strict):
    noise_k: float
    persistence_s: float
    cooldown_s: float
    spoken_per_rep_max: int
    priority: list[str]
    avoid_threshold_factor: float


class TempoSpec(_Strict):
    down_min_s: float  # 0 disables the check when no prescription sets a tempo
    up_min_s: float
    tolerance_fraction: float


class ScoringSpec(_Strict):
    penalty_points: dict[str, float]
    default_penalty_points: float
    excess_factor_max: float
    fray_drop_points: float
    fray_min_reps: int


ViewName = Literal["side", "front", "oblique"]
SeverityName = Literal["safety", "warning", "info"]


class SetupSpec(_Strict):
    accepted_views: list[ViewName]
    view_hint: Literal["turn_sideways", "face_camera"]
    view_hint_message: str
    # side-view checks need the camera this square (None: any side or oblique view)
    max_yaw_from_side_deg: float | None = None
    # where the camera goes, for the filming diagram: level with the hips of a standing
    # person, or low for exercises on the floor (lying, kneeling, on hands and knees)
    camera_level: Literal["hip", "floor"] = "hip"
    hint_persistence_s: float
    hint_repeat_s: float


class HoldSpec(_Strict):
    enter_deg: float
    exit_deg: float
    target_s: float
    break_max_s: float
    progress_interval_s: float
    settle_s: float
    reference_window_s: float
    live_window_s: float
    reference_measures: list[str]


class EndOfSetSpec(_Strict):
    """The movement after a set's last rep that is not a rep (putting the weight down,
    stepping away): only the last cycle, only with a clear end-of-set sign after it."""

    enabled: bool
    min_other_reps: int  # the set's own reps the last cycle is compared with
    pause_min_s: float  # a put-down stays down at least this long (letting go) ...
    pause_excess_min_s: float  # ... and this much longer than any other rep of the set
    feet_window_s: float  # feet positions: medians over this long (a landmark jump is no step)
    feet_moved_min_mm: float  # the feet left their stance by more than this after it ...
    gone_min_s: float  # ... or the person left the view for at least this long, to the end
    history_s: float  # how long feet positions are kept


class ExerciseSpec(_Strict):
    name: str
    description: str
    camera_placement: str
    # The analyzer class, "module:Class" inside formcheck.analyzers (the generic engine when
    # the exercise needs no checks of its own).
    analyzer: str = "engine:Analyzer"
    mode: Literal["reps", "hold"] = "reps"
    faults: list[str]  # the fault codes this exercise judges (each rep says which were judged)
    # the exercise's own measures, asked of kinematics in this order (kinematics.providers)
    measures: list[MeasureSpec] = Field(default_factory=list)
    phase: PhaseSpec
    calibration: CalibrationSpec
    cues: CueSpec
    tempo: TempoSpec
    scoring: ScoringSpec
    severity: dict[str, SeverityName]  # fault code -> how much it matters (warning if absent)
    setup: SetupSpec
    hold: HoldSpec
    end_of_set: EndOfSetSpec
    avoid_codes: dict[str, list[str]] = Field(default_factory=dict)
    checks: dict[str, CheckValue] = Field(default_factory=dict)
    # the physical range of a check's value, by unit: outside it the value is no measurement
    plausible: dict[str, tuple[float, float]]

    @model_validator(mode="after")
    def _known_codes(self) -> ExerciseSpec:
        """Every code the spec orders, scores, grades or avoids is one it judges."""
        faults = set(self.faults)
        named = {
            "cues.priority": set(self.cues.priority),
            "scoring.penalty_points": set(self.scoring.penalty_points),
            "severity": set(self.severity),
            "avoid_codes": {c for codes in self.avoid_codes.values() for c in codes},
        }
        for where, codes in named.items():
            unknown = codes - faults
            if unknown:
                raise ValueError(f"{where} names codes not in faults: {sorted(unknown)}")
        return self


class Tempo(_Strict):
    """Target phase durations in seconds, from a string such as ``"3-1-2"`` (down-pause-up)."""

    down_s: float
    pause_s: float
    up_s: float
    top_s: float = 0.0

    @classmethod
    def parse(cls, text: str) -> Tempo:
        parts = text.replace(" ", "").split("-")
        try:
            numbers = [float(p) for p in parts]
        except ValueError:
            numbers = []
        if len(numbers) not in (3, 4) or any(not math.isfinite(n) or n < 0 for n in numbers):
            raise PrescriptionError(
                f"Tempo {text!r} is not valid: write down-pause-up seconds such as 3-1-2."
            )
        top = numbers[3] if len(numbers) == 4 else 0.0
        return cls(down_s=numbers[0], pause_s=numbers[1], up_s=numbers[2], top_s=top)


class Prescription(_Strict):
    exercise: str
    reps: int | None = None
    hold_s: float | None = None
    tempo: Tempo | None = None
    depth_deg: float | None = None
    avoid: list[str] = Field(default_factory=list)
    overrides: dict[str, CheckValue] = Field(default_factory=dict)

    @field_validator("tempo", mode="before")
    @classmethod
    def _parse_tempo(cls, value: object) -> object:
        return Tempo.parse(value) if isinstance(value, str) else value


def load_spec(path: Path) -> ExerciseSpec:
    """Read and validate one exercise spec TOML file (over the engine defaults)."""
    data = merged(_read_toml(DEFAULTS_PATH), _read_toml(path))
    return spec_from_mapping(data, str(path))


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise SpecError(f"Exercise spec {path} cannot be read: {exc}.") from exc


def merged(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """``over`` on top of ``base``: tables merged key by key, anything else replaced."""
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merged(out[key], value)
        else:
            out[key] = value
    return out


def spec_from_mapping(data: dict[str, Any], origin: str) -> ExerciseSpec:
    try:
        return ExerciseSpec.model_validate(data)
    except ValidationError as exc:
        raise SpecError(f"Exercise spec {origin} is not valid: {_first_error(exc)}.") from exc


def builtin_spec(name: str) -> ExerciseSpec:
    return load_spec(SPEC_DIR / f"{name}.toml")


def builtin_spec_names() -> list[str]:
    """Every exercise with a built-in spec (one ``specs/<name>.toml`` each; files starting
    with ``_`` are shared settings, not exercises)."""
    return sorted(p.stem for p in SPEC_DIR.glob("*.toml") if not p.stem.startswith("_"))


def load_prescription(path: Path) -> Prescription:
    """Read a prescription from a ``.toml`` or ``.json`` file."""
    try:
        text = path.read_text(encoding="utf-8")
        data = json.loads(text) if path.suffix.lower() == ".json" else tomllib.loads(text)
    except (OSError, ValueError) as exc:
        raise PrescriptionError(f"Prescription {path} cannot be read: {exc}.") from exc
    return prescription_from_mapping(data, str(path))


def prescription_from_mapping(data: dict[str, Any], origin: str) -> Prescription:
    try:
        return Prescription.model_validate(data)
    except ValidationError as exc:
        raise PrescriptionError(
            f"Prescription {origin} is not valid: {_first_error(exc)}."
        ) from exc


def apply_prescription(spec: ExerciseSpec, prescription: Prescription) -> ExerciseSpec:
    """A copy of ``spec`` with the prescription's overrides and avoided directions applied."""
    if prescription.exercise != spec.name:
        raise PrescriptionError(
            f"The prescription is for {prescription.exercise!r}, not {spec.name!r}."
        )
    data = spec.model_dump(mode="python")
    for key, value in prescription.overrides.items():
        _set_dotted(data, key, value, spec.name)
    for direction in prescription.avoid:
        codes = spec.avoid_codes.get(direction)
        if codes is None:
            valid = ", ".join(sorted(spec.avoid_codes)) or "none"
            raise PrescriptionError(
                f"Direction {direction!r} is not known for {spec.name}; valid: {valid}."
            )
        data["cues"]["priority"] = codes + [c for c in data["cues"]["priority"] if c not in codes]
    return spec_from_mapping(data, f"{spec.name} with prescription")


def _set_dotted(data: dict[str, Any], key: str, value: CheckValue, name: str) -> None:
    parts = key.split(".")
    node: Any = data
    for part in parts[:-1]:
        if not isinstance(node, dict) or part not in node:
            raise PrescriptionError(f"Override {key!r} names no setting of {name}.")
        node = node[part]
    if not isinstance(node, dict) or parts[-1] not in node:
        raise PrescriptionError(f"Override {key!r} names no setting of {name}.")
    node[parts[-1]] = value


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"]) or "file"
    return f"{where}: {err['msg']}"
