"""Webhook receivers that stall, hang or reset, against a real `bluewire serve`.

The receiver is a real process on loopback (tests/receiver.py) whose paths misbehave as told:
`slow` answers 200 just inside the webhook timeout, `hang` never answers, `reset` drops the
connection with a TCP reset. What the server produced is read from its own database (table
`deliveries`, one row per event and URL): every one of those must end delivered, exactly once,
with a Standard Webhooks signature that verifies.

The webhook timeout is 4 s here instead of 15 s, and retries come every second or so, so that
each fault plays out in seconds; the delivery worker has 16 slots instead of 128, so that a
couple of dozen hanging deliveries are enough to fill it if nothing keeps them apart. The
slow receiver runs on SQLite; the others on each engine (the claim that leaves a full URL's
deliveries for later is written per engine).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from ..databases import SQLITE, Engine
from ..receiver import Received, ReceiverProcess
from ..server import SANDBOX_LINE, ServerProcess, phone, wait_for
from .conftest import ChaosReport

pytestmark = pytest.mark.slow

TIMEOUT_MS = 4000
SLOW_S = 0.9 * TIMEOUT_MS / 1000  # the 14.9 s of 15 s, scaled down
ENV = {
    "BLUEWIRE_WEBHOOK_TIMEOUT_MS": str(TIMEOUT_MS),
    # Enough attempts that no delivery runs out of them while its receiver misbehaves.
    "BLUEWIRE_WEBHOOK_RETRY_SCHEDULE": ",".join(["0.5"] + ["1"] * 99),
    "BLUEWIRE_SWEEP_INTERVAL_MS": "100",
    "BLUEWIRE_DELIVERY_CONCURRENCY": "16",
}
WEBHOOKS = "/api/account/webhooks"
# Generous: the machine is shared, and these are eventual conditions, not timings.
WAIT_S = 90.0

Row = dict[str, Any]


@pytest.fixture
def server(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[ServerProcess]:
    """On the test's `engine` if it asks for one, else on SQLite."""
    engine = request.getfixturevalue("engine") if "engine" in request.fixturenames else SQLITE
    process = ServerProcess(tmp_path, ENV, engine=engine).start()
    yield process
    process.stop()


@pytest.fixture
def receiver(tmp_path: Path) -> Iterator[ReceiverProcess]:
    process = ReceiverProcess(tmp_path).start()
    yield process
    process.stop()


def add_account(server: ServerProcess, email: str, line: str) -> httpx.Client:
    key_id = email.split("@")[0]
    server.cli("accounts", "create", email)
    server.cli("keys", "create", "--account", email, "--key-id", key_id,
               "--secret", f"{key_id}-secret")
    server.cli("lines", "add", line, "--account", email)
    return server.client(key_id, f"{key_id}-secret")


def hook(api: httpx.Client, webhooks: dict[str, Any]) -> None:
    """Replace the account's webhook configuration."""
    response = api.put(WEBHOOKS, json={"webhooks": webhooks})
    assert response.status_code == 200, response.text


def send(api: httpx.Client, number: str, line: str, count: int) -> None:
    for n in range(count):
        response = api.post("/api/send-message", json={
            "number": number, "from_number": line, "content": f"message {n}"})
        assert response.status_code == 200, response.text


def deliveries(server: ServerProcess, url: str) -> list[Row]:
    return server.sql("SELECT * FROM deliveries WHERE url = ? ORDER BY id", url)


def attempts(server: ServerProcess, url: str) -> list[Row]:
    return server.sql("SELECT a.* FROM delivery_attempts a JOIN deliveries d "
                      "ON d.id = a.delivery_id WHERE d.url = ? ORDER BY a.id", url)


def all_delivered(server: ServerProcess, url: str, expected: int) -> list[Row] | None:
    rows = deliveries(server, url)
    done = len(rows) >= expected and all(row["state"] == "delivered" for row in rows)
    return rows if done else None


def assert_each_delivered_once(rows: list[Row], heard: list[Received], answered: str,
                               secret: str) -> None:
    """Every delivery the server made reached the receiver, answered in `answered` mode exactly
    once, with the server's payload and a signature that verifies; nothing else arrived."""
    assert rows and all(row["state"] == "delivered" for row in rows), rows
    answered_ok = Counter(r.webhook_id for r in heard if r.answer == answered)
    assert answered_ok == Counter(row["event_id"] for row in rows)
    payloads = {row["event_id"]: row["payload"] for row in rows}
    for request in heard:
        assert request.webhook_id in payloads, request
        assert request.body == payloads[request.webhook_id]
        request.verify(secret)


def test_a_receiver_answering_just_inside_the_timeout(
    chaos: ChaosReport, server: ServerProcess, receiver: ReceiverProcess,
) -> None:
    """Webhook receiver answering at 90% of the timeout (3.6 s of 4 s)."""
    secret = "slow-receiver-secret"
    url = receiver.url_for("/slow")
    receiver.set_mode("slow", path="/slow", sleep=SLOW_S)
    with server.client() as api:
        hook(api, {"outbound": [{"url": url, "secret": secret}]})
        # Two messages: QUEUED, SENT and DELIVERED each, their deliveries in order, one by one.
        send(api, phone(301, "01"), SANDBOX_LINE, 2)
        rows = wait_for(lambda: all_delivered(server, url, 6), timeout=WAIT_S, interval=0.2)

    assert len(rows) == 6
    tries = attempts(server, url)
    # Each a success at its first attempt: slow is not failed, and nothing was sent twice.
    assert [row["attempts"] for row in rows] == [1] * len(rows)
    assert all(a["status_code"] == 200 and a["error"] is None for a in tries), tries
    assert all(a["latency_ms"] >= SLOW_S * 1000 for a in tries), tries
    assert_each_delivered_once(rows, receiver.received("/slow"), "slow", secret)
    chaos.count("deliveries", len(rows))
    chaos.count("attempts", len(tries))
    chaos.count("ms slowest answer", round(max(a["latency_ms"] for a in tries)))


def test_receivers_that_hang_or_reset_beside_a_healthy_one(
    chaos: ChaosReport, engine: Engine, server: ServerProcess, receiver: ReceiverProcess,
) -> None:
    """Webhook receivers hanging past the timeout or resetting connections, beside a healthy one."""
    chaos.fault += f" ({engine.name})"
    hang_url, reset_url = receiver.url_for("/hang"), receiver.url_for("/reset")
    healthy_url = receiver.url_for("/healthy")
    secrets = {hang_url: "hang-secret", reset_url: "reset-secret", healthy_url: "healthy-secret"}
    receiver.set_mode("hang", path="/hang")
    receiver.set_mode("reset", path="/reset")
    healthy_line = "+13105550192"
    with server.client() as troubled, add_account(server, "healthy@example.com",
                                                  healthy_line) as healthy:
        hook(troubled, {"outbound": [{"url": hang_url, "secret": secrets[hang_url]},
                                     {"url": reset_url, "secret": secrets[reset_url]}]})
        hook(healthy, {"outbound": [{"url": healthy_url, "secret": secrets[healthy_url]}]})
        bad_messages = 24  # 72 deliveries to each bad receiver: more than the worker's slots
        send(troubled, phone(302, "01"), SANDBOX_LINE, bad_messages)
        bad_count = bad_messages * 3

        # The fault is on: attempts are hanging and resets have been retried.
        def misbehaving() -> bool:
            resets = Counter(r.webhook_id for r in receiver.received("/reset"))
            return len(receiver.received("/hang")) >= 4 and max(resets.values(), default=0) >= 2

        # Meanwhile another account's healthy receiver hears every event of its own, promptly:
        # while the first hanging attempts are in flight, and again once some have timed out.
        healthy_messages = 0

        def healthy_round(npa: int) -> list[Row]:
            nonlocal healthy_messages
            send(healthy, phone(npa, "01"), healthy_line, 10)
            healthy_messages += 10
            rows = wait_for(lambda: all_delivered(server, healthy_url, healthy_messages * 3),
                            timeout=WAIT_S, interval=0.1)
            # Still misbehaving: nothing sent to them has been delivered yet.
            assert not [row for url in (hang_url, reset_url) for row in deliveries(server, url)
                        if row["state"] == "delivered"]
            return rows

        wait_for(misbehaving, timeout=WAIT_S, interval=0.1)
        healthy_round(303)
        wait_for(lambda: [a for a in attempts(server, hang_url) if a["status_code"] is None],
                 timeout=WAIT_S, interval=0.1)
        healthy_rows = healthy_round(304)
        healthy_waits = [row["delivered_at"] - row["created_at"] for row in healthy_rows]
        # Not one waited for a hung attempt to time out.
        assert max(healthy_waits) < TIMEOUT_MS, healthy_waits

        # The receivers recover: every event reaches them, none lost, none given up on.
        receiver.set_mode("ok", path="/hang")
        receiver.set_mode("ok", path="/reset")
        hang_rows = wait_for(lambda: all_delivered(server, hang_url, bad_count),
                             timeout=WAIT_S, interval=0.2)
        reset_rows = wait_for(lambda: all_delivered(server, reset_url, bad_count),
                              timeout=WAIT_S, interval=0.2)

    assert len(hang_rows) == len(reset_rows) == bad_count
    assert len(healthy_rows) == healthy_messages * 3 == 60
    for url, rows in ((hang_url, hang_rows), (reset_url, reset_rows),
                      (healthy_url, healthy_rows)):
        path = url.removeprefix(receiver.url)
        assert_each_delivered_once(rows, receiver.received(path), "ok", secrets[url])

    hang_tries, reset_tries = attempts(server, hang_url), attempts(server, reset_url)
    timed_out = [a for a in hang_tries if a["status_code"] is None]
    assert timed_out, "no attempt hung"
    for attempt in timed_out:  # cut at the timeout: not sooner, and not left hanging
        assert attempt["error"] == f"timed out after {TIMEOUT_MS / 1000:g} s", attempt
        assert TIMEOUT_MS * 0.95 <= attempt["latency_ms"] < TIMEOUT_MS * 2, attempt
    reset = [a for a in reset_tries if a["status_code"] is None]
    assert reset, "no connection was reset"
    assert all(a["error"] for a in reset), reset
    retried = [row for row in (*hang_rows, *reset_rows) if row["attempts"] > 1]
    assert retried
    assert [row["attempts"] for row in healthy_rows] == [1] * len(healthy_rows)

    chaos.count("deliveries", len(hang_rows) + len(reset_rows) + len(healthy_rows))
    chaos.count("attempts timed out", len(timed_out))
    chaos.count("attempts reset", len(reset))
    chaos.count("retried", len(retried))
    chaos.count("healthy deliveries", len(healthy_rows))
    chaos.count("ms longest healthy wait", max(healthy_waits))
