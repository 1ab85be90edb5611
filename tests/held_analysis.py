"""The real analysis job with a test hook: the first runs wait at a known point.

``held_analysis`` is ``formcheck.jobs.analysis.run_analysis_job``; when the job's options
carry ``marker_dir`` and ``hold_at`` (a progress fraction), a run reaching that progress
waits at ``tests.fake_jobs.hold_here`` until the test releases it (after releasing, runs
pass straight through). Each run that returns appends its pid to ``marker_dir/finished``.
Imported by name in Celery worker processes (``--job-fn tests.held_analysis:held_analysis``);
``prepare_process`` loads the model once per worker process, as for the real job.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from formcheck.jobs.analysis import prepare_process, run_analysis_job
from tests.fake_jobs import hold_here

__all__ = ["held_analysis", "prepare_process"]


def held_analysis(
    upload: Path, out_dir: Path, options: dict[str, Any], progress: Callable[[float, str], None]
) -> dict[str, Any]:
    marker_dir = Path(options["marker_dir"])
    hold_at = float(options["hold_at"])

    def held_progress(fraction: float, stage: str) -> None:
        progress(fraction, stage)
        if fraction >= hold_at:
            hold_here(marker_dir, out_dir)

    job_options = {k: v for k, v in options.items() if k not in ("marker_dir", "hold_at")}
    result = run_analysis_job(upload, out_dir, job_options, held_progress)
    with (marker_dir / "finished").open("a", encoding="utf-8") as handle:
        handle.write(f"{os.getpid()}\n")
    return result
