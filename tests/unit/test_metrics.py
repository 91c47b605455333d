"""Metrics: the store's gauges on each engine, the request hook of the App, the histograms."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import insert

from bluewire.api.http import UNMATCHED, App, Request, Router
from bluewire.domain.handles import event_time_ms, new_event_id
from bluewire.observability.families import Counts, Histograms
from bluewire.observability.metrics import Metrics
from bluewire.observability.shared import SharedCounts
from bluewire.store.database import Database
from bluewire.store.deliveries import DeliveryJob
from bluewire.store.gauges import read_gauges
from bluewire.store.schema import accounts, deliveries, messages

from ..databases import Engine

NOW = 1_800_000_000_000


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of an exposition, by name and sorted labels."""
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


@pytest.fixture
def database(tmp_path: Path, engine: Engine) -> Iterator[Database]:
    database = Database(engine.create(tmp_path))
    database.migrate()
    with database.engine.begin() as conn:
        conn.execute(insert(accounts), [{"id": 1, "email": "a@x.com", "created_at": 0}])
    yield database
    database.dispose()


def _message(handle: str, status: str, created_at: int,
             claimed_until: int | None) -> dict[str, Any]:
    return {"handle": handle, "account_id": 1, "is_outbound": True, "line": "+14155550199",
            "number": "+14155550100", "status": status, "created_at": created_at,
            "updated_at": created_at, "claimed_until": claimed_until}


def _delivery(state: str, next_attempt_at: int | None,
              claimed_until: int | None = None) -> dict[str, Any]:
    return {"account_id": 1, "event_id": "evt_x", "event_type": "message.updated",
            "url": "https://hooks.example.com/", "payload": "{}", "state": state,
            "next_attempt_at": next_attempt_at, "claimed_until": claimed_until,
            "created_at": 0}


def test_an_empty_store_has_no_lag(database: Database) -> None:
    gauges = database.read(lambda conn: read_gauges(conn, NOW))
    assert gauges.messages_by_status == {}
    assert (gauges.deliveries_pending, gauges.deliveries_failed) == (0, 0)
    assert gauges.oldest_due_message is None and gauges.oldest_due_delivery is None


def test_the_gauges_count_by_status_and_measure_the_oldest_due_work(database: Database) -> None:
    with database.engine.begin() as conn:
        conn.execute(insert(messages), [
            _message("new", "QUEUED", NOW - 4_000, 0),  # due since it was created
            _message("expired", "SENT", NOW - 60_000, NOW - 9_000),  # lease ran out 9 s ago
            _message("leased", "SENT", NOW - 90_000, NOW + 5_000),  # claimed: not due
            _message("done", "DELIVERED", NOW - 99_000, None),
            _message("done2", "DELIVERED", NOW - 99_000, None),
        ])
        conn.execute(insert(deliveries), [
            _delivery("pending", NOW - 2_000),
            _delivery("pending", NOW - 30_000, claimed_until=NOW - 7_000),  # lease ran out
            _delivery("pending", NOW - 50_000, claimed_until=NOW + 1_000),  # claimed
            _delivery("pending", NOW + 60_000),  # waiting to retry: not due
            _delivery("failed", None),
            _delivery("delivered", None),
            _delivery("cancelled", None),
        ])
    gauges = database.read(lambda conn: read_gauges(conn, NOW))
    assert gauges.messages_by_status == {"QUEUED": 1, "SENT": 2, "DELIVERED": 2}
    assert (gauges.deliveries_pending, gauges.deliveries_failed) == (4, 1)
    assert gauges.oldest_due_message == NOW - 9_000
    assert gauges.oldest_due_delivery == NOW - 7_000


async def test_a_scrape_exports_the_store_gauges(database: Database) -> None:
    with database.engine.begin() as conn:
        conn.execute(insert(messages), [_message("m", "ERROR", 0, None)])
    got = samples((await Metrics(database, {}).render()).decode())
    assert got[("bluewire_store_up", ())] == 1
    assert got[("bluewire_messages", (("status", "ERROR"),))] == 1
    assert got[("bluewire_messages", (("status", "READ"),))] == 0  # every status is exported
    assert got[("bluewire_dispatch_claim_lag_seconds", ())] == 0


async def test_a_scrape_says_when_the_store_did_not_answer(tmp_path: Path) -> None:
    (tmp_path / "dir.db").mkdir()
    database = Database(f"sqlite:///{tmp_path / 'dir.db'}")
    try:
        got = samples((await Metrics(database, {}).render()).decode())
    finally:
        database.dispose()
    assert got[("bluewire_store_up", ())] == 0
    assert not any(name == "bluewire_messages" for name, _ in got)


def test_route_latency_buckets_are_cumulative_and_inclusive() -> None:
    latency = Histograms("t_seconds", "test", [0.1, 0.01], ["route"])
    for seconds in (0.005, 0.01, 0.05, 3.0):
        latency.observe(("/a",), seconds)
    [family] = latency.collect()
    got = {(s.name, s.labels.get("le")): s.value for s in family.samples}
    assert got[("t_seconds_bucket", "0.01")] == 2  # a bucket holds values <= its bound
    assert got[("t_seconds_bucket", "0.1")] == 3
    assert got[("t_seconds_bucket", "+Inf")] == 4
    assert got[("t_seconds_count", None)] == 4
    assert got[("t_seconds_sum", None)] == pytest.approx(3.065)


def test_the_delivery_latency_runs_from_the_time_in_the_event_id(tmp_path: Path) -> None:
    event_id = new_event_id()
    recorded = event_time_ms(event_id)
    assert recorded is not None
    assert event_time_ms("evt_not-hex-at-all") is None
    database = Database(f"sqlite:///{tmp_path / 'm.db'}")  # never read here
    metrics = Metrics(database, {})
    job = DeliveryJob(1, 1, event_id, "message.updated", None, "https://x/", None, "h", "{}", 0)
    metrics.webhook_delivered(job, recorded + 1_500)
    database.dispose()
    histogram = metrics.registry.get_sample_value
    assert histogram("bluewire_webhook_delivery_latency_seconds_count") == 1
    assert histogram("bluewire_webhook_delivery_latency_seconds_sum") == 1.5
    assert histogram("bluewire_webhook_delivery_latency_seconds_bucket", {"le": "1.0"}) == 0
    assert histogram("bluewire_webhook_delivery_latency_seconds_bucket", {"le": "2.5"}) == 1


async def _call(app: App, method: str, path: str) -> int:
    scope = {"type": "http", "method": method, "path": path, "headers": [],
             "query_string": b""}
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return int(sent[0]["status"])


async def test_the_app_reports_each_answer_by_route_template() -> None:
    seen: list[tuple[str, str, int]] = []
    router = Router()

    async def item(request: Request) -> dict[str, Any]:
        return {"id": request.params["item_id"]}

    router.add("GET", "/items/{item_id}", item, authenticated=False)

    async def authenticate(_request: Request) -> Any:
        return None

    app = App(router, authenticate, max_body_bytes=1024,
              observe=lambda method, route, status, seconds: seen.append((method, route,
                                                                         status)))
    assert await _call(app, "GET", "/items/42") == 200
    assert await _call(app, "GET", "/nowhere") == 404
    assert await _call(app, "POST", "/items/42") == 405
    assert seen == [("GET", "/items/{item_id}", 200), ("GET", UNMATCHED, 404),
                    ("POST", UNMATCHED, 405)]


async def test_workers_add_up_each_others_published_counts(tmp_path: Path) -> None:
    """Two workers (two SharedCounts on one directory, as `--workers 2` sets up): a scrape of
    either adds its own live counts to what the other last published."""
    def worker(name: str) -> tuple[Counts, Histograms, SharedCounts]:
        counts = Counts("t_requests", "test", ["route"])
        latency = Histograms("t_seconds", "test", [0.1], ["route"])
        return counts, latency, SharedCounts(tmp_path, [counts, latency], worker=name)

    counts_a, latency_a, shared_a = worker("a")
    counts_b, latency_b, shared_b = worker("b")
    counts_a.count(("/a",))
    counts_b.count(("/a",))
    counts_b.count(("/b",))
    latency_b.observe(("/a",), 0.05)
    latency_a.observe(("/a",), 0.5)
    await shared_b.publish()
    shared_a.refresh()
    assert counts_a.merged() == {("/a",): 2, ("/b",): 1}
    assert latency_a.merged() == {("/a",): ([1, 1], pytest.approx(0.55))}
    counts_a.count(("/a",))  # its own counts are live; the other's as last published
    counts_b.count(("/b",))
    assert counts_a.merged() == {("/a",): 3, ("/b",): 1}
