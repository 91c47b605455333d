"""An agent hears its welcome before anything else: a command the gateway sends while it is
still admitting the agent (keeping what the agent announced, a database write) would be read by
the agent as its hello's answer, taken for a refusal, and the agent would stop for good."""

from __future__ import annotations

import asyncio
import json
from types import SimpleNamespace
from typing import Any

import pytest

from bluewire.agents.hub import CONNECTOR, AgentConnector
from bluewire.agents.tokens import AgentToken
from bluewire.connectors.protocol import LineOffline, OutboundMessage

LINE = "+15557654321"


class _Tokens:
    def verify(self, text: str) -> AgentToken:
        return AgentToken("tok", (LINE,), 0, None)


class _Lines:
    async def reload(self) -> None:
        return None

    def line(self, number: str) -> Any:
        return SimpleNamespace(connector=CONNECTOR, settings={})


class _Leases:
    async def take(self, name: str) -> bool:
        return True

    async def give_up(self, name: str) -> None:
        return None


class _SlowWriter:
    """Its writes wait until `go` is set: the database is busy while the agent is admitted."""

    def __init__(self) -> None:
        self.writing = asyncio.Event()
        self.go = asyncio.Event()

    async def submit(self, work: Any) -> bool:
        self.writing.set()
        await self.go.wait()
        return False


async def test_a_send_during_admission_waits_for_the_welcome() -> None:
    writer = _SlowWriter()
    hub = AgentConnector(_Tokens(), _Lines(), _Leases(), writer, ack_timeout_s=0.2)  # type: ignore[arg-type]
    incoming: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    heard: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "websocket.send":
            heard.append(json.loads(message["text"]))

    await incoming.put({"type": "websocket.connect"})
    await incoming.put({"type": "websocket.receive", "text": json.dumps(
        {"type": "hello", "token": "agt_tok.secret", "lines": [{"number": LINE}]})})
    serving = asyncio.create_task(hub.handle({"type": "websocket"}, incoming.get, send))
    await asyncio.wait_for(writer.writing.wait(), 5)

    message = OutboundMessage(handle="m1", line=LINE, number="+15550001111", content="hi")
    with pytest.raises(LineOffline):  # not connected until welcomed: handed back, sent later
        await hub.send(message)
    writer.go.set()
    await asyncio.sleep(0.05)
    sending = asyncio.create_task(hub.send(message))
    await asyncio.sleep(0.05)

    assert [frame["type"] for frame in heard] == ["welcome", "send"]
    await incoming.put({"type": "websocket.receive",
                        "text": json.dumps({"type": "ack", "id": heard[1]["id"]})})
    await asyncio.wait_for(sending, 5)
    await incoming.put({"type": "websocket.disconnect"})
    await asyncio.wait_for(serving, 5)
