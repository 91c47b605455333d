"""A Mac's agent among several gateway processes: served by exactly one of them, the holder of
its line's lease, and taken over by another when that process dies."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from ..agent_process import create_token
from ..databases import Postgres
from ..integration.test_agent import ScriptedAgent, agent_line, line_state, send, status_of
from ..server import ServerProcess, wait_for

LEASE_MS = 2000


@pytest.fixture
def two_servers(tmp_path: Path, postgres: Postgres) -> Iterator[list[ServerProcess]]:
    env = {"BLUEWIRE_DATABASE_URL": postgres.create(tmp_path),
           "BLUEWIRE_AGENT_LEASE_MS": str(LEASE_MS)}
    servers = [ServerProcess(tmp_path / name, env) for name in ("a", "b")]
    for server in servers:
        server.workdir.mkdir()
        server.start()
    yield servers
    for server in servers:
        server.stop()


@pytest.fixture
def agents() -> Iterator[list[ScriptedAgent]]:
    started: list[ScriptedAgent] = []
    yield started
    for agent in started:
        agent.stop()


def test_one_process_serves_a_line_and_another_takes_over_when_it_dies(
        two_servers: list[ServerProcess], tmp_path: Path,
        agents: list[ScriptedAgent]) -> None:
    a, b = two_servers
    line = agent_line(a)
    token = create_token(a, line)
    at_a = ScriptedAgent(a, tmp_path / "agent-a", token, caps="lookup,typing").start()
    agents.append(at_a)
    with a.client() as api_a, b.client() as api_b:
        wait_for(lambda: line_state(api_a, line) == "online", timeout=20)
        assert line_state(api_b, line) == "online"  # b sees the line served, by a

        # A second agent for the line, connecting to b: refused while a serves the line.
        at_b = ScriptedAgent(b, tmp_path / "agent-b", token).start()
        agents.append(at_b)
        wait_for(lambda: at_b.log().count("line_held_elsewhere") >= 2, timeout=20)

        # A send through b reaches the Mac through a, the one process serving it.
        first = send(api_b, line, "+12125550141", "through a")
        wait_for(lambda: status_of(api_b, first) == "READ", timeout=30)
        assert [r["handle"] for r in at_a.sent()] == [first] and at_b.sent() == []

        # A lookup through b is put to the agent at a, through the database.
        (at_a.engine_dir / "lookups.json").write_text(json.dumps({"+12125550142": "SMS"}))
        looked_up = api_b.get("/api/evaluate-service", params={"number": "+12125550142"})
        assert looked_up.json() == {"number": "+12125550142", "service": "SMS"}, looked_up.text

        # What the agent announced to a holds at b too: no read receipts from this Mac; and a
        # typing indicator through b is handed to a, and reaches the agent.
        conversation = {"number": "+12125550141", "from_number": line}
        wait_for(lambda: api_b.post("/api/mark-read", json=conversation).status_code == 400,
                 timeout=20)  # once b has re-read the lines
        assert "mark_read" in api_b.post("/api/mark-read", json=conversation).text
        typing = api_b.post("/api/send-typing-indicator", json=conversation)
        assert typing.status_code == 200, typing.text
        wait_for(lambda: "typing" in [c["type"] for c in at_a.commands()], timeout=20)

        a.kill()  # its lease is renewed no more: b takes the line over once it runs out
        wait_for(lambda: "connected to" in at_b.log(), timeout=LEASE_MS / 1000 + 20)
        second = send(api_b, line, "+12125550141", "through b")
        wait_for(lambda: status_of(api_b, second) == "READ", timeout=30)
        assert [r["handle"] for r in at_b.sent()] == [second]
        assert [r["handle"] for r in at_a.sent()] == [first]
