"""A recorded reference rep: saved, loaded, and used by later sets from their first rep."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from formcheck.analyzers import get_analyzer
from formcheck.analyzers.errors import PrescriptionError
from formcheck.analyzers.personal_reference import from_reps, load_reference, save_reference
from formcheck.analyzers.testing import HingeRep, HingeSet, frame_times, run, samples_at

FPS = 30.0


def _hinge(reps: list[HingeRep], reference_file: Path | None = None) -> object:
    hinge = HingeSet(reps, lead_in_s=1.0)
    reference = load_reference(reference_file, "hip_hinge") if reference_file else None
    analyzer = get_analyzer("hip_hinge", reference=reference)
    return run(analyzer, samples_at(hinge.measures, frame_times(hinge.duration_s, FPS)))[1]


def test_a_recorded_reference_lets_the_first_rep_be_judged(tmp_path: Path) -> None:
    recorded = _hinge([HingeRep()])  # the person's best rep, recorded once
    reference = from_reps("hip_hinge", recorded.reps, "best.mp4")  # type: ignore[attr-defined]
    path = tmp_path / "ref.json"
    save_reference(reference, path)
    rounded_from_the_start = [HingeRep(curve_mm=12.0), HingeRep(curve_mm=12.0)]
    without = _hinge(rounded_from_the_start)
    with_reference = _hinge(rounded_from_the_start, path)
    # against its own first rep a set rounded from the start looks fine ...
    assert all("spine_rounded" not in r.faults for r in without.reps)  # type: ignore[attr-defined]
    # ... against the recorded reference both reps are found, the first included
    faults = [r.faults for r in with_reference.reps]  # type: ignore[attr-defined]
    assert all("spine_rounded" in f for f in faults)
    assert "best.mp4" in with_reference.compared_with  # type: ignore[attr-defined]
    assert "first reps" in without.compared_with  # type: ignore[attr-defined]


def test_reference_files_are_checked(tmp_path: Path) -> None:
    with pytest.raises(PrescriptionError, match="No rep was counted"):
        from_reps("hip_hinge", [], "empty.mp4")
    path = tmp_path / "ref.json"
    save_reference(from_reps("hip_hinge", _hinge([HingeRep()]).reps, "a.mp4"), path)  # type: ignore[attr-defined]
    with pytest.raises(PrescriptionError, match="recorded for hip_hinge, not squat"):
        load_reference(path, "squat")
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"exercise": "hip_hinge"}))
    with pytest.raises(PrescriptionError, match="not valid"):
        load_reference(bad)
    with pytest.raises(PrescriptionError, match="cannot be read"):
        load_reference(tmp_path / "missing.json")
