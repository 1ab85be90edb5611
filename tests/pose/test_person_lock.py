"""Locking onto one person when several are visible."""

from __future__ import annotations

import numpy as np

from formcheck.pose.estimator import Candidate, PersonLock
from formcheck.pose.landmarks import NUM_LANDMARKS


def _person(centre_x: float, height_px: float, index: int, centre_y: float = 240.0) -> Candidate:
    px = np.zeros((NUM_LANDMARKS, 3))
    px[:, 0] = centre_x + np.linspace(-height_px * 0.1, height_px * 0.1, NUM_LANDMARKS)
    px[:, 1] = centre_y + np.linspace(-height_px / 2, height_px / 2, NUM_LANDMARKS)
    return Candidate(px, np.zeros((NUM_LANDMARKS, 3)), np.ones(NUM_LANDMARKS), index)


def test_start_takes_the_largest_most_central_person():
    lock = PersonLock()
    small_centre = _person(320, 150, 0)
    big_side = _person(560, 300, 1)
    big_centre = _person(330, 300, 2)
    chosen = lock.choose([small_centre, big_side, big_centre], 640, 480)
    assert chosen is big_centre


def test_keeps_the_locked_person_when_someone_bigger_walks_in():
    lock = PersonLock()
    first = _person(300, 250, 0)
    assert lock.choose([first], 640, 480) is first
    moved = _person(310, 250, 0)
    intruder = _person(500, 400, 1)
    assert lock.choose([intruder, moved], 640, 480) is moved


def test_refuses_a_jump_to_someone_else():
    lock = PersonLock()
    lock.choose([_person(150, 250, 0)], 640, 480)
    # The tracked person is gone and only someone far away is detected.
    assert lock.choose([_person(520, 250, 0)], 640, 480) is None
    lock.release()
    assert lock.choose([_person(520, 250, 0)], 640, 480) is not None
