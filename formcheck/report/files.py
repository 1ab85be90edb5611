"""measures.csv and report.json: the files every analysis writes."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from formcheck.kinematics.measures import MEASURE_NAMES
from formcheck.report.model import Report
from formcheck.types import Sample

CSV_PREFIX_COLUMNS = ("t_s", "has_pose", "usable", "facing", "view")
DECIMALS = 4


class MeasuresCsvWriter:
    """Streams one row per frame: t_s, quality flags and every measure (empty when NaN)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file: IO[str] = path.open("w", newline="", encoding="utf-8")
        self._writer = csv.writer(self._file)
        self._columns: tuple[str, ...] = MEASURE_NAMES
        self._writer.writerow((*CSV_PREFIX_COLUMNS, *self._columns))

    def write(self, sample: Sample) -> None:
        values = [_cell(sample.measures.get(name, math.nan)) for name in self._columns]
        self._writer.writerow(
            (
                f"{sample.t_ms / 1000.0:.{DECIMALS}f}",
                int(sample.quality.has_pose),
                int(sample.quality.usable),
                sample.facing.value,
                sample.view.value,
                *values,
            )
        )

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> MeasuresCsvWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _cell(value: float) -> str:
    return "" if not math.isfinite(value) else f"{value:.{DECIMALS}f}"


def json_safe(value: Any) -> Any:
    """Replace NaN and infinities (not valid JSON) with None, recursively."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    return value


def write_json(data: dict[str, Any], path: Path) -> None:
    """Write a JSON file atomically, NaN and infinities as null (the evaluation's figures)."""
    _write_atomically(path, json.dumps(json_safe(data), indent=2, allow_nan=False))


def write_report(report: Report, path: Path) -> None:
    """Write report.json atomically (a half-written report is never visible)."""
    _write_atomically(path, report.model_dump_json(indent=2))


def read_report(path: Path) -> Report:
    """A report.json read back (raises pydantic.ValidationError when it is not one)."""
    return Report.model_validate_json(path.read_bytes())


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(text + "\n", encoding="utf-8")
    tmp.replace(path)
