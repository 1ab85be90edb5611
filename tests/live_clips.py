"""Rendered clips played as a live camera would see them, for the server and browser tests.

A person in front of a laptop stands still while the page connects and the setup check
passes; the rendered clips start with only 1.5 s of standing. ``live_frames`` puts a lead-in
before the clip: the clip's own standing frames played back and forth (so the render and
compression noise of real standing frames is kept, not one frozen picture).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import av
import numpy as np

MS_PER_S = 1000.0


def decode_rgb(video: Path) -> tuple[list[np.ndarray], float]:
    """All frames as RGB arrays, and the frame rate."""
    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        fps = float(stream.average_rate or 30)
        frames = [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]
    return frames, fps


def live_frames(
    video: Path, still_end_s: float, lead_in_s: float
) -> Iterator[tuple[float, np.ndarray]]:
    """(t_ms, RGB) of a ``lead_in_s`` standing lead-in, then the clip (its times shifted)."""
    frames, fps = decode_rgb(video)
    still = frames[: max(1, int(still_end_s * fps))]
    bounce = still + still[-2:0:-1] if len(still) > 2 else still
    lead_count = round(lead_in_s * fps)
    for i in range(lead_count):
        yield i / fps * MS_PER_S, bounce[i % len(bounce)]
    for i, rgb in enumerate(frames):
        yield (lead_count + i) / fps * MS_PER_S, rgb
