"""The HTTP API fuzzed from its own OpenAPI schema (schemathesis): no request, however odd,
gets a server error (a 5xx other than the 503 and 507 the schema documents).

Bounded: each operation gets at most ``MAX_EXAMPLES`` generated requests that fit its schema
and as many that do not (schemathesis's positive and negative modes), so the run stays
within the suite's time budget in CI. The app is the real one (real pose
model, real job store and worker in a temporary data directory) with the per-client limits
raised, so that 429s do not hide the routes behind them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.generation import GenerationMode

from formcheck.jobs.config import JobsConfig
from formcheck.server.config import ClientLimits, ServerConfig

MAX_EXAMPLES = 25
# Every status but a server error; 503 (/api/health when degraded) and 507 (an upload the
# disk has no room for) are documented answers, not failures.
EXPECTED_STATUSES = ["1XX", "2XX", "3XX", "4XX", "503", "507"]
UNLIMITED = 10**9
TEST_HOST = "testserver"  # the name schemathesis's ASGI client gives in its Host header
CONFIG = SchemathesisConfig.from_dict(
    {
        "phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}},
        "checks": {"not_a_server_error": {"expected-statuses": EXPECTED_STATUSES}},
    }
)


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory: pytest.TempPathFactory, model_path: Path) -> Iterator[object]:
    from formcheck.server.app import create_app

    clients = ClientLimits(requests_per_s=UNLIMITED, request_burst=UNLIMITED,
                           uploads_per_hour=UNLIMITED)  # fmt: skip
    jobs = JobsConfig(data_dir=tmp_path_factory.mktemp("fuzz") / "data", workers=1,
                      min_free_disk_bytes=0)  # fmt: skip
    config = ServerConfig(clients=clients, jobs=jobs, allowed_hosts=[TEST_HOST])
    app = create_app(config, model=model_path)
    yield schemathesis.openapi.from_asgi("/openapi.json", app, config=CONFIG)  # runs lifespan
    jobs = app.state.context.jobs
    if jobs is not None:
        jobs.close()


@pytest.mark.slow  # the real pose model
def test_no_request_gets_a_server_error(api_schema: schemathesis.BaseSchema) -> None:
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert {op.label for op in operations} >= {"POST /api/jobs", "DELETE /api/jobs/{job_id}"}
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None,
                      suppress_health_check=list(HealthCheck))  # fmt: skip
            def no_server_error(case: schemathesis.Case) -> None:
                case.call_and_validate(checks=[not_a_server_error])

            try:
                no_server_error()
            except Unsatisfiable:
                assert mode is GenerationMode.NEGATIVE  # nothing to get wrong: no parameters
            except Exception as error:
                error.add_note(f"operation: {operation.label} ({mode.value} cases)")
                raise
