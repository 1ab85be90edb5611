"""One settings model for an analysis run, fed alike by TOML, CLI flags and the server.

``AnalysisSettings`` holds what a user may set for one set of one exercise; ``setting_fields``
lists its fields (name, type, default, help) so the CLI can generate its flags from it, and
``resolve`` turns it into the prescription the analyzer takes (values given directly win
over the prescription file's).
"""

from __future__ import annotations

import argparse
import tomllib
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from formcheck.analyzers.errors import PrescriptionError
from formcheck.analyzers.spec import Prescription, load_prescription, prescription_from_mapping

# settings that are shortcuts for spec overrides: field name -> dotted spec key
_SPEC_OVERRIDES = {
    "noise_k": "cues.noise_k",
    "cue_persistence_s": "cues.persistence_s",
    "cue_cooldown_s": "cues.cooldown_s",
    "spoken_cues_per_rep": "cues.spoken_per_rep_max",
}


class AnalysisSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    exercise: str = Field(default="hip_hinge", description="Exercise to analyse (see `exercises`).")
    prescription: Path | None = Field(default=None, description="Prescription file (TOML or JSON).")
    reps: int | None = Field(default=None, ge=1, description="Prescribed number of reps.")
    hold_s: float | None = Field(default=None, gt=0, description="Prescribed hold time in seconds.")
    tempo: str | None = Field(
        default=None, description="Tempo down-pause-up in seconds, e.g. 3-1-2."
    )
    depth_deg: float | None = Field(
        default=None, description="Target depth (trunk angle) in degrees."
    )
    avoid: list[str] = Field(default_factory=list, description="Movement directions to avoid.")
    noise_k: float | None = Field(default=None, gt=0, description="Cue only above k x noise floor.")
    cue_persistence_s: float | None = Field(
        default=None, ge=0, description="Fault must last this long."
    )
    cue_cooldown_s: float | None = Field(default=None, ge=0, description="Quiet time per cue code.")
    spoken_cues_per_rep: int | None = Field(default=None, ge=0, description="Spoken cues per rep.")

    @classmethod
    def from_toml(cls, path: Path) -> AnalysisSettings:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise PrescriptionError(f"Settings file {path} cannot be read: {exc}.") from exc
        return cls.from_mapping(data, str(path))

    @classmethod
    def from_mapping(cls, data: dict[str, Any], origin: str = "settings") -> AnalysisSettings:
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err["loc"])
            raise PrescriptionError(f"{origin} is not valid: {where}: {err['msg']}.") from exc

    def resolve(self) -> Prescription:
        """The prescription for the analyzer: the file's, overridden by values set here."""
        base: dict[str, Any] = {"exercise": self.exercise}
        if self.prescription is not None:
            base = load_prescription(self.prescription).model_dump(exclude_none=True)
            if self.exercise != base["exercise"] and "exercise" in self.model_fields_set:
                raise PrescriptionError(
                    f"The prescription is for {base['exercise']!r}, not {self.exercise!r}."
                )
        for name in ("reps", "hold_s", "tempo", "depth_deg"):
            value = getattr(self, name)
            if value is not None:
                base[name] = value
        if self.avoid:
            base["avoid"] = sorted(set(base.get("avoid", [])) | set(self.avoid))
        overrides = dict(base.get("overrides", {}))
        for name, key in _SPEC_OVERRIDES.items():
            value = getattr(self, name)
            if value is not None:
                overrides[key] = value
        base["overrides"] = overrides
        return prescription_from_mapping(base, "the settings")


@dataclass(frozen=True, slots=True)
class SettingField:
    """One setting, described for generating a CLI flag or a form field."""

    name: str
    flag: str
    type_name: str
    default: object
    help: str
    repeatable: bool


def setting_fields() -> list[SettingField]:
    out = []
    for name, info in AnalysisSettings.model_fields.items():
        annotation = info.annotation
        plain = getattr(annotation, "__name__", None) if isinstance(annotation, type) else None
        type_name = plain or str(annotation).replace("typing.", "").replace("pathlib.", "")
        default = info.get_default(call_default_factory=True)
        out.append(
            SettingField(
                name=name,
                flag="--" + name.replace("_", "-"),
                type_name=type_name,
                default=default,
                help=info.description or "",
                repeatable=name == "avoid",
            )
        )
    return out


def add_setting_flags(parser: argparse.ArgumentParser) -> None:
    """Add one ``--flag`` per setting (all optional: unset flags stay None)."""
    for name, info in AnalysisSettings.model_fields.items():
        flag = "--" + name.replace("_", "-")
        kind = _scalar_type(info.annotation)
        if name == "avoid":
            parser.add_argument(flag, action="append", default=None, help=info.description)
        else:
            parser.add_argument(flag, type=kind, default=None, help=info.description)


def settings_from_args(args: argparse.Namespace) -> AnalysisSettings:
    """Settings from parsed flags; flags left unset keep the model's defaults."""
    given = {
        name: getattr(args, name)
        for name in AnalysisSettings.model_fields
        if getattr(args, name, None) is not None
    }
    return AnalysisSettings.from_mapping(given, "the command line")


def _scalar_type(annotation: object) -> type:
    """The plain type inside ``X | None`` (str for anything unusual)."""
    if isinstance(annotation, type):
        return annotation
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        for arg in typing.get_args(annotation):
            if isinstance(arg, type) and arg is not type(None):
                return arg
    return str
