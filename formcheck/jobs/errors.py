"""Errors of uploads and jobs, each one plain sentence for the page."""

from __future__ import annotations

from formcheck.errors import FormcheckError


class UploadRejectedError(FormcheckError):
    """The uploaded file cannot be analysed (too big, too long, empty, not a video...)."""

    exit_code = 4


class DataDirBusyError(FormcheckError):
    """Another process already owns the data directory."""

    exit_code = 6
