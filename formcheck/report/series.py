"""Read measures.csv back as time series (for the report's plots and summaries)."""

from __future__ import annotations

import csv
import math
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]
TEXT_COLUMNS = ("facing", "view")


@dataclass(frozen=True, slots=True)
class MeasureSeries:
    """Columns of measures.csv: ``t_s``, numeric measures (NaN where empty) and text columns."""

    t_s: F64
    numbers: dict[str, F64] = field(default_factory=dict)
    texts: dict[str, list[str]] = field(default_factory=dict)

    def get(self, name: str) -> F64:
        """A measure's values, all NaN when the column is absent."""
        return self.numbers.get(name, np.full(len(self.t_s), math.nan))

    def most_common(self, column: str, *, usable_only: bool = True) -> str | None:
        """The most frequent value of a text column (over usable frames by default)."""
        values = self.texts.get(column, [])
        usable = self.numbers.get("usable")
        if usable_only and usable is not None:
            values = [v for v, u in zip(values, usable, strict=True) if u == 1.0]
        counts = Counter(v for v in values if v and v != "unknown")
        return counts.most_common(1)[0][0] if counts else None


def load_measures_csv(path: Path) -> MeasureSeries:
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    if not rows:
        return MeasureSeries(t_s=np.zeros(0))
    header, body = rows[0], rows[1:]
    numbers: dict[str, F64] = {}
    texts: dict[str, list[str]] = {}
    for j, name in enumerate(header):
        column = [row[j] if j < len(row) else "" for row in body]
        if name in TEXT_COLUMNS:
            texts[name] = column
        else:
            numbers[name] = np.array([float(c) if c else math.nan for c in column])
    t_s = numbers.pop("t_s", np.zeros(len(body)))
    return MeasureSeries(t_s=t_s, numbers=numbers, texts=texts)
