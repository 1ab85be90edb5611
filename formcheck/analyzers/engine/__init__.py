"""The analyzer engine, in small parts with one verb each (see :mod:`.analyzer`)."""

from formcheck.analyzers.engine.analyzer import (
    Analyzer,
    AnalyzerInfo,
    FrameContext,
    NoChecks,
    rep_label,
)

__all__ = ["Analyzer", "AnalyzerInfo", "FrameContext", "NoChecks", "rep_label"]
