"""Analyzer engine: registry, specs, prescriptions, settings, signals, cue policy, holds."""

from __future__ import annotations

import argparse
import json
import math
import tomllib
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from formcheck.analyzers import (
    Analyzer,
    HoldProgress,
    Phase,
    PhaseChanged,
    exercise_names,
    get_analyzer,
    get_spec,
    list_analyzers,
    load_prescription,
)
from formcheck.analyzers.checks.condition import Condition
from formcheck.analyzers.engine.findings import CuePolicy, Persistence
from formcheck.analyzers.engine.scoring import form_frays_at
from formcheck.analyzers.errors import PrescriptionError, SpecError
from formcheck.analyzers.events import Finding, Severity
from formcheck.analyzers.signals import fill_gaps, moving_average, onset_backward, onset_time
from formcheck.analyzers.spec import (
    SPEC_DIR,
    Tempo,
    apply_prescription,
    load_spec,
    prescription_from_mapping,
    spec_from_mapping,
)
from formcheck.analyzers.testing import frame_times, make_sample, run
from formcheck.analyzers.window import SampleBuffer
from formcheck.errors import FormcheckError, UnknownExerciseError
from formcheck.settings import (
    AnalysisSettings,
    add_setting_flags,
    setting_fields,
    settings_from_args,
)
from formcheck.types import CameraView
from tests.reports import report_of

# keys that are counts, ratios or names, so carry no unit
_UNITLESS_KEYS = {
    "name", "description", "camera_placement", "mode", "primary_signal", "direction",
    "noise_k", "spoken_per_rep_max", "priority", "reference_reps", "fray_min_reps",
    "onset_exponent_min", "onset_exponent_max", "hip_knee_ratio_min", "accepted_views",
    "view_hint", "view_hint_message", "onset_fit_fractions", "avoid_threshold_factor",
    "camera_level",
    "excess_factor_max", "min_valid_fraction", "tolerance_fraction", "joint_signals",
    "bounding_signals", "joint_fit_rms_max_fraction", "knee_fit_rms_max_fraction",
    "provider", "measure", "joints", "posture", "groups", "reference_measures", "faults",
    "spine_measure", "own_reference_reps", "knee_share_ratio_drop_max", "outline_seen_share_min",
    "analyzer",
}  # fmt: skip
_UNIT_SUFFIXES = ("_deg", "_mm", "_ms", "_s", "_deg_s", "_mm_s", "_pct", "_points", "_fractions")
# Dimensionless quantities say so in their names.
_UNITLESS_SUFFIXES = ("_fraction", "_ratio", "_factor", "_count", "_reps", "_signals", "_measure")


# ----- registry ---------------------------------------------------------------------------------
def test_unknown_exercise_error_lists_valid_names() -> None:
    with pytest.raises(UnknownExerciseError) as info:
        get_analyzer("jumping_jack")
    assert "hip_hinge" in str(info.value)
    assert isinstance(info.value, FormcheckError)


@pytest.mark.parametrize("name", exercise_names())
def test_every_spec_names_an_analyzer_that_runs(name: str) -> None:
    analyzer = get_analyzer(name)
    assert analyzer.spec.name == name  # the file name is the exercise's name
    assert analyzer.finish().exercise == name


def test_spec_naming_a_missing_analyzer_is_a_spec_error() -> None:
    spec = get_spec("hip_hinge").model_copy(update={"analyzer": "nowhere:Nothing"})
    with pytest.raises(SpecError, match="does not exist"):
        get_analyzer("hip_hinge", spec=spec)


def test_list_analyzers_describes_camera_placement() -> None:
    infos = {i.name: i for i in list_analyzers()}
    assert "hip_hinge" in infos
    assert "side" in infos["hip_hinge"].camera_placement.lower()


# ----- specs ------------------------------------------------------------------------------------
def _leaf_keys(table: dict[str, object], prefix: str = "") -> list[tuple[str, object]]:
    out: list[tuple[str, object]] = []
    for key, value in table.items():
        if key == "severity":  # fault code -> severity name
            continue
        if key == "plausible":  # unit -> its physical range: the key is the unit
            continue
        if isinstance(value, dict) and key not in {"default_noise_floor", "penalty_points"}:
            out += _leaf_keys(value, f"{prefix}{key}.")
        elif key == "measures" and isinstance(value, list):  # [[measures]]: provider settings
            for entry in value:
                out += _leaf_keys(entry, f"{prefix}{key}.")
        else:
            out.append((f"{prefix}{key}", value))
    return out


@pytest.mark.parametrize("path", sorted(SPEC_DIR.glob("*.toml")), ids=lambda p: p.stem)
def test_spec_toml_has_units_in_every_key(path: Path) -> None:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    if not path.stem.startswith("_"):
        load_spec(path)  # validates (over the engine defaults)
    for key, value in _leaf_keys(data):
        leaf = key.rsplit(".", 1)[-1]
        if isinstance(value, bool):
            continue  # switches carry no unit
        if key.startswith(("avoid_codes.", "scoring.penalty_points", "calibration.default_noise")):
            continue
        unitless = leaf in _UNITLESS_KEYS or leaf.endswith(_UNITLESS_SUFFIXES)
        assert unitless or leaf.endswith(_UNIT_SUFFIXES), key
    for measure in data.get("calibration", {}).get("default_noise_floor", {}):
        assert measure.endswith(("_deg", "_mm")), measure


def test_spec_values_reach_the_model() -> None:
    spec = get_spec("hip_hinge")
    assert spec.phase.primary_signal == "hip_flexion_deg"
    assert spec.phase.return_start_deg < spec.phase.leave_start_deg
    assert spec.cues.priority[0] == "spine_rounded"


def test_bad_spec_raises_one_sentence(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\ndescription = "d"\ncamera_placement = "c"\n'
                   '[phase]\nprimary_signal = "hip_height_mm"\n')  # fmt: skip
    with pytest.raises(SpecError) as info:
        load_spec(bad)
    assert str(info.value).endswith(".")
    with pytest.raises(SpecError):
        load_spec(tmp_path / "missing.toml")


def test_spec_rejects_inverted_hysteresis() -> None:
    data = get_spec("hip_hinge").model_dump()
    data["phase"]["return_start_deg"] = data["phase"]["leave_start_deg"] + 1
    with pytest.raises(SpecError):
        spec_from_mapping(data, "test")


# ----- prescriptions and settings ----------------------------------------------------------------
def test_tempo_parses_down_pause_up() -> None:
    tempo = Tempo.parse("3-1-2")
    assert (tempo.down_s, tempo.pause_s, tempo.up_s, tempo.top_s) == (3.0, 1.0, 2.0, 0.0)
    assert Tempo.parse("4-2-4-1").top_s == 1.0
    for bad in ("3-1", "fast", "3-x-2", "-1-1-1"):
        with pytest.raises(PrescriptionError):
            Tempo.parse(bad)


def test_prescription_from_toml_and_json(tmp_path: Path) -> None:
    toml_file = tmp_path / "p.toml"
    toml_file.write_text('exercise = "hip_hinge"\nreps = 8\ntempo = "3-1-2"\n'
                         'avoid = ["spine_flexion"]\n'
                         '[overrides]\n"checks.curve_rounded_min_mm" = 6.0\n')  # fmt: skip
    json_file = tmp_path / "p.json"
    json_file.write_text(json.dumps({"exercise": "hip_hinge", "hold_s": 20, "tempo": "4-2-4"}))
    p = load_prescription(toml_file)
    assert p.reps == 8 and p.tempo is not None and p.tempo.down_s == 3.0
    assert load_prescription(json_file).hold_s == 20
    spec = apply_prescription(get_spec("hip_hinge"), p)
    assert spec.checks["curve_rounded_min_mm"] == 6.0
    analyzer = get_analyzer("hip_hinge", prescription=p)
    assert analyzer.threshold_scale("spine_rounded") < 1.0
    assert analyzer.threshold_scale("knee_first") == 1.0


@pytest.mark.parametrize(
    "data",
    [
        {"exercise": "hip_hinge", "overrides": {"checks.no_such_mm": 1.0}},
        {"exercise": "hip_hinge", "overrides": {"nowhere.at_all_s": 1.0}},
        {"exercise": "hip_hinge", "avoid": ["sideways"]},
        {"exercise": "squat"},
    ],
)
def test_prescription_errors(data: dict[str, object]) -> None:
    with pytest.raises(PrescriptionError):
        get_analyzer("hip_hinge", prescription=prescription_from_mapping(data, "test"))


def test_settings_feed_prescription_and_list_fields(tmp_path: Path) -> None:
    file = tmp_path / "p.toml"
    file.write_text('exercise = "hip_hinge"\nreps = 5\ntempo = "2-0-2"\n')
    settings = AnalysisSettings(prescription=file, tempo="3-1-2", noise_k=2.0)
    p = settings.resolve()
    assert p.reps == 5 and p.tempo == Tempo.parse("3-1-2")
    assert p.overrides["cues.noise_k"] == 2.0
    assert get_analyzer("hip_hinge", prescription=p).spec.cues.noise_k == 2.0
    flags = {f.flag: f for f in setting_fields()}
    assert "--tempo" in flags and "--noise-k" in flags and flags["--avoid"].repeatable
    toml_settings = tmp_path / "s.toml"
    toml_settings.write_text('exercise = "hip_hinge"\nreps = 3\n')
    assert AnalysisSettings.from_toml(toml_settings).reps == 3
    with pytest.raises(PrescriptionError):
        AnalysisSettings.from_mapping({"reps": 0})


# ----- signals ----------------------------------------------------------------------------------
def _profile(kind: str, tau: np.ndarray) -> np.ndarray:
    tau = np.clip(tau, 0.0, 1.0)
    if kind == "cosine":
        out: np.ndarray = (1 - np.cos(np.pi * tau)) / 2
    elif kind == "min_jerk":
        out = 10 * tau**3 - 15 * tau**4 + 6 * tau**5
    else:
        out = tau
    return out


@pytest.mark.parametrize("kind", ["cosine", "min_jerk", "linear"])
@pytest.mark.parametrize("fps", [30.0, 60.0])
def test_onset_is_located_between_frames(kind: str, fps: float) -> None:
    onset_s, duration_s = 1.013, 1.5
    t = np.arange(0.0, 4.0, 1 / fps)
    x = 5.0 + 80.0 * _profile(kind, (t - onset_s) / duration_s)
    # a minimum-jerk start is the hardest (flattest): its onset is found a little late
    tolerance_s = 0.1 if kind == "min_jerk" else 0.05
    found = onset_time(t, x, 5.0, 85.0, (0.1, 0.3), (1.0, 4.0))
    assert abs(found.t_s - onset_s) < tolerance_s
    # the same fit backwards in time finds where the movement ended
    end = onset_backward(t, x, 85.0, 5.0, (0.1, 0.3), (1.0, 4.0))
    assert abs(end.t_s - (onset_s + duration_s)) < tolerance_s


def test_moving_average_and_gap_filling_use_time() -> None:
    t = np.array([0.0, 0.1, 0.2, 0.3, 1.5, 1.6])
    x = np.array([0.0, math.nan, 2.0, 3.0, math.nan, 5.0])
    filled = fill_gaps(t, x, max_gap_s=0.5)
    assert filled[1] == pytest.approx(1.0) and math.isnan(filled[4])
    smooth = moving_average(t, x, 0.25)
    assert smooth[0] == pytest.approx(0.0) and smooth[2] == pytest.approx(2.5)


# ----- cue policy -------------------------------------------------------------------------------
def _cond(active: bool | None, value: float = 12.0) -> Condition:
    return Condition("spine_rounded", active, value, 8.0, "mm")


@pytest.mark.parametrize("fps", [30.0, 60.0])
def test_persistence_counts_video_time_not_frames(fps: float) -> None:
    p = Persistence(persistence_s=0.15)
    fired = [p.update(i / fps, _cond(True)) for i in range(int(0.1 * fps))]
    assert not any(fired)
    p.update(0.11, _cond(False))
    fired = [p.update(0.2 + i / fps, _cond(True, 10 + i)) for i in range(int(0.3 * fps))]
    hits = [f for f in fired if f is not None]
    assert len(hits) == 1  # fires once per rep
    first = next(i for i, f in enumerate(fired) if f is not None)
    assert first / fps == pytest.approx(0.15, abs=1.01 / fps)
    p.update(1.0, _cond(None))  # an unknown frame does not reset the run
    assert p.worst("spine_rounded") >= 10 + first


def _finding(code: str, rep: int, t_s: float, severity: Severity) -> Finding:
    return Finding(code, severity, rep, t_s, 1.0, 1.0, "mm", code)


def test_cue_policy_speaks_safety_first_once_per_rep_with_cooldown() -> None:
    cues = get_spec("hip_hinge").cues
    policy = CuePolicy(
        cues.model_copy(update={"priority": ["spine_rounded", "knee_first"], "cooldown_s": 5.0})
    )
    cues = policy.decide([
        _finding("knee_first", 1, 1.0, Severity.WARNING),
        _finding("spine_rounded", 1, 1.0, Severity.SAFETY),
    ])  # fmt: skip
    assert [c.code for c in cues] == ["spine_rounded", "knee_first"]
    assert [c.spoken for c in cues] == [True, False]
    assert not policy.decide([_finding("spine_rounded", 2, 3.0, Severity.SAFETY)])[0].spoken
    assert policy.decide([_finding("knee_first", 2, 3.5, Severity.WARNING)])[0].spoken
    assert policy.decide([_finding("spine_rounded", 3, 6.5, Severity.SAFETY)])[0].spoken


def test_form_fray_is_where_scores_drop_and_stay_down() -> None:
    spec = get_spec("hip_hinge").scoring.model_copy(
        update={"fray_drop_points": 15.0, "fray_min_reps": 2}
    )
    assert form_frays_at([100, 95, 100, 60, 100, 70, 65, 60], 2, spec) == 6
    assert form_frays_at([100, 100, 60, 100], 2, spec) is None  # recovered
    assert form_frays_at([100, 100, 100, 70], 2, spec) is None  # a single last rep
    assert form_frays_at([90, 90], 2, spec) is None


# ----- the generic engine: holds and setup hints --------------------------------------------------
def _hold_spec() -> Analyzer[Any]:
    data = get_spec("hip_hinge").model_dump()
    data.update(name="test_hold", mode="hold", checks={})
    data["hold"].update({"enter_deg": 30.0, "exit_deg": 20.0, "target_s": 3.0,
                         "break_max_s": 0.5, "progress_interval_s": 1.0})  # fmt: skip
    return Analyzer(spec_from_mapping(data, "test"))


@pytest.mark.parametrize("fps", [25.0, 60.0])
def test_hold_is_timed_from_timestamps(fps: float) -> None:
    def depth(t: float) -> float:
        return 45.0 if 2.0 <= t < 7.0 and not 4.0 <= t < 4.2 else 3.0

    samples = [make_sample(t * 1000, {"hip_flexion_deg": depth(t)}) for t in
               frame_times(9.0, fps)]  # fmt: skip
    events, summary = run(_hold_spec(), samples)
    progress = [e for e in events if isinstance(e, HoldProgress)]
    assert progress and progress[0].target_s == 3.0
    assert summary.hold_s == pytest.approx(5.0, abs=0.1 + 2 / fps)
    phases = [e.phase for e in events if isinstance(e, PhaseChanged)]
    assert phases == [Phase.HOLD, Phase.TOP]  # the 0.2 s break is bridged
    block = report_of(summary).summary  # a hold's summary reads into the report
    assert block is not None and block.hold_s == pytest.approx(summary.hold_s, abs=1e-3)


def test_standing_history_stays_bounded() -> None:
    analyzer = get_analyzer("hip_hinge")
    for t in frame_times(120.0, 30.0):
        analyzer.update(make_sample(t * 1000, {"hip_flexion_deg": 4.0, "back_bulge_mm": -10.0}))
    history_s = analyzer._buffer.t_s[-1] - analyzer._buffer.t_s[0]
    assert history_s < 10.0
    assert not analyzer.finish().reps


def test_cli_flags_come_from_the_settings_model() -> None:
    parser = argparse.ArgumentParser()
    add_setting_flags(parser)
    args = parser.parse_args(["--tempo", "3-1-2", "--reps", "8", "--avoid", "spine_flexion"])
    settings = settings_from_args(args)
    assert settings.reps == 8 and settings.avoid == ["spine_flexion"]
    assert settings.exercise == "hip_hinge"
    assert settings.resolve().tempo == Tempo.parse("3-1-2")


def test_held_s_times_the_hold_at_the_furthest_value_not_the_move_to_it() -> None:
    # a knee angle rising 60 deg/s for 1 s, then held within 1 deg for 0.5 s (30 frames/s)
    buffer = SampleBuffer()
    fps, hold_from = 30.0, 1.0
    for i in range(46):
        t = i / fps
        knee = 60.0 * min(t, hold_from) + (0.5 if i % 2 else -0.5) * (t > hold_from)
        buffer.append(t, {"knee": knee, "gap": math.nan}, CameraView.SIDE)
    assert buffer.held_s("knee", 3.0, 2.0, increase=True) == pytest.approx(0.5, abs=0.05)
    # a falling signal's hold is at its lowest; the rise alone is no hold
    assert buffer.held_s("knee", 3.0, 2.0, increase=False) == 0.0
    assert buffer.held_s("gap", 3.0, 2.0, increase=True) == 0.0
    assert buffer.frames_within(0.5) == 16


def test_a_glitch_of_a_few_frames_is_no_rep_nor_attempt() -> None:
    # landmarks jumping onto a barbell plate for two frames read as a 60 deg hip bend
    from formcheck.analyzers.testing import make_sample, run

    samples = []
    for i in range(150):
        hip = 60.0 if i in (70, 71) else 4.0
        samples.append(make_sample(i * 1000.0 / 30.0, {"hip_flexion_deg": hip}))
    _, summary = run(get_analyzer("hip_hinge"), samples)
    assert summary.reps == [] and summary.attempts == []
