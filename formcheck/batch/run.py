"""``formcheck batch INPUTS... --exercise X --out DIR [--queue URL] [--jobs N]``."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from formcheck.batch.inputs import Recording, expand_inputs
from formcheck.batch.local import Outcome, remove_parts, run_local
from formcheck.batch.state import (
    DONE,
    BatchState,
    Row,
    done_row,
    failed_row,
    fingerprint,
    write_summary,
)
from formcheck.errors import FormcheckError
from formcheck.jobs.config import JobsConfig

# With --queue: recordings queued or running at once, unless --jobs says otherwise; enough
# to keep a few dozen worker processes busy while bounding the copies on the shared storage.
DEFAULT_QUEUE_IN_FLIGHT = 32


def _settings(args: argparse.Namespace) -> dict[str, Any]:
    return {"exercise": args.exercise, "height_cm": args.height_cm}


def batch_main(args: argparse.Namespace) -> int:
    """Run the batch; 0 when every recording is done, 1 when some failed."""
    from tqdm import tqdm

    from formcheck.analyzers import get_spec

    get_spec(args.exercise)  # an unknown exercise fails before anything is read
    queue = _queue_config(args) if args.queue is not None else None
    recordings = expand_inputs(args.inputs)
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    remove_parts(out_dir)
    state = BatchState(out_dir)
    settings = _settings(args)
    prints = {r.name: fingerprint(r, settings) for r in recordings}
    rows: dict[str, Row] = {}
    todo: list[Recording] = []
    for recording in recordings:
        earlier = state.earlier(recording, prints[recording.name])
        if earlier is not None:
            rows[recording.name] = earlier
        else:
            todo.append(recording)
    print(
        f"formcheck batch: {len(recordings)} recordings, {len(rows)} done by an earlier run, "
        f"{len(todo)} to analyse" + (" on the queue's workers" if queue else ""),
        file=sys.stderr,
    )
    bar = tqdm(
        total=len(todo), unit="recording", disable=args.quiet or None, file=sys.stderr,
        bar_format="{l_bar}{bar}| {n:.1f}/{total} [{elapsed}<{remaining}{postfix}]",
    )  # fmt: skip
    finished = [0]
    failures = [0]

    def on_done(outcome: Outcome) -> None:
        recording = outcome.recording
        if outcome.error is None:
            row = done_row(recording, out_dir / recording.name, outcome.time_s)
        else:
            row = failed_row(recording, outcome.error, outcome.time_s)
            failures[0] += 1
            bar.set_postfix_str(f"{failures[0]} failed", refresh=False)
        rows[recording.name] = row
        state.record(recording, prints[recording.name], row)
        finished[0] += 1
        bar.n = finished[0]
        bar.refresh()

    def on_progress(running: float) -> None:
        bar.n = finished[0] + running
        bar.refresh()

    try:
        if todo and queue is not None:
            _run_queued(queue, args, out_dir, todo, prints, on_done, on_progress)
        elif todo:
            from formcheck.pose.model import ensure_model

            ensure_model()  # no model: one plain error, not one per recording
            processes = args.jobs or os.cpu_count() or 1
            run_local(todo, out_dir, args.exercise, args.height_cm, processes, on_done)
    finally:
        bar.close()
        ordered = [rows[r.name] for r in recordings if r.name in rows]
        summary = write_summary(out_dir, ordered)
    done = sum(1 for row in ordered if row.status == DONE)
    failed = len(ordered) - done
    print(
        f"formcheck batch: {done} of {len(recordings)} recordings done"
        + (f", {failed} failed" if failed else "")
        + f"; summary in {summary}",
        file=sys.stderr,
    )
    return 1 if failed else 0


def _queue_config(args: argparse.Namespace) -> JobsConfig:
    """The queue's settings: ``--queue URL``, or with ``--queue`` alone the URL in
    FORMCHECK_JOBS__QUEUE__URL (where a URL with a password belongs)."""
    from formcheck.jobs.distributed.worker import worker_config
    from formcheck.live_cli import queue_option

    config = worker_config(queue_option(args.queue) if args.queue else None, args.data_dir)
    if config.queue.url is None:
        raise FormcheckError(
            "--queue needs the queue's URL (redis://HOST:PORT/DB), or FORMCHECK_JOBS__QUEUE__URL."
        )
    return config


def _run_queued(
    config: JobsConfig,
    args: argparse.Namespace,
    out_dir: Path,
    todo: list[Recording],
    prints: dict[str, dict[str, Any]],
    on_done: Callable[[Outcome], None],
    on_progress: Callable[[float], None],
) -> None:
    from formcheck.batch.queued import QueuedBatch, job_key

    batch = QueuedBatch(config, out_dir, args.exercise, args.height_cm)
    try:
        keyed = [(r, job_key(out_dir, r, prints[r.name])) for r in todo]
        batch.run(keyed, args.jobs or DEFAULT_QUEUE_IN_FLIGHT, on_done, on_progress)
    finally:
        batch.close()
