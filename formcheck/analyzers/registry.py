"""Analyzers by exercise name.

Every ``specs/<name>.toml`` is one exercise; its ``analyzer`` key names the class that
analyses it ("module:Class" inside ``formcheck.analyzers``). Adding an exercise means adding
its spec and its module, nothing else.
"""

from __future__ import annotations

import importlib
from typing import Any

from formcheck.analyzers.baseline import Baseline
from formcheck.analyzers.engine import Analyzer, AnalyzerInfo
from formcheck.analyzers.errors import SpecError
from formcheck.analyzers.personal_reference import PersonalReference
from formcheck.analyzers.spec import ExerciseSpec, Prescription, builtin_spec, builtin_spec_names
from formcheck.errors import UnknownExerciseError

_PACKAGE = "formcheck.analyzers"


def exercise_names() -> list[str]:
    return builtin_spec_names()


def get_spec(name: str) -> ExerciseSpec:
    names = exercise_names()
    if name not in names:
        raise UnknownExerciseError(
            f"Unknown exercise {name!r}; choose one of: {', '.join(names)}."
        )
    return builtin_spec(name)


def analyzer_class(spec: ExerciseSpec) -> type[Analyzer[Any]]:
    """The class a spec names in its ``analyzer`` key."""
    module_name, _, class_name = spec.analyzer.partition(":")
    try:
        module = importlib.import_module(f"{_PACKAGE}.{module_name}")
        cls = getattr(module, class_name)
    except (ImportError, AttributeError) as exc:
        raise SpecError(
            f"Exercise spec {spec.name} names analyzer {spec.analyzer!r}, which does not exist."
        ) from exc
    if not (isinstance(cls, type) and issubclass(cls, Analyzer)):
        raise SpecError(f"Exercise spec {spec.name}: {spec.analyzer!r} is not an Analyzer.")
    return cls


def get_analyzer(
    name: str,
    prescription: Prescription | None = None,
    baseline: Baseline | None = None,
    spec: ExerciseSpec | None = None,
    reference: PersonalReference | None = None,
) -> Analyzer[Any]:
    """A fresh analyzer for one set. ``spec`` replaces the built-in spec when given;
    ``reference`` is the person's recorded reference rep(s) for this exercise."""
    spec = spec or get_spec(name)
    return analyzer_class(spec)(spec, baseline, prescription, reference)


def list_analyzers() -> list[AnalyzerInfo]:
    infos = []
    for name in exercise_names():
        spec = get_spec(name)
        infos.append(AnalyzerInfo(spec.name, spec.description, spec.camera_placement))
    return infos
