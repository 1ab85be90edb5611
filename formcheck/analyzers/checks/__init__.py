"""Checks shared by the exercises, each written once; an exercise composes them from its spec.

- :mod:`.condition`: a check's result (``Condition``) and the two ways a value breaks a
  limit (``exceeds``, ``falls_short``), with "not judged" when it cannot be evaluated;
- :mod:`.gate`: the noise gate, a limit no lower than ``noise_k`` times the measured jitter
  of the value (a median over frames: jitter / sqrt(frames));
- :mod:`.back`: the back-shape and head checks against the person's reference posture;
- :mod:`.timing`: the lead or lag between two joints' movements (ms) and how the chest
  moves while the legs straighten;
- :mod:`.tempo`: phase and whole-movement durations against a prescription or the person's
  own first reps;
- :mod:`.hold`: a held position's line against the person's own settled line.
"""
