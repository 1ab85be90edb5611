"""The back-shape checks against the person's reference posture."""

from __future__ import annotations

import math

from formcheck.analyzers.checks import back
from formcheck.analyzers.checks.condition import NotJudged


def test_the_back_is_judged_only_in_a_comparable_posture() -> None:
    assert back.rounded(8.0, 4.0, None).active is True
    assert back.rounded(3.0, 4.0, None).active is False
    assert back.rounded(8.0, 4.0, NotJudged.POSTURE).reason == "posture_not_comparable"
    assert back.arched(5.0, 4.0, None).code == "spine_arched"


def test_posture_comparability() -> None:
    assert back.deep_enough(60.0, 50.0, 25.0, 20.0)
    assert not back.deep_enough(40.0, 50.0, 25.0, 20.0)
    assert back.posture_off_deg(30.0, (20.0, 25.0)) == 10.0
    assert math.isnan(back.posture_off_deg(30.0, (math.nan, math.nan)))


def test_a_rounded_back_takes_the_cue_from_the_head() -> None:
    rounded = back.rounded(8.0, 4.0, None)
    head = back.head_forward(30.0, 15.0, None)
    assert back.unless_rounded(rounded, head).active is None
    straight = back.rounded(1.0, 4.0, None)
    assert back.unless_rounded(straight, head).active is True


def test_the_larger_change_keeps_its_sign() -> None:
    assert back.signed_larger(6.0, 2.0) == 6.0
    assert back.signed_larger(1.0, -5.0) == -5.0
    assert back.signed_larger(-1.0, 2.0) == 0.0
    assert math.isnan(back.signed_larger(math.nan, 1.0))


def test_why_a_back_was_not_judged() -> None:
    assert back.why_not(math.nan, 1.0, True, True) == NotJudged.BACK_HIDDEN
    assert back.why_not(5.0, math.nan, True, True) == NotJudged.NO_REFERENCE
    assert back.why_not(5.0, 1.0, False, True) == NotJudged.NOT_DEEP
    assert back.why_not(5.0, 1.0, True, False) == NotJudged.POSTURE
    assert back.why_not(5.0, 1.0, True, True) is None
