"""Offline analysis of a file: camera cuts in an edited clip, through the real pose model."""

from __future__ import annotations

from pathlib import Path

from formcheck.config import PipelineConfig, ShotCutConfig
from formcheck.offline import AnalysisRun, analyze_video
from formcheck.types import Sample
from tests.conftest import shared_clip

# Labelled 0 reps: a front-oblique view of a lowering only, then a cut to a side view.
EDITED_CLIP = "hinge/aideadlift_good012.mp4"


def _analyse(out: Path, model: Path, config: PipelineConfig) -> tuple[AnalysisRun, list[Sample]]:
    samples: list[Sample] = []
    run = analyze_video(
        shared_clip(EDITED_CLIP),
        out,
        exercise="hip_hinge",
        model=model,
        config=config,
        sinks=(samples.append,),
        keep_masks=False,
    )
    return run, samples


def test_a_movement_split_by_a_cut_is_not_a_rep(tmp_path: Path, model_path: Path) -> None:
    run, samples = _analyse(tmp_path / "cuts", model_path, PipelineConfig())
    cuts_s = [round(s.t_ms / 1000.0, 2) for s in samples if s.pose.shot_cut]
    assert cuts_s == [0.03, 0.87]
    assert run.summary is not None and not run.summary.reps
    # Without looking for cuts, the lowering in one shot and the standing in the next made
    # a rep.
    blind, samples = _analyse(
        tmp_path / "blind", model_path, PipelineConfig(shots=ShotCutConfig(enabled=False))
    )
    assert not any(s.pose.shot_cut for s in samples)
    assert blind.summary is not None and len(blind.summary.reps) == 1
