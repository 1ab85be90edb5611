"""The job every upload runs: the command line's analysis and outputs, on the stored file.

``options``: ``{"settings": <AnalysisSettings fields>, "height_cm": float | None,
"display_name": str, "deidentified": bool}`` (``deidentified``: the annotated video and the
report's key frames show the skeleton and back outline on a plain background, no camera
pixels: a set shared with someone else, formcheck.people). Messages never show the upload's
stored name: it is replaced by the name the user gave the file, also in report.json's
``video.path``; the report's ``source`` is ``job``. ``formcheck batch --queue`` adds
``"as_file": <the path it was given>``: the report is then the one ``formcheck analyze
<path>`` writes (``source`` ``file``, that path).

A long-lived worker process calls ``prepare_process()`` once: the pose model is found and
checked, and MediaPipe loaded, before the first job (each job then creates its estimator
from the loaded library, as ``formcheck analyze`` does).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from formcheck.errors import FormcheckError
from formcheck.offline import analyze_video
from formcheck.pose.model import ModelInfo, ensure_model
from formcheck.report.annotate import AnnotateConfig
from formcheck.report.model import ReportSource
from formcheck.report.outputs import write_outputs
from formcheck.report.recorder import AnnotationRecorder
from formcheck.settings import AnalysisSettings

JobProgressFn = Callable[[float, str], None]  # (fraction 0..1, stage)
ANALYSIS_SHARE = 0.8  # of the progress bar; the rest is the report and annotated video
DEFAULT_DISPLAY_NAME = "the uploaded video"


class JobFailedError(FormcheckError):
    """A job's analysis failed; the message is safe to show."""


_process_model: list[ModelInfo] = []  # the bundle this process resolved (prepare_process)


def prepare_process() -> ModelInfo:
    """Find and check the pose model and load MediaPipe once for this process (a worker)."""
    from formcheck.pose.estimator import PoseEstimator

    if not _process_model:
        model = ensure_model()
        PoseEstimator(model.path).close()  # loads the library and the graph's kernels
        _process_model.append(model)
    return _process_model[0]


def run_analysis_job(
    upload: Path, out_dir: Path, options: dict[str, Any], progress: JobProgressFn
) -> dict[str, Any]:
    display = str(options.get("as_file") or options.get("display_name") or DEFAULT_DISPLAY_NAME)
    try:
        return _run(upload, out_dir, options, progress, display)
    except FormcheckError as error:
        raise JobFailedError(str(error).replace(str(upload), display)) from error


def _run(
    upload: Path,
    out_dir: Path,
    options: dict[str, Any],
    progress: JobProgressFn,
    display: str,
) -> dict[str, Any]:
    settings = AnalysisSettings.from_mapping(options.get("settings") or {}, "the job's settings")
    prescription = settings.resolve()
    height = options.get("height_cm")
    recorder = AnnotationRecorder()

    def analysis_progress(done: int, total: int) -> None:
        progress(ANALYSIS_SHARE * done / total if total else 0.0, "analysing")

    def output_progress(done: int, total: int) -> None:
        share = (done / total if total else 0.0) * (1.0 - ANALYSIS_SHARE)
        progress(ANALYSIS_SHARE + share, "drawing the annotated video")

    run = analyze_video(
        upload,
        out_dir,
        exercise=settings.exercise,
        prescription=prescription,
        height_cm=float(height) if height is not None else None,
        progress=analysis_progress,
        sinks=(recorder,),
        report_source=ReportSource.FILE if options.get("as_file") else ReportSource.JOB,
        video_name=display,
        model_info=_process_model[0] if _process_model else None,
    )
    write_outputs(
        upload,
        out_dir,
        run,
        recorder,
        prescription=prescription,
        video_name=Path(display).name if options.get("as_file") else display,
        progress=output_progress,
        config=AnnotateConfig(deidentified=bool(options.get("deidentified"))),
    )
    summary = run.report.summary
    return {
        "exercise": settings.exercise,
        "frames": run.frames,
        "reps": summary.reps if summary is not None else None,
        "findings": len(run.report.findings),
        "form_frays_at_rep": summary.form_frays_at_rep if summary is not None else None,
    }
