"""Deterministic writers: H.264 MP4 through PyAV and NPZ archives with fixed timestamps."""

from __future__ import annotations

import io
import zipfile
from fractions import Fraction
from pathlib import Path
from types import TracebackType

import av
import numpy as np
import numpy.typing as npt

DEFAULT_CRF = 28
X264_PRESET = "medium"
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


class Mp4Writer:
    """Streams RGB frames into an H.264 (yuv420p) MP4. One encoder thread and fixed options
    make the bytes depend only on the frames."""

    def __init__(
        self, path: Path, width_px: int, height_px: int, fps: float, crf: int = DEFAULT_CRF
    ) -> None:
        self.path = path
        self._container = av.open(
            str(path), mode="w", format="mp4", options={"movflags": "+faststart"}
        )
        rate = Fraction(fps).limit_denominator(1001)
        stream = self._container.add_stream("libx264", rate=rate)
        stream.width = width_px
        stream.height = height_px
        stream.pix_fmt = "yuv420p"
        stream.codec_context.thread_count = 1
        stream.codec_context.time_base = 1 / rate
        stream.options = {
            "crf": str(crf),
            "preset": X264_PRESET,
            "threads": "1",
            "x264-params": "threads=1:lookahead-threads=1",
        }
        self._stream = stream
        self._index = 0

    def write(self, rgb: npt.NDArray[np.uint8]) -> None:
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
        frame.pts = self._index
        self._index += 1
        for packet in self._stream.encode(frame):
            self._container.mux(packet)

    def close(self) -> None:
        for packet in self._stream.encode(None):
            self._container.mux(packet)
        self._container.close()

    def __enter__(self) -> Mp4Writer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def save_npz(path: Path, arrays: dict[str, npt.NDArray[np.generic]]) -> None:
    """Like ``np.savez_compressed`` but byte-for-byte reproducible (fixed member timestamps)."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(arrays):
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.asarray(arrays[name]), allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=ZIP_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, buf.getvalue())
