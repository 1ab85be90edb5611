"""Specs that match real use: faults from the first rep, later onsets, mesh bodies, clothes."""

from __future__ import annotations

import numpy as np
import pytest

from formcheck.synth.real_use import (
    BODY_SHAPES,
    CLOTHING,
    ONSET_FIRST,
    ONSET_LATER,
    fault_reps,
    jittered_body,
    real_use_spec,
)


def _spec(kind: str, onset: str, reps: int, seed: int = 3):
    rng = np.random.default_rng(seed)
    return real_use_spec("hip_hinge", rng, fault_kind=kind, onset=onset, reps=reps,
                         body=jittered_body(BODY_SHAPES[0], rng), top="hoodie",
                         bottom="trousers")  # fmt: skip


def test_a_fault_from_the_first_rep_is_in_every_rep() -> None:
    spec = _spec("lumbar_flexion", ONSET_FIRST, 3)
    (fault,) = spec.clip.faults
    assert fault.reps == (0, 1, 2)
    assert 15.0 <= fault.size <= 35.0
    assert "from rep 1" in spec.clip.label


def test_a_later_fault_starts_at_rep_two_or_after_and_stays() -> None:
    starts = set()
    for seed in range(30):
        (fault,) = _spec("hips_rise_first", ONSET_LATER, 4, seed).clip.faults
        assert fault.reps is not None and fault.reps[0] >= 1
        assert fault.reps == tuple(range(fault.reps[0], 4))
        assert fault.size >= 300.0
        starts.add(fault.reps[0])
    assert starts == {1, 2, 3}
    with pytest.raises(ValueError, match="2 or more reps"):
        fault_reps(ONSET_LATER, 1, np.random.default_rng(0))


def test_single_rep_and_correct_clips() -> None:
    spec = _spec("", ONSET_FIRST, 1)
    assert spec.clip.motion.reps == 1 and spec.clip.faults == ()
    assert spec.clip.label == "correct"


def test_cameras_bodies_and_clothes_vary() -> None:
    yaws = [abs(_spec("", ONSET_FIRST, 2, seed).clip.camera.yaw_deg) for seed in range(40)]
    assert max(yaws) <= 30.0 and min(yaws) < 8.0 and max(yaws) > 22.0
    variants = {_spec("", ONSET_FIRST, 2, seed).clip.motion.variant for seed in range(40)}
    assert variants == {"bodyweight", "kettlebell"}  # no dowel on the mesh
    assert len({b.name for b in BODY_SHAPES}) >= 5
    assert {g for g, _ in [(b.gender > 0.5, 0) for b in BODY_SHAPES]} == {True, False}
    assert {top for top, _ in CLOTHING} == {"fitted", "tshirt", "hoodie"}
    assert {bottom for _, bottom in CLOTHING} == {"fitted", "trousers"}
    a = jittered_body(BODY_SHAPES[0], np.random.default_rng(1))
    assert a.name == BODY_SHAPES[0].name
    assert abs(a.height_m - BODY_SHAPES[0].height_m) <= 0.03
