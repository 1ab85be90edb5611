"""A job function for the people tests: the "analysis" writes a synthetic report.json of the
upload's exercise, and a report.html saying what it was asked (the name it shows, whether
de-identified) (imported by name in the job's worker process)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.people.synthetic_reports import set_report


def report_job(
    upload: Path, out_dir: Path, options: dict[str, Any], progress: Callable[[float, str], None]
) -> dict[str, Any]:
    exercise = (options.get("settings") or {}).get("exercise", "glute_bridge")
    report = set_report(exercise, source="job")
    (out_dir / "report.json").write_text(json.dumps(report), encoding="utf-8")
    deidentified = bool(options.get("deidentified"))
    (out_dir / "report.html").write_text(
        f"<p>report of {options.get('display_name')}, deidentified={deidentified}</p>",
        encoding="utf-8",
    )
    progress(1.0, "done")
    return {}
