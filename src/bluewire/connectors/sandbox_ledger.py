"""The sandbox network's record of what its phones received, shared by every process.

Each bluewire process simulates the sandbox phones in memory, so with several processes each
has its own copy of the network. The ledger is what they share, as the real network is shared:
a file of JSON lines, one per message a phone received, appended with O_APPEND (each line is
written whole, whichever process writes it). It answers two questions no single process can:
did any phone receive a message twice, and did a phone receive a message whose sending process
died before it recorded the result (so that another process can resolve it).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path


class Ledger:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def record(self, handle: str, number: str, line: str) -> None:
        entry = {"handle": handle, "number": number, "line": line,
                 "at": time.time_ns() // 1_000_000, "pid": os.getpid()}
        os.write(self._fd, (json.dumps(entry, separators=(",", ":")) + "\n").encode())

    def receivers(self, handle: str) -> list[str]:
        """The numbers of the phones that received `handle`, once for each time they did."""
        found: list[str] = []
        with self.path.open(encoding="utf-8") as lines:
            for text in lines:
                if handle in text:
                    entry = json.loads(text)
                    if entry["handle"] == handle:
                        found.append(entry["number"])
        return found

    def close(self) -> None:
        os.close(self._fd)
