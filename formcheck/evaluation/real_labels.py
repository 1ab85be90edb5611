"""Labels of the real development clips (``../shared/videos/LABELS.tsv``)."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

NO_FAULT = "none"


@dataclass(frozen=True, slots=True)
class RealClipLabel:
    path: Path
    exercise: str
    view: str
    facing: str
    reps: int | None  # completed reps; None when the label gives a hold or nothing
    hold_s: float | None
    rep_times_s: tuple[tuple[float, float], ...]
    faults: frozenset[str] | None  # None: not labelled (unknown), empty: labelled fault-free
    fault_source: str
    confidence: str
    notes: str


def _times(text: str) -> tuple[tuple[float, float], ...]:
    out = []
    for part in filter(None, (p.strip() for p in text.split(";"))):
        start, end = part.split("-")
        out.append((float(start), float(end)))
    return tuple(out)


def load_labels(videos_dir: Path) -> list[RealClipLabel]:
    """All labelled clips that exist on disk, in the file's order."""
    table = videos_dir / "LABELS.tsv"
    if not table.is_file():
        return []
    labels = []
    with table.open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            path = videos_dir / row["file"]
            if not path.is_file():
                continue
            faults_text = row["faults"].strip()
            faults: frozenset[str] | None
            if not faults_text:
                faults = None
            elif faults_text == NO_FAULT:
                faults = frozenset()
            else:
                faults = frozenset(f.strip() for f in faults_text.split(",") if f.strip())
            labels.append(
                RealClipLabel(
                    path=path,
                    exercise=row["exercise"],
                    view=row["view"],
                    facing=row["facing"],
                    reps=int(row["reps"]) if row["reps"].strip() else None,
                    hold_s=float(row["hold_s"]) if row["hold_s"].strip() else None,
                    rep_times_s=_times(row["rep_times"]),
                    faults=faults,
                    fault_source=row["fault_source"],
                    confidence=row["confidence"],
                    notes=row["notes"],
                )
            )
    return labels
