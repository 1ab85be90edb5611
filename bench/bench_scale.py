"""Throughput of many recordings: the local job backend, Celery workers over Redis (1 and 2
workers), and `formcheck batch` on this machine, on the same clips in one run; and the
broker's overhead per job.

    .venv/bin/python bench/bench_scale.py [--clips 20] [--frames 150] [--json FILE]

The clips are copies of the rendered hip-hinge samples (sample_videos/), cut to
``--frames`` frames. Every configuration analyses all of them with the full job (analysis,
report.html, annotated.mp4) and reports frames per second from the first submission to the
last job done, the mean service time of a job (its run's start to its end, as recorded by
the backend), and the CPU seconds per frame of everything that ran (the job processes,
workers or pool: the children's rusage), which depends less on what else the machine is
doing than the wall-clock figures. The broker's overhead per job is measured with a job
that does nothing: jobs per second through Celery and through the local backend.

The machine is shared (2 cores, other sessions): the load average before and after each
configuration is printed with its figures. A redis-server (Debian's) is started on a free
loopback port for the run, with its data in a temporary folder, and stopped at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import av

from formcheck.jobs.config import JobsConfig, QueueConfig
from formcheck.jobs.distributed.worker import PROCESS_READY
from formcheck.jobs.store import Job, JobState

REPO = Path(__file__).resolve().parents[1]
SAMPLES = sorted((REPO / "sample_videos").glob("hip_hinge_*.mp4"))
EXERCISE = "hip_hinge"
POLL_S = 0.2
START_WAIT_S = 120.0
NOOP_JOBS = 40
NOOP_JOB = "bench_scale:noop_job"  # importable in workers: bench/ is put on their path
WAIT_LIMIT_S = 7200.0  # only stops a broken run from hanging
# Redis as the README asks for production: every write in the append-only file, fsynced.
REDIS_ARGS = ("--appendonly", "yes", "--appendfsync", "always", "--save", "")


def noop_job(
    upload: Path, out_dir: Path, options: dict[str, Any], progress: Callable[[float, str], None]
) -> dict[str, Any]:
    """A job that does nothing: what is left is the job system's own cost."""
    progress(1.0, "done")
    return {}


@dataclass
class Figures:
    config: str
    workers: int
    jobs: int
    frames: int
    wall_s: float
    frames_per_s: float
    jobs_per_s: float
    service_s_mean: float | None
    cpu_s_per_frame: float | None
    load_before: tuple[float, float, float]
    load_after: tuple[float, float, float]


def children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def trim(source: Path, target: Path, frames: int) -> int:
    """The first ``frames`` frames of ``source`` as H.264; returns the frames written."""
    with av.open(str(source)) as src, av.open(str(target), "w") as out:
        stream_in = src.streams.video[0]
        stream = out.add_stream("libx264", rate=stream_in.average_rate)
        stream.width, stream.height, stream.pix_fmt = stream_in.width, stream_in.height, "yuv420p"
        written = 0
        for frame in src.decode(video=0):
            if written == frames:
                break
            image = av.VideoFrame.from_ndarray(frame.to_ndarray(format="rgb24"), format="rgb24")
            for packet in stream.encode(image):
                out.mux(packet)
            written += 1
        for packet in stream.encode():
            out.mux(packet)
    return written


def make_clips(folder: Path, count: int, frames: int) -> dict[Path, int]:
    """``count`` clips cycling through the hinge samples; path -> frames."""
    trimmed = {}
    for sample in SAMPLES:
        trimmed[sample] = trim(sample, folder / f"_{sample.name}", frames)
    clips = {}
    for index in range(count):
        sample = SAMPLES[index % len(SAMPLES)]
        clip = folder / f"clip{index:03d}_{sample.stem}.mp4"
        shutil.copyfile(folder / f"_{sample.name}", clip)
        clips[clip] = trimmed[sample]
    for sample in SAMPLES:
        (folder / f"_{sample.name}").unlink()
    return clips


def wait_all(get: Callable[[str], Job | None], ids: list[str]) -> list[Job]:
    deadline = time.monotonic() + WAIT_LIMIT_S
    pending = set(ids)
    done: dict[str, Job] = {}
    while pending:
        for job_id in list(pending):
            job = get(job_id)
            if job is not None and job.state in (JobState.DONE, JobState.FAILED):
                done[job_id] = job
                pending.discard(job_id)
        if pending:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{len(pending)} jobs did not finish")
            time.sleep(POLL_S)
    failed = [job for job in done.values() if job.state is JobState.FAILED]
    if failed:
        raise RuntimeError(f"{len(failed)} jobs failed, e.g. {failed[0].error}")
    return [done[job_id] for job_id in ids]


def service_mean_s(jobs: list[Job]) -> float | None:
    spans = [j.finished_s - j.started_s for j in jobs if j.finished_s and j.started_s]
    return sum(spans) / len(spans) if spans else None


def receive_all(service: Any, clips: dict[Path, int]) -> list[tuple[Path, Any]]:
    """Store and check every upload first: the server's cost per upload, not the workers'."""
    received = []
    for clip in clips:
        with clip.open("rb") as handle:
            received.append((clip, service.receive(handle)))
    return received


def enqueue_all(service: Any, received: list[tuple[Path, Any]], job: dict[str, Any]) -> list[str]:
    return [service.enqueue(upload, clip.name, dict(job)).job.id for clip, upload in received]


def figures(
    name: str, workers: int, clips: dict[Path, int], wall_s: float, jobs: list[Job] | None,
    cpu_s: float | None, load_before: tuple[float, float, float],
) -> Figures:  # fmt: skip
    frames = sum(clips.values())
    return Figures(
        config=name, workers=workers, jobs=len(clips), frames=frames, wall_s=round(wall_s, 2),
        frames_per_s=round(frames / wall_s, 1), jobs_per_s=round(len(clips) / wall_s, 3),
        service_s_mean=round(m, 2) if jobs and (m := service_mean_s(jobs)) else None,
        cpu_s_per_frame=round(cpu_s / frames, 4) if cpu_s is not None and frames else None,
        load_before=load_before, load_after=os.getloadavg(),
    )  # fmt: skip


def run_local(
    root: Path, clips: dict[Path, int], workers: int, job_fn: str, job: dict[str, Any], name: str
) -> Figures:
    from formcheck.jobs.service import JobService

    service = JobService(
        JobsConfig(data_dir=root / f"local{workers}-{job_fn.replace(':', '_')}", workers=workers,
                   poll_interval_s=POLL_S / 4, min_free_disk_bytes=0),
        job_fn=job_fn,
    )  # fmt: skip
    service.start()
    received = receive_all(service, clips)
    load = os.getloadavg()
    cpu = children_cpu_s()
    started = time.monotonic()
    try:
        jobs = wait_all(service.get, enqueue_all(service, received, job))
        wall = time.monotonic() - started
        service.stop()  # its job processes are reaped: their CPU time is counted
        cpu_s = children_cpu_s() - cpu
    finally:
        service.close()
    return figures(name, workers, clips, wall, jobs, cpu_s, load)


@contextmanager
def redis_server(folder: Path) -> Iterator[str]:
    binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    port = free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(folder),
         *REDIS_ARGS, "--logfile", str(folder / "redis.log")],
        stdin=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        import redis

        client = redis.Redis(port=port)
        deadline = time.monotonic() + START_WAIT_S
        while True:
            try:
                client.ping()
                break
            except redis.exceptions.ConnectionError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("redis-server did not start") from None
                time.sleep(POLL_S)
        client.close()
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait()


@contextmanager
def celery_workers(
    url: str, data_dir: Path, count: int, job_fn: str, logs: Path
) -> Iterator[list[subprocess.Popen[bytes]]]:
    """``count`` worker processes of one pool process each (like ``count`` one-core hosts),
    yielded once every pool process has loaded its model."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FORMCHECK_")}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO / "bench"), env.get("PYTHONPATH", "")])
    env["FORMCHECK_JOBS__MIN_FREE_DISK_BYTES"] = "0"
    processes = []
    log_files = []
    for index in range(count):
        log_file = logs / f"worker{index}-{job_fn.replace(':', '_')}.log"
        log_files.append(log_file)
        with log_file.open("wb") as log:
            processes.append(subprocess.Popen(
                [sys.executable, "-m", "formcheck.jobs.distributed.worker", "--queue", url,
                 "--data-dir", str(data_dir), "--concurrency", "1", "--name", f"bench{index}",
                 "--job-fn", job_fn],
                cwd=REPO, env=env, stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT,
            ))  # fmt: skip
    try:
        deadline = time.monotonic() + START_WAIT_S
        while not all(PROCESS_READY in f.read_text(errors="replace") for f in log_files):
            if time.monotonic() > deadline or any(p.poll() is not None for p in processes):
                raise RuntimeError(f"the workers did not start; see {logs}")
            time.sleep(POLL_S)
        yield processes
    finally:
        for process in processes:
            process.terminate()  # warm shutdown: reaped, so their CPU time is counted
        for process in processes:
            process.wait()


def run_celery(
    root: Path, url: str, clips: dict[Path, int], workers: int, job_fn: str,
    job: dict[str, Any], name: str,
) -> Figures:  # fmt: skip
    from formcheck.jobs.distributed.service import CeleryJobService

    data_dir = root / f"celery{workers}-{job_fn.replace(':', '_')}"
    config = JobsConfig(data_dir=data_dir, queue=QueueConfig(url=url), min_free_disk_bytes=0)
    service = CeleryJobService(config)
    received = receive_all(service, clips)
    cpu = children_cpu_s()
    try:
        with celery_workers(url, data_dir, workers, job_fn, root):
            load = os.getloadavg()
            started = time.monotonic()
            jobs = wait_all(service.get, enqueue_all(service, received, job))
            wall = time.monotonic() - started
        cpu_s = children_cpu_s() - cpu  # includes the workers' start and model load
    finally:
        service.close()
    return figures(name, workers, clips, wall, jobs, cpu_s, load)


def run_batch(root: Path, clip_dir: Path, clips: dict[Path, int], processes: int) -> Figures:
    load = os.getloadavg()
    cpu = children_cpu_s()
    started = time.monotonic()
    subprocess.run(
        [sys.executable, "-m", "formcheck.cli", "batch", str(clip_dir), "--exercise", EXERCISE,
         "--out", str(root / "batch"), "--jobs", str(processes), "--quiet"],
        check=True, cwd=REPO,
    )  # fmt: skip
    wall = time.monotonic() - started
    return figures(
        f"formcheck batch --jobs {processes}", processes, clips, wall, None,
        children_cpu_s() - cpu, load,
    )  # fmt: skip


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=20, help="recordings (at least 20)")
    parser.add_argument("--frames", type=int, default=150, help="frames per recording")
    parser.add_argument("--json", default=str(REPO / "out" / "bench_scale.json"))
    args = parser.parse_args()
    sys.path.insert(0, str(REPO / "bench"))  # the local backend's job processes find noop_job
    from formcheck.pose.model import ensure_model

    ensure_model()
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()}", flush=True)
    analysis = {"settings": {"exercise": EXERCISE}}
    default_job = "formcheck.jobs.analysis:run_analysis_job"
    rows: list[Figures] = []
    with tempfile.TemporaryDirectory(prefix="bench_scale_") as tmp:
        root = Path(tmp)
        clip_dir = root / "clips"
        clip_dir.mkdir()
        clips = make_clips(clip_dir, args.clips, args.frames)
        print(f"{len(clips)} clips, {sum(clips.values())} frames", flush=True)
        noop_dir = root / "noop"
        noop_dir.mkdir()
        noop_clips = make_clips(noop_dir, NOOP_JOBS, 2)

        def report(row: Figures) -> None:
            rows.append(row)
            print(json.dumps(asdict(row)), flush=True)

        for workers in (1, 2):
            report(run_local(root, clips, workers, default_job, analysis,
                             f"local backend, {workers} worker(s)"))  # fmt: skip
        redis_dir = root / "redis"
        redis_dir.mkdir()
        with redis_server(redis_dir) as url:
            for workers in (1, 2):
                report(run_celery(root, url, clips, workers, default_job, analysis,
                                  f"celery, {workers} worker(s)"))  # fmt: skip
            report(run_celery(root, url, noop_clips, 1, NOOP_JOB, {}, "celery, no-op jobs"))
        report(run_local(root, noop_clips, 1, NOOP_JOB, {}, "local backend, no-op jobs"))
        report(run_batch(root, clip_dir, clips, os.cpu_count() or 1))
        outputs = [d for d in (root / "batch").iterdir() if d.is_dir()]
        output_bytes = sum(folder_bytes(d) for d in outputs) / max(1, len(outputs))
        upload_bytes = sum(c.stat().st_size for c in clips) / len(clips)
    by_name = {row.config: row for row in rows}
    celery_noop = by_name["celery, no-op jobs"]
    local_noop = by_name["local backend, no-op jobs"]
    one = by_name["celery, 1 worker(s)"]
    note = {
        "broker_overhead_ms_per_job": round(1000 * celery_noop.wall_s / celery_noop.jobs, 1),
        "local_overhead_ms_per_job": round(1000 * local_noop.wall_s / local_noop.jobs, 1),
        "analysis_s_per_job_one_worker": one.service_s_mean,
        "frames_per_job": round(one.frames / one.jobs),
        "shared_storage_bytes_per_job": round(upload_bytes + output_bytes),
    }
    print(json.dumps(note), flush=True)
    per_worker_fps = one.frames_per_s
    overhead_s = note["broker_overhead_ms_per_job"] / 1000
    job_s = one.wall_s / one.jobs
    print(
        f"\nOne Celery worker process: {per_worker_fps} frames/s ({job_s:.2f} s a job of "
        f"{note['frames_per_job']} frames, of which {overhead_s * 1000:.0f} ms is the queue's "
        f"own round trip). With H hosts of W worker processes each (one per two cores), "
        f"throughput grows as H x W x {per_worker_fps} frames/s while the broker's share "
        f"stays small: {overhead_s / job_s:.1%} of a job here; a job also moves "
        f"{note['shared_storage_bytes_per_job'] / 1e6:.2f} MB on the shared storage.",
        flush=True,
    )  # fmt: skip
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(
        json.dumps({"rows": [asdict(r) for r in rows], "note": note}, indent=1),
        encoding="utf-8",
    )
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
