"""The choice of job backend and the queue's settings: local by default, Celery when a Redis
URL is set; URLs checked, passwords kept out of messages and the command line."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from formcheck.cli import build_parser
from formcheck.errors import FormcheckError
from formcheck.jobs.backend import open_job_backend
from formcheck.jobs.config import JobsConfig, QueueConfig, redact_url
from formcheck.jobs.distributed.service import CeleryJobService
from formcheck.jobs.service import JobService
from formcheck.live_cli import jobs_config_from_args


def test_the_local_backend_is_the_default_and_a_queue_url_picks_celery(tmp_path: Path) -> None:
    local = open_job_backend(JobsConfig(data_dir=tmp_path / "a"))
    assert isinstance(local, JobService)
    local.close()
    queued = open_job_backend(
        JobsConfig(data_dir=tmp_path / "b", queue=QueueConfig(url="redis://127.0.0.1:1/0"))
    )  # nothing is contacted until it is used
    assert isinstance(queued, CeleryJobService)
    queued.close()


def test_queue_settings_are_checked() -> None:
    with pytest.raises(ValidationError, match="must be a Redis URL"):
        QueueConfig(url="amqp://broker/")
    with pytest.raises(ValidationError, match="heartbeat intervals"):
        QueueConfig(lease_s=10, heartbeat_interval_s=5)
    config = JobsConfig(data_dir=Path("x"), job_timeout_s=100)
    assert config.visibility_timeout_s > config.job_timeout_s  # never redelivered mid-run
    assert QueueConfig(url="rediss://h:6380/1").url == "rediss://h:6380/1"


def test_a_password_never_shows_in_messages() -> None:
    assert redact_url("redis://:s3cret@host:6379/0") == "redis://:***@host:6379/0"
    assert redact_url("redis://user:s3cret@host/2") == "redis://user:***@host/2"
    assert redact_url("redis://host:6379/0") == "redis://host:6379/0"
    config = QueueConfig(url="redis://:s3cret@host:6379/0")
    assert "s3cret" not in config.redacted_url


def test_serve_takes_the_queue_but_not_a_password_on_the_command_line(tmp_path: Path) -> None:
    args = build_parser().parse_args(
        ["serve", "--data-dir", str(tmp_path), "--queue", "redis://10.0.0.5:6379/2"]
    )
    assert jobs_config_from_args(args).queue.url == "redis://10.0.0.5:6379/2"
    assert jobs_config_from_args(build_parser().parse_args(["serve"])).queue.url is None
    secret = build_parser().parse_args(["serve", "--queue", "redis://:pw@10.0.0.5:6379/2"])
    with pytest.raises(FormcheckError, match="FORMCHECK_JOBS__QUEUE__URL"):
        jobs_config_from_args(secret)
    with pytest.raises(FormcheckError, match="Redis URL"):
        jobs_config_from_args(build_parser().parse_args(["serve", "--queue", "http://x/"]))


def test_the_queue_url_can_come_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from formcheck.jobs.distributed.worker import worker_config

    monkeypatch.setenv("FORMCHECK_JOBS__QUEUE__URL", "redis://:pw@10.0.0.5:6379/2")
    monkeypatch.setenv("FORMCHECK_JOBS__JOB_TIMEOUT_S", "120")
    config = worker_config(None, str(tmp_path))
    assert config.queue.url == "redis://:pw@10.0.0.5:6379/2" and config.job_timeout_s == 120
    assert config.data_dir == tmp_path
    assert worker_config("redis://other:1/0", None).queue.url == "redis://other:1/0"
    monkeypatch.setenv("FORMCHECK_JOBS__QUEUE__LEASE_S", "-1")
    with pytest.raises(FormcheckError, match="lease_s"):
        worker_config(None, None)
