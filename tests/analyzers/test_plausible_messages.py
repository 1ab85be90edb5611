"""No message shows a value outside its physical range: every finding of an analysis of
every exercise's committed faulty sample clip, through the real pose model."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from formcheck.analyzers import get_spec

SAMPLES = Path(__file__).resolve().parents[2] / "sample_videos"
FAULTY = [
    ("bird_dog_pelvis_rotation", "bird_dog"),
    ("cat_camel_rushed", "cat_camel"),
    ("dead_bug_arched", "dead_bug"),
    ("forearm_plank_sag", "plank"),
    ("glute_bridge_arched", "glute_bridge"),
    ("hip_hinge_squatty", "hip_hinge"),
    ("lunge_knee_travel", "lunge"),
    ("side_plank_hip_drop", "side_plank"),
    ("sit_to_stand_rounded_back", "sit_to_stand"),
    ("squat_rounded_back", "squat"),
    ("standing_posture_forward_head", "standing_posture"),
]
NUMBER = re.compile(r"[-+]?\d+(?:\.\d+)?")


@pytest.mark.slow
def test_every_finding_of_every_exercise_is_physically_possible(tmp_path: Path) -> None:
    from formcheck.offline import analyze_video

    findings = 0
    for clip, exercise in FAULTY:
        video = SAMPLES / f"{clip}.mp4"
        if not video.is_file():
            pytest.skip(f"sample_videos/{clip}.mp4 is not there")
        report = analyze_video(video, tmp_path / clip, exercise=exercise, keep_masks=False).report
        ranges = get_spec(exercise).plausible
        for f in report.findings:
            findings += 1
            low, high = ranges.get(f.unit, (float("-inf"), float("inf")))
            assert f.value is not None and low <= f.value <= high, (clip, f)
            shown = [float(n) for n in NUMBER.findall(f.message.replace("rep ", "rep#"))]
            assert all(abs(n) <= max(abs(low), abs(high), 100.0) for n in shown), (clip, f)
    assert findings > 0  # the sweep looked at something
