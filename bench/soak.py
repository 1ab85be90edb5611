"""Soak: a real `formcheck serve` under mixed load for a while; latency, errors and memory.

The server runs as its own process (`formcheck serve` on 127.0.0.1, a free port, a fresh
data directory, one job worker), configured through FORMCHECK_* variables as an operator
would. Against it, for ``--duration-s`` (60 s by default; quote a 10-minute run):

- ``--live-clients`` live clients (4): each connects, starts a hip-hinge set, streams a
  rendered person as 640x480 JPEGs at ``--live-fps`` with one frame in flight, finishes
  after ``--set-s`` (expects the summary), disconnects and starts over: sessions are built
  and torn down all the time;
- an uploader: a 2-second clip every ``--upload-interval-s``, each followed to its end
  (at most two of its jobs at once: a client that behaves);
- slow clients: one upload that trickles a byte a second (the server must cut it off: 408,
  or 429 while its caps are full) and one live socket that never starts (closed after the
  start timeout), both over and over;
- a health check every second.

Reported: p50/p95/max of the live frames' round trip, of /api/health, of an upload's answer
and of a job's turnaround; errors (a transport failure, a 5xx, an answer that is not the
expected one, a live ``internal``, a failed job, a degraded health) listed one by one;
the slow clients' expected refusals counted apart; the server process's resident memory
every ``--sample-interval-s``, with its trend.

Flat memory: the server's resident memory swings by some 150 MB as the four sessions start
and end (each builds its own pose graph), so it is sampled every second and judged on its
trend after the warm-up (the first fifth of the run): the least-squares slope within
+-5 MB per minute (under 50 MB over 10 minutes; the fit's own noise at this sampling is
about +-2 MB per minute; the leak fixed here kept about 30 MB per round of four sessions
in tests/server/test_memory.py, and this load runs about three rounds a minute), and the
last minute's median within 50 MB of the first minute's after the warm-up. Per-minute
medians are printed.

The machine's load average is printed at the start and the end: on a shared machine the
latencies stretch with it.

Usage: .venv/bin/python bench/soak.py [--duration-s 60] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import av
import cv2
import httpx
import numpy as np
import websockets.sync.client

ROOT = Path(__file__).resolve().parents[1]
CLIP = ROOT / "sample_videos" / "hip_hinge_hips_rise_first.mp4"
FRAME_SIZE_PX = (640, 480)
JPEG_QUALITY = 80  # as the page sends them with pose on the server (server/public/app.js)
UPLOAD_CLIP_FRAMES = 60  # 2 s at 30 fps
MS_PER_S = 1000.0
KB_PER_MB = 1024.0
SECONDS_PER_MINUTE = 60.0
SERVER_START_TIMEOUT_S = 90.0
ANSWER_TIMEOUT_S = 60.0  # an answer later than this counts as an error
HEALTH_INTERVAL_S = 1.0
JOB_POLL_S = 0.5
MAX_UPLOADER_JOBS = 2
SLOW_BYTE_INTERVAL_S = 1.0
WARM_UP_FRACTION = 0.2
FLAT_SLOPE_MB_PER_MIN = 5.0
FLAT_DRIFT_MB = 50.0
# The server's limits for this run (FORMCHECK_* variables): every client here comes from
# 127.0.0.1, so the per-client caps are raised to let four people's worth of load through;
# the slow clients' limits are shortened so that they are cut off within the run.
SERVER_ENV = {
    "FORMCHECK_MAX_SESSIONS": "6",  # four live clients and the idle socket
    "FORMCHECK_MAX_SESSIONS_PER_CLIENT": "6",
    "FORMCHECK_WS_START_TIMEOUT_S": "10",
    "FORMCHECK_CLIENTS__REQUESTS_PER_S": "200",
    "FORMCHECK_CLIENTS__REQUEST_BURST": "400",
    "FORMCHECK_CLIENTS__UPLOADS_PER_HOUR": "100000",
    "FORMCHECK_CLIENTS__UPLOAD_RATE_GRACE_S": "10",
    "FORMCHECK_CLIENTS__UPLOAD_MIN_BYTES_PER_S": "1000",
}


@dataclass
class Tally:
    """Everything the clients saw; thread-safe appends."""

    frame_ms: list[float] = field(default_factory=list)
    health_ms: list[float] = field(default_factory=list)
    upload_ms: list[float] = field(default_factory=list)
    job_s: list[float] = field(default_factory=list)
    sets: int = 0
    jobs_done: int = 0
    refusals: dict[str, int] = field(default_factory=dict)  # expected, from slow clients
    errors: list[str] = field(default_factory=list)
    memory: list[tuple[float, float, int]] = field(default_factory=list)  # (s, MB, children)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def error(self, what: str) -> None:
        with self.lock:
            self.errors.append(f"{time.strftime('%H:%M:%S')} {what}")

    def refused(self, kind: str) -> None:
        with self.lock:
            self.refusals[kind] = self.refusals.get(kind, 0) + 1


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def live_frames() -> list[bytes]:
    """The clip as 640x480 JPEGs: standing first, then the reps."""
    frames = []
    with av.open(str(CLIP)) as container:
        for frame in container.decode(video=0):
            bgr = cv2.resize(frame.to_ndarray(format="bgr24"), FRAME_SIZE_PX)
            ok, jpeg = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
            assert ok
            frames.append(jpeg.tobytes())
    return frames


def upload_clip(folder: Path) -> Path:
    """The clip's first two seconds, encoded again (what each upload sends)."""
    out = folder / "upload.mp4"
    with av.open(str(CLIP)) as source, av.open(str(out), "w") as target:
        stream = target.add_stream("libx264", rate=30)
        stream.width, stream.height = FRAME_SIZE_PX
        stream.pix_fmt = "yuv420p"
        for frame, _ in zip(source.decode(video=0), range(UPLOAD_CLIP_FRAMES), strict=False):
            rgb = np.asarray(cv2.resize(frame.to_ndarray(format="rgb24"), FRAME_SIZE_PX), np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")):
                target.mux(packet)
        for packet in stream.encode():
            target.mux(packet)
    return out


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / KB_PER_MB
    return 0.0


def children(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/task/{pid}/children", encoding="ascii") as handle:
            return len(handle.read().split())
    except OSError:
        return 0


class Soak:
    def __init__(self, args: argparse.Namespace, url: str, pid: int, folder: Path) -> None:
        self.args = args
        self.url = url
        self.ws_url = url.replace("http://", "ws://") + "/ws/live"
        self.pid = pid
        self.tally = Tally()
        self.stop = threading.Event()
        self.frames = live_frames()
        self.clip = upload_clip(folder)
        self.started_s = time.monotonic()

    def running(self) -> bool:
        return not self.stop.is_set()

    def guarded(self, name: str, body: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            while self.running():
                try:
                    body()
                except Exception as error:
                    if self.running():
                        self.tally.error(f"{name}: {type(error).__name__}: {error}")
                        self.stop.wait(1.0)

        return run

    # --- clients ------------------------------------------------------------------------

    def live_set(self) -> None:
        period_s = 1.0 / self.args.live_fps
        with websockets.sync.client.connect(self.ws_url, open_timeout=ANSWER_TIMEOUT_S) as ws:
            ws.send(json.dumps({"type": "start", "exercise": "hip_hinge"}))
            started = json.loads(ws.recv(timeout=ANSWER_TIMEOUT_S))
            if started.get("type") != "started":
                self.tally.error(f"live start answered {started}")
                self.stop.wait(1.0)
                return
            set_end = time.monotonic() + self.args.set_s
            seq = 0
            while self.running() and time.monotonic() < set_end:
                tick = time.monotonic()
                image = self.frames[seq % len(self.frames)]
                seq += 1
                ws.send(struct.pack("<Id", seq, tick * MS_PER_S) + image)
                answer = json.loads(ws.recv(timeout=ANSWER_TIMEOUT_S))
                elapsed_ms = (time.monotonic() - tick) * MS_PER_S
                if answer.get("type") != "frame" or answer.get("seq") != seq:
                    self.tally.error(f"live frame {seq} answered {answer.get('code', answer)}")
                else:
                    with self.tally.lock:
                        self.tally.frame_ms.append(elapsed_ms)
                self.stop.wait(max(0.0, period_s - (time.monotonic() - tick)))
            ws.send(json.dumps({"type": "finish"}))
            summary = json.loads(ws.recv(timeout=ANSWER_TIMEOUT_S))
            if summary.get("type") != "summary":
                self.tally.error(f"live finish answered {summary}")
            else:
                with self.tally.lock:
                    self.tally.sets += 1

    def health(self) -> None:
        with httpx.Client(base_url=self.url, timeout=ANSWER_TIMEOUT_S) as client:
            while self.running():
                tick = time.monotonic()
                response = client.get("/api/health")
                with self.tally.lock:
                    self.tally.health_ms.append((time.monotonic() - tick) * MS_PER_S)
                if response.status_code != 200 or response.json()["status"] != "ok":
                    self.tally.error(f"health {response.status_code}: {response.text[:200]}")
                self.stop.wait(HEALTH_INTERVAL_S)

    def uploads(self) -> None:
        active: dict[str, float] = {}  # job id -> when it was accepted
        with httpx.Client(base_url=self.url, timeout=ANSWER_TIMEOUT_S) as client:
            next_s = time.monotonic()
            while self.running():
                for job_id, since in list(active.items()):
                    job = client.get(f"/api/jobs/{job_id}").json()
                    if job["state"] in ("done", "failed"):
                        del active[job_id]
                        if job["state"] == "failed":
                            self.tally.error(f"job failed: {job['error']}")
                        else:
                            with self.tally.lock:
                                self.tally.job_s.append(time.monotonic() - since)
                                self.tally.jobs_done += 1
                if time.monotonic() >= next_s and len(active) < MAX_UPLOADER_JOBS:
                    next_s = time.monotonic() + self.args.upload_interval_s
                    tick = time.monotonic()
                    with self.clip.open("rb") as handle:
                        response = client.post(
                            "/api/jobs",
                            files={"file": ("set.mp4", handle, "video/mp4")},
                            data={"exercise": "hip_hinge"},
                        )
                    with self.tally.lock:
                        self.tally.upload_ms.append((time.monotonic() - tick) * MS_PER_S)
                    if response.status_code == 201:
                        active[response.json()["id"]] = time.monotonic()
                    else:
                        self.tally.error(f"upload {response.status_code}: {response.text[:200]}")
                self.stop.wait(JOB_POLL_S)

    def slow_upload(self) -> None:
        host = self.url.removeprefix("http://")
        name, port = host.split(":")
        with socket.create_connection((name, int(port)), timeout=ANSWER_TIMEOUT_S) as sock:
            boundary = "soak"
            head = (
                f"POST /api/jobs HTTP/1.1\r\nHost: {host}\r\nContent-Length: 50000000\r\n"
                f"Content-Type: multipart/form-data; boundary={boundary}\r\n\r\n--{boundary}\r\n"
                'Content-Disposition: form-data; name="file"; filename="slow.mp4"\r\n\r\n'
            ).encode()
            sock.sendall(head + b"\0" * 100)
            sock.settimeout(SLOW_BYTE_INTERVAL_S)
            answer = b""
            while self.running() and not answer:
                try:
                    answer = sock.recv(4096)
                except TimeoutError:
                    try:
                        sock.sendall(b"\0")
                    except OSError:
                        break
            status = answer.split(b" ", 2)[1].decode() if answer.count(b" ") >= 2 else ""
            if status in ("408", "429"):
                self.tally.refused(f"slow upload {status}")
            elif self.running():
                self.tally.error(f"slow upload answered {answer[:120]!r}")

    def idle_socket(self) -> None:
        with websockets.sync.client.connect(self.ws_url, open_timeout=ANSWER_TIMEOUT_S) as ws:
            told = json.loads(ws.recv(timeout=ANSWER_TIMEOUT_S))
            if told.get("code") == "timeout":
                self.tally.refused("idle socket closed")
            else:
                self.tally.error(f"idle socket told {told}")

    def sample_memory(self) -> None:
        while self.running():
            elapsed = time.monotonic() - self.started_s
            with self.tally.lock:
                self.tally.memory.append((elapsed, rss_mb(self.pid), children(self.pid)))
            self.stop.wait(self.args.sample_interval_s)

    def run(self) -> Tally:
        bodies: list[tuple[str, Callable[[], None]]] = [
            *((f"live-{i}", self.live_set) for i in range(self.args.live_clients)),
            ("health", self.health),
            ("uploads", self.uploads),
            ("memory", self.sample_memory),
        ]
        if not self.args.no_slow_clients:
            bodies += [("slow-upload", self.slow_upload), ("idle-socket", self.idle_socket)]
        threads = [
            threading.Thread(target=self.guarded(name, body), name=name, daemon=True)
            for name, body in bodies
        ]
        for thread in threads:
            thread.start()
        self.stop.wait(self.args.duration_s)
        self.stop.set()
        for thread in threads:
            thread.join(ANSWER_TIMEOUT_S)
        return self.tally


def percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {"n": 0}
    ordered = sorted(values)
    return {
        "n": len(ordered),
        "p50": round(statistics.median(ordered), 1),
        "p95": round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 1),
        "max": round(ordered[-1], 1),
    }


def memory_trend(samples: list[tuple[float, float, int]], duration_s: float) -> dict[str, Any]:
    """Slope (MB/min) after the warm-up, per-minute medians, and the verdict."""
    warm_s = WARM_UP_FRACTION * duration_s
    kept = [(t, mb) for t, mb, _ in samples if t >= warm_s]
    if len(kept) < 3:
        return {"flat": None, "why": "too few samples after the warm-up"}
    minutes = np.array([t for t, _ in kept]) / SECONDS_PER_MINUTE
    mbs = np.array([mb for _, mb in kept])
    slope = float(np.polyfit(minutes, mbs, 1)[0])
    first = float(np.median(mbs[minutes <= minutes[0] + 1.0]))
    last = float(np.median(mbs[minutes >= minutes[-1] - 1.0]))
    per_minute = {
        int(m): round(float(np.median(mbs[np.floor(minutes) == m])), 1)
        for m in np.unique(np.floor(minutes))
    }
    flat = abs(slope) <= FLAT_SLOPE_MB_PER_MIN and abs(last - first) <= FLAT_DRIFT_MB
    return {
        "warm_up_s": warm_s,
        "slope_mb_per_min": round(slope, 2),
        "first_minute_median_mb": round(first, 1),
        "last_minute_median_mb": round(last, 1),
        "median_by_minute_mb": per_minute,
        "min_mb": round(float(mbs.min()), 1),
        "max_mb": round(float(mbs.max()), 1),
        "flat": bool(flat),
    }


def start_server(data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, **SERVER_ENV}
    command = [sys.executable, "-m", "formcheck.cli", "serve", "--port", str(port),
               "--data-dir", str(data_dir), "--workers", "1"]  # fmt: skip
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, cwd=ROOT)
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    with httpx.Client(timeout=5.0) as client:
        while True:
            try:
                if client.get(f"http://127.0.0.1:{port}/api/health").status_code == 200:
                    return server
            except httpx.TransportError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("formcheck serve did not start")
            time.sleep(0.2)


def report(args: argparse.Namespace, tally: Tally, load: tuple[float, float]) -> dict[str, Any]:
    trend = memory_trend(tally.memory, args.duration_s)
    result = {
        "duration_s": args.duration_s,
        "cpus": os.cpu_count(),
        "load_average_1min": {"start": load[0], "end": load[1]},
        "live_clients": args.live_clients,
        "sets_finished": tally.sets,
        "jobs_done": tally.jobs_done,
        "frame_rtt_ms": percentiles(tally.frame_ms),
        "health_ms": percentiles(tally.health_ms),
        "upload_answer_ms": percentiles(tally.upload_ms),
        "job_turnaround_s": percentiles(tally.job_s),
        "expected_refusals": tally.refusals,
        "errors": tally.errors,
        "memory_samples": [
            {"t_s": round(t, 1), "rss_mb": round(mb, 1), "child_processes": n}
            for t, mb, n in tally.memory
        ],
        "memory_trend": trend,
    }
    print(f"soak: {args.duration_s:.0f} s, {os.cpu_count()} cores, load average "
          f"{load[0]:.1f} at the start, {load[1]:.1f} at the end")  # fmt: skip
    print(f"  live: {tally.sets} sets by {args.live_clients} clients; frame round trip "
          f"{result['frame_rtt_ms']}")  # fmt: skip
    print(f"  /api/health: {result['health_ms']}")
    print(f"  uploads: {tally.jobs_done} jobs done; answer {result['upload_answer_ms']}, "
          f"turnaround s {result['job_turnaround_s']}")  # fmt: skip
    print(f"  slow clients refused as expected: {tally.refusals}")
    print(f"  errors: {len(tally.errors)}")
    for line in tally.errors[:20]:
        print(f"    {line}")
    every = max(1, len(tally.memory) // 40)
    print("  server memory (s: MB):",
          ", ".join(f"{t:.0f}: {mb:.0f}" for t, mb, _ in tally.memory[::every]))  # fmt: skip
    print(f"  memory trend after the warm-up: {trend}")
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration-s", type=float, default=60.0)
    parser.add_argument("--live-clients", type=int, default=4)
    parser.add_argument("--live-fps", type=float, default=8.0)
    parser.add_argument("--set-s", type=float, default=20.0)
    parser.add_argument("--upload-interval-s", type=float, default=10.0)
    parser.add_argument("--sample-interval-s", type=float, default=1.0)
    parser.add_argument(
        "--no-slow-clients",
        action="store_true",
        help="leave out the slow upload and the idle socket (a baseline run)",
    )
    parser.add_argument("--json", help="write every figure to this file")
    args = parser.parse_args()

    load_start = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="formcheck-soak-") as folder:
        port = free_port()
        server = start_server(Path(folder) / "data", port)
        try:
            tally = Soak(args, f"http://127.0.0.1:{port}", server.pid, Path(folder)).run()
        finally:
            server.terminate()
            server.wait(SERVER_START_TIMEOUT_S)
    result = report(args, tally, (load_start, os.getloadavg()[0]))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2), encoding="utf-8")
    return 0 if not tally.errors and result["memory_trend"].get("flat") else 1


if __name__ == "__main__":
    sys.exit(main())
