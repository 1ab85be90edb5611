"""Errors of uploads and jobs, each one plain sentence for the page."""

from __future__ import annotations

from formcheck.errors import FormcheckError


class UploadRejectedError(FormcheckError):
    """The uploaded file cannot be analysed (too big, too long, empty, not a video...)."""

    exit_code = 4


class DataDirBusyError(FormcheckError):
    """Another process already owns the data directory."""

    exit_code = 6


class DiskFullError(FormcheckError):
    """The data directory's disk has too little free space for an upload (HTTP 507)."""

    exit_code = 7


class QuotaExceededError(FormcheckError):
    """A client has as many queued and running jobs as it may (HTTP 429)."""

    def __init__(self, max_active: int) -> None:
        super().__init__(
            f"You have {max_active} videos waiting or being analysed, the most at once; wait "
            "for one to finish (or delete one) and upload again."
        )
        self.max_active = max_active
