"""A file always replaced whole, from any thread: a reader, or a restart after a SIGKILL, finds
the previous content or the next, never a torn one."""

from __future__ import annotations

import os
import threading
from pathlib import Path


class AtomicFile:
    """Writes take turns, and content older than what the file holds is dropped.

    Callers that take turns can still overlap here: a task cancelled while its write runs in a
    thread stops waiting for the thread, not the thread itself, so the next write (say, the
    last one at stop) can start while it runs. Each content is numbered by `ticket()` when it
    is taken, and a write carrying an older ticket than the file's is a no-op.
    """

    def __init__(self, path: Path, *, durable: bool = True) -> None:
        self.path = path
        self._durable = durable  # fsync before the rename: survives a power cut, not just a kill
        self._issued = 0
        self._written = 0
        self._lock = threading.Lock()

    def ticket(self) -> int:
        """Number the content about to be written (call it where the content is taken)."""
        self._issued += 1
        return self._issued

    def write(self, ticket: int, data: bytes) -> None:
        with self._lock:
            if ticket <= self._written:
                return
            partial = self.path.with_name(self.path.name + ".partial")
            with partial.open("wb") as file:
                file.write(data)
                if self._durable:
                    file.flush()
                    os.fsync(file.fileno())
            os.replace(partial, self.path)
            self._written = ticket
