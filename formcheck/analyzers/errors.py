"""User-facing errors of the analyzer engine (specs, prescriptions, settings)."""

from __future__ import annotations

from formcheck.errors import FormcheckError


class SpecError(FormcheckError):
    """An exercise spec file is missing or does not validate."""

    exit_code = 2


class PrescriptionError(FormcheckError):
    """A prescription file or value cannot be read or does not fit the exercise."""

    exit_code = 2
