"""Processing speed of an upload through the job path (JobService -> worker subprocess).

    .venv/bin/python bench/bench_jobs.py [VIDEO] [--exercise hip_hinge]

Submits VIDEO (default ../shared/videos/hinge/0016c_1.mp4, 1262 frames) to a JobService on a
temporary data directory with one worker, follows the job's stage in the database and
prints frames/s for the analysis alone (pose + measures + analyzer, from the first frame's
progress to the stage "drawing the annotated video"), for the whole run (analysis,
report.html and annotated.mp4, with the worker process's start and model load) and from
upload to done; and the job process's CPU time (user + system), which depends less on how
busy the machine is than the wall-clock figures.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

from formcheck.jobs.config import JobsConfig
from formcheck.jobs.service import JobService
from formcheck.jobs.store import TERMINAL_STATES

DEFAULT_VIDEO = Path(__file__).resolve().parents[2] / "shared/videos/hinge/0016c_1.mp4"
POLL_S = 0.05
ANALYSIS_STAGE = "analysing"
OUTPUT_STAGE = "drawing the annotated video"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("video", nargs="?", default=str(DEFAULT_VIDEO))
    parser.add_argument("--exercise", default="hip_hinge")
    args = parser.parse_args()
    video = Path(args.video)
    with tempfile.TemporaryDirectory(prefix="bench_jobs_") as tmp:
        service = JobService(
            JobsConfig(data_dir=Path(tmp), workers=1, poll_interval_s=POLL_S,
                       progress_interval_s=POLL_S)
        )  # fmt: skip
        service.start()
        try:
            cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
            submitted_s = time.monotonic()
            with video.open("rb") as handle:
                job = service.submit(handle, video.name, {"settings": {"exercise": args.exercise}})
            started_s = analysing_s = output_s = None
            while True:
                current = service.get(job.id)
                assert current is not None
                now = time.monotonic()
                if started_s is None and current.state.value == "running":
                    started_s = now
                if analysing_s is None and current.stage == ANALYSIS_STAGE:
                    analysing_s = now
                if output_s is None and current.stage == OUTPUT_STAGE:
                    output_s = now
                if current.state in TERMINAL_STATES:
                    break
                time.sleep(POLL_S)
            done_s = time.monotonic()
            service.stop()  # the worker has reaped the job process: its CPU time is counted
            cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
        finally:
            service.close()
    if current.error:
        print(f"job failed: {current.error}")
        return 1
    frames = int(current.result["frames"])
    started_s = started_s or submitted_s
    output_s = output_s or done_s
    analysing_s = analysing_s or started_s
    print(f"{video.name}: {frames} frames, {current.result.get('reps')} reps")
    rows = (
        ("analysis only (first frame -> drawing stage)", output_s - analysing_s),
        ("worker start + analysis (claim -> drawing)", output_s - started_s),
        ("all outputs (run start -> done)", done_s - started_s),
        ("upload to done (receive + queue + run)", done_s - submitted_s),
    )
    for label, seconds in rows:
        print(f"  {label:44s} {seconds:6.1f} s  {frames / seconds:6.1f} frames/s")
    cpu_s = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    print(f"  {'job process CPU time (all outputs)':44s} {cpu_s:6.1f} s  "
          f"{frames / cpu_s:6.1f} frames per CPU-second")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
