"""The wall clock stepped back an hour under a running bluewire, as an NTP correction does.

libfaketime (Debian's faketime package) is preloaded into `bluewire serve`; its offset is read
from a file the test rewrites mid-burst, from "+0" to "-1h". CLOCK_MONOTONIC is left alone, as
a real step leaves it. Every accepted message must still end READ, once: no phone handed it
twice (the sandbox network counts), no dispatch lease taken from under the process that held it,
each status reached once and in order, a message's times never running backwards (what the API
answers, the event log, its webhooks), and every webhook delivered once, in order from a single
process.
"""

from __future__ import annotations

import glob
import itertools
import json
import os
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from .. import databases
from ..databases import Postgres
from ..receiver import ReceiverProcess
from ..server import KEY_ID, SANDBOX_LINE, SECRET, ServerProcess, phone, wait_for
from .conftest import ChaosReport

LIBFAKETIME_ENV = "BLUEWIRE_TEST_LIBFAKETIME"
REQUIRE_FAKETIME_ENV = "BLUEWIRE_TEST_REQUIRE_FAKETIME"
FAKETIME_NOT_FOUND = "libfaketime not found: install Debian's faketime package"
CHAIN = ["QUEUED", "SENT", "DELIVERED", "READ"]
STEP_BACK = "-1h"
SENDERS = 8
BEFORE = 150  # sent before the step (the step comes once these are accepted) ...
AFTER = 150  # ... and after it
# With two processes, fewer: libfaketime slows the stepped one's every request several times.
BEFORE_TWO, AFTER_TWO = 80, 80
# Small delays, so that at the step many messages are between SENT and READ.
SANDBOX = {"BLUEWIRE_SANDBOX_DELIVER_MS": "20", "BLUEWIRE_SANDBOX_READ_MS": "60"}


def libfaketime() -> str | None:
    configured = os.environ.get(LIBFAKETIME_ENV)
    if configured:
        return configured if Path(configured).exists() else None
    # The thread-safe build: with the other, a server with threads waiting on timeouts (its
    # PostgreSQL writer) answered several times slower.
    found = sorted(glob.glob("/usr/lib/*/faketime/libfaketimeMT.so.1"))
    return found[0] if found else None


class SteppableClock:
    """The offset of the wall clock of the processes started with `env`; CLOCK_MONOTONIC is
    left real."""

    def __init__(self, library: str, workdir: Path) -> None:
        self.path = workdir / "faketime.rc"
        self.path.write_text("+0\n")
        self.env = {"LD_PRELOAD": library, "FAKETIME_TIMESTAMP_FILE": str(self.path),
                    "FAKETIME_NO_CACHE": "1", "FAKETIME_DONT_FAKE_MONOTONIC": "1"}

    def step_back(self) -> None:
        temporary = self.path.with_suffix(".new")
        temporary.write_text(STEP_BACK + "\n")
        temporary.replace(self.path)  # whole: a reader never sees an empty file


@pytest.fixture
def clock(tmp_path: Path) -> SteppableClock:
    library = libfaketime()
    if library is None:
        if os.environ.get(REQUIRE_FAKETIME_ENV) == "1":
            pytest.fail(FAKETIME_NOT_FOUND, pytrace=False)
        pytest.skip(FAKETIME_NOT_FOUND)
    return SteppableClock(library, tmp_path)


@pytest.fixture
def receiver(tmp_path: Path) -> Iterator[ReceiverProcess]:
    process = ReceiverProcess(tmp_path).start()
    yield process
    process.stop()


def send_burst(servers: list[ServerProcess], clock: SteppableClock, before: int,
               after: int) -> list[str]:
    """`before` + `after` messages to sandbox phones that deliver and read, round-robin across
    `servers`; the clock is stepped back once `before` were accepted. The handles accepted."""
    accepted: list[str] = []
    lock = threading.Lock()
    targets = itertools.cycle(servers)
    headers = {"sb-api-key-id": KEY_ID, "sb-api-secret-key": SECRET}

    def sender(first: int) -> None:
        with httpx.Client(timeout=30, headers=headers) as client:
            for n in range(first, before + after, SENDERS):
                with lock:
                    server = next(targets)
                body = {"number": phone(415 + n % 7), "from_number": SANDBOX_LINE,
                        "content": f"step {n}"}
                answer = client.post(server.url + "/api/send-message", json=body)
                assert answer.status_code == 200, answer.text
                with lock:
                    accepted.append(answer.json()["message_handle"])
                    if len(accepted) == before:
                        clock.step_back()

    with ThreadPoolExecutor(SENDERS) as pool:
        list(pool.map(sender, range(SENDERS)))
    return accepted


def add_status_webhook(server: ServerProcess, receiver: ReceiverProcess) -> None:
    with server.client() as api:
        added = api.post("/api/account/webhooks",
                         json={"type": "outbound", "webhooks": [receiver.url_for("/status")]})
        assert added.status_code == 200, added.text


def all_read(server: ServerProcess, handles: list[str]) -> dict[str, str] | None:
    rows = server.sql("SELECT handle, status FROM messages WHERE is_outbound = ?", True)
    found = {row["handle"]: row["status"] for row in rows}
    return found if all(found.get(h) in ("READ", "ERROR") for h in handles) else None


def check_survived(chaos: ChaosReport, servers: list[ServerProcess],
                   receiver: ReceiverProcess, accepted: list[str], before: int) -> None:
    """Everything the module docstring promises, for `accepted`; the figures into `chaos`."""
    first = servers[0]
    final = wait_for(lambda: all_read(first, accepted), timeout=30, interval=0.2)
    assert {h: final[h] for h in accepted if final[h] != "READ"} == {}

    # Sent once: each phone got each message once, and no dispatch lease was claimed again.
    received = {row["handle"]: row["copies"]
                for row in first.sql("SELECT handle, copies FROM sandbox_received")}
    assert {h: received.get(h) for h in accepted if received.get(h) != 1} == {}
    attempts = {row["handle"]: row["dispatch_attempts"] for row in first.sql(
        "SELECT handle, dispatch_attempts FROM messages WHERE is_outbound = ?", True)}
    assert {h: attempts[h] for h in accepted if attempts[h] != 1} == {}

    # What the API answers: READ, and no time of the message before one that came earlier.
    backwards: dict[str, dict[str, Any]] = {}
    with first.client() as api:
        for handle in accepted:
            answer = api.get(f"/api/v2/messages/{handle}")
            assert answer.status_code == 200, answer.text
            body = answer.json()["data"]
            assert body["status"] == "READ", body
            seen = [body[f] for f in ("date_sent", "date_delivered", "date_read", "date_updated")]
            if seen != sorted(seen):
                backwards[handle] = body
    assert backwards == {}

    # The event log: each message's statuses once each, in order, at times never going back.
    events = first.sql("SELECT public_id, message_handle, occurred_at, data FROM events "
                       "WHERE type IN (?, ?) ORDER BY id", "message.created", "message.updated")
    chains: dict[str, list[str]] = defaultdict(list)
    times: dict[str, list[int]] = defaultdict(list)
    for event in events:
        chains[event["message_handle"]].append(json.loads(event["data"])["status"])
        times[event["message_handle"]].append(event["occurred_at"])
    assert {h: chains[h] for h in accepted if chains[h] != CHAIN} == {}
    assert {h: times[h] for h in accepted if times[h] != sorted(times[h])} == {}

    # The webhooks: every event delivered once, each message's in order, times never back.
    ids = {event["public_id"] for event in events}
    heard = wait_for(lambda: (lambda got: got if ids <= got.keys() else None)(
        receiver.count_by_webhook_id("/status")), timeout=30, interval=0.2)
    assert {i: n for i, n in heard.items() if n != 1} == {}
    arrived: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for request in receiver.received("/status"):
        body = request.json
        arrived[body["message_handle"]].append((body["status"], body["date_updated"]))
    if len(servers) == 1:  # several processes attempt one message's webhooks concurrently
        assert {h: seen for h, seen in arrived.items() if [s for s, _ in seen] != CHAIN} == {}
    in_chain = {h: [t for _, t in sorted(seen, key=lambda s: CHAIN.index(s[0]))]
                for h, seen in arrived.items()}
    assert {h: seen for h, seen in in_chain.items() if seen != sorted(seen)} == {}
    # Each attempt recorded delivered (a moment after the receiver has it: results are written
    # in group commits).
    wait_for(lambda: first.sql("SELECT COUNT(*) AS n FROM deliveries WHERE state <> ?",
                               "delivered")[0]["n"] == 0, timeout=10, interval=0.2)
    attempts_made = first.sql("SELECT COUNT(*) AS n FROM delivery_attempts")[0]["n"]
    assert attempts_made == len(heard)

    chaos.count("accepted", len(accepted))
    chaos.count("read", sum(final[h] == "READ" for h in accepted))
    chaos.count("sent before the step", before)
    chaos.count("webhooks delivered once", len(heard))


def test_the_clock_stepped_back_an_hour_mid_burst(chaos: ChaosReport, tmp_path: Path,
                                                  clock: SteppableClock,
                                                  receiver: ReceiverProcess) -> None:
    """The clock stepped back an hour mid-burst"""
    server = ServerProcess(tmp_path, engine=databases.SQLITE, env={**clock.env, **SANDBOX}).start()
    try:
        add_status_webhook(server, receiver)
        accepted = send_burst([server], clock, BEFORE, AFTER)
        assert len(accepted) == BEFORE + AFTER
        check_survived(chaos, [server], receiver, accepted, BEFORE)
    finally:
        server.stop()


def test_one_of_two_processes_stepped_back_an_hour(chaos: ChaosReport, tmp_path: Path,
                                                   clock: SteppableClock, postgres: Postgres,
                                                   receiver: ReceiverProcess) -> None:
    """One of two processes on one PostgreSQL database had its clock stepped back an hour"""
    shared = {"BLUEWIRE_DATABASE_URL": postgres.create(tmp_path), **SANDBOX}
    steady = ServerProcess(tmp_path / "steady", shared)
    stepped = ServerProcess(tmp_path / "stepped", {**shared, **clock.env})
    servers = [steady, stepped]
    try:
        for server in servers:  # one at a time: the first bootstraps the account
            server.workdir.mkdir()
            server.start()
        add_status_webhook(steady, receiver)
        time.sleep(2.5)  # the other process's cache of the account's endpoints refreshes
        accepted = send_burst(servers, clock, BEFORE_TWO, AFTER_TWO)
        assert len(accepted) == BEFORE_TWO + AFTER_TWO
        check_survived(chaos, servers, receiver, accepted, BEFORE_TWO)
    finally:
        for server in servers:
            server.stop()

