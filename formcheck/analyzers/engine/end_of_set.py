"""The end of a set: the movement after the last rep that is not a rep (issue 19).

People end a set with a weight by bending down once more to put it on the floor, staying
down while they let go, standing up without it and stepping away. The phase machine sees
that as one more excursion and would count it. It differs from the set's reps in two ways
the measures show without fitting any one clip:

- the bottom pause: letting go of a handle at the floor keeps the person down longer than
  any rep of the set (``pause_min_s`` and ``pause_excess_min_s`` over the set's longest);
- what follows: the feet leave the stance they held through the set (their image position,
  a median over ``feet_window_s``, moves by more than ``feet_moved_min_mm``), or the person
  leaves the view for the rest of the recording (``gone_min_s``).

Only the last cycle of a set is judged, only when both hold; the summary then keeps it as
:class:`~formcheck.analyzers.events.NotARep` (the report says what was not counted and why).
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np

from formcheck.analyzers.events import NotARep, NotARepSign, RepRecord
from formcheck.analyzers.spec import EndOfSetSpec
from formcheck.kinematics.names import MM_PER_PX
from formcheck.pose.landmarks import Landmark
from formcheck.types import Sample

FOOT_LANDMARKS = (
    Landmark.LEFT_ANKLE,
    Landmark.RIGHT_ANKLE,
    Landmark.LEFT_HEEL,
    Landmark.RIGHT_HEEL,
    Landmark.LEFT_FOOT_INDEX,
    Landmark.RIGHT_FOOT_INDEX,
)
FOOT_VISIBILITY_MIN = 0.5  # MediaPipe's visibility above which a foot landmark is used


def feet_x_mm(sample: Sample) -> float:
    """The feet's horizontal image position (mean of the seen ankle, heel and toe
    landmarks), in mm at the frame's calibration scale; NaN without feet or a scale."""
    pose = sample.pose
    scale = sample.get(MM_PER_PX)
    if pose.landmarks_px is None or pose.visibility is None or not math.isfinite(scale):
        return math.nan
    index = [int(i) for i in FOOT_LANDMARKS]
    seen = pose.visibility[index] >= FOOT_VISIBILITY_MIN
    if not seen.any():
        return math.nan
    return float(np.mean(pose.landmarks_px[index, 0][seen])) * scale


class EndOfSetWatch:
    """Keeps where the feet are and when the person was last seen; at the end of the set
    judges whether the last counted cycle was putting the weight down."""

    def __init__(self, spec: EndOfSetSpec) -> None:
        self.spec = spec
        self._feet: deque[tuple[float, float]] = deque()
        self._last_t_s = math.nan
        self._last_seen_s = math.nan

    def update(self, t_s: float, sample: Sample) -> None:
        if not self.spec.enabled:
            return
        self._last_t_s = t_s
        if sample.quality.usable:
            self._last_seen_s = t_s
        x = feet_x_mm(sample)
        if math.isfinite(x):
            self._feet.append((t_s, x))
        while self._feet and t_s - self._feet[0][0] > self.spec.history_s:
            self._feet.popleft()

    def camera_cut(self) -> None:
        """The video cut to another shot: feet positions before it are not comparable."""
        self._feet.clear()

    def judge(self, reps: list[RepRecord]) -> NotARep | None:
        """The last of ``reps`` as a put-down, when its pause and what followed say so."""
        spec = self.spec
        if not spec.enabled or len(reps) < spec.min_other_reps + 1:
            return None
        last, others = reps[-1], reps[:-1]
        pause_s = last.phases.pause_s
        longest_s = max(r.phases.pause_s for r in others)
        if not (pause_s >= spec.pause_min_s and pause_s >= longest_s + spec.pause_excess_min_s):
            return None
        moved_mm = self.feet_moved_mm(last)
        gone_s = self.gone_s(last)
        if moved_mm >= spec.feet_moved_min_mm:
            sign = NotARepSign.FEET_LEFT_STANCE
        elif gone_s >= spec.gone_min_s:
            sign = NotARepSign.LEFT_VIEW
        else:
            return None
        return NotARep(
            start_s=last.start_s,
            end_s=last.end_s,
            pause_s=pause_s,
            reps_pause_max_s=longest_s,
            sign=sign,
            feet_moved_mm=moved_mm,
            gone_s=gone_s,
        )

    def feet_moved_mm(self, rep: RepRecord) -> float:
        """How far the feet's running median got from their stance during ``rep`` after
        it ended (0 when unknown)."""
        if not self._feet:
            return 0.0
        t = np.array([f[0] for f in self._feet])
        x = np.array([f[1] for f in self._feet])
        during = (t >= rep.start_s) & (t <= rep.end_s)
        if not during.any():
            return 0.0
        stance = float(np.median(x[during]))
        after = np.nonzero(t > rep.end_s)[0]
        moved = 0.0
        for i in after:
            near = (t > t[i] - self.spec.feet_window_s) & (t <= t[i]) & (t > rep.end_s)
            if t[i] - self.spec.feet_window_s < rep.end_s:
                continue  # a whole window after the rep, or a jump could be read as a step
            moved = max(moved, abs(float(np.median(x[near])) - stance))
        return moved

    def gone_s(self, rep: RepRecord) -> float:
        """How long the recording went on after the person was last seen, when that was
        after ``rep`` ended (0 otherwise)."""
        if not (math.isfinite(self._last_seen_s) and self._last_seen_s > rep.end_s):
            return 0.0
        return self._last_t_s - self._last_seen_s
