"""The annotated MP4: the source re-decoded, with skeleton, back outline, rep counter and cues.

One decoding pass serves both the video and the report's key frames. The output is H.264
(libx264, yuv420p, ``+faststart``) so it plays in Chromium and Firefox, has exactly one
frame per decoded source frame, and keeps the source's own timestamps (variable frame
rates stay variable).
"""

from __future__ import annotations

import bisect
import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from av.video.stream import VideoStream
from pydantic import BaseModel, ConfigDict, Field

from formcheck.analyzers.events import Cue, Event, PhaseChanged, RepCompleted
from formcheck.report.draw import Hud, HudCue, draw_hud, draw_pose
from formcheck.report.keyframes import KeyFrame, KeyFrameGrabber, KeyFrameSpec
from formcheck.report.model import FindingBlock
from formcheck.report.recorder import AnnotationRecorder
from formcheck.types import ImageRGB
from formcheck.video import open_source

ProgressFn = Callable[[int, int], None]

CODEC = "libx264"
PIXEL_FORMAT = "yuv420p"  # the only H.264 layout every browser decodes
TIME_BASE = Fraction(1, 90_000)  # MPEG's 90 kHz clock: sub-millisecond timestamps
MS_PER_S = 1000.0
FALLBACK_FPS = 30.0
# A de-identified render's background: mid grey, so the skeleton, outline and HUD colours
# all stand out; no camera pixel reaches the video or the key frames.
DEIDENTIFIED_BACKGROUND_RGB = (96, 96, 96)


class AnnotateConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    max_side_px: int | None = Field(
        1280, ge=64, description="the annotated video's long side (None: the source's size)"
    )
    crf: int = Field(23, ge=0, le=51, description="x264 quality: lower is better and larger")
    preset: str = Field("veryfast", description="x264 speed preset")
    cue_display_s: float = Field(3.0, gt=0, description="how long a cue stays on screen")
    deidentified: bool = Field(
        False,
        description="draw the skeleton, back outline and HUD on a plain background: no camera "
        "pixels (a set shared with someone else)",
    )


@dataclass(frozen=True, slots=True)
class RenderResult:
    frames: int
    keyframes: list[KeyFrame] = field(default_factory=list)
    video_path: Path | None = None


class HudTimeline:
    """What the heads-up display shows at any time, from the run's events and findings."""

    def __init__(
        self,
        events: Sequence[Event],
        findings: Sequence[FindingBlock] = (),
        *,
        target_reps: int | None = None,
        cue_display_s: float = 3.0,
    ) -> None:
        self._rep_times_s = sorted(e.t_s for e in events if isinstance(e, RepCompleted))
        phases = sorted((e for e in events if isinstance(e, PhaseChanged)), key=lambda e: e.t_s)
        self._phase_times_s = [e.t_s for e in phases]
        self._phases = phases
        self._target_reps = target_reps
        self._display_s = cue_display_s
        cues = [HudCue(e.t_s, e.message, e.severity.value) for e in events if isinstance(e, Cue)]
        cued = {(e.code, e.rep) for e in events if isinstance(e, Cue)}
        for f in findings:  # findings the cue policy kept quiet still belong on the video
            if (f.code, f.rep) not in cued and f.t_s is not None:
                cues.append(HudCue(f.t_s, f.message, f.severity.value))
        self._cues = sorted(cues, key=lambda c: c.t_s)

    def at(self, t_s: float) -> Hud:
        done = bisect.bisect_right(self._rep_times_s, t_s)
        line = f"Reps: {done}" + (f"/{self._target_reps}" if self._target_reps else "")
        i = bisect.bisect_right(self._phase_times_s, t_s)
        if i > 0:
            change = self._phases[i - 1]
            line += f"   rep {change.rep}: {change.phase.value}"
        active = tuple(c for c in self._cues if c.t_s <= t_s < c.t_s + self._display_s)
        return Hud(rep_line=line, cues=active)


class _Mp4Writer:
    """H.264 MP4 from RGB frames with their own timestamps; written to a temporary name."""

    def __init__(self, path: Path, size_px: tuple[int, int], fps: float, config: AnnotateConfig):
        self.path = path
        self._tmp = path.with_name(path.name + ".part")
        self._container = av.open(
            str(self._tmp), mode="w", format="mp4", options={"movflags": "+faststart"}
        )
        rate = Fraction(fps).limit_denominator(1001) if fps > 0 else Fraction(FALLBACK_FPS)
        stream = self._container.add_stream(
            CODEC, rate=rate, options={"crf": str(config.crf), "preset": config.preset}
        )
        if not isinstance(stream, VideoStream):
            raise TypeError(f"{CODEC} did not open a video stream")
        stream.width, stream.height = size_px
        stream.pix_fmt = PIXEL_FORMAT
        stream.time_base = TIME_BASE
        stream.codec_context.time_base = TIME_BASE  # else frames are rounded to 1/fps ticks
        self._stream = stream
        self._last_pts = -1

    def write(self, image: ImageRGB, t_ms: float) -> None:
        frame = av.VideoFrame.from_ndarray(image, format="rgb24").reformat(format=PIXEL_FORMAT)
        pts = max(self._last_pts + 1, round(t_ms / MS_PER_S / TIME_BASE))
        frame.pts = pts
        frame.time_base = TIME_BASE
        self._last_pts = pts
        self._container.mux(self._stream.encode(frame))

    def finish(self) -> None:
        self._container.mux(self._stream.encode(None))
        self._container.close()
        self._tmp.replace(self.path)

    def abort(self) -> None:
        with contextlib.suppress(Exception):
            self._container.close()
        self._tmp.unlink(missing_ok=True)


def _even(image: ImageRGB) -> ImageRGB:
    """Crop to even width and height (4:2:0 chroma needs them)."""
    h, w = image.shape[:2]
    if h % 2 == 0 and w % 2 == 0:
        return image
    return np.ascontiguousarray(image[: h - h % 2, : w - w % 2])


def render_annotations(
    video: Path,
    recorder: AnnotationRecorder,
    timeline: HudTimeline,
    *,
    video_out: Path | None,
    keyframes: Sequence[KeyFrameSpec] = (),
    config: AnnotateConfig | None = None,
    progress: ProgressFn | None = None,
) -> RenderResult:
    """Decode ``video`` again and write the annotated MP4 (when ``video_out``) and key frames.

    Raises VideoOpenError when the video cannot be decoded.
    """
    cfg = config or AnnotateConfig()
    grabber = KeyFrameGrabber(keyframes)
    writer: _Mp4Writer | None = None
    frames = 0
    with open_source(video, max_side_px=cfg.max_side_px) as source:
        total = source.info.frame_count
        try:
            for frame in source:
                image = (
                    np.full_like(frame.rgb, DEIDENTIFIED_BACKGROUND_RGB)
                    if cfg.deidentified
                    else frame.rgb.copy()
                )
                overlay = recorder.at(frame.t_ms)
                draw_pose(image, overlay)
                t_s = frame.t_ms / MS_PER_S
                if grabber.wants(t_s):
                    grabber.offer(t_s, image, overlay)
                if video_out is not None:
                    image = _even(image)
                    if writer is None:
                        size = (image.shape[1], image.shape[0])
                        writer = _Mp4Writer(video_out, size, source.info.fps, cfg)
                    draw_hud(image, timeline.at(t_s))
                    writer.write(image, frame.t_ms)
                frames += 1
                if progress is not None:
                    progress(frames, total)
            if writer is not None:
                writer.finish()
        except BaseException:
            if writer is not None:
                writer.abort()
            raise
    return RenderResult(
        frames=frames,
        keyframes=grabber.result(),
        video_path=video_out if writer is not None else None,
    )
