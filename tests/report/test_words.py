"""Plain words: every fault code of every exercise and every not-judged reason has them."""

from __future__ import annotations

from formcheck.analyzers import exercise_names, get_spec
from formcheck.analyzers.checks.condition import NotJudged
from formcheck.report.advice import NOT_JUDGED_ADVICE
from formcheck.report.words import FAULTS, NOT_JUDGED


def test_every_fault_code_in_every_spec_has_a_plain_name_and_explanation() -> None:
    for name in exercise_names():
        for code in get_spec(name).faults:
            words = FAULTS.get(code)
            assert words is not None, f"{name}: {code} has no plain name"
            assert words.name and words.explanation.endswith("."), code
            assert "_" not in words.name, code


def test_every_not_judged_reason_has_words_and_advice() -> None:
    for reason in NotJudged:
        assert NOT_JUDGED[reason]
        assert reason in NOT_JUDGED_ADVICE
