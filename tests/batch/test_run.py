"""``formcheck batch``: a batch of rendered clips gives, per recording, the very files
``formcheck analyze`` writes one by one (locally in a process pool, and fanned out to a real
Celery worker); a recording that fails is a row with its reason and does not stop the
batch; running it again skips what is done and redoes what changed or failed."""

from __future__ import annotations

import csv
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from formcheck.cli import main
from formcheck.jobs.config import JobsConfig
from tests.conftest import REPO_ROOT, first_frames
from tests.queue_services import WorkerProcess, queue_config

Start = Callable[[JobsConfig, str, str], WorkerProcess]
SOURCES = ("hip_hinge_hips_rise_first", "hip_hinge_rounded_back")
SHORT_FRAMES = 90
EXERCISE = "hip_hinge"
OUTPUTS = ("report.json", "measures.csv", "report.html", "annotated.mp4")
DEFAULT_JOB = "formcheck.jobs.analysis:run_analysis_job"
BROKEN = "broken"


@pytest.fixture(scope="module")
def recordings(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder of short rendered clips and one file that is no video."""
    folder = tmp_path_factory.mktemp("recordings")
    for name in SOURCES:
        first_frames(REPO_ROOT / "sample_videos" / f"{name}.mp4", folder / f"{name}.mp4",
                     SHORT_FRAMES)  # fmt: skip
    (folder / f"{BROKEN}.mp4").write_bytes(b"this is not a video")
    return folder


@pytest.fixture(scope="module")
def one_by_one(
    recordings: Path, tmp_path_factory: pytest.TempPathFactory, model_path: Path
) -> Path:
    """What `formcheck analyze CLIP --exercise hip_hinge --out DIR/<name>` writes per clip."""
    out = tmp_path_factory.mktemp("analyze")
    for name in SOURCES:
        code = main(["analyze", str(recordings / f"{name}.mp4"), "--exercise", EXERCISE,
                     "--out", str(out / name), "--quiet"])  # fmt: skip
        assert code == 0
    return out


def summary(out: Path) -> dict[str, dict[str, str]]:
    with (out / "summary.csv").open(encoding="utf-8", newline="") as handle:
        return {row["output"]: row for row in csv.DictReader(handle)}


def assert_same_files(out: Path, reference: Path) -> None:
    for name in SOURCES:
        for file in OUTPUTS:
            assert (out / name / file).read_bytes() == (reference / name / file).read_bytes(), (
                f"{name}/{file} differs from formcheck analyze's"
            )
    assert not list(out.glob("*.part-*"))


def assert_rows(rows: dict[str, dict[str, str]], reference: Path, earlier: str) -> None:
    assert sorted(rows) == sorted((*SOURCES, BROKEN))
    for name in SOURCES:
        row = rows[name]
        assert row["status"] == "done" and row["error"] == "" and row["earlier_run"] == earlier
        assert row["frames"] == str(SHORT_FRAMES) and float(row["time_s"]) > 0
        report = (reference / name / "report.json").read_text(encoding="utf-8")
        assert f'"reps": {row["reps"]}' in report
    broken = rows[BROKEN]
    assert broken["status"] == "failed" and broken["reps"] == "" and broken["earlier_run"] == "no"
    error = broken["error"]
    assert error.endswith(".") and ". " not in error and "not a video" in error


@pytest.mark.slow
def test_a_local_batch_writes_what_analyze_writes_and_resumes(
    recordings: Path, one_by_one: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    command = ["batch", str(recordings), "--exercise", EXERCISE, "--out", str(out), "--quiet"]
    assert main([*command, "--jobs", "2"]) == 1  # one recording failed
    assert_same_files(out, one_by_one)
    assert_rows(summary(out), one_by_one, earlier="no")

    stamps = {name: (out / name / "report.json").stat().st_mtime_ns for name in SOURCES}
    assert main(command) == 1  # again: the done ones are kept, the failed one tried again
    rows = summary(out)
    assert_rows(rows, one_by_one, earlier="yes")
    assert {n: (out / n / "report.json").stat().st_mtime_ns for n in SOURCES} == stamps

    changed = recordings / f"{SOURCES[0]}.mp4"
    os.utime(changed, ns=(changed.stat().st_atime_ns, changed.stat().st_mtime_ns + 10**9))
    assert main(command) == 1
    rows = summary(out)
    assert rows[SOURCES[0]]["earlier_run"] == "no" and rows[SOURCES[1]]["earlier_run"] == "yes"
    assert (out / SOURCES[0] / "report.json").stat().st_mtime_ns != stamps[SOURCES[0]]
    assert_same_files(out, one_by_one)


@pytest.mark.slow
def test_a_batch_on_the_queue_writes_what_analyze_writes(
    recordings: Path, one_by_one: Path, tmp_path: Path, redis_url: str, celery_workers: Start
) -> None:
    data = tmp_path / "shared"
    worker = celery_workers(queue_config(redis_url, data), "batch", DEFAULT_JOB)
    worker.wait_ready()
    out = tmp_path / "out"
    code = main(["batch", str(recordings / "*.mp4"), "--exercise", EXERCISE, "--out", str(out),
                 "--queue", redis_url, "--data-dir", str(data), "--quiet"])  # fmt: skip
    assert code == 1, worker.log_tail()
    assert_same_files(out, one_by_one)
    rows = summary(out)
    assert_rows(rows, one_by_one, earlier="no")
    assert list((data / "uploads").iterdir()) == [] and list((data / "reports").iterdir()) == []


def test_a_queue_url_with_a_password_is_refused_on_the_command_line(
    recordings: Path, tmp_path: Path
) -> None:
    code = main(["batch", str(recordings), "--exercise", EXERCISE, "--out", str(tmp_path),
                 "--queue", "redis://:secret@127.0.0.1:1/0"])  # fmt: skip
    assert code == 1 and not (tmp_path / "summary.csv").exists()


def test_an_unknown_exercise_or_input_stops_the_batch_before_anything_runs(
    recordings: Path, tmp_path: Path
) -> None:
    assert main(["batch", str(recordings), "--exercise", "juggling", "--out", str(tmp_path)]) == 2
    assert main(["batch", str(tmp_path / "nothing"), "--exercise", EXERCISE,
                 "--out", str(tmp_path)]) == 2  # fmt: skip
    assert list(tmp_path.iterdir()) == []
