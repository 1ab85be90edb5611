"""Open a video file with PyAV and describe it, turning every failure into VideoOpenError.

``probe_video`` reads the container header and decodes only the first frame: PyAV 18
exposes the display matrix (rotation) on decoded frames, not on streams, and decoding one
frame also proves the file holds video that can be decoded.
"""

from __future__ import annotations

import errno
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import av
from av.container import InputContainer
from av.video.stream import VideoStream

from formcheck.errors import VideoOpenError
from formcheck.types import VideoInfo
from formcheck.video.decode import DecodeStats, decode_video_frames
from formcheck.video.geometry import swaps_axes, upright_rotation_cw_deg

MICROSECONDS_PER_S = 1_000_000  # unit of InputContainer.duration (FFmpeg's AV_TIME_BASE)
DECODER_THREAD_TYPE = "AUTO"  # frame and slice threads
DECODER_THREADS = 0  # 0: FFmpeg picks (cores + 1)
ROTATE_TAG = "rotate"  # legacy stream tag: clockwise degrees to show the video upright
REMEDY = "export or copy the clip again as an MP4 (H.264) and retry"


@dataclass(slots=True)
class OpenedVideo:
    """A video file opened for decoding, positioned after its first frame.

    The caller owns it and must call ``close()`` (idempotent) from the thread that decodes.
    ``frames`` continues after ``first_frame``.
    """

    path: Path
    container: InputContainer
    stream: VideoStream
    first_frame: av.VideoFrame
    frames: Iterator[av.VideoFrame]
    stats: DecodeStats
    info: VideoInfo
    rotation_cw_deg: int

    def close(self) -> None:
        self.container.close()


def open_video(path: str | Path) -> OpenedVideo:
    """Open ``path``, decode its first frame and describe it; raise VideoOpenError if unusable."""
    video_path = Path(path)
    _check_file(video_path)
    container = _open_container(video_path)
    try:
        stream = _video_stream(container, video_path)
        stream.thread_type = DECODER_THREAD_TYPE  # must be set before decoding starts
        stream.codec_context.thread_count = DECODER_THREADS
        stats = DecodeStats(expected_frames=max(0, stream.frames))
        frames = decode_video_frames(container, stream, str(video_path), stats)
        first_frame = next(frames, None)
        if first_frame is None:
            reason = f" ({stats.stopped_early})" if stats.stopped_early else ""
            raise VideoOpenError(
                f"{video_path} contains no video frames that can be decoded{reason}; {REMEDY}."
            )
        rotation_cw_deg = upright_rotation_cw_deg(_display_rotation_ccw_deg(stream, first_frame))
        info = _describe(video_path, container, stream, first_frame, rotation_cw_deg)
    except BaseException:
        container.close()
        raise
    return OpenedVideo(
        path=video_path,
        container=container,
        stream=stream,
        first_frame=first_frame,
        frames=frames,
        stats=stats,
        info=info,
        rotation_cw_deg=rotation_cw_deg,
    )


def probe_video(path: str | Path) -> VideoInfo:
    """Describe a video file without decoding it all (header plus the first frame)."""
    opened = open_video(path)
    opened.close()
    return opened.info


def _check_file(path: Path) -> None:
    if not path.exists():
        raise VideoOpenError(f"Video file {path} does not exist; check the path and try again.")
    if path.is_dir():
        raise VideoOpenError(f"{path} is a folder, not a video file; give the path of a video.")
    if path.stat().st_size == 0:
        raise VideoOpenError(f"Video file {path} is empty (0 bytes); {REMEDY}.")


def _open_container(path: Path) -> InputContainer:
    try:
        return av.open(str(path), mode="r")
    except PermissionError as error:
        raise VideoOpenError(
            f"Video file {path} cannot be read (permission denied); check its permissions."
        ) from error
    except av.FFmpegError as error:
        if error.errno == errno.EACCES:
            raise VideoOpenError(
                f"Video file {path} cannot be read (permission denied); check its permissions."
            ) from error
        raise VideoOpenError(
            f"{path} is not a video that can be read (it may be damaged, truncated or not a "
            f"video at all); {REMEDY}."
        ) from error
    except OSError as error:
        raise VideoOpenError(f"Video file {path} cannot be read ({error}); {REMEDY}.") from error


def _video_stream(container: InputContainer, path: Path) -> VideoStream:
    if not container.streams.video:
        raise VideoOpenError(f"{path} has no video track; choose a file that contains video.")
    return container.streams.video[0]


def _display_rotation_ccw_deg(stream: VideoStream, first_frame: av.VideoFrame) -> float:
    """The display matrix's counter-clockwise angle, else an old-style ``rotate`` tag.

    FFmpeg turns MP4/MOV rotation into a display matrix that decoded frames carry; a
    ``rotate`` tag (clockwise degrees) only survives in files such as MKV remuxed by old
    tools, and is used only when there is no display matrix.
    """
    if first_frame.rotation:
        return float(first_frame.rotation)
    tags = {key.lower(): value for key, value in stream.metadata.items()}
    try:
        return -float(tags.get(ROTATE_TAG, "0"))
    except ValueError:
        return 0.0


def _describe(
    path: Path,
    container: InputContainer,
    stream: VideoStream,
    first_frame: av.VideoFrame,
    rotation_cw_deg: int,
) -> VideoInfo:
    stored_width_px, stored_height_px = first_frame.width, first_frame.height
    if swaps_axes(rotation_cw_deg):
        width_px, height_px = stored_height_px, stored_width_px
    else:
        width_px, height_px = stored_width_px, stored_height_px
    rate = stream.average_rate or stream.guessed_rate or stream.base_rate
    return VideoInfo(
        path=str(path),
        width_px=width_px,
        height_px=height_px,
        fps=float(rate) if rate else 0.0,
        frame_count=max(0, stream.frames),
        duration_s=_duration_s(container, stream),
        rotation_deg=rotation_cw_deg,
        codec=stream.codec_context.name,
    )


def _duration_s(container: InputContainer, stream: VideoStream) -> float:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / MICROSECONDS_PER_S
    return 0.0
