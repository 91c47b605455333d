"""The sandbox network outlives its processes: two `bluewire serve` on one PostgreSQL database,
the one that handed messages to the phones SIGKILLed before the phones read them, and the other
carries the reads on; both show the same phone."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ..databases import Postgres
from ..server import SANDBOX_LINE, ServerProcess, wait_for

pytestmark = pytest.mark.slow

READER = "+14155550100"  # iMessage, read receipts on
ECHO = "+14155550106"  # replies "echo: …" once it has a message
# The phones read 4 s after delivery: long enough to kill the process that holds the read.
SLOW_READS = {"BLUEWIRE_SANDBOX_DELIVER_MS": "200", "BLUEWIRE_SANDBOX_READ_MS": "4000"}


@pytest.fixture
def pair(tmp_path: Path, postgres: Postgres) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    env = {"BLUEWIRE_DATABASE_URL": postgres.create(tmp_path), **SLOW_READS}
    first = ServerProcess(tmp_path / "first", env)
    second = ServerProcess(tmp_path / "second", env)
    for server in (first, second):  # one at a time: the first bootstraps the account
        server.workdir.mkdir()
        server.start()
    try:
        yield first, second
    finally:
        for server in (first, second):
            server.stop()


def status(server: ServerProcess, handle: str) -> str:
    with server.client() as api:
        return api.get("/api/status", params={"handle": handle}).json()["status"]


def test_reads_pending_in_a_killed_process_are_carried_on_by_another(
        pair: tuple[ServerProcess, ServerProcess]) -> None:
    first, second = pair
    with first.client() as api:
        handles = [api.post("/api/send-message", json={
            "number": READER, "from_number": SANDBOX_LINE, "content": f"read me {n}"}
        ).json()["message_handle"] for n in range(5)]
        echoed = api.post("/api/send-message", json={
            "number": ECHO, "from_number": SANDBOX_LINE, "content": "ping"}).json()
    wait_for(lambda: all(status(second, h) == "DELIVERED" for h in handles), timeout=15)
    first.kill()  # its phones' reads were due in 4 s, on its timers

    # The other process claims them once their leases run out (10 s past due) and reads.
    wait_for(lambda: all(status(second, h) == "READ" for h in handles), timeout=40,
             interval=0.5)
    with second.client() as api:
        view = api.get(f"/sandbox/phones/{READER}").json()
        echo_view = api.get(f"/sandbox/phones/{ECHO}").json()
    [chat] = view["conversations"]
    # In the order the phone got them, which two processes dispatching need not keep.
    assert sorted((m["message_handle"], m["status"]) for m in chat["received"]) == sorted(
        (h, "READ") for h in handles)
    # The echo phone replied once, whichever process did its step.
    [echo_chat] = echo_view["conversations"]
    assert [s["content"] for s in echo_chat["sent"]] == ["echo: ping"]
    assert echo_chat["received"][0]["message_handle"] == echoed["message_handle"]
    # Each phone was handed each message once.
    copies = second.sql("SELECT handle, copies FROM sandbox_received")
    assert {row["copies"] for row in copies} == {1} and len(copies) == 6


def test_every_process_shows_the_same_phone(pair: tuple[ServerProcess, ServerProcess]) -> None:
    first, second = pair
    with first.client() as api:
        handle = api.post("/api/send-message", json={
            "number": READER, "from_number": SANDBOX_LINE, "content": "one view"}
        ).json()["message_handle"]
    with second.client() as api:
        typed = api.post(f"/sandbox/phones/{READER}/typing", json={"typing": True})
        assert typed.status_code == 200, typed.text
    wait_for(lambda: status(first, handle) == "DELIVERED", timeout=15)

    def seen(server: ServerProcess) -> dict:
        with server.client() as api:
            return api.get(f"/sandbox/phones/{READER}").json()

    one, other = seen(first), seen(second)
    assert one == other
    [chat] = one["conversations"]
    assert [m["message_handle"] for m in chat["received"]] == [handle]
    assert chat["phone_typing"]["is_typing"] is True
