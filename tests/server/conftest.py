"""Server tests run with the settings they give, not the FORMCHECK_* of the shell."""

from __future__ import annotations

import os

import pytest

KEPT = {"FORMCHECK_CHROMIUM"}  # the browser tests' own variable, not a server setting


@pytest.fixture(autouse=True)
def _no_server_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("FORMCHECK_") and name not in KEPT:
            monkeypatch.delenv(name)
