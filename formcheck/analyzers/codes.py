"""Fault codes shared by several exercises (stable in report.json and in events).

Exercise-specific codes live in their analyzer's module.
"""

SPINE_ROUNDED = "spine_rounded"
SPINE_ARCHED = "spine_arched"
HEAD_FORWARD = "head_forward"
TEMPO_DOWN_FAST = "tempo_down_fast"  # the move away from the start position was rushed
TEMPO_UP_FAST = "tempo_up_fast"  # the return to the start position was rushed
