"""The analyzer engine, in small parts with one verb each (see :mod:`.analyzer`)."""

from formcheck.analyzers.engine.analyzer import Analyzer
from formcheck.analyzers.engine.context import AnalyzerInfo, FrameContext, NoChecks, rep_label

__all__ = ["Analyzer", "AnalyzerInfo", "FrameContext", "NoChecks", "rep_label"]
