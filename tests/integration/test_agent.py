"""The agent protocol end to end: a real server, real `bluewire agent` processes running the
scripted engine of tests/agent_engine.py, and a real webhook receiver."""

from __future__ import annotations

import contextlib
import itertools
import json
import struct
import subprocess
import time
import uuid
import zlib
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sendblue_api import SendblueAPI
from websockets.sync.client import ClientConnection

from ..agent_engine import read_jsonl
from ..agent_process import AgentProcess, bare_agent, create_token
from ..receiver import REPO, ReceiverProcess
from ..server import KEY_ID, SANDBOX_LINE, SECRET, ServerProcess, wait_for

EMAIL = "admin@bluewire.local"


class ScriptedAgent(AgentProcess):
    """The agent running the scripted engine of tests/agent_engine.py, its files in `workdir`."""

    def __init__(self, server: ServerProcess, workdir: Path, token: str, *,
                 caps: str = "", send_ms: int = 0) -> None:
        self.engine_dir = workdir / "engine"
        self.engine_dir.mkdir(parents=True, exist_ok=True)
        super().__init__(server, workdir, token, ["--engine", "tests.agent_engine:Engine"], {
            "BLUEWIRE_LOG_LEVEL": "info", "BLUEWIRE_TEST_ENGINE_DIR": str(self.engine_dir),
            "BLUEWIRE_TEST_ENGINE_CAPS": caps, "BLUEWIRE_TEST_ENGINE_SEND_MS": str(send_ms)})

    def sent(self) -> list[dict[str, Any]]:
        return read_jsonl(self.engine_dir / "sent.jsonl")

    def commands(self) -> list[dict[str, Any]]:
        return read_jsonl(self.engine_dir / "commands.jsonl")

    def phone_sends(self, line: str, number: str, content: str,
                    attachment: Path | None = None, **extra: Any) -> None:
        entry: dict[str, Any] = {"line": line, "number": number, "content": content, **extra}
        if attachment is not None:
            entry["attachment"] = str(attachment)
        self._to_inbox(entry)

    def phone_reacts(self, line: str, number: str, message_handle: str, reaction: str,
                     **extra: Any) -> None:
        """The phone puts a tapback on a message (or, removed=True, takes it off)."""
        self._to_inbox({"line": line, "number": number, "message_handle": message_handle,
                        "reaction": reaction, **extra})

    def _to_inbox(self, entry: dict[str, Any]) -> None:
        name = self.engine_dir / "inbox" / uuid.uuid4().hex
        name.with_suffix(".tmp").write_text(json.dumps(entry))
        name.with_suffix(".tmp").rename(name.with_suffix(".json"))


@pytest.fixture(scope="module")
def hooked(server: ServerProcess, receiver: ReceiverProcess) -> ServerProcess:
    with server.client() as client:
        for kind in ("receive", "outbound"):
            answer = client.post("/api/account/webhooks", json={
                "type": kind, "webhooks": [receiver.url_for(f"/{kind}")]})
            assert answer.status_code == 200, answer.text
    return server


@pytest.fixture
def agents(tmp_path: Path) -> Iterator[list[ScriptedAgent]]:
    started: list[ScriptedAgent] = []
    yield started
    for agent in started:
        agent.stop()


_LINE_SUFFIXES = itertools.count(2000)  # clear of the sandbox's +1415555 01XX numbers


def new_line() -> str:
    """A line number no other test of this run uses (a re-added line keeps its history)."""
    return f"+1415555{next(_LINE_SUFFIXES):04d}"


def agent_line(server: ServerProcess) -> str:
    line = new_line()
    server.cli("lines", "add", line, "--account", EMAIL, "--connector", "agent",
               "--rate-limit", "1000")
    return line


def launch(server: ServerProcess, tmp_path: Path, agents: list[ScriptedAgent], token: str,
           **kwargs: Any) -> ScriptedAgent:
    agent = ScriptedAgent(server, tmp_path / f"agent{len(agents)}", token, **kwargs).start()
    agents.append(agent)
    return agent


def connect_agent(server: ServerProcess, api: httpx.Client, tmp_path: Path,
                  agents: list[ScriptedAgent], **kwargs: Any) -> tuple[str, ScriptedAgent]:
    """A new agent line, and its agent connected to `server`."""
    line = agent_line(server)
    agent = launch(server, tmp_path, agents, create_token(server, line), **kwargs)
    wait_for(lambda: line_state(api, line) == "online", timeout=20)
    return line, agent


def line_state(api: httpx.Client, line: str) -> str:
    data = api.get("/api/v2/lines/state").json()["data"]
    return next(entry["state"] for entry in data if entry["number"] == line)


def send(api: httpx.Client, line: str, number: str, content: str) -> str:
    answer = api.post("/api/send-message", json={"number": number, "content": content,
                                                 "from_number": line})
    assert answer.status_code == 200, answer.text
    return answer.json()["message_handle"]


def status_of(api: httpx.Client, handle: str) -> str:
    return api.get(f"/api/v2/messages/{handle}").json()["data"]["status"]


def test_tokens_are_listed_revoked_and_an_agent_says_hello(
        server: ServerProcess, api: httpx.Client, tmp_path: Path,
        agents: list[ScriptedAgent]) -> None:
    line = agent_line(server)
    token = create_token(server, line)
    token_id = token.split(".")[0]
    listed = server.cli("agents", "list").stdout
    assert token_id in listed and line in listed and token.split(".")[1] not in listed
    assert line_state(api, line) == "offline"
    states = {entry["number"]: entry for entry in api.get("/api/v2/lines/state").json()["data"]}
    sandbox = states[SANDBOX_LINE]  # the sandbox always serves
    assert (sandbox["connector"], sandbox["state"], sandbox["status"]) == (
        "sandbox", "online", "ONLINE")
    # The agent's line is the account's own, and away until its agent connects.
    assert (states[line]["assignment"], states[line]["status"], states[line]["worker_id"]) == (
        "assigned", "OFFLINE", "agent")
    agent = launch(server, tmp_path, agents, token)
    wait_for(lambda: line_state(api, line) == "online", timeout=20)
    # The gateway marks the line online before the agent has read its welcome and logged it.
    assert wait_for(lambda: "connected to" in agent.log(), timeout=10)
    server.cli("agents", "revoke", token_id)
    assert server.cli("agents", "revoke", token_id, check=False).returncode == 2


def test_a_send_reaches_the_engine_and_comes_back_as_status_webhooks_and_inbound_arrives(
        hooked: ServerProcess, receiver: ReceiverProcess, api: httpx.Client, tmp_path: Path,
        agents: list[ScriptedAgent]) -> None:
    line, agent = connect_agent(hooked, api, tmp_path, agents)
    handle = send(api, line, "+12125550123", "hello mac")
    wait_for(lambda: status_of(api, handle) == "READ", timeout=20)
    assert [(r["handle"], r["content"]) for r in agent.sent()] == [(handle, "hello mac")]
    statuses = wait_for(lambda: {r.json["status"] for r in receiver.received("/outbound")
                                 if r.json["message_handle"] == handle} >= {"SENT", "DELIVERED",
                                                                            "READ"} or None)
    assert statuses
    agent.phone_sends(line, "+12125550123", "hi back")
    received = wait_for(lambda: [r.json for r in receiver.received("/receive")
                                 if r.json["to_number"] == line], timeout=20)
    assert [(r["content"], r["status"]) for r in received] == [("hi back", "RECEIVED")]


def png_bytes() -> bytes:
    """A real 1x1 PNG."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data)))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00")) + chunk(b"IEND", b""))


def test_an_inbound_picture_on_the_agent_host_becomes_a_gateway_media_link(
        hooked: ServerProcess, receiver: ReceiverProcess, api: httpx.Client, tmp_path: Path,
        agents: list[ScriptedAgent]) -> None:
    line, agent = connect_agent(hooked, api, tmp_path, agents)
    number = "+12125550128"
    handle = send(api, line, number, "send me a picture")  # a contact: inbound is routed
    wait_for(lambda: status_of(api, handle) == "READ", timeout=20)
    picture = tmp_path / "IMG 0001.png"
    picture.write_bytes(png_bytes())
    agent.phone_sends(line, number, "a picture", attachment=picture)
    [heard] = wait_for(lambda: [r.json for r in receiver.received("/receive")
                                if r.json["to_number"] == line], timeout=20)
    url = heard["media_url"]
    assert url.startswith(hooked.url + "/media/"), heard
    assert heard["content"] == "a picture"
    download = httpx.get(url, timeout=10)
    assert download.status_code == 200
    assert download.content == png_bytes()
    assert download.headers["content-type"].startswith("image/png")
    # A file that is gone by the time the agent reads it is dropped; the message still arrives.
    agent.phone_sends(line, number, "a lost picture", attachment=tmp_path / "gone.png")
    [lost] = wait_for(lambda: [r.json for r in receiver.received("/receive")
                               if r.json["to_number"] == line
                               and r.json["content"] == "a lost picture"], timeout=20)
    assert not lost.get("media_url") and not lost.get("media_urls"), lost
    assert "gone.png cannot be read" in agent.log()


def test_an_offline_line_keeps_the_message_queued_until_its_agent_connects(
        server: ServerProcess, api: httpx.Client, tmp_path: Path,
        agents: list[ScriptedAgent]) -> None:
    line = agent_line(server)
    token = create_token(server, line)
    handle = send(api, line, "+12125550124", "wait for me")
    time.sleep(2.5)  # several dispatcher rounds find the line offline
    assert line_state(api, line) == "offline"
    assert status_of(api, handle) == "QUEUED"
    row = server.sql("SELECT dispatch_attempts FROM messages WHERE handle = ?", handle)[0]
    assert row["dispatch_attempts"] == 0
    agent = launch(server, tmp_path, agents, token)
    wait_for(lambda: status_of(api, handle) == "READ", timeout=20)
    assert [r["handle"] for r in agent.sent()] == [handle]


def test_killing_the_agent_mid_burst_loses_and_doubles_nothing(
        server: ServerProcess, api: httpx.Client, tmp_path: Path,
        agents: list[ScriptedAgent]) -> None:
    line, agent = connect_agent(server, api, tmp_path, agents, send_ms=40)
    number = "+12125550125"
    send(api, line, number, "first")  # the number becomes a contact: inbound is routed
    handles = [send(api, line, number, f"burst {i}") for i in range(40)]
    for i in range(10):
        agent.phone_sends(line, number, f"inbound {i}")
    wait_for(lambda: len(agent.sent()) >= 8, timeout=20)
    agent.kill()
    restarted = ScriptedAgent(server, agent.workdir, agent.token, send_ms=0).start()
    agents.append(restarted)
    for i in range(10, 15):
        restarted.phone_sends(line, number, f"inbound {i}")
    try:
        wait_for(lambda: all(status_of(api, h) == "READ" for h in handles), timeout=60)
    except AssertionError:
        rows = server.sql("SELECT handle, status, dispatch_attempts, claimed_until "
                          "FROM messages WHERE status <> 'READ' AND line = ?", line)
        raise AssertionError(f"not READ: {rows}\n{restarted.log()}") from None
    sent = Counter(r["handle"] for r in restarted.sent())
    assert all(sent[h] == 1 for h in handles), sent
    assert max(sent.values()) == 1

    def inbound() -> Counter[str]:
        rows = api.get("/api/v2/messages", params={"is_outbound": "false", "number": number,
                                                   "limit": 100}).json()["data"]
        return Counter(r["content"] for r in rows)

    wait_for(lambda: len(inbound()) == 15, timeout=30)
    assert set(inbound().values()) == {1}, inbound()


def test_a_token_for_another_line_is_refused(
        server: ServerProcess, tmp_path: Path, agents: list[ScriptedAgent]) -> None:
    line, other = agent_line(server), agent_line(server)
    token = create_token(server, line)
    wrong_line = ScriptedAgent(server, tmp_path / "refused", token)
    wrong_line.command += ["--line", other]
    assert wrong_line.start().process is not None
    assert wrong_line.process.wait(60) == 3, wrong_line.log()
    assert "line_not_allowed" in wrong_line.log() and other in wrong_line.log()
    bad_token = ScriptedAgent(server, tmp_path / "bad", token + "x")
    bad = subprocess.run(bad_token.command, cwd=REPO, env=bad_token.env, capture_output=True,
                         text=True, timeout=60)
    assert bad.returncode == 3 and "bad_token" in bad.stderr + bad.stdout


def test_mark_read_and_typing_need_the_capability_the_agent_declares(
        server: ServerProcess, api: httpx.Client, tmp_path: Path,
        agents: list[ScriptedAgent]) -> None:
    bare, able = agent_line(server), agent_line(server)
    launch(server, tmp_path, agents, create_token(server, bare))
    capable = launch(server, tmp_path, agents, create_token(server, able),
                     caps="mark_read,typing")
    wait_for(lambda: line_state(api, bare) == line_state(api, able) == "online", timeout=20)
    number = "+12125550126"
    for line in (bare, able):
        handle = send(api, line, number, "hello")
        wait_for(lambda handle=handle: status_of(api, handle) == "READ", timeout=20)
    answer = api.post("/api/mark-read", json={"number": number, "from_number": bare})
    assert answer.status_code == 400 and "mark_read" in answer.text, answer.text
    answer = api.post("/api/send-typing-indicator", json={"number": number,
                                                          "from_number": bare})
    assert answer.status_code == 400 and "typing" in answer.text, answer.text
    assert api.post("/api/mark-read", json={"number": number, "from_number": able}
                    ).status_code == 200
    assert api.post("/api/send-typing-indicator", json={"number": number, "from_number": able}
                    ).status_code == 200
    done = wait_for(lambda: {c["type"] for c in capable.commands()} >= {"mark_read", "typing"}
                    or None, timeout=20)
    assert done


def reaction_hooks(receiver: ReceiverProcess, line: str) -> list[dict[str, Any]]:
    return [r.json for r in receiver.received("/receive")
            if r.json.get("message_type") == "reaction" and r.json["to_number"] == line]


def test_a_phones_tapback_on_the_mac_reaches_the_account_as_a_reaction(
        hooked: ServerProcess, receiver: ReceiverProcess, api: httpx.Client, tmp_path: Path,
        agents: list[ScriptedAgent]) -> None:
    """On our message (named by our handle) and on the phone's own (named by the handle the
    agent gave it: its chat.db guid), and an inline reply to ours: a `reaction.received` event
    and `receive` webhook, never a text message."""
    line, agent = connect_agent(hooked, api, tmp_path, agents)
    number = "+12125550129"
    handle = send(api, line, number, "Are we still on for Friday?")
    wait_for(lambda: status_of(api, handle) == "READ", timeout=20)
    agent.phone_reacts(line, number, handle, "love")
    [hook] = wait_for(lambda: reaction_hooks(receiver, line), timeout=20)
    assert (hook["reacted_to"], hook["reaction"], hook["removed"], hook["part_index"]) == (
        handle, "love", False, 0)
    assert (hook["from_number"], hook["to_number"], hook["content"]) == (number, line, None)
    events = hooked.sql("SELECT data FROM events WHERE type = 'reaction.received'")
    assert [json.loads(e["data"])["reaction"] for e in events
            if json.loads(e["data"])["reacted_to"] == handle] == ["love"]

    guid = str(uuid.uuid4()).upper()
    agent.phone_sends(line, number, "yes! see you then", guid=guid, reply_to=handle)
    [reply] = wait_for(lambda: [r.json for r in receiver.received("/receive")
                                if r.json.get("content") == "yes! see you then"], timeout=20)
    assert reply["message_handle"] == guid
    assert reply["reply_to"] == {"message_handle": handle}
    agent.phone_reacts(line, number, guid, "emphasize", removed=True)
    hooks = wait_for(lambda: len(reaction_hooks(receiver, line)) == 2
                     and reaction_hooks(receiver, line), timeout=20)
    assert (hooks[1]["reacted_to"], hooks[1]["reaction"], hooks[1]["removed"]) == (
        guid, "-emphasize", True)
    listed = api.get("/api/v2/messages", params={"number": number, "limit": 100}).json()["data"]
    assert sorted(m["content"] for m in listed) == [
        "Are we still on for Friday?", "yes! see you then"]  # no text message came of them


def test_a_mac_line_cannot_send_tapbacks_or_inline_replies(
        server: ServerProcess, api: httpx.Client, tmp_path: Path,
        agents: list[ScriptedAgent]) -> None:
    """What Messages.app's engine declares (no reactions, no replies) is what the line can do;
    an engine that could react cannot be asked to over the agent connection either."""
    line, _ = connect_agent(server, api, tmp_path, agents, caps="lookup")
    able, _ = connect_agent(server, api, tmp_path, agents, caps="reactions,replies")
    number = "+12125550130"
    handles = {n: send(api, n, number, "hello") for n in (line, able)}
    for handle in handles.values():
        wait_for(lambda handle=handle: status_of(api, handle) == "READ", timeout=20)
    for from_number, handle in handles.items():
        answer = api.post("/api/send-reaction", json={
            "from_number": from_number, "message_handle": handle, "reaction": "love"})
        assert answer.status_code == 400, answer.text
        assert "cannot send reactions (reactions)" in answer.json()["message"]
    answer = api.post("/api/send-message", json={
        "number": number, "content": "re", "from_number": line,
        "reply_to": {"message_handle": handles[line]}})
    assert answer.status_code == 400 and "inline replies" in answer.text, answer.text
    answer = api.post("/api/send-message", json={
        "number": number, "content": "re", "from_number": able,
        "reply_to": {"message_handle": handles[able]}})
    assert answer.status_code == 200, answer.text  # an engine that can is asked to


def test_what_an_agent_announced_holds_after_the_gateway_restarts(
        tmp_path: Path, agents: list[ScriptedAgent]) -> None:
    """A restarted gateway whose Mac has not reconnected yet still refuses what it cannot do,
    rather than accept a read receipt the Mac would never send."""
    (tmp_path / "gateway").mkdir()
    server = ServerProcess(tmp_path / "gateway").start()
    try:
        line = agent_line(server)
        agent = launch(server, tmp_path, agents, create_token(server, line))
        with server.client() as api:
            wait_for(lambda: line_state(api, line) == "online", timeout=20)
        agent.stop()
        server.stop()
        server.start()
        with server.client() as api:
            assert line_state(api, line) == "offline"
            answer = api.post("/api/mark-read", json={"number": "+12125550128",
                                                      "from_number": line})
            assert answer.status_code == 400 and "mark_read" in answer.text, answer.text
    finally:
        server.stop()


def test_events_made_while_the_gateway_is_down_arrive_once_it_is_back(
        tmp_path: Path, agents: list[ScriptedAgent]) -> None:
    (tmp_path / "gateway").mkdir()
    server = ServerProcess(tmp_path / "gateway").start()
    try:
        line = agent_line(server)
        agent = launch(server, tmp_path, agents, create_token(server, line))
        number = "+12125550127"
        with server.client() as api:
            wait_for(lambda: line_state(api, line) == "online", timeout=20)
            handle = send(api, line, number, "hello")
            wait_for(lambda: status_of(api, handle) == "READ", timeout=20)
        server.terminate()
        for i in range(3):
            agent.phone_sends(line, number, f"while down {i}")
        state = agent.workdir / "state" / "agent-state.json"
        wait_for(lambda: len(json.loads(state.read_text())["outbox"]) == 3, timeout=20)
        server.start()
        with server.client() as api:
            def inbound() -> list[str]:
                return [r["content"] for r in api.get(
                    "/api/v2/messages", params={"is_outbound": "false", "number": number}
                ).json()["data"]]

            wait_for(lambda: len(inbound()) >= 3, timeout=60)
            time.sleep(1)
            assert sorted(inbound()) == [f"while down {i}" for i in range(3)]
        wait_for(lambda: json.loads(state.read_text())["outbox"] == [], timeout=20)
    finally:
        server.stop()


def test_a_reaction_sent_again_after_a_gateway_restart_is_recorded_once(
        tmp_path: Path) -> None:
    """An agent re-sends every event whose ack it did not get; the gateway may have recorded
    one and died before its ack left. Played here by a bare agent connection sending the same
    reaction event before and after a restart (the gateway's memory of events is gone)."""
    (tmp_path / "gateway").mkdir()
    server = ServerProcess(tmp_path / "gateway").start()
    try:
        line = agent_line(server)
        token = create_token(server, line)
        number = "+12125550126"

        def connected() -> contextlib.AbstractContextManager[ClientConnection]:
            return bare_agent(server, token, line, {"reactions": True})

        with server.client() as api, connected() as socket:
            handle = send(api, line, number, "Dinner at 8?")
            command = json.loads(socket.recv(20))
            assert command["type"] == "send"
            socket.send(json.dumps({"type": "ack", "id": command["id"]}))
        reaction = {"id": "evt-tapback-1", "type": "reaction", "event": {
            "line": line, "number": number, "message_handle": handle, "reaction": "love",
            "at_ms": int(time.time() * 1000)}}
        for _ in range(2):
            with connected() as socket:
                socket.send(json.dumps(reaction))
                while (frame := json.loads(socket.recv(20)))["type"] != "ack":
                    socket.send(json.dumps({"type": "ack", "id": frame["id"]}))  # a re-send
                assert frame["id"] == "evt-tapback-1"
            server.stop()
            server.start()
        events = server.sql("SELECT data FROM events WHERE type = 'reaction.received'")
        assert [json.loads(e["data"])["reacted_to"] for e in events] == [handle]
        assert len(server.sql("SELECT handle FROM reactions")) == 1
    finally:
        server.stop()


def test_evaluate_service_asks_the_lines_agent(
        server: ServerProcess, api: httpx.Client, tmp_path: Path,
        agents: list[ScriptedAgent]) -> None:
    """The account also has the sandbox line, which could only make an answer up for a real
    number: its agent line is asked instead."""
    line, agent = connect_agent(server, api, tmp_path, agents, caps="lookup")
    (agent.engine_dir / "lookups.json").write_text(json.dumps(
        {"+12125550161": "SMS", "+12125550162": None}))

    def evaluate(number: str) -> httpx.Response:
        return api.get("/api/evaluate-service", params={"number": number})

    assert evaluate("+12125550160").json() == {"number": "+12125550160", "service": "iMessage"}
    assert evaluate("+12125550161").json() == {"number": "+12125550161", "service": "SMS"}
    unknown = evaluate("+12125550162")  # the Mac cannot say: retryable, and says why
    assert unknown.status_code == 503 and unknown.headers["x-should-retry"] == "true"
    assert "inconclusive" in unknown.json()["message"] and line in unknown.json()["message"]
    agent.stop()
    wait_for(lambda: line_state(api, line) == "offline", timeout=10)
    away = evaluate("+12125550160")  # nobody to ask while the Mac is away
    assert away.status_code == 503 and line in away.json()["message"]


FAR_FUTURE_MS = 4_102_444_800_000  # 2100: a lease that will not run out during the test


def held_by(server: ServerProcess, line: str) -> str | None:
    rows = server.sql("SELECT owner FROM connector_leases WHERE name = ? AND expires_at > 0",
                      f"line:{line}")
    return rows[0]["owner"] if rows else None


def test_an_agent_whose_line_another_process_serves_waits_and_connects_once_it_is_free(
        server: ServerProcess, api: httpx.Client, tmp_path: Path,
        agents: list[ScriptedAgent]) -> None:
    """The line's lease is held elsewhere (another gateway process serves its agent): this
    process refuses the agent for now, the agent keeps asking, and connects once it is free."""
    line = agent_line(server)
    server.sql("INSERT INTO connector_leases (name, owner, expires_at, acquired_at) "
               "VALUES (?, ?, ?, ?)", f"line:{line}", "another-process", FAR_FUTURE_MS, 0)
    agent = launch(server, tmp_path, agents, create_token(server, line))
    wait_for(lambda: agent.log().count("line_held_elsewhere") >= 2, timeout=20)  # it retries
    assert agent.process is not None and agent.process.poll() is None
    assert line_state(api, line) == "online"  # served, by the other process
    handle = send(api, line, "+12125550131", "wait for it")
    time.sleep(1)
    assert status_of(api, handle) == "QUEUED" and agent.sent() == []

    server.sql("UPDATE connector_leases SET expires_at = 0 WHERE name = ?", f"line:{line}")
    wait_for(lambda: status_of(api, handle) == "READ", timeout=20)
    assert [r["handle"] for r in agent.sent()] == [handle]
    assert held_by(server, line) not in (None, "another-process")


def test_an_agent_is_dropped_when_its_process_loses_the_line_lease(
        server: ServerProcess, api: httpx.Client, tmp_path: Path,
        agents: list[ScriptedAgent]) -> None:
    """Another process took the lease (this one failed to renew it in time): the agent here
    must go at the next renewal, so that two processes never serve one line."""
    line = agent_line(server)
    agent = launch(server, tmp_path, agents, create_token(server, line))
    wait_for(lambda: held_by(server, line), timeout=20)
    server.sql("UPDATE connector_leases SET owner = ?, expires_at = ? WHERE name = ?",
               "another-process", FAR_FUTURE_MS, f"line:{line}")
    wait_for(lambda: "line_held_elsewhere" in agent.log(), timeout=20)  # dropped, refused
    handle = send(api, line, "+12125550132", "not here")
    time.sleep(1)
    assert status_of(api, handle) == "QUEUED" and agent.sent() == []

    agent.stop()  # a clean stop gives up nothing here: the other process holds the lease
    assert held_by(server, line) == "another-process"
    server.sql("UPDATE connector_leases SET expires_at = 0 WHERE name = ?", f"line:{line}")
    wait_for(lambda: line_state(api, line) == "offline", timeout=10)


def test_a_clean_disconnect_gives_the_line_lease_up_at_once(
        server: ServerProcess, api: httpx.Client, tmp_path: Path,
        agents: list[ScriptedAgent]) -> None:
    line, agent = connect_agent(server, api, tmp_path, agents)
    owner = held_by(server, line)
    assert owner is not None
    agent.stop()
    wait_for(lambda: held_by(server, line) is None, timeout=10)
    assert line_state(api, line) == "offline"


def test_a_line_whose_agent_keeps_reconnecting_is_degraded(
        server: ServerProcess, api: httpx.Client, tmp_path: Path,
        agents: list[ScriptedAgent]) -> None:
    """Three connections of a line's agent within ten minutes: DEGRADED, since the third, as
    the official SDK reads it with strict validation; OFFLINE while it is away."""
    line, agent = connect_agent(server, api, tmp_path, agents)
    with SendblueAPI(api_key=KEY_ID, api_secret=SECRET, base_url=server.url, max_retries=0,
                     _strict_response_validation=True) as sdk:
        def state() -> Any:
            return next(s for s in sdk.lines.get_state().data if s.sendblue_number == line)

        first = state()
        assert first.status == "ONLINE" and first.degraded_since is None
        assert first.status_changed_at is not None
        token = agent.token
        for _ in range(2):
            agent.stop()
            wait_for(lambda: line_state(api, line) == "offline", timeout=10)
            away = state()
            assert away.status == "OFFLINE" and away.status_changed_at is not None
            assert away.status_changed_at >= first.status_changed_at
            agent = launch(server, tmp_path, agents, token)
            wait_for(lambda: line_state(api, line) != "offline", timeout=20)
        degraded = state()
        assert degraded.status == "DEGRADED" and degraded.worker_id == "agent"
        assert degraded.degraded_since is not None
        assert degraded.status_changed_at == degraded.degraded_since > away.status_changed_at
    raw = next(e for e in api.get("/api/v2/lines/state").json()["data"] if e["number"] == line)
    assert raw["state"] == "degraded"
    # A line no agent of this process ever came and went on says no more than it knows.
    sandbox = next(e for e in api.get("/api/v2/lines/state").json()["data"]
                   if e["number"] == SANDBOX_LINE)
    assert (sandbox["status"], sandbox["status_changed_at"], sandbox["degraded_since"]) == (
        "ONLINE", None, None)
