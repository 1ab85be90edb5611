"""Silences MediaPipe's native (C++) log lines on stderr while a block runs.

MediaPipe prints start-up warnings from C++ straight to file descriptor 2, which Python's
logging cannot filter. What was printed is replayed if the block raises, so real errors are
never hidden.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Iterator


@contextlib.contextmanager
def quiet_native_stderr() -> Iterator[None]:
    if os.environ.get("FORMCHECK_NATIVE_LOGS"):
        yield
        return
    try:
        sys.stderr.flush()
        saved_fd = os.dup(2)
    except (OSError, ValueError):  # no real stderr (e.g. some embedded hosts)
        yield
        return
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield
        except BaseException:
            os.dup2(saved_fd, 2)
            capture.seek(0)
            sys.stderr.write(capture.read().decode("utf-8", "replace"))
            raise
        finally:
            os.dup2(saved_fd, 2)
            os.close(saved_fd)
