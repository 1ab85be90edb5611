"""Exercise analyzers: the engine, the registry and one module per exercise.

    analyzer = get_analyzer("hip_hinge", prescription=None, baseline=None)
    for sample in samples:                  # formcheck.types.Sample, in time order
        for event in analyzer.update(sample):
            ...                             # PhaseChanged, RepCompleted, PartialRep, Cue,
                                            # SetupHint, HoldProgress
    report["..."] = analyzer.finish().to_report_dict()

``baseline``: ``Baseline.from_calibration(calibration)`` (None lets the analyzer measure its
own from the first still second). ``prescription``: ``load_prescription(path)`` or
``formcheck.settings.AnalysisSettings(...).resolve()``. Specs live in ``specs/<name>.toml``.
"""

from formcheck.analyzers.baseline import Baseline, BaselineSource
from formcheck.analyzers.engine import Analyzer, AnalyzerInfo
from formcheck.analyzers.events import (
    Cue,
    Event,
    Finding,
    HoldProgress,
    NotARep,
    NotARepSign,
    PartialRep,
    Phase,
    PhaseChanged,
    RepCompleted,
    RepRecord,
    SetupHint,
    SetupHintCode,
    Severity,
)
from formcheck.analyzers.registry import exercise_names, get_analyzer, get_spec, list_analyzers
from formcheck.analyzers.spec import (
    ExerciseSpec,
    Prescription,
    Tempo,
    load_prescription,
    load_spec,
)
from formcheck.analyzers.summary import SetSummary

__all__ = [
    "Analyzer",
    "AnalyzerInfo",
    "Baseline",
    "BaselineSource",
    "Cue",
    "Event",
    "ExerciseSpec",
    "Finding",
    "HoldProgress",
    "NotARep",
    "NotARepSign",
    "PartialRep",
    "Phase",
    "PhaseChanged",
    "Prescription",
    "RepCompleted",
    "RepRecord",
    "SetSummary",
    "SetupHint",
    "SetupHintCode",
    "Severity",
    "Tempo",
    "exercise_names",
    "get_analyzer",
    "get_spec",
    "list_analyzers",
    "load_prescription",
    "load_spec",
]
