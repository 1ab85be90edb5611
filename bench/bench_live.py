"""Live latency and capacity, with pose on the server and pose in the browser.

The app runs under uvicorn on 127.0.0.1 in a process of its own (its CPU time is read from
/proc, apart from the clients'). Each simulated client is an asyncio websocket client playing a
640x480 rendered clip at 30 frames/s the way the page does: one frame in flight, the frame due
at each 1/30 s tick sent only if the previous answer is back, otherwise dropped (never queued).
The clip starts with a still lead-in (the calibration needs a still second) and loops.

- server mode: frames are JPEGs (quality 95, as the page sends them), encoded ahead of time;
  1 and 2 clients.
- browser mode: frames are the pose payloads the page sends (formcheck.pose.remote, made ahead
  of time by the reference encoder from the server's own PoseEstimator on the same frames);
  1 and 16 clients. The server runs no model.
- chromium: Debian's headless Chromium plays the clip as its fake webcam into the real page,
  once per mode; the page records, per frame, when the camera frame was captured ("glass",
  from requestVideoFrameCallback) and when the answer's skeleton, counts and cues were put on
  screen (the animation frame after the DOM update): glass-to-screen for every frame, and
  glass-to-cue for the frames that brought a cue.

Reported per run: server_ms (the server's time on a frame, from the answer), rtt_ms (send to
answer at the client: server_ms plus queueing, websocket and event-loop time), frames
answered per client per second, frames dropped, and cpu_ms_per_frame (the CPU time of the
server's process and of the live workers it started, all threads, per answered frame).

Targets (issue 18): browser mode server CPU <= 3 ms a frame; 16 browser clients at 30 frames/s
with server p95 <= 25 ms on 2 cores.

Usage: .venv/bin/python bench/bench_live.py [--video CLIP.mp4] [--seconds S]
           [--modes server,browser,chromium] [--json OUT]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DEFAULT_VIDEO = ROOT / "sample_videos" / "hip_hinge_hips_rise_first.mp4"
FPS = 30.0
LEAD_IN_S = 3.0
JPEG_QUALITY = 95  # as the page sends them
FRAME_SIZE_PX = (640, 480)
SERVER_START_TIMEOUT_S = 60.0
MS_PER_S = 1000.0
CLOCK_TICKS_PER_S = os.sysconf("SC_CLK_TCK")
BROWSER_CPU_TARGET_MS = 3.0
MANY_CLIENTS = 16
MANY_P95_TARGET_MS = 25.0
PAYLOAD_SEQ_OFFSET = 4  # formcheck.pose.remote: magic, then seq (uint32), then t_ms (float64)
CHROMIUM_SECONDS = 40.0
CHROMIUM_SKIP_FRAMES = 5  # the page's first answers include loading the model
PHASE_SEED = 18
WARM_UP_S = 3.0  # one untimed set per mode first (it starts the server's live workers)


def rgb_frames(video: Path) -> list[tuple[float, np.ndarray]]:
    """(t_ms, RGB 640x480) of the clip after a ``LEAD_IN_S`` still lead-in (its first frame)."""
    frames: list[tuple[float, np.ndarray]] = []
    with av.open(str(video)) as container:
        for frame in container.decode(video=0):
            rgb: np.ndarray = frame.to_ndarray(format="rgb24")
            if (rgb.shape[1], rgb.shape[0]) != FRAME_SIZE_PX:
                rgb = np.asarray(cv2.resize(rgb, FRAME_SIZE_PX, interpolation=cv2.INTER_AREA))
            if not frames:
                frames = [(i / FPS * MS_PER_S, rgb) for i in range(round(LEAD_IN_S * FPS))]
            frames.append((((frame.time or 0.0) + LEAD_IN_S) * MS_PER_S, rgb))
    return frames


def jpeg_messages(frames: list[tuple[float, np.ndarray]]) -> list[tuple[float, bytes]]:
    out = []
    for t_ms, rgb in frames:
        ok, buf = cv2.imencode(
            ".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY]
        )
        assert ok
        out.append((t_ms, buf.tobytes()))
    return out


def payload_messages(frames: list[tuple[float, np.ndarray]]) -> list[tuple[float, bytes]]:
    """The page's pose payloads for the frames (posed by the server's own estimator)."""
    from formcheck.pose.estimator import PoseEstimator
    from formcheck.pose.model import ensure_model
    from formcheck.pose.remote import encode_payload
    from formcheck.types import VideoFrame
    from formcheck.video.luma import mean_luma

    out = []
    with PoseEstimator(ensure_model().path) as estimator:
        for i, (t_ms, rgb) in enumerate(frames):
            pose = estimator.process(VideoFrame(index=i, t_ms=t_ms, rgb=rgb))
            out.append((t_ms, encode_payload(pose, seq=0, t_ms=t_ms, mean_luma=mean_luma(rgb))))
    return out


def frame_message(mode: str, frames: list[tuple[float, bytes]], due: int) -> bytes:
    """The message for tick ``due`` (the clip loops, its times going on)."""
    index = due % len(frames)
    t_ms = frames[index][0] + (due // len(frames)) * (len(frames) / FPS) * MS_PER_S
    if mode == "server":
        return struct.pack("<Id", due, t_ms) + frames[index][1]
    data = frames[index][1]
    return (
        data[:PAYLOAD_SEQ_OFFSET]
        + struct.pack("<Id", due, t_ms)
        + data[PAYLOAD_SEQ_OFFSET + struct.calcsize("<Id") :]
    )


class ServerProcess:
    """`create_app()` under uvicorn in a child process, on a free loopback port."""

    def __init__(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> ServerProcess:
        code = (
            "import uvicorn; from formcheck.server.app import create_app, uvicorn_settings; "
            "from formcheck.server.config import ServerConfig; config = ServerConfig(); "
            f"uvicorn.run(create_app(config), host='127.0.0.1', port={self.port}, "
            "**uvicorn_settings(config))"
        )
        # Every simulated client connects from 127.0.0.1: one "client" to the per-client cap.
        env = {**os.environ, "FORMCHECK_MAX_SESSIONS_PER_CLIENT": str(MANY_CLIENTS + 2)}
        self._process = subprocess.Popen([sys.executable, "-c", code], env=env)
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while True:
            try:
                with urllib.request.urlopen(self.url + "/api/health", timeout=1.0):
                    return self
            except OSError:
                if time.monotonic() > deadline or self._process.poll() is not None:
                    raise RuntimeError("the server did not start") from None
                time.sleep(0.1)

    def __exit__(self, *exc: object) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(timeout=30)

    def cpu_s(self) -> float:
        """CPU time of the server and every process it started (its live workers)."""
        assert self._process is not None
        family = {self._process.pid}
        stats: dict[int, list[str]] = {}
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    stats[int(entry.name)] = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
        grew = True
        while grew:
            grew = False
            for pid, fields in stats.items():
                if pid not in family and int(fields[1]) in family:
                    family.add(pid)
                    grew = True
        ticks = sum(int(stats[pid][11]) + int(stats[pid][12]) for pid in family if pid in stats)
        return ticks / CLOCK_TICKS_PER_S


async def client(
    port: int, mode: str, frames: list[tuple[float, bytes]], seconds: float, phase_s: float
) -> dict[str, Any]:
    """One page: starts a set, then sends the frame due at each tick of its own 30 frames/s
    camera clock, which runs ``phase_s`` behind the others' (cameras are not in step)."""
    from websockets.asyncio.client import connect

    server_ms: list[float] = []
    rtt_ms: list[float] = []
    sent = dropped = errors = 0
    async with connect(f"ws://127.0.0.1:{port}/ws/live", max_size=None) as ws:
        t0 = time.perf_counter()
        await ws.send(json.dumps({"type": "start", "exercise": "hip_hinge", "pose": mode}))
        started = json.loads(await ws.recv())
        assert started["type"] == "started", started
        start_ms = (time.perf_counter() - t0) * MS_PER_S
        await asyncio.sleep(phase_s)
        begin = time.perf_counter()
        next_tick = 0
        while True:
            elapsed_s = time.perf_counter() - begin
            if elapsed_s >= seconds:
                break
            due = int(elapsed_s * FPS)  # the frame due now; the ones before it were missed
            dropped += max(0, due - next_tick)
            sent_at = time.perf_counter()
            await ws.send(frame_message(mode, frames, due))
            reply = json.loads(await ws.recv())
            rtt_ms.append((time.perf_counter() - sent_at) * MS_PER_S)
            if reply["type"] == "frame":
                server_ms.append(reply["server_ms"])
            else:
                errors += 1
            sent += 1
            next_tick = due + 1
            wait_s = begin + next_tick / FPS - time.perf_counter()
            if wait_s > 0:
                await asyncio.sleep(wait_s)
        await ws.send(json.dumps({"type": "finish"}))
        summary = json.loads(await ws.recv())
    return {
        "start_ms": start_ms,
        "server_ms": server_ms,
        "rtt_ms": rtt_ms,
        "sent": sent,
        "dropped": dropped,
        "errors": errors,
        "reps": summary["report"].get("summary", {}).get("reps"),
    }


def percentiles(values: list[float]) -> dict[str, float]:
    array = np.asarray(values, dtype=float)
    if not array.size:
        return {"p50": float("nan"), "p95": float("nan"), "max": float("nan")}
    return {
        "p50": float(np.percentile(array, 50)),
        "p95": float(np.percentile(array, 95)),
        "max": float(array.max()),
    }


async def run_clients(
    port: int, mode: str, frames: list[tuple[float, bytes]], clients: int, seconds: float
) -> Any:
    # Each camera's clock at its own phase within the frame period (seeded: runs compare).
    phases_s = np.random.default_rng(PHASE_SEED).uniform(0.0, 1.0 / FPS, clients)
    return await asyncio.gather(
        *(client(port, mode, frames, seconds, float(phase)) for phase in phases_s)
    )


def simulated(
    server: ServerProcess,
    mode: str,
    frames: list[tuple[float, bytes]],
    clients: int,
    seconds: float,
) -> dict[str, Any]:
    cpu_before = server.cpu_s()
    own_before = os.times()
    outcomes = asyncio.run(run_clients(server.port, mode, frames, clients, seconds))
    cpu_s = server.cpu_s() - cpu_before
    own = os.times()
    client_cpu_share = (own.user - own_before.user + own.system - own_before.system) / seconds
    answered = sum(len(o["server_ms"]) for o in outcomes)
    row = {
        "mode": mode,
        "clients": clients,
        "server_ms": percentiles([v for o in outcomes for v in o["server_ms"]]),
        "rtt_ms": percentiles([v for o in outcomes for v in o["rtt_ms"]]),
        "sent": sum(o["sent"] for o in outcomes),
        "dropped": sum(o["dropped"] for o in outcomes),
        "errors": sum(o["errors"] for o in outcomes),
        "answered_fps_per_client": answered / clients / seconds,
        "start_ms": [round(o["start_ms"]) for o in outcomes],
        "reps": [o["reps"] for o in outcomes],
        "cpu_ms_per_frame": cpu_s * MS_PER_S / max(1, answered),
        "server_cpu_share": cpu_s / seconds,
        "clients_cpu_share": client_cpu_share,
    }
    s, r = row["server_ms"], row["rtt_ms"]
    print(
        f"{mode} pose, {clients} client(s): server p50 {s['p50']:.1f} p95 {s['p95']:.1f} "
        f"max {s['max']:.0f} ms | rtt p50 {r['p50']:.1f} p95 {r['p95']:.1f} ms | "
        f"{row['answered_fps_per_client']:.1f} answered frames/s per client, "
        f"{row['dropped']} dropped, {row['errors']} errors | server CPU "
        f"{row['cpu_ms_per_frame']:.2f} ms a frame ({row['server_cpu_share']:.0%} of a core; "
        f"clients {row['clients_cpu_share']:.0%}) | reps {row['reps']}",
        flush=True,
    )
    return row


def chromium_latency(server: ServerProcess, video: Path, seconds: float) -> dict[str, Any]:
    """Glass-to-screen and glass-to-cue in real Chromium, for both modes."""
    from playwright.sync_api import sync_playwright

    from tests.browser_pose_driver import CHROMIUM, chromium_missing_reason
    from tests.server.test_browser_live import FAKE_WEBCAM_FLAGS, write_y4m

    reason = chromium_missing_reason()
    if reason:
        print(f"chromium: skipped ({reason})")
        return {}
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        y4m = write_y4m(video, Path(tmp) / "webcam.y4m")
        flags = [*FAKE_WEBCAM_FLAGS, f"--use-file-for-fake-video-capture={y4m}"]
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=flags
            )
            for mode in ("browser", "server"):
                context = browser.new_context(viewport={"width": 1280, "height": 820})
                context.grant_permissions(["camera"], origin=server.url)
                page = context.new_page()
                page.goto(server.url + ("/" if mode == "browser" else "/?pose=server"))
                page.wait_for_selector("#exercise option[value='hip_hinge']", state="attached")
                page.select_option("#exercise", "hip_hinge")
                page.click("#start")
                time.sleep(seconds)
                timings = page.evaluate("window.formcheckTimings")
                context.close()
                results[mode] = summarize_page(mode, timings)
            browser.close()
    return results


def summarize_page(mode: str, timings: dict[str, Any]) -> dict[str, Any]:
    frames = [f for f in timings["frames"] if f["mode"] == mode][CHROMIUM_SKIP_FRAMES:]
    cues = [c for c in timings["cues"] if c["mode"] == mode]
    if len(frames) < 2:
        print(f"chromium {mode} pose: too few frames answered ({len(frames)})")
        return {}
    span_s = (frames[-1]["shown_ms"] - frames[0]["shown_ms"]) / MS_PER_S
    pose_ms = [f["pose"]["inferenceMs"] for f in frames if f.get("pose")]
    row = {
        "frames": len(frames),
        "fps": (len(frames) - 1) / span_s if span_s > 0 else float("nan"),
        "glass_to_screen_ms": percentiles([f["shown_ms"] - f["glass_ms"] for f in frames]),
        "glass_to_sent_ms": percentiles([f["sent_ms"] - f["glass_ms"] for f in frames]),
        "rtt_ms": percentiles([f["answered_ms"] - f["sent_ms"] for f in frames]),
        "server_ms": percentiles([f["server_ms"] for f in frames]),
        "browser_pose_ms": percentiles(pose_ms) if pose_ms else None,
        "glass_to_cue_ms": [c["shown_ms"] - c["glass_ms"] for c in cues],
        "cues": [c["code"] for c in cues],
    }
    g, s = row["glass_to_screen_ms"], row["glass_to_sent_ms"]
    cue_ms = ", ".join(f"{v:.0f}" for v in row["glass_to_cue_ms"]) or "none"
    print(
        f"chromium {mode} pose: {row['fps']:.1f} frames/s | glass-to-screen p50 {g['p50']:.0f} "
        f"p95 {g['p95']:.0f} ms (glass-to-sent p50 {s['p50']:.0f} ms, rtt p50 "
        f"{row['rtt_ms']['p50']:.0f} ms, server p50 {row['server_ms']['p50']:.1f} ms) | "
        f"glass-to-cue {cue_ms} ms for {row['cues']}",
        flush=True,
    )
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--video", type=Path, default=DEFAULT_VIDEO)
    parser.add_argument("--seconds", type=float, default=20.0, help="per simulated run")
    parser.add_argument("--modes", default="server,browser,chromium")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()
    modes = set(args.modes.split(","))
    frames = rgb_frames(args.video)
    print(
        f"clip {args.video.name}: {len(frames)} frames with a {LEAD_IN_S:.0f} s lead-in; load "
        f"average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores",
        flush=True,
    )
    runs: list[tuple[str, list[tuple[float, bytes]], int]] = []
    if "server" in modes:
        jpegs = jpeg_messages(frames)
        print(f"server pose: JPEG ~{np.mean([len(m) for _, m in jpegs]) / 1000:.0f} kB a frame")
        runs += [("server", jpegs, 1), ("server", jpegs, 2)]
    if "browser" in modes:
        payloads = payload_messages(frames)
        print(
            f"browser pose: payload ~{np.mean([len(m) for _, m in payloads]) / 1000:.1f} kB a "
            "frame (no image)"
        )
        runs += [("browser", payloads, 1), ("browser", payloads, MANY_CLIENTS)]
    results: dict[str, Any] = {"load_average": os.getloadavg()[0], "runs": []}
    with ServerProcess() as server:
        warmed: set[str] = set()
        for mode, messages, clients in runs:
            if mode not in warmed:  # the first set of a mode starts its live workers: untimed
                asyncio.run(run_clients(server.port, mode, messages, 1, WARM_UP_S))
                warmed.add(mode)
            results["runs"].append(simulated(server, mode, messages, clients, args.seconds))
        if "chromium" in modes:
            results["chromium"] = chromium_latency(server, args.video, CHROMIUM_SECONDS)
    for row in results["runs"]:
        if row["mode"] != "browser":
            continue
        cpu_ok = row["cpu_ms_per_frame"] <= BROWSER_CPU_TARGET_MS
        line = (
            f"browser pose, {row['clients']} client(s): server CPU {row['cpu_ms_per_frame']:.2f} "
            f"ms a frame ({'meets' if cpu_ok else 'misses'} <= {BROWSER_CPU_TARGET_MS:g})"
        )
        if row["clients"] == MANY_CLIENTS:
            p95_ok = row["server_ms"]["p95"] <= MANY_P95_TARGET_MS
            line += (
                f"; server p95 {row['server_ms']['p95']:.1f} ms ({'meets' if p95_ok else 'misses'}"
                f" <= {MANY_P95_TARGET_MS:g}) at {row['answered_fps_per_client']:.1f} frames/s "
                "per client"
            )
        print(line)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
