"""The committed sample clips: coverage of the exercise list and byte-for-byte regeneration."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from formcheck.synth import EXERCISES, random_clip_spec, render_clip
from formcheck.synth.samples import DEFAULT_OUT, SAMPLES, sample_spec


def test_every_exercise_has_a_correct_and_a_faulty_sample() -> None:
    for exercise in EXERCISES:
        mine = [s for s in SAMPLES if s.exercise == exercise]
        assert any(not s.faults for s in mine), exercise
        assert any(s.faults for s in mine), exercise
    assert len({s.name for s in SAMPLES}) == len(SAMPLES)


def test_random_specs_are_reproducible_from_the_seed() -> None:
    a = [random_clip_spec(e, np.random.default_rng(11)) for e in EXERCISES]
    b = [random_clip_spec(e, np.random.default_rng(11)) for e in EXERCISES]
    assert a == b
    faulty = [random_clip_spec("hip_hinge", np.random.default_rng(i)).faults for i in range(20)]
    assert any(faulty) and not all(faulty)


@pytest.mark.slow
def test_a_committed_sample_regenerates_byte_for_byte(tmp_path: Path) -> None:
    index = DEFAULT_OUT / "index.json"
    if not index.exists():
        pytest.skip("sample_videos/ has not been rendered (python -m formcheck.synth.samples)")
    name = "standing_posture_correct"
    assert name in {row["name"] for row in json.loads(index.read_text())}
    i = next(k for k, s in enumerate(SAMPLES) if s.name == name)
    render_clip(sample_spec(SAMPLES[i], i), tmp_path, name)
    for suffix in (".mp4", ".npz", ".json", ".mask.npz"):
        fresh = (tmp_path / f"{name}{suffix}").read_bytes()
        assert fresh == (DEFAULT_OUT / f"{name}{suffix}").read_bytes(), suffix
