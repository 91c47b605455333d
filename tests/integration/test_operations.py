"""The operations surface over real HTTP to a real server: /healthz, /readyz, /metrics, and JSON
logs that name the message each line is about.

The module's server logs JSON (BLUEWIRE_LOG_FORMAT=json) from level info; a receiver process
takes its status callbacks. The stall test runs its own server: one webhook in flight at a time
(BLUEWIRE_DELIVERY_CONCURRENCY=1) to a receiver that takes seconds to answer holds the delivery
worker's round, for real, longer than a short BLUEWIRE_READY_STALL_MS.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bluewire.domain.wire.operations import Alive, Readiness

from ..answers import assert_answer
from ..databases import Engine
from ..receiver import ReceiverProcess
from ..server import SANDBOX_LINE, ServerProcess, phone, wait_for

WAIT_S = 30.0


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory,
           engine: Engine) -> Iterator[ServerProcess]:
    process = ServerProcess(tmp_path_factory.mktemp("server"), engine=engine,
                            env={"BLUEWIRE_LOG_FORMAT": "json",
                                 "BLUEWIRE_LOG_LEVEL": "info"}).start()
    yield process
    process.stop()


def send(server: ServerProcess, number: str, **fields: Any) -> str:
    with server.client() as client:
        response = client.post("/api/send-message", json={
            "number": number, "from_number": SANDBOX_LINE, "content": "ops", **fields})
    assert response.status_code == 200, response.text
    return str(response.json()["message_handle"])


def scrape(server: ServerProcess) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = httpx.get(server.url + "/metrics", timeout=10)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(response.text)
            for sample in family.samples}


def test_healthz_answers_without_credentials(server: ServerProcess) -> None:
    response = httpx.get(server.url + "/healthz", timeout=10)
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert_answer(response.json(), Alive)


def test_a_fresh_server_is_ready_and_lists_its_checks(server: ServerProcess) -> None:
    response = httpx.get(server.url + "/readyz", timeout=10)
    assert response.status_code == 200, response.text
    body = response.json()
    assert_answer(body, Readiness)
    assert body["status"] == "ready"
    assert [check["name"] for check in body["checks"]] == [
        "database", "migrations", "dispatcher", "delivery", "follow-ups", "reactions"]
    assert all(check["ok"] for check in body["checks"]), body


def test_requests_are_counted_by_route_template(server: ServerProcess) -> None:
    handle = send(server, phone(301, "01"))
    with server.client() as client:
        assert client.get(f"/api/v2/messages/{handle}").status_code == 200
        assert client.get("/api/v2/messages/no-such-message").status_code == 404
        assert client.get(f"/no/such/path/{handle}").status_code == 404
    got = scrape(server)
    requests = {labels: value for (name, labels), value in got.items()
                if name == "bluewire_http_requests_total"}
    route = (("method", "GET"), ("route", "/api/v2/messages/{message_id}"))
    assert requests[(*route, ("status", "200"))] >= 1
    assert requests[(*route, ("status", "404"))] >= 1
    assert requests[(("method", "GET"), ("route", "unmatched"), ("status", "404"))] >= 1
    assert requests[(("method", "POST"), ("route", "/api/send-message"),
                     ("status", "200"))] >= 1
    assert not any(handle in dict(labels)["route"] for labels in requests)  # never raw paths
    assert got[("bluewire_http_request_duration_seconds_count",
                (("route", "/api/send-message"),))] >= 1
    # No `*_created` series: they would double every counter's and histogram's.
    assert not [name for name, _ in got if name.endswith("_created")]


def test_messages_by_status_and_delivery_latency_after_a_webhook(
    server: ServerProcess, receiver: ReceiverProcess,
) -> None:
    before = scrape(server)
    latency = ("bluewire_webhook_delivery_latency_seconds_count", ())
    handle = send(server, phone(302, "00"), status_callback=receiver.url_for("/ops/callback"))
    wait_for(lambda: any(handle in r.body for r in receiver.received("/ops/callback")),
             timeout=WAIT_S)

    def latency_observed() -> dict[tuple[str, tuple[tuple[str, str], ...]], float] | None:
        got = scrape(server)
        return got if got[latency] > before.get(latency, 0) else None

    got = wait_for(latency_observed, timeout=WAIT_S, interval=0.1)
    assert got[("bluewire_store_up", ())] == 1
    wait_for(lambda: scrape(server)[("bluewire_messages", (("status", "READ"),))] >= 1,
             timeout=WAIT_S, interval=0.1)
    for gauge in ("bluewire_webhook_deliveries_pending", "bluewire_webhook_deliveries_failed",
                  "bluewire_dispatch_claim_lag_seconds", "bluewire_delivery_claim_lag_seconds"):
        assert got[(gauge, ())] >= 0
    assert {labels for name, labels in got
            if name == "bluewire_worker_last_round_age_seconds"} == {
        (("worker", "dispatcher"),), (("worker", "delivery"),), (("worker", "follow-ups"),),
        (("worker", "reactions"),)}


def test_json_logs_name_the_message_a_line_is_about(server: ServerProcess) -> None:
    handle = send(server, phone(303, "04"))  # the send fails: ERROR 10001, logged

    def logged() -> dict[str, Any] | None:
        for line in server.log().splitlines():
            if line.startswith("{") and handle in line:
                entry: dict[str, Any] = json.loads(line)
                return entry
        return None

    entry = wait_for(logged, timeout=WAIT_S)
    assert entry["message_handle"] == handle
    assert entry["level"] == "WARNING" and "10001" in entry["message"]
    # Everything logged goes through the same formatter, uvicorn's own lines included.
    lines = [line for line in server.log().splitlines() if line.startswith('{"')]
    assert any(json.loads(line)["logger"].startswith("uvicorn") for line in lines)


@pytest.fixture
def slow_receiver(tmp_path: Path) -> Iterator[ReceiverProcess]:
    process = ReceiverProcess(tmp_path).start("timeout", sleep=4)
    yield process
    process.stop()


def test_a_stalled_worker_makes_the_server_not_ready(
    tmp_path: Path, slow_receiver: ReceiverProcess, engine: Engine,
) -> None:
    server = ServerProcess(tmp_path, engine=engine, env={
        "BLUEWIRE_READY_STALL_MS": "1000",
        "BLUEWIRE_SWEEP_INTERVAL_MS": "100",
        "BLUEWIRE_DELIVERY_CONCURRENCY": "1",
        "BLUEWIRE_WEBHOOK_TIMEOUT_MS": "15000",
    }).start()
    try:
        assert httpx.get(server.url + "/readyz", timeout=10).status_code == 200
        send(server, phone(304, "01"), status_callback=slow_receiver.url_for("/slow"))

        def not_ready() -> dict[str, Any] | None:
            response = httpx.get(server.url + "/readyz", timeout=10)
            return response.json() if response.status_code == 503 else None

        body = wait_for(not_ready, timeout=WAIT_S, interval=0.1)
        assert_answer(body, Readiness)
        failed = {check["name"]: check for check in body["checks"] if not check["ok"]}
        assert "delivery" in failed, body
        assert "no round completed" in failed["delivery"]["detail"]
        assert httpx.get(server.url + "/healthz", timeout=10).status_code == 200  # alive
        # Once the receiver answers, the worker goes round again and the server is ready.
        wait_for(lambda: httpx.get(server.url + "/readyz", timeout=10).status_code == 200,
                 timeout=WAIT_S, interval=0.1)
    finally:
        server.stop()


def test_the_openapi_document_lists_the_operations_paths(server: ServerProcess) -> None:
    document = httpx.get(server.url + "/openapi.json", timeout=10).json()
    paths = document["paths"]
    for path in ("/healthz", "/readyz", "/metrics"):
        assert paths[path]["get"]["security"] == []  # unauthenticated
    ready = paths["/readyz"]["get"]["responses"]
    for status in ("200", "503"):  # not ready answers the same shape, not an error
        assert ready[status]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/Readiness"}
    check = document["components"]["schemas"]["ReadinessCheck"]
    assert set(check["properties"]["name"]["enum"]) == {
        "database", "migrations", "dispatcher", "delivery", "follow-ups", "reactions"}
    metrics = paths["/metrics"]["get"]["responses"]["200"]["content"]
    served = httpx.get(server.url + "/metrics", timeout=10).headers["content-type"]
    assert list(metrics) == [served] and served.startswith("text/plain; version=0.0.4")
