"""Run a producer iterator ahead of its consumer in a background thread.

The producer (a decoder or a camera grab loop) fills a bounded queue while the consumer
(pose inference) works on earlier items, so decoding overlaps inference. Exceptions raised
by the producer are re-raised in the consumer; ``stop()`` ends the thread promptly even
when the consumer has stopped reading and the queue is full.

The producer iterator is created, consumed and closed in the worker thread, so resources it
owns (an open container, a camera) are released there, never concurrently with their use.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")

QUEUE_POLL_S = 0.05  # how often a blocked put/get re-checks the stop flag and the worker
STOP_JOIN_TIMEOUT_S = 5.0  # longest close() waits for the worker to finish


class _End:
    """Marks the end of the stream in the queue."""


@dataclass(frozen=True, slots=True)
class _Failure:
    """Carries an exception raised by the producer to the consumer."""

    error: BaseException


_END = _End()


class Prefetcher(Generic[T]):
    """Iterate over ``produce()`` in a daemon thread, ``capacity`` items ahead.

    ``drop_oldest=True`` suits live cameras: when the consumer falls behind, the oldest
    queued item is discarded so the consumer always gets recent frames.

    Iterate it once; ``stop()`` (idempotent) ends the worker and frees queued items.
    """

    def __init__(
        self,
        produce: Callable[[], Iterator[T]],
        capacity: int,
        *,
        name: str = "formcheck-prefetch",
        drop_oldest: bool = False,
    ) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be at least 1, got {capacity}")
        self._queue: queue.Queue[T | _End | _Failure] = queue.Queue(maxsize=capacity)
        self._stop_requested = threading.Event()
        self._drop_oldest = drop_oldest
        self._finished = False
        self._thread = threading.Thread(target=self._run, args=(produce,), name=name, daemon=True)
        self._thread.start()

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def __iter__(self) -> Iterator[T]:
        while not self._finished:
            try:
                item = self._queue.get(timeout=QUEUE_POLL_S)
            except queue.Empty:
                if not self._thread.is_alive() and self._queue.empty():
                    self._finished = True  # worker gone without an end marker (stopped)
                continue
            if isinstance(item, _End):
                self._finished = True
                return
            if isinstance(item, _Failure):
                self._finished = True
                raise item.error
            yield item

    def stop(self) -> None:
        """Ask the worker to finish, wait for it (bounded) and drop queued items."""
        self._finished = True
        self._stop_requested.set()
        self._drain()
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout=STOP_JOIN_TIMEOUT_S)
            if self._thread.is_alive():
                log.warning(
                    "Prefetch thread %s did not stop within %.1f s; leaving it as a daemon.",
                    self._thread.name,
                    STOP_JOIN_TIMEOUT_S,
                )
        self._drain()

    def _drain(self) -> None:
        while True:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                return

    def _put(self, item: T | _End | _Failure) -> bool:
        """Queue ``item``, waiting for room; False when a stop was requested meanwhile.

        Only data items make room by dropping the oldest: the end marker or an error waits,
        so the consumer still gets every queued item before the end.
        """
        may_drop = self._drop_oldest and not isinstance(item, (_End, _Failure))
        while not self._stop_requested.is_set():
            try:
                if may_drop:
                    self._queue.put_nowait(item)
                else:
                    self._queue.put(item, timeout=QUEUE_POLL_S)
            except queue.Full:
                if may_drop:
                    with contextlib.suppress(queue.Empty):
                        self._queue.get_nowait()
                continue
            return True
        return False

    def _run(self, produce: Callable[[], Iterator[T]]) -> None:
        items: Iterator[T] | None = None
        try:
            items = produce()
            for item in items:
                if not self._put(item):
                    return
            self._put(_END)
        except BaseException as error:  # handed to the consumer, re-raised there
            self._put(_Failure(error))
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                try:
                    close()
                except Exception:  # cleanup must not mask the real outcome
                    log.exception("Closing the prefetch producer failed.")


class InlineFrames(Generic[T]):
    """The same interface as :class:`Prefetcher` without a thread (``prefetch_frames=0``)."""

    def __init__(self, produce: Callable[[], Iterator[T]]) -> None:
        self._items = produce()

    @property
    def running(self) -> bool:
        return False

    def __iter__(self) -> Iterator[T]:
        # Not ``return self._items``: a loop left early must not close the producer, so a
        # later loop continues where the first one stopped (as with Prefetcher).
        while True:
            try:
                item = next(self._items)
            except StopIteration:
                return
            yield item

    def stop(self) -> None:
        close = getattr(self._items, "close", None)
        if close is not None:
            close()
