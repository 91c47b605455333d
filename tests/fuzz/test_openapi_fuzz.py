"""Fuzzing every operation of /openapi.json against a real `bluewire serve`: no answer is a
server error, and every answer matches what the document says of it.

Both valid and invalid requests are generated from the document (a bounded number for each
operation, with a fixed seed, so a run takes a few minutes and repeats itself). Every URL the
fuzzer makes up is pointed at a closed port on loopback before it is sent: a webhook or status
callback registered here is delivered, and must reach nothing beyond this machine.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from .. import databases
from ..server import KEY_ID, SECRET, ServerProcess

AUTH = {"sb-api-key-id": KEY_ID, "sb-api-secret-key": SECRET}
CLOSED_LOOPBACK_URL = "http://127.0.0.1:9/fuzz.png"  # port 9 (discard): nothing listens
EXAMPLES_PER_OPERATION = 40
NOT_SERVED = "Not served"  # the tag of api/unserved_routes.py's endpoints


@pytest.fixture(scope="module")
def fuzzed_server(tmp_path_factory: pytest.TempPathFactory,
                  engine: databases.Engine) -> Iterator[ServerProcess]:
    """On each engine: PostgreSQL refuses some values that SQLite stores (NUL in text, ids
    beyond 32 bits), so each is fuzzed."""
    process = ServerProcess(tmp_path_factory.mktemp("fuzz"), engine=engine, env={
        "BLUEWIRE_SSE_MAX_SECONDS": "1",  # the event stream ends instead of holding a case
        "BLUEWIRE_WEBHOOK_TIMEOUT_MS": "500",
    }).start()
    yield process
    process.stop()


@pytest.fixture(scope="module")
def api_schema(fuzzed_server: ServerProcess) -> Any:
    return schemathesis.openapi.from_url(f"{fuzzed_server.url}/openapi.json")


# Each operation is driven by Hypothesis here rather than through schemathesis's pytest plugin,
# which reaches into pytest's private attributes and breaks as pytest moves on.
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
                         ids=["valid", "invalid"])
def test_no_server_error_and_every_answer_matches_the_document(
        api_schema: Any, fuzzed_server: ServerProcess, mode: GenerationMode) -> None:
    # Resources bluewire does not serve answer 501 by design, whatever is sent
    # (tests/integration/test_official_client_calls.py).
    operations = [operation for result in api_schema.get_all_operations()
                  if NOT_SERVED not in (operation := result.ok()).definition.raw.get("tags", [])]
    assert len(operations) > 40, "the document lost its operations"
    failures: list[str] = []
    for operation in operations:
        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, derandomize=True,
                  suppress_health_check=list(HealthCheck), database=None)
        @given(case=operation.as_strategy(generation_mode=mode))
        def call(case: schemathesis.Case) -> None:
            case.body = _loopback_only(case.body)
            case.query = _loopback_only(case.query)
            case.call_and_validate(base_url=fuzzed_server.url, headers=AUTH, timeout=30,
                                   checks=[not_a_server_error, response_schema_conformance])

        try:
            call()
        except Unsatisfiable:  # no invalid request exists (no parameters, any string goes)
            assert mode is GenerationMode.NEGATIVE, operation.label
        except Exception as exc:  # every operation is tried; all that failed are reported
            failures.append(f"{operation.label}: {exc}")
    assert not failures, "\n\n".join(failures)


def _loopback_only(value: Any) -> Any:
    """`value` with every string that could be read as a URL pointed at a closed loopback
    port."""
    if isinstance(value, str):
        return CLOSED_LOOPBACK_URL if "://" in value or value.strip().lower().startswith(
            "http") else value
    if isinstance(value, dict):
        return {key: _loopback_only(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_loopback_only(item) for item in value]
    return value
