"""One frame's framing, as the live setup check and the report both judge it."""

from __future__ import annotations

import math

import pytest

from formcheck.config import QualityConfig
from formcheck.kinematics.framing import (
    YawWindow,
    frame_framing,
    view_not_accepted,
    wrong_view,
)
from formcheck.kinematics.orientation import OrientationConfig
from formcheck.types import CameraView, PoseFrame
from tests.stick_figure import StickPose, stick_frame

QUALITY = QualityConfig()
# A standing figure about 80% of a 480 px picture's height.
STANDING = StickPose()
# The same figure a fifth the size: 77 px tall, below both the pixel floor and a third.
TINY = StickPose(shank_px=20.0, thigh_px=22.0, trunk_px=26.0, neck_px=7.0)
# 30% of the picture's height but well over the 125 px floor (a 1280x720 phone picture).
SMALL_IN_HD = StickPose(
    shank_px=55.0, thigh_px=60.0, trunk_px=70.0, neck_px=20.0, ankle_px=(640.0, 600.0)
)


def test_a_well_framed_person_has_no_problem() -> None:
    framing = frame_framing(stick_frame(STANDING), QUALITY)
    assert framing.has_pose and not framing.cut and not framing.too_small
    assert framing.fill_share == pytest.approx(0.82, abs=0.02)


def test_no_pose_is_only_that() -> None:
    framing = frame_framing(PoseFrame(t_ms=0.0, image_width_px=640, image_height_px=480), QUALITY)
    assert not framing.has_pose and not framing.cut and math.isnan(framing.fill_share)


def test_feet_and_head_cut_at_the_edge_are_told_apart() -> None:
    feet = frame_framing(stick_frame(StickPose(ankle_px=(320.0, 475.0))), QUALITY)
    assert feet.feet_out and not feet.head_out and feet.cut
    head = frame_framing(stick_frame(StickPose(ankle_px=(320.0, 370.0))), QUALITY)
    assert head.head_out and not head.feet_out and head.cut


def test_too_small_by_pixels_or_by_share_of_the_picture() -> None:
    tiny = frame_framing(stick_frame(TINY), QUALITY)
    assert tiny.too_small and tiny.below_pixel_floor
    small = frame_framing(stick_frame(SMALL_IN_HD, width_px=1280, height_px=720), QUALITY)
    assert small.fill_share == pytest.approx(0.30, abs=0.02)
    assert small.too_small and not small.below_pixel_floor
    loose = QualityConfig(min_fill_share=0.25)
    hd = stick_frame(SMALL_IN_HD, width_px=1280, height_px=720)
    assert not frame_framing(hd, loose).too_small


def test_a_lying_person_fills_the_picture_along_its_width() -> None:
    # The standing figure turned on its side: its 385 px length along a 640 px picture.
    pose = stick_frame(STANDING)
    assert pose.landmarks_px is not None
    lying = pose.landmarks_px.copy()
    lying[:, 0], lying[:, 1] = pose.landmarks_px[:, 1] + 100.0, pose.landmarks_px[:, 0] - 100.0
    frame = PoseFrame(
        0.0, 640, 480, landmarks_px=lying, world_m=pose.world_m, visibility=pose.visibility
    )
    framing = frame_framing(frame, QUALITY)
    assert framing.fill_share == pytest.approx(385.0 / 640.0, abs=0.03)
    assert not framing.too_small


def test_the_view_rule_is_the_spec_s() -> None:
    def wrong(yaw_deg: float, views: list[str], limit_deg: float | None) -> bool:
        return wrong_view(
            yaw_deg,
            accepted_views=views,
            max_yaw_from_side_deg=limit_deg,
            orientation=OrientationConfig(),
        )

    side_only = ["side", "oblique"]
    assert not wrong(20.0, side_only, 40.0)
    assert wrong(50.0, side_only, 40.0)  # oblique, past the limit
    assert not wrong(math.nan, side_only, 40.0)
    assert not wrong(85.0, ["front", "side", "oblique"], None)
    assert wrong(85.0, side_only, None)  # front
    assert view_not_accepted(
        CameraView.FRONT, math.nan, accepted_views=side_only, max_yaw_from_side_deg=None
    )
    assert not view_not_accepted(
        CameraView.UNKNOWN, math.nan, accepted_views=side_only, max_yaw_from_side_deg=None
    )


def test_yaw_window_is_the_median_of_its_last_half_second() -> None:
    window = YawWindow(window_s=0.5)
    assert math.isnan(window.push(0.0, math.nan))
    assert window.push(0.0, 10.0) == 10.0
    assert window.push(100.0, 80.0) == 45.0
    assert window.push(200.0, 12.0) == 12.0  # one outlier does not turn the view
    assert window.push(900.0, 70.0) == 70.0  # the old angles left the window
    window.clear()
    assert math.isnan(window.push(1000.0, math.nan))
