"""`formcheck users add`, `formcheck analyze --person` (a real clip through the real model,
recorded in the person's programme) and `formcheck history`."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from formcheck.cli import main
from formcheck.people.accounts import create_account
from formcheck.people.db import Database, default_url
from formcheck.people.models import TrainingSession
from formcheck.people.service import create_programme
from tests.conftest import REPO_ROOT

CLIP = REPO_ROOT / "sample_videos" / "glute_bridge_correct.mp4"
PASSWORD = "correct horse battery"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_users_add_creates_the_first_clinician_and_then_a_person(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FORMCHECK_PASSWORD", PASSWORD)
    data = str(tmp_path / "data")
    code, out, _ = run(capsys, "users", "add", "ana", "--name", "Ana", "--data-dir", data)
    assert code == 0 and "added clinician ana" in out
    code, out, _ = run(capsys, "users", "add", "pat", "--role", "person", "--clinician", "ana",
                       "--data-dir", data)  # fmt: skip
    assert code == 0 and "added person pat" in out
    code, _, err = run(capsys, "users", "add", "ana", "--data-dir", data)
    assert code != 0 and "taken" in err
    monkeypatch.setenv("FORMCHECK_PASSWORD", "short")
    code, _, err = run(capsys, "users", "add", "bo", "--data-dir", data)
    assert code != 0 and "at least 10" in err and "Traceback" not in err


def test_a_database_password_is_never_a_command_line_option(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, _, err = run(capsys, "history", "ana", "--database", "postgresql://u:secret@h/db")
    assert code != 0 and "FORMCHECK_DATABASE_URL" in err


@pytest.mark.slow
def test_analyze_records_the_run_and_history_prints_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], model_path: Path
) -> None:
    data = tmp_path / "data"
    database = Database(default_url(data))
    with database.session() as session:
        clinician = create_account(session, "ana", PASSWORD, "clinician")
        person = create_account(session, "pat", PASSWORD, "person", "Pat", clinician)
        create_programme(session, clinician, person.id, "Bridges", 3,
                         [{"exercise": "glute_bridge", "prescription": {"reps": 5}}])  # fmt: skip
    database.close()
    for pain in ("2", "3"):
        code, out, err = run(capsys, "analyze", str(CLIP), "--out", str(tmp_path / f"o{pain}"),
                             "--exercise", "glute_bridge", "--no-video", "--quiet",
                             "--person", "pat", "--pain", pain,
                             "--data-dir", str(data))  # fmt: skip
        assert code == 0, err
        assert "recorded as session" in out
    database = Database(default_url(data))
    with database.session() as session:
        recorded = session.scalars(select(TrainingSession)).all()
        # analysed at the programme item's prescription, recorded with the ratings given
        assert [r.measures["target_reps"] for r in recorded] == [5, 5]  # type: ignore[index]
        assert [r.pain for r in recorded] == [2, 3] and {r.source for r in recorded} == {"file"}
    database.close()
    code, out, _ = run(capsys, "history", "pat", "--data-dir", str(data))
    assert code == 0
    assert "glute_bridge: 2 sessions" in out
    assert "Pain (0-10)" in out and "MDC95" in out
    code, _, err = run(capsys, "analyze", str(CLIP), "--out", str(tmp_path / "x"), "--no-video",
                       "--quiet", "--person", "pat", "--data-dir", str(data))  # fmt: skip
    assert code != 0 and "--exercise" in err
