"""A batch on this machine: a pool of processes, each loading the pose model once and then
analysing recordings one after another exactly as ``formcheck analyze`` does.

A recording is written into ``OUT/<name>.part-<random>/`` and renamed to ``OUT/<name>/``
when every file is on the disk. A process that crashes (a decoder fault, out of memory)
breaks the pool: the recordings it had in hand are tried once more, one at a time, and
fail with a plain reason if they crash again; the rest of the batch goes on.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import secrets
import shutil
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path

from formcheck.batch.inputs import Recording
from formcheck.errors import FormcheckError
from formcheck.jobs.child import DISK_FULL_ERROR, INTERNAL_ERROR
from formcheck.jobs.durable import fsync_tree, is_disk_full, rename_durably

log = logging.getLogger(__name__)
PART_MARK = ".part-"
CRASHED = (
    "The analysis process stopped unexpectedly (it crashed or ran out of memory); check that "
    "the file plays, or analyse it alone with formcheck analyze."
)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one recording: ``error`` None means its folder is complete."""

    recording: Recording
    time_s: float | None
    error: str | None = None


def remove_parts(out_dir: Path) -> None:
    """Delete the folders of recordings an interrupted run left unfinished."""
    for folder in out_dir.glob(f"*{PART_MARK}*"):
        if folder.is_dir():
            shutil.rmtree(folder, ignore_errors=True)


def publish(part: Path, final: Path) -> None:
    """Make a complete run folder the recording's output folder (replacing an older one)."""
    fsync_tree(part)
    if final.exists():
        shutil.rmtree(final)
    rename_durably(part, final)


def analyse_recording(
    recording: Recording, out_dir: Path, exercise: str, height_cm: float | None
) -> Outcome:
    """Analyse one recording into ``out_dir / recording.name`` (in a pool process)."""
    from formcheck.jobs.analysis import prepare_process
    from formcheck.offline import analyze_video
    from formcheck.report.outputs import write_outputs
    from formcheck.report.recorder import AnnotationRecorder

    started = time.perf_counter()
    part = out_dir / f"{recording.name}{PART_MARK}{secrets.token_hex(4)}"
    try:
        model = prepare_process()
        recorder = AnnotationRecorder()
        run = analyze_video(
            recording.path, part, exercise=exercise, height_cm=height_cm,
            sinks=(recorder,), model_info=model,
        )  # fmt: skip
        write_outputs(recording.path, part, run, recorder)
        publish(part, out_dir / recording.name)
    except FormcheckError as error:
        return Outcome(recording, time.perf_counter() - started, str(error))
    except Exception as error:
        log.exception("%s failed", recording.path)
        reason = DISK_FULL_ERROR if is_disk_full(error) else INTERNAL_ERROR
        return Outcome(recording, time.perf_counter() - started, reason)
    finally:
        shutil.rmtree(part, ignore_errors=True)
    return Outcome(recording, time.perf_counter() - started)


def _init_process() -> None:
    os.environ.setdefault("GLOG_minloglevel", "2")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from formcheck.jobs.analysis import prepare_process

    prepare_process()


def run_local(
    recordings: list[Recording],
    out_dir: Path,
    exercise: str,
    height_cm: float | None,
    processes: int,
    on_done: Callable[[Outcome], None],
) -> None:
    """Analyse ``recordings`` in ``processes`` processes, calling ``on_done`` for each as
    it finishes (in this process)."""
    broken = _run_pool(recordings, out_dir, exercise, height_cm, processes, on_done)
    for recording in broken:  # one at a time: a second crash is this recording's own
        if _run_pool([recording], out_dir, exercise, height_cm, 1, on_done):
            on_done(Outcome(recording, None, CRASHED))


def _run_pool(
    recordings: Iterable[Recording],
    out_dir: Path,
    exercise: str,
    height_cm: float | None,
    processes: int,
    on_done: Callable[[Outcome], None],
) -> list[Recording]:
    """Run a pool; returns the recordings it lost to a crashed process."""
    broken: list[Recording] = []
    context = multiprocessing.get_context("spawn")  # MediaPipe's threads do not survive fork
    with ProcessPoolExecutor(processes, mp_context=context, initializer=_init_process) as pool:
        futures: dict[Future[Outcome], Recording] = {
            pool.submit(analyse_recording, recording, out_dir, exercise, height_cm): recording
            for recording in recordings
        }
        try:
            for future in as_completed(futures):
                try:
                    outcome = future.result()
                except BrokenProcessPool:
                    broken.append(futures[future])
                    continue
                on_done(outcome)
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise
    return broken
