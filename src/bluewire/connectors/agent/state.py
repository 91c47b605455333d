"""The agent's local state file: the command ids it executed (so a re-sent or re-delivered
command is never executed twice) and the events not yet acknowledged (kept while the gateway
is away). Rewritten atomically on every change: a SIGKILL at any moment leaves the previous or
the next version, never a torn one. It is small, except while an inbound event carrying
attachments is unacknowledged: the event holds their bytes (base64, up to ~13 MB an event, see
attachments.py), so the file can then be large, and shrinks again once the gateway acks it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ...atomic_file import AtomicFile

STARTED, DONE = "started", "done"
_KEEP_EXECUTED = 20_000  # far more than a gateway can have in flight for one agent


class AgentState:
    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self._file = AtomicFile(directory / "agent-state.json")
        data: dict[str, Any] = {}
        if self._file.path.exists():
            data = json.loads(self._file.path.read_text() or "{}")
        self._executed: dict[str, dict[str, Any]] = data.get("executed", {})
        self._outbox: dict[str, dict[str, Any]] = {f["id"]: f for f in data.get("outbox", [])}

    def executed(self, command_id: str) -> dict[str, Any] | None:
        return self._executed.get(command_id)

    @property
    def last_command_id(self) -> str | None:
        return next(reversed(self._executed), None) if self._executed else None

    def started(self, command_id: str) -> None:
        """Written before the engine is called: a crash then leaves it known as uncertain."""
        self._executed[command_id] = {"state": STARTED}
        while len(self._executed) > _KEEP_EXECUTED:
            del self._executed[next(iter(self._executed))]
        self._save()

    def done(self, command_id: str, error: dict[str, Any] | None) -> None:
        self._executed[command_id] = {"state": DONE, "error": error}
        self._save()

    def add_event(self, frame: dict[str, Any]) -> None:
        self._outbox[frame["id"]] = frame
        self._save()

    def acked(self, event_id: str) -> None:
        if self._outbox.pop(event_id, None) is not None:
            self._save()

    def events(self) -> list[dict[str, Any]]:
        return list(self._outbox.values())

    def _save(self) -> None:
        data = json.dumps({"executed": self._executed, "outbox": list(self._outbox.values())})
        self._file.write(self._file.ticket(), data.encode())
