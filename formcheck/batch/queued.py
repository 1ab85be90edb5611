"""A batch on Celery workers: each recording goes through the job queue like an upload.

The recording is copied into the shared data directory (checked like an upload), queued
with an idempotency key made of the output folder and the recording's fingerprint, and its
report copied back into ``OUT/<name>/`` once done; then the job is deleted from the shared
storage. A batch interrupted and run again finds its jobs by their keys instead of queueing
them twice. At most ``in_flight`` recordings are queued or running at once, which bounds
the copies on the shared storage.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from formcheck.batch.inputs import Recording
from formcheck.batch.local import PART_MARK, Outcome, publish
from formcheck.errors import FormcheckError
from formcheck.jobs.config import JobsConfig
from formcheck.jobs.distributed.service import CeleryJobService
from formcheck.jobs.service import REPORT_FILES
from formcheck.jobs.store import Job, JobState

BATCH_OWNER = "formcheck-batch"  # not a client address: batches have no per-client quota
POLL_S = 0.5
DELETED = "The job was deleted from the queue before it finished; run the batch again."


def job_key(out_dir: Path, recording: Recording, print_: dict[str, Any]) -> str:
    """The idempotency key of a recording's job in this batch."""
    text = json.dumps({"out": str(out_dir.resolve()), "recording": print_}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


class QueuedBatch:
    def __init__(
        self, config: JobsConfig, out_dir: Path, exercise: str, height_cm: float | None
    ) -> None:
        self.service = CeleryJobService(config)
        self.out_dir = out_dir
        self.options: dict[str, Any] = {"settings": {"exercise": exercise}, "height_cm": height_cm}

    def close(self) -> None:
        self.service.close()

    def _submit(self, recording: Recording, key: str) -> Job:
        earlier = self.service.find(BATCH_OWNER, key)
        if earlier is not None and earlier.state is JobState.FAILED:
            self.service.delete(earlier.id)  # a failure is tried again when the batch is
            earlier = None
        if earlier is not None:
            return earlier
        with recording.path.open("rb") as source:
            upload = self.service.receive(source)
        options = {**self.options, "as_file": str(recording.path)}
        return self.service.enqueue(
            upload, recording.path.name, options, owner=BATCH_OWNER, idempotency_key=key
        ).job

    def _collect(self, recording: Recording, job: Job) -> Outcome:
        """A finished job's outcome; a done job's report copied into the output folder."""
        ran_s = (
            job.finished_s - job.started_s
            if job.finished_s is not None and job.started_s is not None
            else None
        )
        if job.state is JobState.FAILED:
            self.service.delete(job.id)
            return Outcome(recording, ran_s, job.error or DELETED)
        source = self.service.data.report_dir(job.id)
        part = self.out_dir / f"{recording.name}{PART_MARK}{secrets.token_hex(4)}"
        try:
            part.mkdir()
            for name in REPORT_FILES:
                if (source / name).is_file():
                    shutil.copyfile(source / name, part / name)
            publish(part, self.out_dir / recording.name)
        finally:
            shutil.rmtree(part, ignore_errors=True)
        self.service.delete(job.id)
        return Outcome(recording, ran_s)

    def run(
        self,
        todo: list[tuple[Recording, str]],
        in_flight: int,
        on_done: Callable[[Outcome], None],
        on_progress: Callable[[float], None],
    ) -> None:
        """Hand ``todo`` (recording, idempotency key) to the workers, ``in_flight`` at a
        time; ``on_done`` for each finished one, ``on_progress`` with the sum of the
        running ones' progress."""
        waiting = list(reversed(todo))
        active: dict[str, Recording] = {}
        while waiting or active:
            while waiting and len(active) < in_flight:
                recording, key = waiting.pop()
                try:
                    job = self._submit(recording, key)
                except FormcheckError as error:  # rejected (not a video, too long...)
                    on_done(Outcome(recording, None, str(error)))
                    continue
                active[job.id] = recording
            running = 0.0
            for job_id, recording in list(active.items()):
                current = self.service.get(job_id)
                if current is None:
                    del active[job_id]
                    on_done(Outcome(recording, None, DELETED))
                elif current.state in (JobState.DONE, JobState.FAILED):
                    del active[job_id]
                    on_done(self._collect(recording, current))
                else:
                    running += current.progress
            on_progress(running)
            if active:
                time.sleep(POLL_S)
