"""Standing exercises' providers: the knee angle for the set's view, the spike filter."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from formcheck.analyzers.testing import make_sample
from formcheck.kinematics import names as m
from formcheck.kinematics.geometry import flexion_deg
from formcheck.kinematics.measures import knee_flexion_deg
from formcheck.kinematics.providers.legs import KneeByView, SpikeFilter
from formcheck.pose.landmarks import NUM_LANDMARKS, Landmark
from formcheck.types import PoseFrame, Sample

FPS = 30.0


def test_spike_filter_passes_smooth_movement_unchanged() -> None:
    filt = SpikeFilter(m.KNEE_FLEXION_DEG, 0.1, 20.0)
    values = [10.0 * i for i in range(10)]  # 300 deg/s at 30 fps
    out = [
        filt(make_sample(i * 1000.0 / FPS, {m.KNEE_FLEXION_DEG: v})).get(m.KNEE_FLEXION_DEG)
        for i, v in enumerate(values)
    ]
    assert out == values


def with_mid_knee(sample: Sample) -> Sample:
    """The squat's knee provider on a side view (camera yaw 0)."""
    return KneeByView(60.0, lambda name: 0.0)(sample)


def _legs_sample(
    near_knee_deg: float,
    left: dict[str, tuple[float, float]],
    right: dict[str, tuple[float, float]],
) -> Sample:
    p = np.zeros((NUM_LANDMARKS, 3))
    for side, joints in (("LEFT", left), ("RIGHT", right)):
        for joint, xy in joints.items():
            p[Landmark[f"{side}_{joint}"], :2] = xy
    pose = PoseFrame(0.0, 640, 480, p, visibility=np.full(NUM_LANDMARKS, 0.9))
    # each leg's own angle, as the pipeline measures it
    measures = {
        f"{side}_{m.KNEE_FLEXION_DEG}": knee_flexion_deg(p, side) for side in ("left", "right")
    }
    measures[m.KNEE_FLEXION_DEG] = near_knee_deg
    return replace(make_sample(0.0, measures), pose=pose)


def test_side_view_knee_angle_is_both_legs_midpoints() -> None:
    # the far leg is a guess reading its knee 25 deg off the near one, and the pipeline's
    # near side switched between them: the midpoints give one angle whichever it took
    near = {"HIP": (300.0, 200.0), "KNEE": (380.0, 260.0), "ANKLE": (330.0, 360.0)}
    far = {"HIP": (300.0, 200.0), "KNEE": (395.0, 245.0), "ANKLE": (330.0, 360.0)}
    angles = {
        with_mid_knee(_legs_sample(k, near, far)).get(m.KNEE_FLEXION_DEG) for k in (91.0, 116.0)
    }
    assert len(angles) == 1
    mid_knee = np.array([387.5, 252.5])
    expected = flexion_deg(np.array([300.0, 200.0]), mid_knee, np.array([330.0, 360.0]))
    assert angles.pop() == pytest.approx(expected)
    # a leg folded beyond the knee's range is a misplaced landmark: the pipeline's value
    # (already from the other leg) is kept
    folded = {"HIP": (300.0, 200.0), "KNEE": (380.0, 260.0), "ANKLE": (305.0, 205.0)}
    kept = with_mid_knee(_legs_sample(4.0, near, folded)).get(m.KNEE_FLEXION_DEG)
    assert kept == 4.0


def _split_sample(front_x: float, rear_x: float, swap_knees: bool = False) -> Sample:
    """A split stance facing image left (forward is -x): the left leg's joints at
    ``front_x``, the right leg's at ``rear_x`` (knees swapped between the labels when
    ``swap_knees``, as MediaPipe does in side views)."""
    p = np.zeros((NUM_LANDMARKS, 3))
    p[Landmark.LEFT_HIP, :2] = p[Landmark.RIGHT_HIP, :2] = (320.0, 250.0)
    knees = {"LEFT": front_x - 40.0, "RIGHT": rear_x + 10.0}
    if swap_knees:
        knees = {"LEFT": knees["RIGHT"], "RIGHT": knees["LEFT"]}
    for side, ankle_x in (("LEFT", front_x), ("RIGHT", rear_x)):
        p[Landmark[f"{side}_KNEE"], :2] = (knees[side], 330.0)
        p[Landmark[f"{side}_ANKLE"], :2] = (ankle_x, 400.0)
        p[Landmark[f"{side}_FOOT_INDEX"], :2] = (ankle_x - 30.0, 410.0)  # toes forward
    pose = PoseFrame(0.0, 640, 480, p, visibility=np.full(NUM_LANDMARKS, 0.9))
    return replace(make_sample(0.0, {m.MM_PER_PX: 2.0}), pose=pose)  # facing image left


def test_split_stance_reads_the_front_leg_from_where_the_joints_are() -> None:
    from formcheck.kinematics.providers.legs import SplitStance

    provider = SplitStance(stride_min_mm=150.0)
    out = provider(_split_sample(200.0, 400.0))
    assert out.get(m.FRONT_LEG_RIGHT_FLAG) == 0.0  # the label of the front ankle
    # the front knee 10 px ahead of its toes (facing left): +10 px x 2 mm/px
    assert out.get(m.FRONT_KNEE_PAST_TOES_MM) == pytest.approx(20.0)
    assert out.get(m.FRONT_KNEE_FLEXION_DEG) > out.get(m.REAR_KNEE_FLEXION_DEG) - 90.0
    # MediaPipe swapping the knees' labels does not move the front knee
    swapped = provider(_split_sample(200.0, 400.0, swap_knees=True))
    for name in (m.FRONT_KNEE_PAST_TOES_MM, m.FRONT_KNEE_FLEXION_DEG, m.REAR_KNEE_FLEXION_DEG):
        assert swapped.get(name) == pytest.approx(out.get(name))
    # feet side by side before any split stance: no front leg yet
    assert math.isnan(SplitStance(150.0)(_split_sample(320.0, 340.0)).get(m.FRONT_LEG_RIGHT_FLAG))
