"""The data directory: where the database, uploads and reports live, and who owns it.

Every folder is 0700 and every file 0600 (see formcheck.jobs.durable): only the user
running the server can read the recordings, reports, database and access token.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import secrets
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from formcheck.jobs.durable import PRIVATE_FILE_MODE, private_dir
from formcheck.jobs.errors import DataDirBusyError
from formcheck.jobs.store import DB_NAME

LOCK_NAME = "jobs.lock"
TOKEN_NAME = "token"
UPLOAD_SUFFIX = ".upload"
PART_MARK = ".part-"
UPLOAD_NAME_BYTES = 18  # random stored names: nothing of the user's file name reaches disk
SECONDS_PER_DAY = 86_400.0


@dataclass(frozen=True, slots=True)
class DataDir:
    root: Path

    @property
    def db_path(self) -> Path:
        return self.root / DB_NAME

    @property
    def uploads(self) -> Path:
        return self.root / "uploads"

    @property
    def incoming(self) -> Path:
        return self.root / "incoming"

    @property
    def reports(self) -> Path:
        return self.root / "reports"

    @property
    def token_path(self) -> Path:
        return self.root / TOKEN_NAME

    def create(self) -> DataDir:
        """The folders, private (an existing, older data directory is made private too)."""
        for folder in (self.root, self.uploads, self.incoming, self.reports):
            private_dir(folder)
        return self

    def new_upload_name(self) -> str:
        return secrets.token_urlsafe(UPLOAD_NAME_BYTES) + UPLOAD_SUFFIX

    def upload_path(self, upload_name: str) -> Path:
        path = self.uploads / upload_name
        if path.parent != self.uploads or not upload_name.endswith(UPLOAD_SUFFIX):
            raise ValueError(f"not a stored upload name: {upload_name!r}")
        return path

    def report_dir(self, job_id: str) -> Path:
        if not job_id.isalnum():
            raise ValueError(f"not a job id: {job_id!r}")
        return self.reports / job_id

    def part_dir(self, job_id: str, token: str) -> Path:
        return self.reports / f"{job_id}{PART_MARK}{token}"

    def part_dirs(self, job_id: str) -> list[Path]:
        """The folders of this job's runs that have not been renamed to its report folder."""
        self.report_dir(job_id)  # checks the id
        return sorted(self.reports.glob(f"{job_id}{PART_MARK}*"))

    def remove_parts(self) -> int:
        """Delete the folders of runs that never finished (call when no run is going on)."""
        removed = 0
        for path in self.reports.glob(f"*{PART_MARK}*"):
            shutil.rmtree(path, ignore_errors=True)
            removed += 1
        return removed

    def acquire(self) -> DataDirLock:
        """Take the directory for this process, or raise DataDirBusyError."""
        self.create()
        lock_path = self.root / LOCK_NAME
        handle = os.fdopen(os.open(lock_path, os.O_RDWR | os.O_CREAT, PRIVATE_FILE_MODE), "a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as error:
            handle.close()
            raise DataDirBusyError(
                f"Another formcheck process is using the data directory {self.root}; stop it "
                "or choose another directory."
            ) from error
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        return DataDirLock(handle)


class DataDirLock:
    def __init__(self, handle: IO[str]) -> None:
        self._handle: IO[str] | None = handle

    def release(self) -> None:
        if self._handle is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._handle, fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None


def remove_old_incoming(data: DataDir, older_than_s: float, now_s: float | None = None) -> int:
    """Delete half-received uploads left behind (a crash mid-upload)."""
    now = time.time() if now_s is None else now_s
    removed = 0
    for path in data.incoming.iterdir():
        with contextlib.suppress(OSError):
            if now - path.stat().st_mtime > older_than_s:
                path.unlink()
                removed += 1
    return removed
