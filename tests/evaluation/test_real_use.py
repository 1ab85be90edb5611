"""The real-use tier: its clip set's shares, and its split scoring on hand-made results."""

from __future__ import annotations

from collections import Counter

import pytest

from formcheck.evaluation.real_use import (
    FIRST,
    LATER,
    PLAN,
    SINGLE,
    RealUseClip,
    RealUseResult,
    format_real_use_tables,
    real_use_set,
    score,
    yaw_band,
)
from formcheck.evaluation.synthetic import RepComparison, SynthClipResult
from formcheck.synth.real_use import BODY_SHAPES, CLOTHING


def test_the_set_matches_real_use() -> None:
    clips = real_use_set(2026)
    assert clips == real_use_set(2026) and clips != real_use_set(7)
    for exercise, (kinds, _, correct) in PLAN.items():
        mine = [c for c in clips if c.exercise == exercise]
        faulty = [c for c in mine if c.fault_kind]
        assert {c.fault_kind for c in faulty} == set(kinds)
        for kind in kinds:
            of_kind = [c for c in faulty if c.fault_kind == kind]
            from_first = [c for c in of_kind if c.onset in (FIRST, SINGLE)]
            assert len(from_first) >= len(of_kind) / 2  # from rep 1 in at least half
            assert any(c.onset == LATER for c in of_kind)
            assert any(c.onset == SINGLE and c.reps == 1 for c in of_kind)
        assert all(c.reps >= 3 for c in faulty if c.onset == LATER)  # rep 2 or later exists
        assert all(2 <= c.reps <= 5 for c in mine if c.onset in (FIRST, LATER))
        assert len([c for c in mine if not c.fault_kind]) == correct
        assert any(c.reps == 1 for c in mine if not c.fault_kind)
    assert len({c.body for c in clips}) >= 5
    assert {c.body for c in clips} <= {b.name for b in BODY_SHAPES}
    assert len(Counter((c.top, c.bottom) for c in clips)) == len(CLOTHING)
    assert [c for c in real_use_set(2026, frozenset({"squat"}))] == [
        c for c in clips if c.exercise == "squat"
    ]


def _clip(name: str, kind: str, onset: str, reps: int, body: str = "man_average",
          top: str = "fitted") -> RealUseClip:  # fmt: skip
    return RealUseClip(name, "hip_hinge", 0, 1, kind, onset, reps, body, top, "fitted")


def _result(clip: RealUseClip, yaw: float, rows: list[tuple[list[str], list[str]]],
            counted: int) -> RealUseResult:  # fmt: skip
    res = SynthClipResult(clip.name, "hip_hinge", "bodyweight", "", yaw, "side", 100, 100)
    res.true_reps, res.counted_reps = clip.reps, counted
    res.rep_rows = [
        RepComparison(i, True, truth, found, {}, float("nan"), float("nan"))
        for i, (truth, found) in enumerate(rows)
    ]
    return RealUseResult(clip, res)


def test_scoring_splits_recall_by_onset_and_counts_neutral_false_alarms() -> None:
    r = "spine_rounded"
    results = [
        # from rep 1, three reps: found in reps 2 and 3 only (judged against rep 1)
        _result(_clip("a", "lumbar_flexion", FIRST, 3), 5.0,
                [([r], []), ([r], [r]), ([r], [r])], 3),
        # from rep 3: reps 1-2 neutral (a false alarm of knee_first in rep 1), rep 3 found
        _result(_clip("b", "lumbar_flexion", LATER, 3, body="woman_heavy", top="hoodie"), -25.0,
                [([], ["knee_first"]), ([], []), ([r], [r])], 3),
        # a single rep, missed
        _result(_clip("c", "lumbar_flexion", SINGLE, 1), 12.0, [([r], [])], 1),
        # correct, two reps, a spine_rounded false alarm and a rep counted too many
        _result(_clip("d", "", "", 2), 0.0, [([], [r]), ([], [])], 3),
    ]
    s = score(results)["hip_hinge"]
    rounded = s["faults"]["spine_rounded"]
    assert (rounded[FIRST]["hits"], rounded[FIRST]["faulty"]) == (2, 3)
    assert (rounded[LATER]["hits"], rounded[LATER]["faulty"]) == (1, 1)
    assert (rounded[SINGLE]["hits"], rounded[SINGLE]["faulty"]) == (0, 1)
    assert rounded["all"]["recall"] == pytest.approx(3 / 5)
    # neutral reps: b's first two and d's two
    assert (rounded["all"]["false_alarms"], rounded["all"]["neutral"]) == (1, 4)
    knee = s["faults"]["knee_first"]["all"]
    assert (knee["false_alarms"], knee["neutral"], knee["faulty"]) == (1, 4, 0)
    assert s["neutral_reps_any_false_alarm"]["false_alarms"] == 2
    assert s["neutral_reps_any_false_alarm"]["neutral"] == 4
    assert s["reps_exact_rate"] == pytest.approx(0.75)
    assert (s["single_rep_counted_one"], s["single_rep_clips"]) == (1, 1)
    hoodie = s["by"]["clothing"]["hoodie/fitted"]
    assert (hoodie["hits"], hoodie["faulty"]) == (1, 1)
    assert s["by"]["camera"]["20-30 deg"]["faulty"] == 1
    assert set(s["by"]["body"]) == {"man_average", "woman_heavy"}
    summary = {"seed": 1, "frames": 10, "wall_s": 1.0, "real_use": {"hip_hinge": s},
               "synthetic": {"clips": 0, "by_view": {}, "scale_abs_error_pct_median": None,
                             "back_bulge_change_mae_mm": None, "analyzers": {}}}  # fmt: skip
    text = "\n".join(format_real_use_tables(summary))
    assert "spine_rounded" in text and "2/3" in text and "hoodie/fitted" in text


def test_yaw_bands() -> None:
    assert yaw_band(-4.0) == "0-10 deg"
    assert yaw_band(29.9) == "20-30 deg"
    assert yaw_band(35.0) == "30-90 deg"


def test_cli_offers_the_tier() -> None:
    from formcheck.cli import build_parser

    args = build_parser().parse_args(["eval", "--tier", "real-use", "--seed", "7"])
    assert args.tier == "real-use" and args.seed == 7


@pytest.mark.slow
def test_one_real_use_clip_end_to_end(tmp_path, model_path, monkeypatch, capsys) -> None:
    """One single-rep correct squat on the mesh body, rendered, analyzed, scored and printed
    through the CLI."""
    import json

    from formcheck.cli import main
    from formcheck.evaluation import real_use
    from tests.synth.mesh_helpers import need_gl, need_mesh

    need_mesh()
    need_gl()
    monkeypatch.setattr(real_use, "PLAN", {"squat": ((), (), 1)})
    out = tmp_path / "summary.json"
    code = main(["eval", "--tier", "real-use", "--seed", "3", "--cache", str(tmp_path),
                 "--model", str(model_path), "--workers", "1", "--json", str(out)])  # fmt: skip
    assert code == 0
    printed = capsys.readouterr().out
    assert "Real-use renders" in printed and "squat: 1 clips" in printed
    summary = json.loads(out.read_text())
    (clip,) = summary["clips"]
    assert clip["reps"] == 1 and clip["fault_kind"] == ""
    squat = summary["real_use"]["squat"]
    assert squat["single_rep_clips"] == 1
    assert summary["synthetic"]["by_view"]  # the pose was found
    assert (tmp_path / "real-use_3" / "squat_3_00.mask.npz").is_file()
