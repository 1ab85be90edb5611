"""After an analysis: report.html and annotated.mp4 beside report.json and measures.csv.

Usage (the command line and the server's jobs do the same)::

    recorder = AnnotationRecorder()
    run = analyze_video(video, out_dir, exercise=..., sinks=(recorder,))
    write_outputs(video, out_dir, run, recorder, prescription=prescription)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from formcheck.analyzers import Prescription
from formcheck.report.annotate import AnnotateConfig, HudTimeline, render_annotations
from formcheck.report.html import REPORT_HTML, ReportContext, write_report_html
from formcheck.report.keyframes import choose_keyframes
from formcheck.report.recorder import AnnotationRecorder
from formcheck.report.series import load_measures_csv

if TYPE_CHECKING:
    from formcheck.offline import AnalysisRun

ANNOTATED_MP4 = "annotated.mp4"
MEASURES_CSV = "measures.csv"
ProgressFn = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class WrittenOutputs:
    report_html: Path
    annotated_mp4: Path | None
    keyframes: int
    frames_rendered: int


def write_outputs(
    video: Path,
    out_dir: Path,
    run: AnalysisRun,
    recorder: AnnotationRecorder,
    *,
    prescription: Prescription | None = None,
    video_name: str = "",
    annotated_video: bool = True,
    config: AnnotateConfig | None = None,
    progress: ProgressFn | None = None,
) -> WrittenOutputs:
    """Write ``report.html`` (and ``annotated.mp4`` unless told not to) into ``out_dir``.

    ``run`` is what ``analyze_video`` returned, ``recorder`` the sink it was given.
    ``video_name`` is the name shown on the page (the upload's original name; default the
    file's name). ``progress(done, total)`` follows the second decoding pass.
    """
    cfg = config or AnnotateConfig()
    report = run.report
    timeline = HudTimeline(
        run.events,
        report.findings,
        target_reps=report.summary.target_reps if report.summary is not None else None,
        cue_display_s=cfg.cue_display_s,
    )
    video_out = out_dir / ANNOTATED_MP4 if annotated_video else None
    rendered = render_annotations(
        video,
        recorder,
        timeline,
        video_out=video_out,
        keyframes=choose_keyframes(report.reps),
        config=cfg,
        progress=progress,
    )
    tempo = prescription.tempo if prescription is not None else None
    context = ReportContext(
        series=load_measures_csv(out_dir / MEASURES_CSV),
        keyframes=rendered.keyframes,
        tempo_target_s=(tempo.down_s, tempo.pause_s, tempo.up_s) if tempo else None,
        video_name=video_name or video.name,
    )
    html_path = write_report_html(out_dir / REPORT_HTML, report, context)
    return WrittenOutputs(
        report_html=html_path,
        annotated_mp4=rendered.video_path,
        keyframes=len(rendered.keyframes),
        frames_rendered=rendered.frames,
    )
