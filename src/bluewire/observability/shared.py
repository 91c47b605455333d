"""The counts of every worker of `bluewire serve --workers N`, in whichever worker's /metrics.

The kernel hands a scrape to any one worker, so each worker writes the state of its counters
and histograms to `<dir>/<pid>.json` every second (and when it stops); a scrape adds its own
live state to every other worker's file. A dead worker's file stays, so the totals never go down
when the supervisor replaces it, as Prometheus expects of counters. The supervisor makes the
directory and removes it when it stops.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import msgspec

from ..atomic_file import AtomicFile
from .families import Counts, Histograms, State

log = logging.getLogger(__name__)

DIR_ENV = "BLUEWIRE_METRICS_DIR"
PUBLISH_EVERY_S = 1.0


class SharedCounts:
    def __init__(self, directory: Path, parts: Sequence[Counts | Histograms],
                 worker: str | None = None) -> None:
        self._directory = directory
        self._file = AtomicFile(directory / f"{worker or os.getpid()}.json", durable=False)
        self._parts = list(parts)
        self._others: list[dict[str, Any]] = []
        for part in self._parts:
            part.others = self.others

    def others(self, name: str) -> list[State]:
        """What the other workers last published of the family `name`."""
        return [published[name] for published in self._others if name in published]

    def refresh(self) -> None:
        """Read the other workers' files (before a scrape; blocking: run it in a thread)."""
        loaded = []
        for path in self._directory.glob("*.json"):
            if path == self._file.path:
                continue
            try:
                loaded.append(msgspec.json.decode(path.read_bytes()))
            except (OSError, msgspec.DecodeError):
                log.warning("metrics of another worker cannot be read from %s", path)
        self._others = loaded

    async def run(self) -> None:
        while True:
            await asyncio.sleep(PUBLISH_EVERY_S)
            await self.publish()

    async def publish(self) -> None:
        """Write this worker's state (taken on the loop, where it changes; written off it)."""
        data = msgspec.json.encode({part.name: part.state() for part in self._parts})
        try:
            await asyncio.to_thread(self._file.write, self._file.ticket(), data)
        except OSError:
            log.warning("metrics cannot be written to %s", self._file.path, exc_info=True)
