from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest

from bluewire.connectors.macos import MessagesAppConnector
from bluewire.connectors.protocol import Inbound, Reaction, StatusUpdate, Typing

from .messages_db import MessagesDb

BIN = Path(__file__).parent / "bin"
SRC = Path(__file__).parents[2] / "src"
LINE = "+15550001111"


class RecordingSink:
    def __init__(self) -> None:
        self.statuses: list[StatusUpdate] = []
        self.inbounds: list[Inbound] = []
        self.typings: list[Typing] = []
        self.reactions: list[Reaction] = []
        self.handles: list[str | None] = []  # each inbound's own handle, as the engine gave it

    def status(self, update: StatusUpdate) -> None:
        self.statuses.append(update)

    def inbound(self, message: Inbound, handle: str | None = None) -> None:
        self.inbounds.append(message)
        self.handles.append(handle)

    def typing(self, event: Typing) -> None:
        self.typings.append(event)

    def reaction(self, event: Reaction, handle: str | None = None) -> None:
        self.reactions.append(event)


@pytest.fixture
def messages_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[MessagesDb]:
    """chat.db in WAL mode, and the stand-in osascript (first on PATH) that writes to it."""
    (tmp_path / "Messages").mkdir()
    db = MessagesDb(tmp_path / "Messages" / "chat.db")
    monkeypatch.setenv("PATH", f"{BIN}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        [str(SRC), str(SRC.parent), os.environ.get("PYTHONPATH", "")]))
    monkeypatch.setenv("FAKE_CHAT_DB", str(db.path))
    yield db


@pytest.fixture
def make_connector(messages_db: MessagesDb,
                   tmp_path: Path) -> Callable[..., MessagesAppConnector]:
    def make(**kwargs: object) -> MessagesAppConnector:
        options: dict[str, object] = {"state_path": tmp_path / "state.json",
                                      "poll_interval": 0.05, "send_timeout_s": 10.0}
        options.update(kwargs)
        return MessagesAppConnector(messages_db.path, LINE, **options)  # type: ignore[arg-type]
    return make


@pytest.fixture
async def running(make_connector: Callable[..., MessagesAppConnector]
                  ) -> AsyncIterator[tuple[MessagesAppConnector, RecordingSink]]:
    connector, sink = make_connector(), RecordingSink()
    await connector.start(sink)
    yield connector, sink
    await connector.stop()
