"""The HTML report: unit checks on a made-up report, and a real run on a rendered clip."""

from __future__ import annotations

import base64
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest

from formcheck.report.html import ReportContext, render_report_html
from formcheck.report.keyframes import KeyFrame, KeyFrameSpec, encode_jpeg
from formcheck.report.model import Report
from formcheck.report.plots import Marker, Series, line_chart, merge_markers, nice_ticks
from formcheck.report.series import MeasureSeries, load_measures_csv
from tests.conftest import REPO_ROOT
from tests.reports import VIDEO, assert_valid_report, finding, make_report, rep

SAMPLE_CLIP = REPO_ROOT / "sample_videos" / "hip_hinge_rounded_back.mp4"
CHROMIUM = Path("/usr/bin/chromium")
SCREEN_SIZES_PX = {"desktop": (1000, 2600), "phone": (390, 4200)}
EXTERNAL = re.compile(r"""(src|href)=["']?(https?:)?//""", re.IGNORECASE)


def _report(**fields: Any) -> Report:
    rep1 = rep(
        1,
        score=70.0,
        faults=["spine_rounded"],
        metrics={"depth_deg": 80.0, "bulge_bottom_mm": 9.2},
    )
    rep2 = {**rep1, "index": 2, "start_s": 3.5, "end_s": 5.5, "score": 40.0}
    data: dict[str, Any] = {
        "video": {**VIDEO, "path": "/secret/stored.upload"},
        "calibration": {
            "scale_source": "stated_height",
            "mm_per_px": 2.5,
            "stated_height_cm": 180.0,
            "estimated_height_cm": None,
            "still_window_s": [0.0, 1.0],
            "found_still": True,
            "spread_in_still_window_torso_lengths": 0.01,
            "baseline": {"back_bulge_mm": -3.0, "camera_yaw_from_side_deg": 5.0},
        },
        "noise_floor": {"back_bulge_mm": 0.4, "hip_flexion_deg": 0.2},
        "reps": [rep1, rep2],
        "findings": [
            finding(
                "spine_rounded",
                severity="safety",
                rep=2,
                t_s=4.5,
                value=9.24,
                threshold=8.0,
                unit="mm",
                message="Keep your back <long>: it rounded 9 mm.",
            )
        ],
        "summary": {"reps": 2, "attempts": 1, "form_frays_at_rep": 2},
    }
    data.update(fields)
    return make_report(**data)


def test_measures_only_report_shows_no_findings_or_reps() -> None:
    report = _report(exercise=None, summary=None, reps=[], findings=[], calibration=None)
    page = render_report_html(report, ReportContext(series=_series()))
    assert "Movement report" in page and "None (measures only)" in page
    assert "<h2>Findings</h2>" not in page and "<h2>Reps</h2>" not in page
    assert "No faults were found." not in page  # nothing was looked for
    assert "Standing baseline" not in page and "none (millimetres unavailable)" in page


def _series() -> MeasureSeries:
    t = np.linspace(0.0, 6.0, 61)
    bulge = np.sin(t)
    bulge[10:14] = np.nan
    return MeasureSeries(
        t_s=t,
        numbers={
            "hip_flexion_deg": 40 * (1 - np.cos(t)),
            "back_bulge_mm": bulge,
            "usable": np.ones_like(t),
        },
        texts={"view": ["side"] * 61, "facing": ["left"] * 61},
    )


def test_report_page_says_what_was_analysed_and_what_was_found() -> None:
    rgb = np.zeros((40, 30, 3), dtype=np.uint8)
    key = KeyFrame(KeyFrameSpec("Worst rep", 2, 4.5, 40.0), 4.5, encode_jpeg(rgb), 30, 40)
    page = render_report_html(
        _report(),
        ReportContext(
            series=_series(), keyframes=[key], tempo_target_s=(2, 1, 2), video_name="my <set>.mp4"
        ),
    )
    assert "Hip hinge report" in page and "my &lt;set&gt;.mp4" in page
    assert "stored.upload" not in page  # the stored name is never shown
    assert "Keep your back &lt;long&gt;: it rounded 9 mm." in page  # escaped
    assert "Measured 9.2 mm against a limit of 8.0 mm" in page
    assert "the body height you gave" in page and "side, 5° off the side" in page
    assert "Noise floor" in page and "0.40 mm" in page
    assert "From rep 2 to the end of the set" in page and 'class="frayed"' in page
    assert page.count("<svg") == 3  # angles, back bulge, tempo
    assert "against the prescription" in page
    assert "data:image/jpeg;base64," in page
    assert "Worst rep: rep 2 at the bottom (4.5 s). Rounded lower back." in page
    assert "The back outline could not be measured on this frame." in page
    assert "back outline in pink" not in page  # no key frame shows one
    assert "score (of 100)" in page and "it is not a grade" in page
    # the verdict comes first: before the evidence, and the details after both
    verdict, frames = page.index('id="verdict"'), page.index("<h2>Key frames</h2>")
    details = page.index("Details for your physiotherapist</h2>")
    assert verdict < frames < details < page.index("<h2>What was analysed</h2>")
    assert "1 thing to work on" in page and "Rounded lower back</b> in rep 2" in page
    assert "2 reps counted; 1 partial attempt did not go deep enough to count." in page
    assert "<script" not in page.lower() and not EXTERNAL.search(page)
    assert 'name="viewport"' in page


def test_report_without_reps_or_findings_says_so() -> None:
    report = _report(
        reps=[], findings=[], summary={"reps": 0, "attempts": 0, "form_frays_at_rep": None}
    )
    page = render_report_html(report, ReportContext(series=_series()))
    assert "No complete rep was counted." in page and "No faults were found." in page
    assert "Tempo" not in page and "Key frames" not in page
    assert "No rep was counted</h2>" in page  # the verdict: nothing to judge, not "no faults"
    assert 'class="verdict good"' not in page


def test_line_chart_breaks_at_gaps_and_ticks_are_round() -> None:
    assert nice_ticks(0.0, 9.3) == [0.0, 2.0, 4.0, 6.0, 8.0, 10.0]
    assert nice_ticks(-7.4, 1.2)[0] <= -7.4 and nice_ticks(-7.4, 1.2)[-1] >= 1.2
    values = np.array([1.0, 2.0, np.nan, 3.0, 4.0])
    svg = line_chart([Series("x", np.arange(5.0), values)], title="t", y_label="mm")
    assert svg.count("<polyline") == 2 and "<title>t</title>" in svg
    merged = merge_markers([Marker(1.0, "a"), Marker(1.1, "b"), Marker(1.15, "a"), Marker(3, "c")])
    assert [(m.x, m.label) for m in merged] == [(1.0, "a, b"), (3, "c")]


@pytest.fixture(scope="module")
def real_run(tmp_path_factory: pytest.TempPathFactory, model_path: Path) -> Path:
    """report.json, measures.csv, report.html and annotated.mp4 of the rendered sample clip."""
    from formcheck.analyzers import Prescription
    from formcheck.offline import analyze_video
    from formcheck.report.outputs import write_outputs
    from formcheck.report.recorder import AnnotationRecorder

    if not SAMPLE_CLIP.is_file():
        pytest.skip(f"{SAMPLE_CLIP.name} is not in sample_videos")
    out = tmp_path_factory.mktemp("report")
    prescription = Prescription(exercise="hip_hinge", tempo="2-1-2")
    recorder = AnnotationRecorder()
    run = analyze_video(
        SAMPLE_CLIP,
        out,
        exercise="hip_hinge",
        prescription=prescription,
        model=model_path,
        sinks=(recorder,),
    )
    written = write_outputs(SAMPLE_CLIP, out, run, recorder, prescription=prescription)
    assert written.frames_rendered == run.frames
    return out


@pytest.mark.slow
def test_real_run_writes_a_complete_self_contained_report(real_run: Path) -> None:
    import json

    report = assert_valid_report(json.loads((real_run / "report.json").read_text("utf-8")))
    page = (real_run / "report.html").read_text(encoding="utf-8")
    assert report.summary is not None and report.summary.reps >= 1
    assert "<h2>Reps</h2>" in page and page.count("<tr><td>") >= 1
    for counted in report.reps:
        assert (
            f"<tr><td>{counted.index}</td>" in page
            or f'<tr class="frayed"><td>{counted.index}' in page
        )
    assert ("<h3>Every finding</h3>" if report.findings else "<h3>Findings</h3>") in page
    for found in report.findings:
        assert found.message.replace("'", "&#x27;") in page
    # angles, back bulge, tempo against the prescription (and the filming help's drawing)
    assert page.count("<svg") - page.count('<svg class="filming-diagram"') == 3
    images = re.findall(r'src="data:image/jpeg;base64,([^"]+)"', page)
    assert 1 <= len(images) <= 2
    assert all(base64.b64decode(data)[:2] == b"\xff\xd8" for data in images)
    assert "<script" not in page.lower() and not EXTERNAL.search(page)
    series = load_measures_csv(real_run / "measures.csv")
    assert series.most_common("view") == "side"


@pytest.mark.slow
def test_real_run_annotated_video_has_every_source_frame(real_run: Path) -> None:
    with av.open(str(SAMPLE_CLIP)) as source:
        source_frames = sum(1 for _ in source.decode(video=0))
    with av.open(str(real_run / "annotated.mp4")) as annotated:
        stream = annotated.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert stream.codec_context.pix_fmt == "yuv420p"
        assert sum(1 for _ in annotated.decode(stream)) == source_frames


@pytest.mark.slow
def test_report_renders_in_chromium(real_run: Path) -> None:
    if not CHROMIUM.exists():
        pytest.skip("Chromium is not installed (/usr/bin/chromium); apt-get install chromium")
    profile = real_run / "chromium-profile"
    for name, (width, height) in SCREEN_SIZES_PX.items():
        shot = real_run / f"report-{name}.png"
        subprocess.run(
            [
                str(CHROMIUM),
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
                f"--user-data-dir={profile}",
                f"--screenshot={shot}",
                f"--window-size={width},{height}",
                (real_run / "report.html").as_uri(),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
        from PIL import Image

        with Image.open(shot) as image:
            assert image.size == (width, height)
            pixels = np.asarray(image.convert("L"))
        assert pixels.std() > 10  # not a blank page
    shutil.rmtree(profile, ignore_errors=True)


def test_no_faults_is_said_only_when_every_check_was_judged() -> None:
    from tests.reports import make_report, rep

    judged = make_report(
        summary={"reps": 1, "attempts": 0, "form_frays_at_rep": None}, reps=[rep(1)]
    )
    page = render_report_html(judged, ReportContext(series=_series()))
    assert "No faults were found." in page
    unjudged = make_report(
        summary={"reps": 1, "attempts": 0, "form_frays_at_rep": None},
        reps=[rep(1)],
        not_judged=[
            {"code": "spine_rounded", "reason": "no_reference", "reps": [1],
             "advice": "Film three or more reps."}
        ],
        reference={"kind": "first_reps", "exercise": "hip_hinge", "reps": [1]},
    )
    page = render_report_html(unjudged, ReportContext(series=_series()))
    assert "No faults were found." not in page
    assert "No faults were found in what could be judged" in page
    assert "Rounded lower back" in page and "not judged" in page
    assert "Film three or more reps." in page
    assert "your first rep of this set (1)" in page
    assert "Form held up" not in page  # one rep cannot show whether form frayed


def test_key_frame_captions_say_the_rep_its_faults_and_the_outline() -> None:
    from formcheck.report.html import keyframe_caption

    rgb = np.zeros((40, 30, 3), dtype=np.uint8)
    report = make_report(
        summary={"reps": 3, "attempts": 0, "form_frays_at_rep": None},
        reps=[rep(1), rep(2), rep(3, faults=["spine_rounded", "head_forward"])],
        reference={"kind": "first_reps", "exercise": "hip_hinge", "reps": [1, 2]},
    )
    single = KeyFrame(KeyFrameSpec("Rep 1", 1, 2.0, 100.0), 2.04, encode_jpeg(rgb), 30, 40, True)
    assert keyframe_caption(single, report) == (
        "Rep 1 at the bottom (2.0 s). No faults found. The later reps are compared with this one."
    )  # never "Rep 1: rep 1"
    worst = KeyFrame(KeyFrameSpec("Worst rep", 3, 5.0, 40.0), 5.0, encode_jpeg(rgb), 30, 40)
    assert keyframe_caption(worst, report) == (
        "Worst rep: rep 3 at the bottom (5.0 s). Rounded lower back and head pushed forward. "
        "The back outline could not be measured on this frame."
    )


def test_filming_help_shows_the_exercise_s_drawing_and_what_it_kept_from_being_judged() -> None:
    feet_cut = {
        "frames": 300, "frames_with_pose": 300, "fill_share": 0.97, "fill_axis": "width",
        "target_fill_share": [0.5, 0.8],
        "issues": [{"problem": "feet_out_of_frame", "frames": 270, "share": 0.9,
                    "spans_s": [[0.0, 9.5]], "value": None, "limit": None, "unit": ""}],
    }  # fmt: skip
    report = make_report(
        exercise="glute_bridge",
        summary={"reps": 1, "attempts": 0, "form_frays_at_rep": None},
        reps=[rep(1)],
        not_judged=[{"code": "spine_rounded", "reason": "not_measured", "reps": [1]}],
        filming=feet_cut,
    )
    page = render_report_html(report, ReportContext(series=_series()))
    assert 'data-placement="floor_side"' in page  # on the floor, the camera low
    assert "Your feet were cut off at the edge of the picture in 90% of the frames" in page
    assert "Not judged because of it: rounded lower back." in page
    assert not EXTERNAL.search(page)
