"""Isometric holds' frames: a quality judged on the body line, and the line's measures.

A plank is long and low (its vertical extent is under the pipeline's minimum height) and
close framing may cut the feet off, so a hold's frame is usable when the shoulders, hips and
knees are inside the image and the shoulder-to-foot line is long enough to measure
(:func:`kinematics.body_lines.body_line`). The line's measures are added only to usable
frames.
"""

from __future__ import annotations

import math
from typing import Literal

from formcheck.kinematics import names as m
from formcheck.kinematics.body_lines import (
    BodyLine,
    body_line,
    forward_offset_mm,
    head_ahead_of_trunk_mm,
    heel_gap_mm,
    shoulder_roll_deg,
    support_arm_from_vertical_deg,
)
from formcheck.kinematics.providers.base import (
    MeasureProvider,
    ProviderContext,
    ProviderSpec,
    with_measures,
    with_quality,
)
from formcheck.types import FrameQuality, Sample

# The shoulder-to-foot line is about this share of a standing person's height: the
# pipeline's smallest person (BlazePose loses or swaps people under about 125 px tall) gives
# the shortest line that can be measured.
LINE_SHARE_OF_HEIGHT = 0.8

LineGroup = Literal["plank_line", "shoulder_roll", "standing_lines"]


class BodyLineSpec(ProviderSpec):
    """The hold's frame quality from its body line, and the measures of ``groups``:
    ``plank_line`` (hips against the shoulder-ankle line, its bend and elevation, the
    supporting arm), ``shoulder_roll`` (the shoulder axis out of the image plane) and
    ``standing_lines`` (shoulders ahead of the hips, head ahead of the trunk, heel gap)."""

    provider: Literal["body_line"]
    groups: list[LineGroup]

    def build(self, context: ProviderContext) -> MeasureProvider:
        margin_px = context.quality.edge_margin_px
        min_length_px = context.quality.min_person_height_px * LINE_SHARE_OF_HEIGHT
        groups = tuple(self.groups)

        def provide(sample: Sample) -> Sample:
            line = body_line(sample, margin_px) if sample.pose.has_pose else None
            usable = line is not None and line.length_px >= min_length_px
            quality = FrameQuality(
                has_pose=sample.quality.has_pose,
                in_frame=usable,
                mean_visibility=sample.quality.mean_visibility,
                person_height_px=sample.quality.person_height_px,
                too_small=False,
            )
            if line is not None and usable:
                sample = with_measures(sample, _line_measures(sample, line, groups))
            return with_quality(sample, quality)

        return provide


def _line_measures(sample: Sample, line: BodyLine, groups: tuple[str, ...]) -> dict[str, float]:
    out: dict[str, float] = {}
    if "plank_line" in groups:
        # the hips are judged against the shoulder-ankle line only (a line to the knees,
        # used when the feet are cut off, puts the hips elsewhere)
        offset_mm = line.hip_offset_mm() if line.foot_is_ankle else math.nan
        length_mm = line.length_px * line.mm_per_px if line.foot_is_ankle else math.nan
        out |= {
            m.HIP_LINE_OFFSET_MM: offset_mm,
            m.HIP_LINE_OFFSET_FRACTION: offset_mm / length_mm,
            m.BODY_LINE_LENGTH_MM: length_mm,
            m.HIP_LINE_BEND_DEG: line.hip_bend_deg(),
            m.BODY_LINE_ELEVATION_DEG: line.elevation_deg(),
            m.SUPPORT_ARM_FROM_VERTICAL_DEG: support_arm_from_vertical_deg(sample),
        }
    if "shoulder_roll" in groups:
        out[m.SHOULDER_ROLL_DEG] = abs(shoulder_roll_deg(sample))
    if "standing_lines" in groups:
        out |= {
            m.SHOULDER_AHEAD_MM: forward_offset_mm(sample, "shoulder", "hip"),
            m.HEAD_AHEAD_MM: head_ahead_of_trunk_mm(sample),
            m.HEEL_GAP_MM: heel_gap_mm(sample),
        }
    return out
