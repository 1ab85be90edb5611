"""The Celery app of the job queue, with the delivery settings jobs rely on.

- ``task_acks_late``: a task's message is acknowledged when the task returns, not when a
  worker receives it, so a worker that dies mid-job leaves it in Redis.
- ``task_reject_on_worker_lost``: a pool process that dies (SIGKILL, out of memory) gives
  its message back to the queue instead of counting it as failed.
- ``worker_prefetch_multiplier = 1``: a worker reserves one task per process, so a long
  analysis never holds other jobs back behind it while other workers idle.
- ``visibility_timeout`` longer than the longest allowed job: Redis hands a message to
  another worker only when it was not acknowledged in that time, never while it still runs.
- time limits: the job timeout as the soft limit (the job fails with a plain reason), a
  hard limit a little later.
- JSON only (no pickle): a message is a job id and nothing else.

Redelivery is harmless: a task takes its job only when the job's record says it is queued
or its run's lease ran out (formcheck.jobs.distributed.records), so a second delivery of a
job that is running, done or deleted does nothing.
"""

from __future__ import annotations

from typing import Any

from celery import Celery

from formcheck.jobs.config import JobsConfig
from formcheck.jobs.worker import STOP_GRACE_S

TASK_NAME = "formcheck.analyse"
QUEUE_NAME = "formcheck"
SECONDS_PER_DAY = 86_400
# A worker process loads the pose model before it says it is up; on a busy machine that
# takes several seconds, more than Celery's default wait (4 s) before it kills the process.
PROCESS_START_TIMEOUT_S = 120.0


def make_celery_app(config: JobsConfig) -> Celery:
    """The app for ``config.queue.url`` (broker and result store); tasks are registered by
    the worker (formcheck.jobs.distributed.worker), servers only send them."""
    queue = config.queue
    if queue.url is None:
        raise ValueError("no queue URL is set")
    transport: dict[str, Any] = {
        "visibility_timeout": config.visibility_timeout_s,
        "socket_timeout": queue.connect_timeout_s,
        "socket_connect_timeout": queue.connect_timeout_s,
    }
    app = Celery("formcheck", broker=queue.url, backend=queue.url, set_as_current=False)
    app.conf.update(
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        task_default_queue=QUEUE_NAME,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        broker_transport_options=transport,
        result_backend_transport_options=dict(transport),
        result_expires=round(config.retention_days * SECONDS_PER_DAY),
        task_soft_time_limit=config.job_timeout_s,
        task_time_limit=config.job_timeout_s + STOP_GRACE_S,
        # The job record decides what a redelivered task does: a run cut off by a lost
        # connection finishes and records its job; its redelivery then finds it done.
        worker_cancel_long_running_tasks_on_connection_loss=False,
        broker_connection_retry_on_startup=True,
        broker_connection_max_retries=None,  # a worker waits for Redis for as long as it takes
        worker_proc_alive_timeout=PROCESS_START_TIMEOUT_S,
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
        task_send_sent_event=False,
        result_backend_always_retry=True,
    )
    return app


def send_analysis(app: Celery, job_id: str) -> None:
    """Send the task that analyses ``job_id`` (kombu/redis errors propagate)."""
    app.send_task(TASK_NAME, args=[job_id], queue=QUEUE_NAME)
