"""Waking the poller early when chat.db, its WAL or its shared-memory file change.

Polling stays the source of truth (file events miss changes); this only shortens the wait.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Sequence
from pathlib import Path


class FileWatcher:
    def __init__(self, paths: Sequence[Path]) -> None:
        self.paths = list(paths)
        self.wake = asyncio.Event()

    def signature(self) -> tuple[tuple[int, int] | None, ...]:
        return tuple(_stat(p) for p in self.paths)

    async def run(self, interval: float) -> None:
        """Set `wake` whenever a file's mtime or size changes (stat is cheap; no thread)."""
        last = self.signature()
        while True:
            await asyncio.sleep(interval)
            current = self.signature()
            if current != last:
                last = current
                self.wake.set()


def _stat(path: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size
