"""The process that looks inside an upload: ``python -m formcheck.jobs.probe_child FILE``.

Started by ``formcheck.jobs.probing`` with the limits as JSON on stdin; answers one JSON
object on stdout. It caps its own address space and CPU time before opening the file, so a
picture bomb or a decoder stuck in a crafted file fails here, never in the server. Imports
only PyAV and the standard library (it starts in about 0.2 s).

It measures, the parent decides: the container and codec, the picture size from the
header (checked against the pixel limit *before* anything is decoded) and from the first
decoded frame, and every packet of the video track (how many, and the span of their
timestamps: the duration the analysis will see, whatever the header claims).
"""

from __future__ import annotations

import json
import resource
import sys
from typing import Any

EXIT_OK = 0
EXIT_OUT_OF_MEMORY = 3
CPU_SECONDS_MARGIN = 5  # the CPU limit is the parent's wall-clock limit plus this


def _limit_resources(memory_bytes: int, cpu_s: float) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    cpu = int(cpu_s) + CPU_SECONDS_MARGIN
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def measure(path: str, limits: dict[str, Any]) -> dict[str, Any]:
    """What the file holds; ``{"problem": code, ...}`` for what stopped the look."""
    import av

    try:
        container = av.open(path, mode="r")
    except (av.FFmpegError, OSError, ValueError) as error:
        return {"problem": "unreadable", "detail": type(error).__name__}
    with container:
        facts: dict[str, Any] = {"container": container.format.name}
        if facts["container"] not in limits["allowed_containers"]:
            return {"problem": "container", **facts}
        if not container.streams.video:
            return {"problem": "no_video_track", **facts}
        stream = container.streams.video[0]
        codec = stream.codec_context.name
        facts.update(
            codec=codec,
            header_width_px=int(stream.codec_context.width or 0),
            header_height_px=int(stream.codec_context.height or 0),
            header_frames=max(0, int(stream.frames or 0)),
        )
        if codec not in limits["allowed_codecs"]:
            return {"problem": "codec", **facts}
        if facts["header_width_px"] * facts["header_height_px"] > limits["max_pixels"]:
            return {"problem": "pixels", **facts}
        rate = stream.average_rate or stream.guessed_rate or stream.base_rate
        facts["fps"] = float(rate) if rate else 0.0
        stream.codec_context.thread_count = 1  # one frame at a time: the least memory
        facts.update(_walk_packets(container, stream, limits))
        return facts


def _walk_packets(container: Any, stream: Any, limits: dict[str, Any]) -> dict[str, Any]:
    """Count the packets and their timestamps; decode only until the first frame."""
    import av

    packets = 0
    first_pts: int | None = None
    last_end: int | None = None
    untimed = 0
    first: dict[str, Any] | None = None
    problem = ""
    try:
        for packet in container.demux(stream):
            if not packet.size:
                continue
            packets += 1
            if packets > limits["max_frames"]:
                problem = "frames"
                break
            if packet.pts is None:
                untimed += 1
            else:
                end = packet.pts + (packet.duration or 0)
                first_pts = packet.pts if first_pts is None else min(first_pts, packet.pts)
                last_end = end if last_end is None else max(last_end, end)
            if first is None:
                first = _first_frame(stream, packet, limits) or None  # {}: not yet
                if first and first.get("problem"):
                    problem = str(first["problem"])
                    break
    except av.FFmpegError:
        pass  # what was read before the damage counts
    if first is None and not problem:
        first = _first_frame(stream, None, limits)  # frames the decoder still holds
        problem = str(first.get("problem", ""))
    span_s = None
    if first_pts is not None and last_end is not None and stream.time_base is not None:
        span_s = float((last_end - first_pts) * stream.time_base)
    out: dict[str, Any] = {"packets": packets, "untimed_packets": untimed, "span_s": span_s}
    if first:
        out.update({k: v for k, v in first.items() if k != "problem"})
    if problem:
        out["problem"] = problem
    return out


def _first_frame(stream: Any, packet: Any, limits: dict[str, Any]) -> dict[str, Any]:
    import av

    try:
        frames = stream.decode(packet)
    except MemoryError:  # av's ENOMEM is one too: the address-space limit was reached
        return {"problem": "memory"}
    except av.FFmpegError:
        return {}
    for frame in frames:
        if frame.width * frame.height > limits["max_pixels"]:
            return {"problem": "pixels", "width_px": frame.width, "height_px": frame.height}
        return {
            "width_px": frame.width,
            "height_px": frame.height,
            "rotation_ccw_deg": float(frame.rotation or 0.0),
        }
    return {} if packet is not None else {"problem": "no_frames"}


def main() -> int:
    request = json.loads(sys.stdin.read())
    limits = request["limits"]
    _limit_resources(int(limits["probe_memory_bytes"]), float(limits["probe_timeout_s"]))
    try:
        facts = measure(request["path"], limits)
    except MemoryError:
        return EXIT_OUT_OF_MEMORY
    sys.stdout.write(json.dumps(facts))
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
