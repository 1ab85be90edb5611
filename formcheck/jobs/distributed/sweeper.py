"""The sweep: what the local supervisor does for the worker pool, for the Celery queue.

Every worker and every server runs it (every ``QueueConfig.sweep_interval_s``); the record
scripts make each step happen once however many run it at the same time:

- a run whose lease ran out (its worker was killed, its machine lost): the job is queued
  again and its task sent (or failed, once it was interrupted ``max_attempts`` times);
- a run that died while moving its outputs into place: completed from its files
  (formcheck.jobs.distributed.run.recover_finishing);
- a queued job whose task is not known to have been sent (the broker failed between
  recording the job and sending its task): sent again.

A task sent twice is harmless: the second finds the job taken or done and does nothing.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from celery import Celery

from formcheck.jobs.config import JobsConfig
from formcheck.jobs.datadir import DataDir
from formcheck.jobs.distributed.celery_app import send_analysis
from formcheck.jobs.distributed.records import RedisJobStore
from formcheck.jobs.distributed.run import recover_finishing
from formcheck.jobs.throttle import ThrottledLogger

log = logging.getLogger(__name__)
ERROR_LOG_INTERVAL_S = 60.0


@dataclass
class SweepResult:
    requeued: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    recovered: list[str] = field(default_factory=list)
    resent: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.requeued or self.failed or self.recovered or self.resent)


class Sweeper:
    def __init__(
        self,
        config: JobsConfig,
        records: RedisJobStore,
        data: DataDir,
        app: Celery,
        *,
        on_tick: Callable[[], None] | None = None,
    ) -> None:
        self._config = config
        self._records = records
        self._data = data
        self._app = app
        self._on_tick = on_tick
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._errors = ThrottledLogger(log, ERROR_LOG_INTERVAL_S)
        self.last_error: str | None = None

    def send(self, job_id: str) -> None:
        """Send the job's task and note that it was sent."""
        send_analysis(self._app, job_id)
        self._records.mark_sent(job_id)

    def sweep_once(self) -> SweepResult:
        result = SweepResult()
        for job_id in self._records.running_ids():
            found = self._records.requeue_lost(job_id, self._config.max_attempts)
            if found == "finishing":
                found = recover_finishing(self._records, self._data, job_id)
                if found == "done":
                    result.recovered.append(job_id)
            if found == "queued":
                self.send(job_id)
                result.requeued.append(job_id)
            elif found == "failed":
                result.failed.append(job_id)
        for job_id in self._records.queued_ids():
            if self._records.take_unsent(job_id):
                self.send(job_id)
                result.resent.append(job_id)
        if result:
            log.warning(
                "sweep: requeued %d lost runs, failed %d, completed %d from their files, "
                "sent %d unsent tasks",
                len(result.requeued), len(result.failed), len(result.recovered),
                len(result.resent),
            )  # fmt: skip
        return result

    def tick(self) -> None:
        """One sweep (and the caller's own periodic work), errors logged, never raised."""
        try:
            if self._on_tick is not None:
                self._on_tick()
            self.sweep_once()
        except Exception as error:
            self.last_error = str(error)
            self._errors.error("sweep", "the job queue's sweep failed: %s", error)
        else:
            self.last_error = None

    def _loop(self) -> None:
        self.tick()
        while not self._stop.wait(self._config.queue.sweep_interval_s):
            self.tick()

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="formcheck-sweep", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
