"""What a batch has finished, kept so that running it again resumes, and ``summary.csv``.

``OUT/.formcheck-batch.json`` remembers, per output folder, the recording it was made from
(resolved path, size, modification time) and the settings, with the summary row. A
recording is skipped when that entry says done, nothing of it changed, and its output
folder is there; otherwise it is analysed (again). The file is replaced atomically after
each recording, so an interrupted batch loses at most the recordings in progress.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from formcheck.batch.inputs import Recording
from formcheck.jobs.durable import write_durably
from formcheck.report.files import read_report

STATE_NAME = ".formcheck-batch.json"
SUMMARY_CSV = "summary.csv"
STATE_VERSION = 1
DONE = "done"
FAILED = "failed"
CODE_SEPARATOR = " "
# An output folder is complete when it has every file `formcheck analyze` writes.
REQUIRED_OUTPUTS = ("report.json", "measures.csv", "report.html", "annotated.mp4")


@dataclass(frozen=True, slots=True)
class Row:
    """One recording's line of summary.csv."""

    recording: str  # the path as given or found
    output: str  # its folder under --out
    status: str  # done | failed
    reps: int | None = None
    findings: int | None = None
    finding_codes: str = ""  # the findings' fault codes, space-separated, in report order
    not_judged: str = ""  # the checks the set could not judge, space-separated
    frames: int | None = None
    time_s: float | None = None  # wall time of this recording's analysis
    error: str = ""  # why it failed (one sentence)
    earlier_run: bool = False  # done by an earlier run of the batch (resumed)


COLUMNS = tuple(f.name for f in fields(Row))


def fingerprint(recording: Recording, settings: dict[str, Any]) -> dict[str, Any]:
    """What must not change for an earlier result to stand."""
    stat = recording.path.stat()
    return {
        "path": str(recording.path.resolve()),
        "size_bytes": stat.st_size,
        "mtime_ns": stat.st_mtime_ns,
        "settings": settings,
    }


def done_row(recording: Recording, output_dir: Path, time_s: float | None) -> Row:
    """The row of a finished recording, from its report.json."""
    report = read_report(output_dir / "report.json")
    summary = report.summary
    return Row(
        recording=str(recording.path),
        output=recording.name,
        status=DONE,
        reps=summary.reps if summary is not None else None,
        findings=len(report.findings),
        finding_codes=CODE_SEPARATOR.join(f.code for f in report.findings),
        not_judged=CODE_SEPARATOR.join(n.code for n in report.not_judged),
        frames=report.video.frames,
        time_s=round(time_s, 3) if time_s is not None else None,
    )


def failed_row(recording: Recording, reason: str, time_s: float | None) -> Row:
    return Row(
        recording=str(recording.path),
        output=recording.name,
        status=FAILED,
        time_s=round(time_s, 3) if time_s is not None else None,
        error=reason,
    )


def outputs_complete(folder: Path) -> bool:
    return all((folder / name).is_file() for name in REQUIRED_OUTPUTS)


class BatchState:
    def __init__(self, out_dir: Path) -> None:
        self.out_dir = out_dir
        self.path = out_dir / STATE_NAME
        self._entries: dict[str, dict[str, Any]] = {}
        try:
            saved = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            saved = {}
        if isinstance(saved, dict) and saved.get("version") == STATE_VERSION:
            self._entries = dict(saved.get("outputs") or {})

    def earlier(self, recording: Recording, print_: dict[str, Any]) -> Row | None:
        """The row of an earlier run that finished this recording unchanged, else None."""
        entry = self._entries.get(recording.name)
        if not entry or entry.get("fingerprint") != print_:
            return None
        row = entry.get("row") or {}
        if row.get("status") != DONE or not outputs_complete(self.out_dir / recording.name):
            return None
        known = {name: row[name] for name in COLUMNS if name in row}
        return Row(**{**known, "recording": str(recording.path), "earlier_run": True})

    def record(self, recording: Recording, print_: dict[str, Any], row: Row) -> None:
        """Remember ``row`` for ``recording`` (written to disk at once)."""
        self._entries[recording.name] = {"fingerprint": print_, "row": asdict(row)}
        data = {"version": STATE_VERSION, "outputs": self._entries}
        write_durably(self.path, json.dumps(data, indent=1).encode())


def write_summary(out_dir: Path, rows: list[Row]) -> Path:
    """``summary.csv``: one row per recording, in the order of the inputs."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    for row in rows:
        values = asdict(row)
        writer.writerow(["" if values[name] is None else _cell(values[name]) for name in COLUMNS])
    path = out_dir / SUMMARY_CSV
    write_durably(path, buffer.getvalue().encode("utf-8"))
    return path


def _cell(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)
