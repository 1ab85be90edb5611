"""The live socket's limits, in one place the websocket handler calls.

- **Time limits**: a socket must start a set within ``ws_start_timeout_s`` of connecting
  (messages that are not a valid start do not extend it), then keep sending frames or
  starts at least every ``ws_idle_timeout_s``; otherwise it is told why and closed, and its
  place goes to the next person.
- **Frame timestamps** (``t_ms`` in each frame's header) must not go backwards, and may not
  run ahead of the server's own clock since the previous frame by more than
  ``max_clock_lead_ms``: a jump to 1e300 is refused with ``bad_timestamp`` and the session
  goes on with the next good frame.
- **Starts** are checked whole before ``started`` is answered: the prescription's text
  (nesting depth, syntax, every override against the exercise's spec).
- **Errors** inside the server: a full traceback at most once per ``traceback_log_interval_s``
  per session and kind; after ``max_internal_errors`` in a row the session is closed.
"""

from __future__ import annotations

import json
import logging
import math
import struct
import time
import tomllib
from collections.abc import Callable, MutableMapping
from typing import Any

import anyio
from fastapi import WebSocket

from formcheck.analyzers import Prescription, get_analyzer
from formcheck.analyzers.errors import PrescriptionError
from formcheck.analyzers.spec import prescription_from_mapping
from formcheck.jobs.throttle import ThrottledLogger
from formcheck.pose.remote import HEADER as POSE_HEADER
from formcheck.pose.remote import is_pose_payload
from formcheck.server.config import ServerConfig
from formcheck.server.frames import FRAME_HEADER_BYTES, FrameError
from formcheck.server.messages import FRAME_HEADER_FORMAT, PrescriptionText, StartMessage

log = logging.getLogger("formcheck.server")

MS_PER_S = 1000.0
# float64 still has sub-millisecond steps below 2^50 ms (35,000 years): larger times are
# refused before they reach the pipeline's integer microsecond clock.
MAX_ABS_T_MS = float(2**50)
OPENERS = frozenset("[{")
CLOSERS = frozenset("]}")


class SocketTimeoutError(Exception):
    """The socket did not start, or went quiet, for too long; ``str`` says which."""


class MessageTooDeepError(ValueError):
    """JSON or TOML nested deeper than allowed."""


def nesting_depth(text: str, *, toml: bool = False) -> int:
    """The deepest nesting of ``[``/``{`` outside strings (and outside TOML comments).

    A linear scan, run before a recursive parser would recurse (json and tomllib raise
    RecursionError, not ValueError, on deep nesting).
    """
    depth = deepest = 0
    quote = ""
    escaped = False
    in_comment = False
    for char in text:
        if in_comment:
            in_comment = char != "\n"
        elif quote:
            if escaped:
                escaped = False
            elif char == "\\" and quote == '"':
                escaped = True
            elif char == quote:
                quote = ""
        elif char in "\"'":
            quote = char
        elif toml and char == "#":
            in_comment = True
        elif char in OPENERS:
            depth += 1
            deepest = max(deepest, depth)
        elif char in CLOSERS:
            depth = max(0, depth - 1)
    return deepest


def check_nesting(text: str, max_depth: int, what: str, *, toml: bool = False) -> None:
    if nesting_depth(text, toml=toml) > max_depth:
        raise MessageTooDeepError(
            f"{what} is nested more than {max_depth} levels deep; send a flat table of settings."
        )


def parse_prescription(given: PrescriptionText, exercise: str, max_depth: int = 32) -> Prescription:
    """A prescription file's text (.json as JSON, anything else as TOML), checked against
    the exercise: every override must name a setting of its spec."""
    is_json = given.name.lower().endswith(".json")
    try:
        check_nesting(given.text, max_depth, f"Prescription {given.name}", toml=not is_json)
        data = json.loads(given.text) if is_json else tomllib.loads(given.text)
    except MessageTooDeepError as exc:
        raise PrescriptionError(str(exc)) from exc
    except (ValueError, RecursionError) as exc:
        raise PrescriptionError(f"Prescription {given.name} cannot be read: {exc}.") from exc
    if not isinstance(data, dict):
        raise PrescriptionError(f"Prescription {given.name} must be a table of settings.")
    data.setdefault("exercise", exercise)
    prescription = prescription_from_mapping(data, given.name)
    get_analyzer(exercise, prescription)  # applies the overrides: a bad one fails now
    return prescription


def start_prescription(message: StartMessage, config: ServerConfig) -> Prescription | None:
    if message.prescription is None:
        return None
    return parse_prescription(message.prescription, message.exercise, config.max_json_depth)


def frame_time_ms(data: bytes) -> float | None:
    """The capture time in a binary frame's header, or None when the header is incomplete."""
    if is_pose_payload(data):
        if len(data) < POSE_HEADER.size:
            return None
        return float(POSE_HEADER.unpack_from(data)[2])
    if len(data) < FRAME_HEADER_BYTES:
        return None
    return float(struct.unpack_from(FRAME_HEADER_FORMAT, data)[1])


class LiveGuard:
    """One connection's limits (not thread-safe: the handler's task only)."""

    def __init__(
        self,
        config: ServerConfig,
        session_id: str,
        errors: ThrottledLogger,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self.session_id = session_id
        self._errors = errors
        self._clock = clock
        self._start_deadline_s = clock() + config.ws_start_timeout_s
        self._last_activity_s: float | None = None  # a frame or a start; None before one
        self._last_t_ms: float | None = None
        self._last_frame_s = 0.0
        self.internal_errors = 0  # in a row

    # --- time limits ----------------------------------------------------------------------

    def seconds_left(self) -> float:
        if self._last_activity_s is None:
            return self._start_deadline_s - self._clock()
        return self._last_activity_s + self.config.ws_idle_timeout_s - self._clock()

    def timeout_message(self) -> str:
        if self._last_activity_s is None:
            return (
                f"No set was started within {self.config.ws_start_timeout_s:g} s of connecting; "
                "the connection is closed to free the place. Start again when ready."
            )
        return (
            f"Nothing arrived for {self.config.ws_idle_timeout_s:g} s; the connection is closed "
            "to free the place. Start again when ready."
        )

    async def receive(self, websocket: WebSocket) -> MutableMapping[str, Any]:
        """The next message, or SocketTimeoutError when the socket's time is up."""
        left_s = self.seconds_left()
        if left_s <= 0:
            raise SocketTimeoutError(self.timeout_message())
        with anyio.move_on_after(left_s):
            return await websocket.receive()
        raise SocketTimeoutError(self.timeout_message())

    def started(self) -> None:
        """A start was answered ``started``."""
        self._last_activity_s = self._clock()

    # --- messages -------------------------------------------------------------------------

    def check_text(self, text: str) -> None:
        """Raise MessageTooDeepError before a JSON message is parsed."""
        check_nesting(text, self.config.max_json_depth, "The message")

    def check_frame(self, data: bytes) -> None:
        """Refuse (FrameError ``bad_timestamp``) a frame whose t_ms goes back or runs ahead.

        Both kinds of frame are checked: a picture (``<seq><t_ms>`` + JPEG) and a browser's
        pose payload (formcheck.pose.remote, t_ms after its magic and seq). Messages too short
        for their header are left to the session's own parser.
        """
        t_ms = frame_time_ms(data)
        if t_ms is None:
            return
        if not math.isfinite(t_ms) or abs(t_ms) > MAX_ABS_T_MS:
            raise FrameError(
                "bad_timestamp",
                f"The frame's capture time t_ms ({t_ms:g}) is not a usable number of "
                "milliseconds; send the capture clock's time, such as performance.now().",
            )
        now_s = self._clock()
        if self._last_t_ms is not None:
            if t_ms < self._last_t_ms:
                raise FrameError(
                    "bad_timestamp",
                    f"The frame's capture time t_ms ({t_ms:g}) is before the previous frame's "
                    f"({self._last_t_ms:g}); capture times must not go backwards.",
                )
            allowed_ms = (now_s - self._last_frame_s) * MS_PER_S + self.config.max_clock_lead_ms
            if t_ms - self._last_t_ms > allowed_ms:
                raise FrameError(
                    "bad_timestamp",
                    f"The frame's capture time t_ms jumped {t_ms - self._last_t_ms:g} ms ahead "
                    f"of the previous frame's, while {allowed_ms:.0f} ms passed here; send the "
                    "capture clock's time.",
                )
        self._last_t_ms = t_ms
        self._last_frame_s = now_s
        self._last_activity_s = now_s

    # --- errors ---------------------------------------------------------------------------

    def answered(self, failed_inside: bool) -> None:
        """Count internal failures in a row (a good answer resets the count)."""
        self.internal_errors = self.internal_errors + 1 if failed_inside else 0

    @property
    def should_close(self) -> bool:
        return self.internal_errors >= self.config.max_internal_errors

    def log_internal(self, error: BaseException) -> None:
        """The traceback, throttled per session and kind of error (call in ``except``)."""
        key = f"{self.session_id}:{type(error).__name__}"
        self._errors.error(key, "live session %s failed on a message", self.session_id)
