"""The SQLite disk full under a running bluewire: sends answered 503 saying so, nothing
half-written, and work carries on once space returns, without a restart.

A test cannot fill the machine's disk (that needs a filesystem of its own to mount), so the kernel
refuses the writes instead: the server's RLIMIT_FSIZE is lowered to the size its database files
have now, and a write past it fails with EFBIG (CPython ignores SIGXFSZ). SQLite reports that as
SQLITE_IOERR_WRITE, "disk I/O error", as it does an exceeded quota (a disk out of space is
SQLITE_FULL, "database or disk is full"); bluewire answers both as a full disk. Raising the limit
again is the space returning.

Every send carries a status callback and goes to a number of its own (a contact is created with
the message), so a refused send has a message, events, deliveries and a contact it must not have
left behind.
"""

from __future__ import annotations

import asyncio
import json
import resource
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from .. import databases
from ..receiver import ReceiverProcess
from ..server import KEY_ID, SANDBOX_LINE, SECRET, ServerProcess, phone, wait_for
from .conftest import ChaosReport

CHAIN = ["QUEUED", "SENT", "DELIVERED", "READ"]
SENDERS = 16
BEFORE = 60
AFTER = 60
DURING_MAX = 450  # sends tried while the disk is full, at most
FULL_FOR_S = 3.0  # how long the disk stays full: longer than a dispatch lease
HEADROOM = 128 * 1024  # what the files may still grow by: the first sends of the fault fit
PADDING = "x" * 2000  # fills the disk sooner
BACKOFF_S = 0.3  # a sender refused waits this long before its next send
# Short leases and sweeps: what the full disk held up is picked up soon after (a claim that
# could not be handed back waits for its lease to run out).
ENV = {"BLUEWIRE_SWEEP_INTERVAL_MS": "100", "BLUEWIRE_DISPATCH_LEASE_MS": "2000",
       "BLUEWIRE_DELIVERY_LEASE_MS": "3000"}


@dataclass
class Sends:
    """The sends of one phase, by what they were answered."""

    accepted: dict[str, str] = field(default_factory=dict)  # handle -> number
    refused: list[str] = field(default_factory=list)  # numbers of the sends answered 503
    answers: list[tuple[int, dict[str, str], dict[str, Any]]] = field(default_factory=list)


def numbers() -> Iterator[str]:
    """A sandbox phone that reads (…00) per send, none used twice."""
    for npa in range(200, 1000):
        yield phone(npa)


async def burst(server: ServerProcess, callback: str, count: int, *, tag: str,
                numbers: Iterator[str], for_s: float = 0.0) -> Sends:
    """`count` sends over SENDERS connections, or fewer: once `for_s` has passed, the first
    send refused ends the burst."""
    sends = Sends()
    until = time.monotonic() + for_s
    headers = {"sb-api-key-id": KEY_ID, "sb-api-secret-key": SECRET}
    todo = iter(range(count))
    async with httpx.AsyncClient(base_url=server.url, headers=headers, timeout=10,
                                 limits=httpx.Limits(max_connections=SENDERS)) as client:
        async def sender() -> None:
            for i in todo:
                if sends.refused and time.monotonic() > until:
                    return
                number = next(numbers)
                response = await client.post("/api/send-message", json={
                    "number": number, "from_number": SANDBOX_LINE,
                    "content": f"{tag} {i} {PADDING}", "status_callback": callback})
                if response.status_code == 200:
                    sends.accepted[response.json()["message_handle"]] = number
                else:
                    sends.refused.append(number)
                    sends.answers.append((response.status_code, dict(response.headers),
                                          response.json()))
                    await asyncio.sleep(BACKOFF_S)

        await asyncio.gather(*(sender() for _ in range(SENDERS)))
    return sends


def database_files(workdir: Path) -> list[Path]:
    return [path for path in workdir.iterdir() if path.name.startswith("bluewire.db")]


def outbound(client: httpx.Client) -> dict[str, dict[str, Any]]:
    """Every outbound message the API lists, by handle."""
    rows: dict[str, dict[str, Any]] = {}
    offset = 0
    while True:
        response = client.get("/api/v2/messages", params={
            "is_outbound": "true", "limit": 1000, "offset": offset,
            "order_by": "createdAt", "order_direction": "asc"})
        assert response.status_code == 200, response.text
        page = response.json()
        rows.update({row["message_handle"]: row for row in page["data"]})
        if not page["pagination"]["hasMore"]:
            return rows
        offset += 1000


def readiness(client: httpx.Client) -> dict[str, dict[str, Any]]:
    """The checks /readyz failed, by name (none: ready)."""
    body = client.get("/readyz").json()
    return {check["name"]: check for check in body["checks"] if not check["ok"]}


def refused_and_not_ready(client: httpx.Client, callback: str, numbers: Iterator[str],
                          sends: Sends) -> dict[str, Any] | None:
    """/readyz's failed database check, asked right after a send (one of `sends`) was refused:
    a checkpoint can free some room for a moment, and a write that fits makes the process
    ready again."""
    number = next(numbers)
    response = client.post("/api/send-message", json={
        "number": number, "from_number": SANDBOX_LINE, "content": f"probe {PADDING}",
        "status_callback": callback})
    if response.status_code == 200:
        sends.accepted[response.json()["message_handle"]] = number
        return None
    sends.refused.append(number)
    sends.answers.append((response.status_code, dict(response.headers), response.json()))
    return readiness(client).get("database")


@pytest.fixture
def receiver(tmp_path: Path) -> Iterator[ReceiverProcess]:
    process = ReceiverProcess(tmp_path).start()
    yield process
    process.stop()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    process = ServerProcess(tmp_path, ENV, engine=databases.SQLITE).start()
    yield process
    process.stop()


def test_disk_full_refuses_sends_cleanly_and_recovers(
        chaos: ChaosReport, server: ServerProcess, receiver: ReceiverProcess) -> None:
    """The SQLite disk full mid-burst, then space returns."""
    assert server.process is not None
    pid = server.process.pid  # with one worker (as on SQLite) `serve` is the server itself
    callback = receiver.url_for("/status")
    phones = numbers()

    before = asyncio.run(burst(server, callback, BEFORE, tag="before", numbers=phones))
    assert not before.refused, before.answers[:3]

    unlimited = resource.prlimit(pid, resource.RLIMIT_FSIZE)
    full = max(path.stat().st_size for path in database_files(server.workdir)) + HEADROOM
    resource.prlimit(pid, resource.RLIMIT_FSIZE, (full, unlimited[1]))
    try:
        during = asyncio.run(burst(server, callback, DURING_MAX, tag="during", numbers=phones,
                                   for_s=FULL_FOR_S))
        assert during.refused, "the disk never filled"
        with server.client() as client:
            # Reads go on: the API still lists what is stored ...
            assert set(before.accepted) <= set(outbound(client))
            # ... and the process says it is not ready.
            database = wait_for(
                lambda: refused_and_not_ready(client, callback, phones, during),
                timeout=10, interval=0.1)
        assert "disk is full" in database["detail"], database
        for status, headers, body in during.answers:
            assert status == 503, body
            assert body["error_code"] == 5000, body
            assert "disk is full" in body["message"], body
            assert int(headers["retry-after"]) > 0
    finally:
        resource.prlimit(pid, resource.RLIMIT_FSIZE, unlimited)

    # Space is back: the same process takes sends again at once.
    after = asyncio.run(burst(server, callback, AFTER, tag="after", numbers=phones))
    assert not after.refused, after.answers[:3]
    with server.client() as client:
        wait_for(lambda: not readiness(client), timeout=10)

    accepted = {**before.accepted, **during.accepted, **after.accepted}
    with server.client() as client:
        def all_read() -> dict[str, dict[str, Any]] | None:
            rows = outbound(client)
            done = all(rows.get(handle, {}).get("status") == "READ" for handle in accepted)
            return rows if done else None

        try:
            rows = wait_for(all_read, timeout=20, interval=0.2)
        except AssertionError:
            rows = outbound(client)
            behind = {h: rows.get(h, {}).get("status") for h in accepted
                      if rows.get(h, {}).get("status") != "READ"}
            raise AssertionError(f"{len(behind)} accepted messages never ended READ: "
                                 f"{list(behind.items())[:5]}\n{server.log()[-3000:]}") from None
    # Nothing half-written: exactly the accepted sends are stored, each with its whole chain.
    assert set(rows) == set(accepted)
    refused = set(during.refused)
    contacts = {row["number"] for row in server.sql("SELECT number FROM contacts")}
    assert contacts == set(accepted.values())
    assert not contacts & refused

    events: dict[str, list[str]] = defaultdict(list)
    event_ids: dict[str, str] = {}
    for row in server.sql("SELECT public_id, type, message_handle, data FROM events "
                          "WHERE message_handle IS NOT NULL ORDER BY id"):
        assert row["message_handle"] in accepted, row
        status = json.loads(row["data"])["status"]
        events[row["message_handle"]].append(status)
        event_ids[row["public_id"]] = row["message_handle"]
    broken = {handle: events[handle] for handle in accepted if events[handle] != CHAIN}
    assert not broken, f"status chains not {CHAIN}: {list(broken.items())[:5]}"

    def all_delivered() -> list[dict[str, Any]] | None:
        rows = server.sql("SELECT event_id, message_handle, state FROM deliveries")
        return rows if all(row["state"] == "delivered" for row in rows) else None

    deliveries = wait_for(all_delivered, timeout=20, interval=0.2)
    assert sorted(row["event_id"] for row in deliveries) == sorted(event_ids)
    assert all(event_ids[row["event_id"]] == row["message_handle"] for row in deliveries)

    chaos.count("accepted", len(accepted))
    chaos.count("accepted while the disk was full", len(during.accepted))
    chaos.count("refused_503", len(during.refused))
    chaos.count("terminal", sum(rows[handle]["status"] == "READ" for handle in accepted))
