"""Receiving a multipart upload as it arrives: the file goes straight to the job store.

The request body is parsed while it streams in (python-multipart's push parser); the bytes
of the file field are handed to ``receive`` (``JobService.receive``: size limit while
copying, then checked by decoding) running in a worker thread, through a small bounded
buffer. Nothing is spooled to a temporary file first, so an over-limit upload is refused as
soon as the limit is passed, and a slow upload never holds more than a few chunks in memory.
Other form fields are small text values, kept in memory with their own limits.

A client that sends nothing for ``idle_timeout_s``, or less than ``min_bytes_per_s`` on
average once ``rate_grace_s`` have passed, is cut off (408). The thread that writes the file
comes from the uploads' own limiter, never from the pool every other route shares: slow
uploads cannot freeze the server.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import BinaryIO, cast

import anyio
import anyio.from_thread
import anyio.to_thread
from anyio.streams.memory import MemoryObjectReceiveStream
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect

from formcheck.errors import FormcheckError
from formcheck.jobs.errors import DiskFullError, UploadRejectedError
from formcheck.jobs.uploads import StoredUpload

log = logging.getLogger(__name__)

FILE_FIELD = "file"
BUFFERED_CHUNKS = 4  # chunks between the network and the disk
CHUNK_BYTES = 1 << 20  # network reads (~64 kB) are joined up to this before the disk sees them
MAX_FIELD_BYTES = 4_000  # a text field (exercise, tempo...) longer than this is refused
MAX_FIELDS = 32
MAX_HEADER_BYTES = 2_000


class FormError(FormcheckError):
    """The request is not a usable upload form (HTTP 400)."""


class UploadTooSlowError(FormError):
    """The client stopped sending, or sends too slowly (HTTP 408)."""


class UploadInterruptedError(UploadRejectedError):
    """The body stopped before its end (the client left, or was cut off)."""


@dataclass(frozen=True, slots=True)
class BodyLimits:
    """How long a client may take to send its upload."""

    idle_timeout_s: float = 30.0
    min_bytes_per_s: float = 0.0
    rate_grace_s: float = 30.0


@dataclass
class _Part:
    name: str = ""
    filename: str | None = None
    data: bytearray = field(default_factory=bytearray)


class StreamingForm:
    """A multipart/form-data body fed chunk by chunk.

    ``feed`` returns the bytes of the file field found in the chunk; every other field is
    collected in ``fields`` (name -> values, in order). Only one file field is accepted.
    """

    def __init__(self, content_type: str, file_field: str = FILE_FIELD) -> None:
        kind, params = parse_options_header(content_type)
        boundary = params.get(b"boundary")
        if kind != b"multipart/form-data" or not boundary:
            raise FormError(
                "Send the video as a multipart/form-data form with the file in the "
                f"'{file_field}' field."
            )
        self.file_field = file_field
        self.fields: dict[str, list[str]] = {}
        self.filename: str | None = None
        self.file_seen = False
        self.ended = False
        self._file_bytes: list[bytes] = []
        self._part = _Part()
        self._in_file = False
        self._header_field = bytearray()
        self._header_value = bytearray()
        self._headers: dict[str, str] = {}
        self._parser = MultipartParser(
            boundary,
            {
                "on_part_begin": self._part_begin,
                "on_part_data": self._part_data,
                "on_part_end": self._part_end,
                "on_header_field": self._header_field_data,
                "on_header_value": self._header_value_data,
                "on_header_end": self._header_end,
                "on_headers_finished": self._headers_finished,
                "on_end": self._end,
            },
            max_header_size=MAX_HEADER_BYTES,
        )

    def feed(self, chunk: bytes) -> list[bytes]:
        """Parse one chunk of the body; return the file's bytes it held (maybe none)."""
        self._file_bytes = []
        try:
            self._parser.write(chunk)
        except (MultipartParseError, ValueError) as error:  # ValueError: undecodable headers
            raise FormError(
                "The upload form is malformed (its multipart body cannot be read); send it again."
            ) from error
        return self._file_bytes

    def _part_begin(self) -> None:
        self._part = _Part()
        self._headers = {}

    def _header_field_data(self, data: bytes, start: int, end: int) -> None:
        self._header_field += data[start:end]

    def _header_value_data(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _header_end(self) -> None:
        name = bytes(self._header_field).decode("latin-1").strip().lower()
        # latin-1 keeps every byte: the parameters are decoded as UTF-8 below (browsers send
        # non-ASCII file names as raw UTF-8)
        self._headers[name] = bytes(self._header_value).decode("latin-1")
        self._header_field.clear()
        self._header_value.clear()

    def _headers_finished(self) -> None:
        _, params = parse_options_header(self._headers.get("content-disposition", ""))
        self._part.name = params.get(b"name", b"").decode("utf-8", "replace")
        filename = params.get(b"filename")
        self._part.filename = filename.decode("utf-8", "replace") if filename is not None else None
        self._in_file = self._part.name == self.file_field
        if self._in_file:
            if self.file_seen:
                raise FormError("Upload one video at a time.")
            self.file_seen = True
            self.filename = self._part.filename or ""
        elif sum(len(v) for v in self.fields.values()) >= MAX_FIELDS:
            raise FormError(f"The upload form has more than {MAX_FIELDS} fields.")

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self._in_file:
            self._file_bytes.append(data[start:end])
            return
        self._part.data += data[start:end]
        if len(self._part.data) > MAX_FIELD_BYTES:
            raise FormError(
                f"The form field '{self._part.name}' is longer than {MAX_FIELD_BYTES} bytes."
            )

    def _part_end(self) -> None:
        if not self._in_file:
            value = bytes(self._part.data).decode("utf-8", "replace")
            self.fields.setdefault(self._part.name, []).append(value)
        self._in_file = False

    def _end(self) -> None:
        self.ended = True


class ChunkReader:
    """A blocking, file-like view of the chunks an async producer sends (worker thread only)."""

    def __init__(self, chunks: MemoryObjectReceiveStream[bytes]) -> None:
        self._chunks = chunks
        self.bytes_read = 0
        self.interrupted = False  # set before the stream ends early: no clean end of file

    def read(self, size: int = -1) -> bytes:
        """The next chunk, whatever its size (the copy loop takes any); b'' at the end.

        Raises UploadInterruptedError when the body was cut off instead of ending.
        """
        try:
            chunk = anyio.from_thread.run(self._chunks.receive)
        except (anyio.EndOfStream, anyio.ClosedResourceError):
            if self.interrupted:
                raise UploadInterruptedError("The upload stopped before its end.") from None
            return b""
        self.bytes_read += len(chunk)
        return chunk


@dataclass
class ReceivedForm:
    """What a streamed upload form produced."""

    fields: dict[str, list[str]]
    filename: str | None
    upload: StoredUpload | None = None  # kept (checked) upload, when accepted
    rejected: UploadRejectedError | None = None  # the store refused the file
    over_limit: bool = False  # it was refused for its size
    form_error: FormError | None = None  # the request was not a usable form
    disk_full: DiskFullError | None = None  # the disk has too little room left
    failed: bool = False  # an unexpected error while storing (logged)


async def paced(body: AsyncIterator[bytes], limits: BodyLimits) -> AsyncIterator[bytes]:
    """``body``'s chunks, or UploadTooSlowError when the client stalls or trickles."""
    started_s = time.monotonic()
    received = 0
    chunks = body.__aiter__()
    while True:
        chunk = None
        with anyio.move_on_after(limits.idle_timeout_s):
            try:
                chunk = await chunks.__anext__()
            except StopAsyncIteration:
                return
        if chunk is None:
            raise UploadTooSlowError(
                f"The upload sent nothing for {limits.idle_timeout_s:g} s and was stopped; "
                "check the connection and send the file again."
            )
        received += len(chunk)
        elapsed_s = time.monotonic() - started_s
        if elapsed_s > limits.rate_grace_s and received < limits.min_bytes_per_s * elapsed_s:
            raise UploadTooSlowError(
                f"The upload was too slow ({received / elapsed_s:.0f} bytes/s on average, "
                f"{limits.min_bytes_per_s:.0f} needed) and was stopped; send the file again "
                "over a faster connection."
            )
        yield chunk


async def receive_form(
    content_type: str,
    body: AsyncIterator[bytes],
    receive: Callable[[BinaryIO], StoredUpload],
    max_upload_bytes: int,
    *,
    body_limits: BodyLimits | None = None,
    limiter: anyio.CapacityLimiter | None = None,
) -> ReceivedForm:
    """Stream ``body`` through the form parser; the file part goes to ``receive`` (run in a
    thread of ``limiter``).

    Never raises for a bad upload: the outcome says what went wrong. When ``form_error`` is
    set and ``upload`` too, the caller must discard the upload.
    """
    form = StreamingForm(content_type)
    send, chunks = anyio.create_memory_object_stream[bytes](BUFFERED_CHUNKS)
    reader = ChunkReader(chunks)
    out = ReceivedForm(fields=form.fields, filename=None)

    async def store() -> None:
        with chunks:
            try:
                out.upload = await anyio.to_thread.run_sync(
                    receive, cast(BinaryIO, reader), limiter=limiter
                )
            except UploadInterruptedError:
                pass  # the form's error says why
            except UploadRejectedError as error:
                out.rejected = error
                out.over_limit = reader.bytes_read > max_upload_bytes
            except DiskFullError as error:
                out.disk_full = error
            except Exception:
                log.exception("storing an upload failed")
                out.failed = True

    async with anyio.create_task_group() as group:
        group.start_soon(store)
        async with send:
            try:
                pending: list[bytes] = []
                pending_bytes = 0
                async for chunk in paced(body, body_limits or BodyLimits()):
                    for piece in form.feed(chunk):
                        pending.append(piece)
                        pending_bytes += len(piece)
                    if pending_bytes >= CHUNK_BYTES:
                        await send.send(b"".join(pending))
                        pending, pending_bytes = [], 0
                if pending:
                    await send.send(b"".join(pending))
                if not form.ended:
                    raise FormError(
                        "The upload ended before the whole form arrived; send it again."
                    )
            except (anyio.BrokenResourceError, anyio.ClosedResourceError):
                pass  # the store stopped reading: the file was refused (too big)
            except FormError as error:
                reader.interrupted = True
                out.form_error = error
            except ClientDisconnect:
                reader.interrupted = True
                out.form_error = FormError("The upload was interrupted; send the file again.")
    out.filename = form.filename
    if not form.file_seen and out.form_error is None:
        out.form_error = FormError(
            f"Choose a video file to upload (the form has no '{FILE_FIELD}' field)."
        )
    return out
