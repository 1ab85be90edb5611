"""The FrameSource interface every input (file, camera, browser frames) implements."""

from __future__ import annotations

import weakref
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import Self

from formcheck.types import VideoFrame, VideoInfo
from formcheck.video.prefetch import InlineFrames, Prefetcher

DEFAULT_MAX_SIDE_PX = 1280  # frames with a longer side are shrunk before inference
DEFAULT_PREFETCH_FRAMES = 8  # frames decoded ahead in a background thread


class FrameSource(ABC):
    """Upright RGB frames with timestamps, in order, from one video or camera.

    ``info`` describes the input at its native, upright size; ``frame_size_px`` is the
    (width, height) of the frames actually delivered (after shrinking to ``max_side_px``),
    which is the size landmarks and masks downstream are measured in.

    Iteration yields :class:`VideoFrame` with ``t_ms`` strictly increasing from 0 at the
    first frame. A source can be iterated once. ``close()`` is idempotent and stops any
    background work, also when iteration stopped early; use the source as a context manager.
    """

    info: VideoInfo

    @property
    @abstractmethod
    def frame_size_px(self) -> tuple[int, int]:
        """(width, height) in pixels of the delivered frames."""

    @abstractmethod
    def __iter__(self) -> Iterator[VideoFrame]: ...

    @abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class StreamingFrameSource(FrameSource):
    """A source whose frames come from a producer generator, read ahead in a thread or inline.

    Subclasses open their input, set ``info`` and call ``_start_frames`` once.
    """

    _frame_size_px: tuple[int, int]
    _frames: Prefetcher[VideoFrame] | InlineFrames[VideoFrame]
    _finalizer: weakref.finalize

    def _start_frames(
        self,
        produce: Callable[[], Iterator[VideoFrame]],
        frame_size_px: tuple[int, int],
        prefetch_frames: int,
        *,
        thread_name: str,
        release: Callable[[], None],
        drop_oldest: bool = False,
    ) -> None:
        """``release`` frees the input when the producer never ran (inline mode only: in a
        thread, the producer owns the input and frees it in the worker)."""
        self._frame_size_px = frame_size_px
        if prefetch_frames > 0:
            self._frames = Prefetcher(
                produce, prefetch_frames, name=thread_name, drop_oldest=drop_oldest
            )
            self._finalizer = weakref.finalize(self, self._frames.stop)
        else:
            self._frames = InlineFrames(produce)
            self._finalizer = weakref.finalize(self, _stop_inline, self._frames, release)

    @property
    def frame_size_px(self) -> tuple[int, int]:
        return self._frame_size_px

    def __iter__(self) -> Iterator[VideoFrame]:
        # A generator, so the loop keeps this source (and its finalizer) alive:
        # ``for frame in open_source(path)`` must not stop when the temporary is dropped.
        yield from self._frames

    def close(self) -> None:
        self._finalizer()


def _stop_inline(frames: InlineFrames[VideoFrame], release: Callable[[], None]) -> None:
    frames.stop()
    release()  # the generator may never have started, so its finally may not run


def check_source_options(max_side_px: int | None, prefetch_frames: int) -> None:
    """Raise ValueError for option values no source can honour."""
    if max_side_px is not None and max_side_px < 1:
        raise ValueError(f"max_side_px must be a positive number of pixels, got {max_side_px}")
    if prefetch_frames < 0:
        raise ValueError(f"prefetch_frames must be 0 (no thread) or more, got {prefetch_frames}")
