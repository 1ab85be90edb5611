"""Offline analysis of a video file: the live pipeline replayed over a file's frames.

video -> PoseEstimator -> MeasurePipeline -> (analyzer) -> measures.csv + report.json
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from formcheck.analyzers import Event, Prescription, SetSummary, get_spec
from formcheck.analyzers.personal_reference import PersonalReference
from formcheck.config import PipelineConfig
from formcheck.errors import NoPersonError
from formcheck.pose.estimator import PoseEstimator
from formcheck.pose.model import ModelInfo, ensure_model
from formcheck.report.build import build_report, file_video_block, model_block
from formcheck.report.files import MeasuresCsvWriter, write_report
from formcheck.report.filming import FilmingTally
from formcheck.report.model import Report, ReportSource
from formcheck.session import ExerciseSession
from formcheck.types import ImageRGB, PoseFrame, Sample, VideoFrame, VideoInfo
from formcheck.video import open_source
from formcheck.video.luma import mean_luma
from formcheck.video.prefetch import Prefetcher
from formcheck.video.shots import mark_cuts

# (frames done, frames expected or 0 when unknown)
ProgressFn = Callable[[int, int], None]
SampleSink = Callable[[Sample], None]

MEASURES_CSV = "measures.csv"
INFERENCE_AHEAD_FRAMES = 4  # poses computed ahead of the analysis
REPORT_JSON = "report.json"


def _rgb(frame: VideoFrame) -> ImageRGB:
    return frame.rgb


@dataclass
class _Tally:
    """Frames counted while a video streams through."""

    frames: int = 0
    frames_with_pose: int = 0
    first_t_ms: float = 0.0
    last_t_ms: float = 0.0


@dataclass(frozen=True)
class AnalysisRun:
    """What one pass over a video produced (besides the files)."""

    info: VideoInfo
    frame_size_px: tuple[int, int]
    model: ModelInfo
    frames: int
    frames_with_pose: int
    report: Report
    events: list[Event] = field(default_factory=list)
    summary: SetSummary | None = None  # the analyzer's set summary (with an exercise)


def analyze_video(
    video: Path,
    out_dir: Path,
    *,
    exercise: str | None = None,
    prescription: Prescription | None = None,
    height_cm: float | None = None,
    model: Path | None = None,
    config: PipelineConfig | None = None,
    progress: ProgressFn | None = None,
    sinks: tuple[SampleSink, ...] = (),
    max_frames: int | None = None,
    keep_masks: bool = True,
    report_source: ReportSource = ReportSource.FILE,
    video_name: str | None = None,
    reference: PersonalReference | None = None,
    model_info: ModelInfo | None = None,
) -> AnalysisRun:
    """Analyze one video and write ``measures.csv`` and ``report.json`` into ``out_dir``.

    ``sinks`` receive every Sample in order (without its mask unless ``keep_masks``).
    ``report_source`` and ``video_name`` go into the report (``video_name``, e.g. an upload's
    original name, replaces the file's path there). ``model_info``: a bundle already found
    (a worker process resolves it once), else ``ensure_model(model)``.
    Raises VideoOpenError for unreadable input, ModelUnavailableError when no model can be
    had, UnknownExerciseError for an exercise no analyzer has, and NoPersonError when
    nobody was found in any frame (no files are left behind).
    """
    config = config or PipelineConfig()
    model_info = model_info if model_info is not None else ensure_model(model)
    out_dir.mkdir(parents=True, exist_ok=True)
    csv_path = out_dir / MEASURES_CSV
    events: list[Event] = []
    with (
        open_source(video, max_side_px=config.max_inference_side_px) as source,
        PoseEstimator(
            model_info.path, segmentation=config.segmentation, max_people=config.max_people
        ) as estimator,
        MeasuresCsvWriter(csv_path) as csv_writer,
    ):
        session = ExerciseSession(
            estimator,
            exercise=exercise,
            prescription=prescription,
            height_cm=height_cm,
            config=config,
            reference=reference,
        )
        info, frame_size_px = source.info, source.frame_size_px
        tally = _Tally()
        filming = FilmingTally(
            quality=config.quality,
            setup=get_spec(exercise).setup if exercise is not None else None,
        )

        def emit(samples: list[Sample]) -> None:
            for sample in samples:
                csv_writer.write(sample)
                if not keep_masks and sample.pose.mask is not None:
                    sample = dataclasses.replace(
                        sample, pose=dataclasses.replace(sample.pose, mask=None)
                    )
                for sink in sinks:
                    sink(sample)

        # Inference runs in a thread of its own, a few frames ahead, so the measures and
        # analysis of one frame overlap the model's work on the next (the decoder has a
        # thread too): all of it in the same order as a live session.
        def frames() -> Iterator[VideoFrame]:
            for index, frame in enumerate(source):
                if max_frames is not None and index >= max_frames:
                    return
                yield frame

        def poses() -> Iterator[tuple[PoseFrame, float]]:
            for frame, cut in mark_cuts(frames(), _rgb, config.shots):
                pose = estimator.process(frame)
                pose = dataclasses.replace(pose, shot_cut=True) if cut else pose
                yield pose, mean_luma(frame.rgb)

        pose_stream = Prefetcher(poses, INFERENCE_AHEAD_FRAMES, name="formcheck-pose")
        try:
            for pose, luma in pose_stream:
                filming.add(pose, luma)
                step = session.push_pose(pose)
                if tally.frames == 0:
                    tally.first_t_ms = pose.t_ms
                tally.frames += 1
                tally.last_t_ms = pose.t_ms
                tally.frames_with_pose += int(pose.has_pose)
                emit(step.samples)
                events.extend(step.events)
                if progress is not None:
                    progress(tally.frames, source.info.frame_count)
        finally:
            pose_stream.stop()
        samples, final_events, summary = session.finish()
        emit(samples)
        events.extend(final_events)

    if tally.frames_with_pose == 0:
        with contextlib.suppress(OSError):
            csv_path.unlink()
        raise NoPersonError(
            f"No person was found in any of the {tally.frames} frames of {video}; film the "
            "whole body from the side, in good light, with the person at least a third of the "
            "frame's height."
        )
    report = build_report(
        source=report_source,
        video=file_video_block(
            video_name if video_name is not None else str(video),
            info,
            frames=tally.frames,
            frames_with_pose=tally.frames_with_pose,
            first_t_ms=tally.first_t_ms,
            last_t_ms=tally.last_t_ms,
            inference_size_px=frame_size_px,
        ),
        model=model_block(model_info),
        calibration=session.pipeline.calibration,
        summary=summary,
        filming=filming.block(),
    )
    write_report(report, out_dir / REPORT_JSON)
    return AnalysisRun(
        info=info,
        frame_size_px=frame_size_px,
        model=model_info,
        frames=tally.frames,
        frames_with_pose=tally.frames_with_pose,
        report=report,
        events=events,
        summary=summary,
    )
