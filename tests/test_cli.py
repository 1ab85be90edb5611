"""The `formcheck` command: errors a user can act on, and a real clip end to end."""

from __future__ import annotations

import json

import numpy as np
import pytest

from formcheck.cli import main
from formcheck.errors import NoPersonError, VideoOpenError
from tests.conftest import REPO_ROOT, shared_clip, write_test_video


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_missing_file(tmp_path, capsys):
    code, _, err = _run(capsys, "analyze", str(tmp_path / "nope.mp4"), "--out", str(tmp_path))
    assert code == VideoOpenError.exit_code
    assert "nope.mp4" in err and "Traceback" not in err


def test_text_file_renamed_mp4(tmp_path, capsys):
    fake = tmp_path / "notes.mp4"
    fake.write_text("this is not a video\n" * 50)
    code, _, err = _run(capsys, "analyze", str(fake), "--out", str(tmp_path / "o"))
    assert code == VideoOpenError.exit_code
    assert "notes.mp4" in err and "Traceback" not in err


def test_corrupt_truncated_file(tmp_path, capsys):
    rng = np.random.default_rng(0)
    good = write_test_video(
        tmp_path / "good.mp4",
        [rng.integers(0, 255, (96, 128, 3), dtype=np.uint8) for _ in range(30)],
    )
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(good.read_bytes()[:600])
    code, _, err = _run(capsys, "analyze", str(broken), "--out", str(tmp_path / "o"))
    assert code == VideoOpenError.exit_code
    assert "broken.mp4" in err and "Traceback" not in err


@pytest.mark.slow
def test_video_with_no_person(tmp_path, capsys, model_path):
    frames = []
    for i in range(45):  # a slowly panning gradient: a real video, nobody in it
        x = np.linspace(0, 255, 320)[None, :, None] + i
        frames.append(np.broadcast_to(x % 256, (240, 320, 3)).astype(np.uint8))
    video = write_test_video(tmp_path / "empty_room.mp4", frames)
    out_dir = tmp_path / "o"
    code, _, err = _run(capsys, "analyze", str(video), "--out", str(out_dir))
    assert code == NoPersonError.exit_code
    assert "No person" in err and "Traceback" not in err
    assert not (out_dir / "report.json").exists() and not (out_dir / "measures.csv").exists()


def test_schema_report_prints_the_json_schema(capsys):
    from formcheck.report.model import report_json_schema

    code, out, _ = _run(capsys, "schema", "report")
    assert code == 0
    assert json.loads(out) == report_json_schema()
    with pytest.raises(SystemExit):
        main(["schema", "measures"])


@pytest.mark.slow
def test_hip_hinge_analysis_validates_against_the_printed_schema(tmp_path, capsys, model_path):
    """The issue's check: `formcheck analyze ... --exercise hip_hinge` writes a report.json
    that validates against what `formcheck schema report` prints."""
    import jsonschema

    clip = REPO_ROOT / "sample_videos" / "hip_hinge_hips_rise_first.mp4"
    out_dir = tmp_path / "o"
    code, out, err = _run(capsys, "analyze", str(clip), "--exercise", "hip_hinge",
                          "--out", str(out_dir), "--no-video", "--quiet")  # fmt: skip
    assert code == 0, err
    assert "hip_hinge: 2 reps" in out and "wrote report.json" in out
    _, schema_text, _ = _run(capsys, "schema", "report")
    report = json.loads((out_dir / "report.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(json.loads(schema_text)).validate(report)
    assert report["source"] == "file" and report["exercise"] == "hip_hinge"
    assert report["summary"]["reps"] == 2 and report["findings"]


def test_bad_height_is_refused(capsys):
    with pytest.raises(SystemExit):
        main(["analyze", "x.mp4", "--height-cm", "20"])


@pytest.mark.slow
def test_real_clip_end_to_end(tmp_path, capsys, model_path):
    """The issue's acceptance: pose in >= 99% of frames, timestamps span the clip."""
    clip = shared_clip("hinge/0016c_1.mp4")
    out_dir = tmp_path / "X"
    code, out, _ = _run(capsys, "analyze", str(clip), "--out", str(out_dir), "--height-cm", "178")
    assert code == 0, out
    report = json.loads((out_dir / "report.json").read_text())
    video = report["video"]
    assert video["frames_with_pose"] / video["frames"] >= 0.99
    frame_period_s = 1.0 / video["fps"]
    assert video["last_frame_t_s"] + frame_period_s == pytest.approx(
        video["duration_s"], abs=frame_period_s
    )
    assert report["calibration"]["scale_source"] == "stated_height"
    assert set(report["noise_floor"]) >= {
        "hip_flexion_deg",
        "knee_flexion_deg",
        "trunk_inclination_deg",
    }
    lines = (out_dir / "measures.csv").read_text().splitlines()
    header = lines[0].split(",")
    assert header[0] == "t_s" and "hip_flexion_deg" in header
    assert len(lines) - 1 == video["frames"]
    rows = [line.split(",") for line in lines[1:]]
    t = np.array([float(r[0]) for r in rows])
    assert np.all(np.diff(t) > 0)
    hip = np.array([float(r[header.index("hip_flexion_deg")] or "nan") for r in rows])
    # Ten kettlebell deadlifts: the hips flex well past 60 degrees and return near upright.
    assert np.nanmax(hip) > 60 and np.nanpercentile(hip, 5) < 15


def test_models_command_reports_checksum(capsys, model_path):
    code, out, _ = _run(capsys, "models")
    assert code == 0
    assert "sha256:" in out and str(model_path.name) in out


def test_models_command_rejects_bad_bundle(tmp_path, capsys):
    bad = tmp_path / "bad.task"
    bad.write_bytes(b"PK\x03\x04 not really")
    code, _, err = _run(capsys, "models", "--model", str(bad))
    assert code == 3
    assert "bad.task" in err and "Traceback" not in err
