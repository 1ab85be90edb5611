"""Logging that cannot flood the disk: one full traceback per interval, the rest counted.

A client that makes the same request fail on every frame, or a disk that stays full while
a worker retries, would otherwise write the same traceback many times a second (one
client wrote 460 KB of them in a minute). ``ThrottledLogger.error`` logs the first
traceback, then at most one per ``interval_s`` per key, saying how many were left out.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

MAX_KEYS = 1_000  # distinct keys remembered; the oldest is forgotten beyond this


class ThrottledLogger:
    def __init__(
        self,
        logger: logging.Logger,
        interval_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._log = logger
        self._interval_s = interval_s
        self._clock = clock
        self._lock = threading.Lock()
        self._last_s: dict[str, float] = {}
        self._suppressed: dict[str, int] = {}
        self.logged = 0
        self.suppressed = 0

    def error(self, key: str, message: str, *args: object, exc_info: bool = True) -> bool:
        """Log ``message`` (with the current traceback) unless ``key`` logged one less than
        ``interval_s`` ago; returns whether it was logged."""
        now = self._clock()
        with self._lock:
            last = self._last_s.get(key)
            if last is not None and now - last < self._interval_s:
                self._suppressed[key] = self._suppressed.get(key, 0) + 1
                self.suppressed += 1
                return False
            skipped = self._suppressed.pop(key, 0)
            self._last_s.pop(key, None)
            self._last_s[key] = now
            while len(self._last_s) > MAX_KEYS:
                oldest = next(iter(self._last_s))
                del self._last_s[oldest]
                self._suppressed.pop(oldest, None)
            self.logged += 1
        if skipped:
            message += f" ({skipped} more like it in the last {self._interval_s:g} s not logged)"
        self._log.error(message, *args, exc_info=exc_info)
        return True
