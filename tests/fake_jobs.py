"""Job functions for tests of the worker pool (imported by name in the job's subprocess).

``options``: ``steps`` progress steps of ``step_s`` seconds each; ``marker_dir`` gets one
``<attempt-start>`` file per run started and ``finished`` lines per run that returned;
``fail`` makes the run raise a FormcheckError with that message; ``crash`` makes it raise
a plain exception; ``vanish`` ends the process at once, leaving no outcome.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from formcheck.errors import FormcheckError


def slow_job(
    upload: Path, out_dir: Path, options: dict[str, Any], progress: Callable[[float, str], None]
) -> dict[str, Any]:
    marker_dir = Path(options["marker_dir"]) if options.get("marker_dir") else None
    if marker_dir is not None:
        (marker_dir / f"started-{os.getpid()}").write_text(str(out_dir), encoding="utf-8")
    steps = int(options.get("steps", 3))
    for i in range(steps):
        progress(i / steps, "working")
        time.sleep(float(options.get("step_s", 0.05)))
    if options.get("fail"):
        raise FormcheckError(str(options["fail"]))
    if options.get("crash"):
        raise RuntimeError("boom")
    if options.get("vanish"):
        os._exit(0)
    progress(1.0, "working")
    (out_dir / "report.html").write_text(f"<p>{upload.stat().st_size}</p>", encoding="utf-8")
    if marker_dir is not None:
        with (marker_dir / "finished").open("a", encoding="utf-8") as handle:
            handle.write(f"{os.getpid()}\n")
    return {"bytes": upload.stat().st_size, "pid": os.getpid()}


HOLD_LIMIT_S = 120.0  # a held run gives up after this (only stops a broken test hanging)
HOLD_POLL_S = 0.02


def hold_here(marker_dir: Path, out_dir: Path) -> None:
    """A test hook: write ``held-<pid>`` (the pool process and its worker's pid, the run's
    folder) and wait until the test creates ``release`` in ``marker_dir``."""
    release = marker_dir / "release"
    if release.exists():
        return
    # written whole, then renamed into view: the test polls for it and must never read it
    # half-written (an empty marker failed the test under load)
    marker = marker_dir / f"held-{os.getpid()}"
    partial = marker.with_name(f".{marker.name}.part")
    partial.write_text(f"{os.getpid()} {os.getppid()} {out_dir}", encoding="utf-8")
    os.replace(partial, marker)
    deadline = time.monotonic() + HOLD_LIMIT_S
    while not release.exists():
        if time.monotonic() > deadline:
            raise RuntimeError("the test never released the held job")
        time.sleep(HOLD_POLL_S)


def held_job(
    upload: Path, out_dir: Path, options: dict[str, Any], progress: Callable[[float, str], None]
) -> dict[str, Any]:
    """``slow_job`` that first waits at the test hook (``hold_here``) when ``hold`` is set."""
    if options.get("hold"):
        hold_here(Path(options["marker_dir"]), out_dir)
    result = slow_job(upload, out_dir, options, progress)
    with (Path(options["marker_dir"]) / "ran").open("a", encoding="utf-8") as handle:
        handle.write(f"{options.get('name', '')}\n")
    return result
