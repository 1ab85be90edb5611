"""Analyzers by exercise name."""

from __future__ import annotations

from dataclasses import dataclass

from formcheck.analyzers.baseline import Baseline
from formcheck.analyzers.engine import Analyzer, AnalyzerInfo
from formcheck.analyzers.hip_hinge import HipHingeAnalyzer
from formcheck.analyzers.spec import ExerciseSpec, Prescription, builtin_spec
from formcheck.errors import UnknownExerciseError


@dataclass(frozen=True, slots=True)
class _Entry:
    analyzer: type[Analyzer]
    spec_name: str


def _entries() -> dict[str, _Entry]:
    return {"hip_hinge": _Entry(HipHingeAnalyzer, "hip_hinge")}


def exercise_names() -> list[str]:
    return sorted(_entries())


def _entry(name: str) -> _Entry:
    entries = _entries()
    if name not in entries:
        raise UnknownExerciseError(
            f"Unknown exercise {name!r}; choose one of: {', '.join(sorted(entries))}."
        )
    return entries[name]


def get_spec(name: str) -> ExerciseSpec:
    return builtin_spec(_entry(name).spec_name)


def get_analyzer(
    name: str,
    prescription: Prescription | None = None,
    baseline: Baseline | None = None,
    spec: ExerciseSpec | None = None,
) -> Analyzer:
    """A fresh analyzer for one set. ``spec`` replaces the built-in spec when given."""
    entry = _entry(name)
    return entry.analyzer(spec or builtin_spec(entry.spec_name), baseline, prescription)


def list_analyzers() -> list[AnalyzerInfo]:
    infos = []
    for name in exercise_names():
        spec = get_spec(name)
        infos.append(AnalyzerInfo(spec.name, spec.description, spec.camera_placement))
    return infos
