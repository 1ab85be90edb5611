"""One exercise set, frame by frame: pose -> measures -> analyzer events.

The single code path for a file, a camera and browser frames: each source pushes
``VideoFrame`` objects and gets back the Samples and Events that became ready. The
analyzer is created once calibration has locked, so it starts from the person's own
baseline and noise floor.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from formcheck.analyzers import Analyzer, Baseline, Event, Prescription, SetSummary, get_analyzer
from formcheck.analyzers.personal_reference import PersonalReference
from formcheck.config import PipelineConfig
from formcheck.pipeline import MeasurePipeline
from formcheck.pose.estimator import PoseEstimator
from formcheck.types import PoseFrame, Sample, VideoFrame


@dataclass
class Step:
    """What one pushed frame released (possibly several held frames, possibly none)."""

    pose: PoseFrame
    samples: list[Sample] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)


class ExerciseSession:
    def __init__(
        self,
        estimator: PoseEstimator | None,
        *,
        exercise: str | None = None,
        prescription: Prescription | None = None,
        height_cm: float | None = None,
        config: PipelineConfig | None = None,
        reference: PersonalReference | None = None,
    ) -> None:
        self.config = config or PipelineConfig()
        self.exercise = exercise
        self._estimator = estimator
        self._prescription = prescription
        self._reference = reference
        self.pipeline = MeasurePipeline(self.config, stated_height_cm=height_cm)
        self.analyzer: Analyzer[Any] | None = None
        self._early: list[Sample] = []  # released before calibration (nobody in view yet)
        if exercise is not None:
            get_analyzer(exercise, prescription)  # fail fast on an unknown exercise name

    @property
    def calibrating(self) -> bool:
        return self.pipeline.calibrating

    def push(self, frame: VideoFrame) -> Step:
        if self._estimator is None:
            raise ValueError("this session has no estimator: push poses (push_pose)")
        return self.push_pose(self._estimator.process(frame))

    def push_pose(self, pose: PoseFrame) -> Step:
        """For callers that ran the pose model themselves (a thread of their own, a browser)."""
        step = Step(pose=pose, samples=self.pipeline.push(pose))
        step.events = self._analyze(step.samples)
        return step

    def finish(self) -> tuple[list[Sample], list[Event], SetSummary | None]:
        samples = self.pipeline.finish()
        events = self._analyze(samples, final=True)
        summary = self.analyzer.finish() if self.analyzer is not None else None
        return samples, events, summary

    def _analyze(self, samples: list[Sample], *, final: bool = False) -> list[Event]:
        if self.exercise is None:
            return []
        if self.analyzer is None:
            calibration = self.pipeline.calibration
            if calibration is None and not final:
                self._early.extend(_light(s) for s in samples)
                return []
            baseline = Baseline.from_calibration(calibration) if calibration else None
            self.analyzer = get_analyzer(
                self.exercise, self._prescription, baseline, reference=self._reference
            )
            samples = [*self._early, *samples]
            self._early = []
        events: list[Event] = []
        for sample in samples:
            events.extend(self.analyzer.update(sample))
        return events


def _light(sample: Sample) -> Sample:
    """The sample without its mask, for holding on to."""
    if sample.pose.mask is None:
        return sample
    return dataclasses.replace(sample, pose=dataclasses.replace(sample.pose, mask=None))
