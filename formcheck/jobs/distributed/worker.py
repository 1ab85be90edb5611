"""``formcheck worker --queue redis://HOST:PORT/DB --data-dir DIR``: a Celery worker that
analyses the queue's jobs.

Each worker process (``--concurrency``, default one per two cores) finds and checks the
pose model and loads MediaPipe once, when it starts, not once per job. The worker's main
process runs the sweep (formcheck.jobs.distributed.sweeper) and says every sweep that the
worker is alive (what the server's /api/health counts). Files it writes are private
(umask 077). Settings come from the same FORMCHECK_JOBS__* variables as the server's
(job timeout, attempts, lease...); ``--queue`` and ``--data-dir`` override them.

``python -m formcheck.jobs.distributed.worker ... --job-fn module:function`` runs another
job function (tests and benches: a job held at a known point, a job that does nothing).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import logging
import os
import socket
import sys
from pathlib import Path
from typing import Any

from celery import Celery, signals
from celery.exceptions import Reject
from pydantic import ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from formcheck.errors import FormcheckError
from formcheck.jobs.child import JobFn, load_job_fn
from formcheck.jobs.config import JobsConfig, default_workers
from formcheck.jobs.datadir import DataDir
from formcheck.jobs.distributed.celery_app import QUEUE_NAME, TASK_NAME, make_celery_app
from formcheck.jobs.distributed.records import REDIS_ERRORS, RedisJobStore
from formcheck.jobs.distributed.run import Runner
from formcheck.jobs.distributed.sweeper import Sweeper
from formcheck.jobs.durable import PRIVATE_UMASK
from formcheck.jobs.worker import DEFAULT_JOB_FN

log = logging.getLogger(__name__)
PREPARE_NAME = "prepare_process"  # a job function's module may define it: run once per process
MAX_RETRY_PAUSE_S = 60.0
PRESENCE_SWEEPS = 3  # a worker not heard from for this many sweep intervals is gone
PROCESS_READY = "worker process ready"  # logged once a pool process has loaded the model


class WorkerConfig(BaseSettings):
    """The worker's settings: the jobs' (FORMCHECK_JOBS__*) and how many processes."""

    model_config = SettingsConfigDict(
        frozen=True, extra="ignore", env_prefix="FORMCHECK_", env_nested_delimiter="__"
    )

    jobs: JobsConfig = JobsConfig()


def worker_config(queue_url: str | None, data_dir: str | None, **jobs_fields: Any) -> JobsConfig:
    """The FORMCHECK_JOBS__* settings with the command line's over them."""
    try:
        jobs = WorkerConfig().jobs
        update: dict[str, Any] = dict(jobs_fields)
        if data_dir is not None:
            update["data_dir"] = Path(data_dir)
        queue = jobs.queue
        if queue_url is not None:
            queue = type(queue).model_validate({**queue.model_dump(), "url": queue_url})
        return JobsConfig.model_validate({**jobs.model_dump(), **update, "queue": queue})
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "settings"
        message = str(first["msg"]).removeprefix("Value error, ")
        raise FormcheckError(f"The worker setting {where} is not valid: {message}.") from error


class _Process:
    """What one pool process keeps between tasks."""

    runner: Runner | None = None


def _prepare(job_fn: str) -> None:
    """Run the job function's module's ``prepare_process`` (the model, for analyses)."""
    module = importlib.import_module(job_fn.partition(":")[0])
    prepare = getattr(module, PREPARE_NAME, None)
    if prepare is not None:
        prepare()


def build_worker_app(config: JobsConfig, job_fn: str = DEFAULT_JOB_FN) -> Celery:
    """The Celery app with the analysis task registered (runs ``job_fn`` on each job)."""
    app = make_celery_app(config)
    process = _Process()

    def runner() -> Runner:
        if process.runner is None:
            function: JobFn = load_job_fn(job_fn)
            records = RedisJobStore(config.queue)
            process.runner = Runner(config, records, DataDir(config.data_dir).create(), function)
        return process.runner

    @app.task(name=TASK_NAME, bind=True, max_retries=config.queue.task_max_retries)
    def analyse(task: Any, job_id: str) -> dict[str, Any]:
        try:
            return runner().run(job_id).to_dict()
        except REDIS_ERRORS as error:
            retries = int(task.request.retries)
            if retries >= config.queue.task_max_retries:
                raise Reject(str(error), requeue=True) from error
            raise task.retry(exc=error, countdown=min(2.0**retries, MAX_RETRY_PAUSE_S)) from error

    def on_process_init(**_: object) -> None:
        os.umask(PRIVATE_UMASK)
        _prepare(job_fn)
        runner()
        log.info("%s (pid %d)", PROCESS_READY, os.getpid())

    signals.worker_process_init.connect(on_process_init, weak=False)
    return app


def run_worker(
    config: JobsConfig,
    *,
    concurrency: int | None = None,
    name: str | None = None,
    job_fn: str = DEFAULT_JOB_FN,
    loglevel: str = "INFO",
) -> int:
    """Run a worker until it is stopped (SIGTERM or Ctrl+C: running jobs finish first)."""
    if config.queue.url is None:
        raise FormcheckError(
            "formcheck worker needs the queue: --queue redis://HOST:PORT/DB (or "
            "FORMCHECK_JOBS__QUEUE__URL)."
        )
    os.umask(PRIVATE_UMASK)
    logging.basicConfig(level=loglevel, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if job_fn == DEFAULT_JOB_FN:
        from formcheck.pose.model import ensure_model

        model = ensure_model()  # no model: one plain error now, not one per job
        log.info("pose model %s (sha256 %s)", model.path, model.sha256)
    data = DataDir(config.data_dir).create()
    concurrency = concurrency or default_workers()
    name = name or f"formcheck-{os.getpid()}@{socket.gethostname()}"
    app = build_worker_app(config, job_fn)
    records = RedisJobStore(config.queue)
    ttl_s = PRESENCE_SWEEPS * config.queue.sweep_interval_s
    presence = {"name": name, "concurrency": concurrency, "pid": os.getpid()}
    sweeper = Sweeper(
        config, records, data, app,
        on_tick=lambda: records.announce_worker(name, presence, ttl_s),
    )  # fmt: skip

    def on_ready(**_: object) -> None:
        sweeper.start()

    def on_shutdown(**_: object) -> None:
        sweeper.stop()
        with contextlib.suppress(*REDIS_ERRORS):  # else its presence expires by itself
            records.forget_worker(name)

    signals.worker_ready.connect(on_ready, weak=False)
    signals.worker_shutdown.connect(on_shutdown, weak=False)
    log.info(
        "worker %s: %d processes, queue %s, data directory %s",
        name, concurrency, config.queue.redacted_url, data.root.resolve(),
    )  # fmt: skip
    app.worker_main(
        [
            "worker", "--pool=prefork", f"--concurrency={concurrency}", f"--hostname={name}",
            f"--loglevel={loglevel}", f"--queues={QUEUE_NAME}", "--without-gossip",
            "--without-mingle", "--without-heartbeat",
        ]
    )  # fmt: skip
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m formcheck.jobs.distributed.worker")
    parser.add_argument("--queue", help="redis://HOST:PORT/DB")
    parser.add_argument("--data-dir", help="the data directory shared with the server")
    parser.add_argument("--concurrency", type=int, help="analyses at once")
    parser.add_argument("--name", help="the worker's name")
    parser.add_argument("--job-fn", default=DEFAULT_JOB_FN, help="module:function run per job")
    args = parser.parse_args(argv)
    try:
        return run_worker(
            worker_config(args.queue, args.data_dir),
            concurrency=args.concurrency,
            name=args.name,
            job_fn=args.job_fn,
        )
    except FormcheckError as error:
        sys.stderr.write(f"formcheck worker: {error}\n")
        return error.exit_code


if __name__ == "__main__":
    sys.exit(main())
