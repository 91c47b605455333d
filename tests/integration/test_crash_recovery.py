"""SIGKILL in the middle of a burst: nothing that was answered 200 is lost, and after a restart
every accepted message ends as its phone makes it end: the sandbox network's state (what each
phone received, and will deliver and read) is in the store, so the killed process's pending
reads are carried on, and a message the network never got is sent, not failed."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from ..server import KEY_ID, SANDBOX_LINE, SECRET, ServerProcess, wait_for

pytestmark = pytest.mark.slow

BURST = 2000
KILL_AFTER = 700
# A mix of phones: read receipts on, SMS (ends at SENT), never resolves (ends in 10002).
NUMBERS = ["+14155550100", "+14155550102", "+14155550100", "+14155550105"]
# What each phone makes of a message, whatever the process went through.
EXPECTED = {"00": ("READ", None), "02": ("SENT", None), "05": ("ERROR", 10002)}
DISPATCH_BATCH = 64


CONNECTIONS = 32


async def burst_until_killed(server: ServerProcess) -> list[tuple[str, str]]:
    """Send BURST messages over 32 connections; SIGKILL the server after KILL_AFTER 200s.
    Returns (handle, number) of every send that was answered 200."""
    accepted: list[tuple[str, str]] = []
    killed = asyncio.Event()
    sends = iter(range(BURST))
    headers = {"sb-api-key-id": KEY_ID, "sb-api-secret-key": SECRET}
    async with httpx.AsyncClient(base_url=server.url, headers=headers, timeout=10,
                                 limits=httpx.Limits(max_connections=CONNECTIONS)) as client:
        async def sender() -> None:
            for i in sends:
                number = NUMBERS[i % len(NUMBERS)]
                try:
                    response = await client.post("/api/send-message", json={
                        "number": number, "from_number": SANDBOX_LINE,
                        "content": f"burst {i}"})
                except httpx.HTTPError:
                    continue
                if response.status_code == 200:
                    accepted.append((response.json()["message_handle"], number))
                    if len(accepted) == KILL_AFTER and not killed.is_set():
                        killed.set()
                        server.kill()

        await asyncio.gather(*(sender() for _ in range(CONNECTIONS)))
    assert killed.is_set(), "the burst finished before the kill"
    return accepted


def final_statuses(client: httpx.Client) -> dict[str, dict]:
    rows: dict[str, dict] = {}
    offset = 0
    while True:
        page = client.get("/api/v2/messages", params={
            "is_outbound": "true", "limit": 1000, "offset": offset,
            "order_by": "createdAt", "order_direction": "asc"}).json()
        rows.update({row["message_handle"]: row for row in page["data"]})
        if not page["pagination"]["hasMore"]:
            return rows
        offset += 1000


def has_ended(row: dict) -> bool:
    return row["status"] in ("READ", "ERROR") or (row["status"] == "SENT"
                                                 and row["service"] == "SMS")


def test_sigkill_during_a_burst_loses_no_accepted_message(tmp_path: Path) -> None:
    env = {"BLUEWIRE_SANDBOX_DELIVER_MS": "20", "BLUEWIRE_SANDBOX_READ_MS": "40",
           "BLUEWIRE_DISPATCH_LEASE_MS": "1500", "BLUEWIRE_SWEEP_INTERVAL_MS": "100",
           "BLUEWIRE_DISPATCH_BATCH": str(DISPATCH_BATCH)}
    server = ServerProcess(tmp_path, env).start()
    try:
        accepted = asyncio.run(burst_until_killed(server))
        assert len(accepted) >= KILL_AFTER
        server.start()  # same store, same port

        with server.client() as client:
            def all_terminal() -> dict[str, dict] | None:
                rows = final_statuses(client)
                pending = [h for h, _ in accepted if h not in rows or not has_ended(rows[h])]
                return rows if not pending else None

            rows = wait_for(all_terminal, timeout=60, interval=0.5)
    finally:
        server.stop()

    missing = [handle for handle, _ in accepted if handle not in rows]
    assert not missing, f"{len(missing)} accepted messages are not in the store"
    ended = {handle: (rows[handle]["status"], rows[handle]["error_code"])
             for handle, _ in accepted}
    wrong = {handle: (number, ended[handle]) for handle, number in accepted
             if ended[handle] != EXPECTED[number[-2:]]}
    assert wrong == {}, f"{len(wrong)} messages ended otherwise than their phones make them"
