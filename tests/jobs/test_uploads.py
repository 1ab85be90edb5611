"""Storing an upload: durably (finding 7), privately (finding 10), never filling the disk
(finding 3) of issue 15.

Names that are new with the fix are imported inside the tests using them, so that the
tests of the findings also run, and fail, against the code before it (0189bef).
"""

from __future__ import annotations

import errno
import io
import os
import stat
from pathlib import Path

import pytest

from formcheck.jobs.config import UploadLimits
from formcheck.jobs.datadir import DataDir
from formcheck.jobs.uploads import receive_upload
from tests.conftest import REPO_ROOT

CLIP = REPO_ROOT / "sample_videos" / "hip_hinge_hips_rise_first.mp4"


def test_an_accepted_upload_and_its_folder_entry_are_on_the_disk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Finding 7: nothing was fsynced, so an upload answered 201 could vanish at power loss."""
    data = DataDir(tmp_path / "data").create()
    synced: list[str] = []
    real_fsync = os.fsync

    def recording_fsync(fd: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", recording_fsync)
    with CLIP.open("rb") as handle:
        receive_upload(handle, data, UploadLimits())
    assert any(path.startswith(str(data.incoming)) for path in synced)  # its bytes
    assert str(data.uploads) in synced  # its name, after the rename


def test_uploads_and_their_folders_are_private(tmp_path: Path) -> None:
    """Finding 10: uploads were readable by every user of the machine (0644/0755)."""
    data = DataDir(tmp_path / "data").create()
    with CLIP.open("rb") as handle:
        stored = receive_upload(handle, data, UploadLimits())
    assert stat.S_IMODE(stored.path.stat().st_mode) == 0o600
    for folder in (data.root, data.uploads, data.incoming, data.reports):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder


def test_an_old_readable_data_dir_is_made_private(tmp_path: Path) -> None:
    root = tmp_path / "data"
    (root / "uploads").mkdir(parents=True, mode=0o755)
    root.chmod(0o755)
    DataDir(root).create()
    assert stat.S_IMODE(root.stat().st_mode) == 0o700
    assert stat.S_IMODE((root / "uploads").stat().st_mode) == 0o700


def test_too_little_free_disk_refuses_the_upload_before_and_while_writing(
    tmp_path: Path,
) -> None:
    from formcheck.jobs.errors import DiskFullError
    from formcheck.jobs.uploads import DISK_CHECK_BYTES

    data = DataDir(tmp_path / "data").create()
    free = [10_000_000]
    with CLIP.open("rb") as handle, pytest.raises(DiskFullError, match="10 MB free"):
        receive_upload(handle, data, UploadLimits(), min_free_bytes=20_000_000,
                       free_bytes=lambda _: free[0])  # fmt: skip

    class Shrinking(io.BytesIO):
        """A long upload during which the disk fills up."""

        def read(self, size: int = -1) -> bytes:
            free[0] -= len(chunk := super().read(size))
            return chunk

    source = Shrinking(b"\0" * (2 * DISK_CHECK_BYTES))
    free[0] = DISK_CHECK_BYTES * 3 // 2 + 1_000_000
    with pytest.raises(DiskFullError, match="short of disk space"):
        receive_upload(source, data, UploadLimits(max_upload_bytes=10**9),  # type: ignore[arg-type]
                       min_free_bytes=1_000_000, free_bytes=lambda _: free[0])  # fmt: skip
    assert list(data.incoming.iterdir()) == [] and list(data.uploads.iterdir()) == []


def test_a_full_disk_while_writing_is_a_disk_full_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from formcheck.jobs.errors import DiskFullError

    data = DataDir(tmp_path / "data").create()
    real_write = os.fdopen

    class FullFile:
        def __init__(self, handle: io.BufferedWriter) -> None:
            self.handle = handle

        def __enter__(self) -> FullFile:
            return self

        def __exit__(self, *exc: object) -> None:
            self.handle.close()

        def write(self, chunk: bytes) -> int:
            raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fdopen", lambda fd, mode: FullFile(real_write(fd, mode)))
    with CLIP.open("rb") as handle, pytest.raises(DiskFullError, match="short of disk space"):
        receive_upload(handle, data, UploadLimits())
    assert list(data.incoming.iterdir()) == []
