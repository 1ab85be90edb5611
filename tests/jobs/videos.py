"""Small crafted videos for the upload checks (written in a test's tmp_path)."""

from __future__ import annotations

import io
import struct
import zlib
from fractions import Fraction
from pathlib import Path

import av
import numpy as np


def encode_h264(
    target: str | io.RawIOBase, fmt: str | None, frames: int, fps: int, width_px: int = 32,
    height_px: int = 32,
) -> None:  # fmt: skip
    """``frames`` frames of changing grey, H.264 (ultrafast), into a file or a stream."""
    with av.open(target, "w", format=fmt) as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height = width_px, height_px
        stream.pix_fmt = "yuv420p"
        stream.options = {"preset": "ultrafast"}
        rgb = np.zeros((height_px, width_px, 3), np.uint8)
        for i in range(frames):
            rgb[:] = i % 255
            for packet in stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


class _Unseekable(io.RawIOBase):
    """A pipe-like target: a muxer cannot go back to write the duration into the header."""

    def __init__(self) -> None:
        self.data = bytearray()

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def write(self, chunk: bytes) -> int:  # type: ignore[override]
        self.data += chunk
        return len(chunk)


def streamed_mkv(path: Path, seconds: float, fps: int) -> Path:
    """An MKV as a live stream writes it: real frame timestamps, no duration in the header."""
    sink = _Unseekable()
    encode_h264(sink, "matroska", round(seconds * fps), fps)
    path.write_bytes(bytes(sink.data))
    return path


def raw_h264(path: Path, seconds: float, fps: int = 25) -> Path:
    """An elementary H.264 stream: no container, no timestamps, no duration."""
    encode_h264(str(path), "h264", round(seconds * fps), fps)
    return path


def png_bytes(width_px: int, height_px: int) -> bytes:
    """A flat grey PNG of any size, compressed row by row (a huge one stays small)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    packer = zlib.compressobj(9)
    row = b"\x00" + b"\x80" * (3 * width_px)
    pixels = b"".join(packer.compress(row) for _ in range(height_px)) + packer.flush()
    header = struct.pack(">IIBBBBB", width_px, height_px, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels)
        + chunk(b"IEND", b"")
    )  # fmt: skip


def png_in_mov(path: Path, side_px: int, frames: int = 2) -> Path:
    """A MOV whose frames are PNG pictures of ``side_px`` x ``side_px`` (a picture bomb)."""
    picture = png_bytes(side_px, side_px)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("png", rate=1)
        stream.width = stream.height = side_px
        stream.pix_fmt = "rgb24"
        for i in range(frames):
            packet = av.Packet(picture)
            packet.stream = stream
            packet.time_base = Fraction(1, 1)
            packet.pts = packet.dts = i
            container.mux(packet)
    return path
