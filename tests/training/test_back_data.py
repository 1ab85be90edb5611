"""Drawing the stills and keeping what the pipeline saw of them."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from formcheck.training.back_data import (
    DEEP,
    DEEP_HINGE_RANGES,
    DEEP_LABEL,
    HELD_OUT_SHAPES,
    LUMBAR_RANGE_DEG,
    Observation,
    draw_stills,
    load_dataset,
    merge_datasets,
    save_dataset,
)


def test_draws_are_reproducible_and_within_their_ranges() -> None:
    a = draw_stills(3, 12, 4)
    b = draw_stills(3, 12, 4)
    assert a == b
    assert len(a) == 48
    assert {g for g, _ in a} == set(range(12))
    for group in range(12):
        bodies = {s.body_name for g, s in a if g == group}
        assert len(bodies) == 1  # a group is one body
    for _, s in a:
        assert LUMBAR_RANGE_DEG[0] <= s.lumbar_deg <= LUMBAR_RANGE_DEG[1]
        assert abs(s.camera.yaw_deg) <= 45.0
    assert draw_stills(4, 12, 4) != a


def test_training_draws_leave_the_held_out_shapes_out() -> None:
    from formcheck.synth.real_use import BODY_SHAPES

    allowed = [b.name for b in BODY_SHAPES if b.name not in HELD_OUT_SHAPES]
    names = {s.body_name for _, s in draw_stills(1, 60, 1, shapes=allowed)}
    assert "capsule" in names
    assert not names & set(HELD_OUT_SHAPES)
    assert len(names) > 3


def test_dataset_round_trip(tmp_path: Path) -> None:
    obs = Observation(
        found=True,
        facing=1,
        yaw_deg=12.0,
        chord_px=100.0,
        offsets_px=np.linspace(20.0, 30.0, 33),
        usable=True,
        mask_confidence=0.9,
        landmarks_px=np.ones((33, 3)),
        visibility=np.ones(33),
    )
    row = {
        "group": 2,
        "meta": {"body": "capsule", "camera_yaw_deg": 12.0},
        "lumbar_deg": 20.0,
        "true_trunk_deg": 60.0,
        "true_hip_flexion_deg": 80.0,
        "true_profile_mm": np.zeros(41),
        "obs": obs,
    }
    path = tmp_path / "d.npz"
    save_dataset(path, [row, row])
    data = load_dataset(path)
    assert data["meta"] == [row["meta"], row["meta"]]
    np.testing.assert_array_equal(np.asarray(data["offsets_px"])[1], obs.offsets_px)
    assert np.asarray(data["group"]).tolist() == [2, 2]


def test_deep_hinges_are_their_own_draw() -> None:
    deep = draw_stills(3, 6, 3, kind=DEEP)
    assert {s.exercise for _, s in deep} == {"hip_hinge"}
    lo, hi = DEEP_HINGE_RANGES["bottom_knee_deg"]
    assert all(lo <= s.params["bottom_knee_deg"] <= hi for _, s in deep)
    assert draw_stills(3, 6, 3) != deep
    try:
        draw_stills(3, 1, 1, kind="sideways")
    except ValueError as exc:
        assert "kind" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("an unknown kind was accepted")


def test_merged_datasets_keep_groups_apart() -> None:
    from tests.training.back_fixtures import synthetic_dataset

    a, b = synthetic_dataset(40, 1), synthetic_dataset(30, 2)
    merged = merge_datasets(a, b)
    groups = np.asarray(merged["group"])
    assert groups.size == 70
    assert set(groups[:40].tolist()).isdisjoint(groups[40:].tolist())
    assert merged["meta"][40]["exercise"] == DEEP_LABEL  # type: ignore[index]
    assert merged["meta"][0]["exercise"] == "hip_hinge"  # type: ignore[index]
    np.testing.assert_array_equal(np.asarray(merged["lumbar_deg"])[40:], b["lumbar_deg"])
