"""A scripted local engine for `bluewire agent` in tests (`--engine tests.agent_engine:Engine`).

Configured by environment: BLUEWIRE_TEST_ENGINE_DIR (its files), BLUEWIRE_TEST_ENGINE_CAPS
(comma-separated capability flags, e.g. "mark_read,typing,lookup"),
BLUEWIRE_TEST_ENGINE_SEND_MS (how long a send takes). It appends every send to `sent.jsonl`
(fsynced: the test's ground truth), then reports SENT, DELIVERED and READ; mark_read/typing go
to `commands.jsonl`; each `inbox/*.json` file ({"line", "number", "content"}, and optionally
"attachment": the path of a file, reported as a `file://` media URL as Messages.app's engine
does; "guid": the message's own id on the network, reported as its handle; "reply_to": the
handle of the message it answers inline) becomes one inbound message, or, with "reaction"
({"line", "number", "reaction", "message_handle", and optionally "removed", "part_index"}), a
phone's tapback; lookups answer from `lookups.json`."""

from __future__ import annotations

import asyncio
import json
import os
import time
from pathlib import Path
from typing import Any

from bluewire.connectors.protocol import (
    Capabilities,
    EventSink,
    Inbound,
    OutboundMessage,
    Reaction,
    StatusUpdate,
)
from bluewire.domain.statuses import Service, Status


def _append(path: Path, record: dict[str, Any]) -> None:
    with path.open("a") as file:
        file.write(json.dumps(record) + "\n")
        file.flush()
        os.fsync(file.fileno())


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _inbound(data: dict[str, Any]) -> Inbound:
    attachment = data.get("attachment")
    media = (Path(attachment).resolve().as_uri(),) if attachment else ()
    return Inbound(line=data["line"], number=data["number"], content=data["content"],
                   at_ms=int(time.time() * 1000), media_urls=media,
                   reply_to=data.get("reply_to"))


def _reaction(data: dict[str, Any]) -> Reaction:
    return Reaction(line=data["line"], number=data["number"],
                    message_handle=data["message_handle"], reaction=data["reaction"],
                    at_ms=int(time.time() * 1000), removed=bool(data.get("removed")),
                    part_index=int(data.get("part_index", 0)))


class Engine:
    def __init__(self) -> None:
        self.dir = Path(os.environ["BLUEWIRE_TEST_ENGINE_DIR"])
        self.inbox = self.dir / "inbox"
        self.inbox.mkdir(parents=True, exist_ok=True)
        flags = {f for f in os.environ.get("BLUEWIRE_TEST_ENGINE_CAPS", "").split(",") if f}
        self.capabilities = Capabilities(services=frozenset({Service.IMESSAGE}),
                                         mark_read="mark_read" in flags,
                                         typing="typing" in flags,
                                         lookup="lookup" in flags,
                                         replies="replies" in flags,
                                         reactions="reactions" in flags)
        self._send_s = int(os.environ.get("BLUEWIRE_TEST_ENGINE_SEND_MS", "0")) / 1000
        self._sink: EventSink | None = None
        self._poller: asyncio.Task[None] | None = None

    async def start(self, sink: EventSink) -> None:
        self._sink = sink
        self._poller = asyncio.create_task(self._poll())

    async def stop(self) -> None:
        if self._poller is not None:
            self._poller.cancel()

    async def _poll(self) -> None:
        assert self._sink is not None
        while True:
            for path in sorted(self.inbox.glob("*.json")):
                data = json.loads(path.read_text())
                if "reaction" in data:
                    self._sink.reaction(_reaction(data))
                else:
                    self._sink.inbound(_inbound(data), handle=data.get("guid"))
                path.rename(path.with_suffix(".done"))
            await asyncio.sleep(0.05)

    async def send(self, message: OutboundMessage) -> None:
        assert self._sink is not None
        if self._send_s:
            await asyncio.sleep(self._send_s)
        _append(self.dir / "sent.jsonl", {"handle": message.handle, "number": message.number,
                                          "content": message.content})
        now = int(time.time() * 1000)
        for status in (Status.SENT, Status.DELIVERED, Status.READ):
            self._sink.status(StatusUpdate(handle=message.handle, status=status, at_ms=now,
                                           service=Service.IMESSAGE, was_downgraded=False))

    async def resolve(self, handle: str) -> StatusUpdate | None:
        sent = any(r["handle"] == handle for r in read_jsonl(self.dir / "sent.jsonl"))
        # Its phones read everything at once: READ is the latest status of whatever it sent.
        return StatusUpdate(handle=handle, status=Status.READ if sent else Status.QUEUED,
                            at_ms=int(time.time() * 1000), service=Service.IMESSAGE)

    async def mark_read(self, line: str, number: str) -> None:
        _append(self.dir / "commands.jsonl", {"type": "mark_read", "line": line,
                                              "number": number})

    async def set_typing(self, line: str, number: str, typing: bool) -> None:
        _append(self.dir / "commands.jsonl", {"type": "typing", "line": line,
                                              "number": number, "typing": typing})

    async def evaluate_service(self, line: str, number: str) -> Service | None:
        """iMessage, unless `lookups.json` ({number: "SMS" or null}) says otherwise."""
        path = self.dir / "lookups.json"
        known = json.loads(path.read_text()) if path.exists() else {}
        if number not in known:
            return Service.IMESSAGE
        return Service(known[number]) if known[number] else None
