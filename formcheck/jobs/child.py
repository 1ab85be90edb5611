"""The process one job runs in: ``python -m formcheck.jobs.child SPEC.json``.

Started by the worker pool (formcheck.jobs.worker) as a plain subprocess, so nothing of the
parent's main module is re-imported. It writes progress into the database with the job's
lease token, its files into the run's folder and its outcome into ``.outcome.json`` there.
It exits at once when its parent process has died or the job was taken from it (the job
was deleted, or requeued by a restarted server).

Its files are private (umask 077) and on the disk before the outcome says the run
succeeded: every output file and the folder are fsynced, then the outcome is written
atomically (a crash leaves no outcome or a whole one, never an empty file).
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import sqlite3
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

from formcheck.errors import FormcheckError
from formcheck.jobs.durable import PRIVATE_UMASK, fsync_tree, is_disk_full, write_durably
from formcheck.jobs.store import JobStore

log = logging.getLogger(__name__)

JobFn = Callable[[Path, Path, dict[str, Any], Callable[[float, str], None]], dict[str, Any]]
SPEC_NAME = ".job.json"
OUTCOME_NAME = ".outcome.json"
EXIT_ORPHANED = 70  # the run's parent process died
EXIT_LOST = 71  # the job was taken from this run
INTERNAL_ERROR = (
    "The analysis failed because of an internal error; try again, and report it if it "
    "happens again."
)
DISK_FULL_ERROR = "The server ran out of disk space while writing the report; try again later."


def load_job_fn(spec: str) -> JobFn:
    """``"package.module:function"`` -> the function."""
    module_name, _, attr = spec.partition(":")
    return cast(JobFn, getattr(importlib.import_module(module_name), attr))


def run(spec: dict[str, Any]) -> dict[str, Any]:
    """Run the job the spec describes; return its outcome ({ok, result} or {ok, error})."""
    store = JobStore(Path(spec["db_path"]))
    job_id, token, parent_pid = spec["job_id"], spec["token"], int(spec["parent_pid"])
    interval_s = float(spec["progress_interval_s"])
    last_s = [0.0]

    def progress(fraction: float, stage: str) -> None:
        if os.getppid() != parent_pid:
            os._exit(EXIT_ORPHANED)
        now = time.monotonic()
        if now - last_s[0] >= interval_s:
            last_s[0] = now
            try:
                held = store.set_progress(job_id, token, fraction, stage)
            except sqlite3.OperationalError:
                return  # progress is best effort (a full disk shows in the outcome instead)
            if not held:
                os._exit(EXIT_LOST)

    try:
        job_fn = load_job_fn(spec["job_fn"])
        out_dir = Path(spec["out_dir"])
        result = job_fn(Path(spec["upload"]), out_dir, spec["options"], progress)
        fsync_tree(out_dir)
        return {"ok": True, "result": result}
    except FormcheckError as error:
        return {"ok": False, "error": str(error)}
    except Exception as error:
        if is_disk_full(error):
            return {"ok": False, "error": DISK_FULL_ERROR}
        log.error("job %s failed:\n%s", job_id, traceback.format_exc())
        return {"ok": False, "error": INTERNAL_ERROR}
    finally:
        store.close()


def main(argv: list[str]) -> int:
    logging.basicConfig(level=logging.INFO)
    spec_path = Path(argv[0])
    spec = json.loads(spec_path.read_text(encoding="utf-8"))
    for entry in reversed(spec.get("sys_path", [])):
        if entry not in sys.path:
            sys.path.insert(0, entry)
    outcome = run(spec)
    write_durably(Path(spec["out_dir"]) / OUTCOME_NAME, json.dumps(outcome).encode())
    spec_path.unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    os.umask(PRIVATE_UMASK)
    os.environ.setdefault("GLOG_minloglevel", "2")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    sys.exit(main(sys.argv[1:]))
