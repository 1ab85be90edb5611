"""CeleryJobService's own duties besides the routes' (those are in
tests/server/test_jobs_queue.py): retention on the shared storage."""

from __future__ import annotations

import os
import time
from pathlib import Path

from formcheck.jobs.distributed.service import CeleryJobService
from formcheck.jobs.service import INCOMING_STALE_S
from tests.conftest import REPO_ROOT
from tests.queue_services import queue_config

CLIP = REPO_ROOT / "sample_videos" / "hip_hinge_hips_rise_first.mp4"
RETENTION_DAYS = 2e-6  # 0.17 s


def test_finished_jobs_and_abandoned_files_are_purged_after_retention(
    redis_url: str, tmp_path: Path
) -> None:
    config = queue_config(redis_url, tmp_path / "data", retention_days=RETENTION_DAYS)
    service = CeleryJobService(config)
    try:
        with CLIP.open("rb") as handle:
            finished = service.submit(handle, "old.mp4").id
            handle.seek(0)
            queued = service.submit(handle, "waiting.mp4").id
        records = service.records
        assert records.claim(finished, "A", max_attempts=3).status == "claimed"
        report = service.data.report_dir(finished)
        report.mkdir()
        (report / "report.html").write_text("<p>old</p>", encoding="utf-8")
        records.fail(finished, "A", "It could not be read.")
        orphan = service.data.uploads / "gone.upload"
        orphan.write_bytes(b"x")
        debris = service.data.incoming / "half"
        debris.write_bytes(b"x")
        old_s = time.time() - INCOMING_STALE_S - 60
        os.utime(debris, (old_s, old_s))
        os.utime(orphan, (old_s, old_s))
        time.sleep(0.3)

        purged = service.purge()
        assert purged.jobs == 1 and purged.orphan_uploads == 1
        assert service.get(finished) is None and not report.exists()
        assert service.get(queued) is not None  # queued and running jobs are never touched
        assert not debris.exists() and not orphan.exists()
        assert len(list(service.data.uploads.iterdir())) == 1
    finally:
        service.close()
