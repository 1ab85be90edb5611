"""Micro-progressions from the rules and a synthetic history: progress when the targets were
met for N sessions without spine findings or more pain; step back when form frays earlier
or pain rises; each suggestion names its numbers."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from formcheck.people.programmes import (
    ProgrammeError,
    parse_prescription,
    parse_rules,
    prescription_json,
)
from formcheck.people.progress import SessionPoint
from formcheck.people.suggestions import HistoryEntry, suggest

START = dt.datetime(2026, 2, 2, tzinfo=dt.UTC)
BRIDGE = parse_prescription("glute_bridge", {"reps": 10, "tempo": "2-1-2"})
RULES = parse_rules({"sessions_required": 3,
                     "steps": [{"kind": "tempo_down", "step": 2, "limit": 4},
                               {"kind": "reps", "step": 2, "limit": 14}]})  # fmt: skip


def entry(
    number: int,
    *,
    reps: int = 10,
    pain: int | None = 2,
    on_tempo: int = 10,
    spine: int = 0,
    fray: int | None = None,
    prescription: dict[str, Any] | None = None,
) -> HistoryEntry:
    measures = {"reps": reps, "rep_on_tempo": [True] * on_tempo + [False] * (reps - on_tempo),
                "spine_findings": spine, "form_frays_at_rep": fray}  # fmt: skip
    point = SessionPoint(number, START + dt.timedelta(days=2 * number), measures, pain=pain)
    return HistoryEntry(point, prescription or prescription_json(BRIDGE))


def test_targets_met_three_times_suggest_the_next_step_naming_the_numbers() -> None:
    proposal = suggest(BRIDGE, RULES, [entry(1), entry(2, reps=11), entry(3, pain=1)])
    assert proposal is not None and proposal.kind == "progress"
    assert proposal.proposed.tempo is not None and proposal.proposed.tempo.down_s == 4
    assert proposal.proposed.reps == 10
    for words in ("reps 10, 11, 10 of 10", "tempo kept in 100%, 91%, 100%", "pain 2, 2, 1",
                  "baseline 2", "down phase 2 s → 4 s"):  # fmt: skip
        assert words in proposal.reason
    assert proposal.basis["sessions"] == [1, 2, 3] and proposal.basis["pain_baseline"] == 2


def test_after_the_tempo_limit_the_reps_grow() -> None:
    slower = parse_prescription("glute_bridge", {"reps": 10, "tempo": "4-1-2"})
    history = [entry(n, prescription=prescription_json(slower)) for n in (1, 2, 3)]
    proposal = suggest(slower, RULES, history)
    assert proposal is not None and proposal.proposed.reps == 12
    assert "reps 10 → 12" in proposal.reason


@pytest.mark.parametrize(
    "spoiler",
    [{"reps": 8}, {"spine": 1}, {"pain": 3}, {"pain": None}, {"on_tempo": 7}],
    ids=["reps short", "spine finding", "pain above baseline", "pain not rated", "tempo lost"],
)
def test_one_session_short_of_the_targets_means_no_suggestion(spoiler: dict[str, Any]) -> None:
    assert suggest(BRIDGE, RULES, [entry(1), entry(2), entry(3, **spoiler)]) is None


def test_sessions_at_an_older_prescription_do_not_count() -> None:
    old = {"reps": 8, "tempo": "2-1-2"}
    assert suggest(BRIDGE, RULES, [entry(1, prescription=old), entry(2), entry(3)]) is None


def test_pain_rising_two_points_steps_back_to_the_previous_prescription() -> None:
    history = [entry(1), entry(2), entry(3, pain=4)]
    previous = {"reps": 8, "tempo": "2-1-2"}
    proposal = suggest(BRIDGE, RULES, history, previous)
    assert proposal is not None and proposal.kind == "step_back"
    assert proposal.proposed.reps == 8
    assert "pain 4 is 2 above the baseline 2" in proposal.reason


def test_form_fraying_earlier_steps_back_one_step() -> None:
    history = [entry(1, fray=9), entry(2, fray=9), entry(3, fray=8), entry(4, fray=5)]
    slower = parse_prescription("glute_bridge", {"reps": 10, "tempo": "4-1-2"})
    proposal = suggest(slower, RULES, history)
    assert proposal is not None and proposal.kind == "step_back"
    assert proposal.proposed.tempo is not None and proposal.proposed.tempo.down_s == 2
    assert "form frayed at rep 5, 4 reps earlier than the baseline's rep 9" in proposal.reason


def test_bad_rules_and_prescriptions_are_refused_plainly() -> None:
    with pytest.raises(ProgrammeError, match="steps"):
        parse_rules({"steps": [{"kind": "faster", "step": 1, "limit": 2}]})
    with pytest.raises(ProgrammeError, match="prescription"):
        parse_prescription("glute_bridge", {"tempo": "fast"})


@pytest.mark.parametrize("step", [{"step": 2.5, "limit": 14}, {"step": 2, "limit": 13.5}])
def test_a_reps_step_is_whole(step: dict[str, float]) -> None:
    """A reps step of 2.5 was suggested as "reps 10 -> 12.5" and applied as 12."""
    with pytest.raises(ProgrammeError, match="whole numbers"):
        parse_rules({"steps": [{"kind": "reps", **step}]})
    assert parse_rules({"steps": [{"kind": "hold", **step}]}).steps[0].step == step["step"]
