"""The accuracy harness: its bookkeeping on hand-made data, and a tiny real run vs baseline."""

from __future__ import annotations

import math

import numpy as np
import pytest

from formcheck.evaluation.real_labels import load_labels
from formcheck.evaluation.summary import (
    baseline_seed,
    check_against_baseline,
    summarize_analyzers,
)
from formcheck.evaluation.synthetic import (
    ErrorSum,
    SynthClipResult,
    compare_hold,
    compare_reps,
    eval_set,
    true_hold_s,
)
from tests.conftest import SHARED_VIDEOS
from tests.reports import finding, make_report, rep


def test_eval_set_is_seeded_and_sized():
    a, b = eval_set("quick", 7), eval_set("quick", 7)
    assert a == b and len(a) == 16
    assert eval_set("quick", 8) != a
    with pytest.raises(ValueError, match="tiny"):
        eval_set("nope", 1)


def test_error_sum_pools_like_one_array():
    x, y = np.array([1.0, -2.0, math.nan]), np.array([3.0])
    a, b = ErrorSum(), ErrorSum()
    a.add(x)
    b.add(y)
    a.merge(b)
    assert a.mae == pytest.approx(2.0) and a.count == 3


META = {
    "reps": [
        {"start_s": 1.0, "bottom_start_s": 2.0, "up_start_s": 2.5, "end_s": 4.0},
        {"start_s": 5.0, "bottom_start_s": 6.0, "up_start_s": 6.5, "end_s": 8.0},
        {"start_s": 9.0, "bottom_start_s": 10.0, "up_start_s": 10.5, "end_s": 12.0},
    ],
    "faults": [{"kind": "knee_first", "rep": 1, "size": 300.0},
               {"kind": "lumbar_flexion", "rep": 2, "size": 20.0}],
}
REPS = [
    rep(1, start_s=1.1, end_s=3.9, phases={"down_s": 1.0, "pause_s": 0.4, "up_s": 1.5},
        metrics={"onset_lag_ms": 10.0}, faults=[]),
    rep(2, start_s=5.0, end_s=8.1, phases={"down_s": 1.1, "pause_s": 0.5, "up_s": 1.5},
        metrics={"onset_lag_ms": 260.0}, faults=["knee_first", "spine_rounded"]),
]
REPORT = make_report(reps=REPS)


def test_compare_reps_matches_by_overlap_and_maps_fault_codes():
    rows = compare_reps(META, REPORT)
    assert [r.matched for r in rows] == [True, True, False]
    assert rows[1].true_codes == ["knee_first"] and rows[2].true_codes == ["spine_rounded"]
    assert rows[1].found_codes == ["knee_first", "spine_rounded"]
    assert rows[1].phase_error_s["down_s"] == pytest.approx(0.1)
    assert rows[1].true_lag_ms == 300.0 and rows[1].found_lag_ms == 260.0


def test_rep_level_confusion_counts():
    result = SynthClipResult("c", "hip_hinge", "", "", 0.0, "side", 10, 10, true_reps=3,
                             counted_reps=2, rep_rows=compare_reps(META, REPORT))
    table = summarize_analyzers([result])["hip_hinge"]
    assert table["reps_exact_rate"] == 0.0
    knee = table["faults"]["knee_first"]
    assert (knee["tp"], knee["fn"], knee["fp"], knee["tn"]) == (1, 0, 0, 2)
    spine = table["faults"]["spine_rounded"]
    assert (spine["tp"], spine["fn"], spine["fp"]) == (0, 1, 1)
    assert table["onset_lag_mae_ms"] == pytest.approx(40.0)


def test_baseline_check_flags_drops_only(tmp_path):
    base = tmp_path / "b.json"
    base.write_text('{"t": {"synthetic": {"by_view": {"side": {"detection_rate": 0.99, '
                    '"angle_mae_deg": {"hip_flexion_deg": 3.0}}}}}}')
    good = {"synthetic": {"by_view": {"side": {"detection_rate": 1.0,
                                               "angle_mae_deg": {"hip_flexion_deg": 3.5}}}}}
    bad = {"synthetic": {"by_view": {"side": {"detection_rate": 0.9,
                                              "angle_mae_deg": {"hip_flexion_deg": 4.5}}}}}
    assert check_against_baseline(good, "t", base) == []
    assert len(check_against_baseline(bad, "t", base)) == 2


def test_baseline_seed_tells_a_held_out_set_from_the_baseline_set(tmp_path):
    base = tmp_path / "b.json"
    base.write_text('{"t": {"seed": 2026, "synthetic": {}}, "u": {"synthetic": {}}}')
    assert baseline_seed("t", base) == 2026
    assert baseline_seed("u", base) is None  # recorded before seeds were kept
    assert baseline_seed("v", base) is None
    assert baseline_seed("t", tmp_path / "missing.json") is None


def test_real_labels_parse():
    labels = load_labels(SHARED_VIDEOS)
    if not labels:
        pytest.skip("../shared/videos is absent")
    by_name = {lb.path.name: lb for lb in labels}
    c = by_name["0016c_1.mp4"]
    assert c.reps == 10 and c.faults == frozenset() and len(c.rep_times_s) == 10
    assert by_name["0016a_1.mp4"].faults is None
    assert by_name["0016r_1.mp4"].faults == frozenset({"spine_rounded"})


@pytest.mark.slow
def test_tiny_synthetic_eval_meets_committed_baseline(tmp_path, model_path):
    """Renders two randomized hinges, runs the whole pipeline, compares with the baseline:
    detection, angle errors against truth and rep counts (fault rates need the larger tiers,
    which `formcheck eval --quick` checks)."""
    from formcheck.evaluation.runner import run_eval

    summary = run_eval(tier="tiny", cache_dir=tmp_path, model=model_path, workers=2,
                       log=lambda _: None)
    failures = check_against_baseline(summary, "tiny", include_faults=False)
    assert failures == [], failures


def test_small_faults_are_not_scored_and_tempo_codes_group():
    tempo = {"down_s": 1.0, "pause_s": 0.5, "up_s": 1.5, "rest_s": 1.0}  # 3 s moving
    meta = {
        "exercise": "hip_hinge",
        "spec": {"prescribed_tempo": tempo, "motion": {"tempo": tempo}},
        "reps": META["reps"],
        "faults": [{"kind": "lumbar_extension", "rep": 1, "size": 12.0},
                   {"kind": "tempo", "rep": 0, "size": 1.5},  # 50% quicker: a fault
                   {"kind": "tempo", "rep": 2, "size": 0.6}],  # 20%: inside the tolerance
    }
    report = make_report(reps=[dict(REPS[0], faults=["tempo_up_fast"]), REPS[1]])
    rows = compare_reps(meta, report)
    assert rows[1].true_codes == [] and rows[1].ignored_codes == ["spine_arched"]
    assert rows[0].true_codes == ["tempo_fast"] and rows[0].found_codes == ["tempo_fast"]
    assert rows[2].true_codes == [] and rows[2].ignored_codes == ["tempo_fast"]
    result = SynthClipResult("c", "hip_hinge", "", "", 0.0, "side", 10, 10, true_reps=3,
                             counted_reps=3, rep_rows=rows)
    table = summarize_analyzers([result])["hip_hinge"]
    assert table["faults"]["tempo_fast"]["recall"] == 1.0
    assert "spine_arched" not in table["faults"]


def test_hold_compares_whole_clip_and_hold_time():
    meta = {"reps": [], "phases": [{"name": "still", "start_s": 0.0, "end_s": 1.5},
                                   {"name": "hold", "start_s": 1.5, "end_s": 7.5}],
            "faults": [{"kind": "plank_sag", "rep": None, "size": -60.0}]}
    assert true_hold_s(meta) == 7.5
    row = compare_hold(meta, make_report(findings=[finding("hip_pike"), finding("tempo_up_fast")]))
    assert row.true_codes == ["hip_pike"] and row.found_codes == ["hip_pike", "tempo_fast"]
    result = SynthClipResult("p", "forearm_plank", "", "", 0.0, "side", 10, 10, counted_reps=0,
                             rep_rows=[row], true_hold_s=7.5, found_hold_s=6.9)
    table = summarize_analyzers([result])["forearm_plank"]
    assert table["hold_mae_s"] == pytest.approx(0.6) and table["hold_within_tolerance_rate"] == 0.0


def test_balanced_tier_alternates_correct_and_each_fault():
    clips = eval_set("lib", 7, frozenset({"plank"}))
    assert {c.exercise for c in clips} == {"forearm_plank"}
    assert [c.fault_kind for c in clips[:4]] == ["", "plank_sag", "", "plank_sag"]
    squat = eval_set("lib", 7, frozenset({"squat"}))
    kinds = {c.fault_kind for c in squat if c.fault_kind}
    assert len(kinds) == 6  # every fault the renderer has for a squat
    assert eval_set("lib", 7)[0].seed == squat[0].seed  # the filter leaves seeds alone


def test_new_exercises_come_last_so_earlier_clips_keep_their_seeds(monkeypatch):
    from formcheck.evaluation import synthetic
    from formcheck.synth.exercises import motion_class

    with_lunge = eval_set("lib", 2026)
    tiers = dict(synthetic.TIERS)
    tiers["lib"] = tuple(entry for entry in tiers["lib"] if entry[0] != "lunge")
    monkeypatch.setattr(synthetic, "TIERS", tiers)
    assert [c for c in with_lunge if c.exercise != "lunge"] == eval_set("lib", 2026)
    lunges = [c for c in with_lunge if c.exercise == "lunge"]
    assert len(lunges) == 10
    kinds = motion_class("lunge").supported_faults
    assert {c.fault_kind for c in lunges} == {"", *kinds}  # correct and each fault
    assert {synthetic.FAULT_CODES[k] for k in kinds} == {
        "spine_rounded", "trunk_lean", "knee_travel", "tempo_fast"
    }
