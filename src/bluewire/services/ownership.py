"""Owning, through a lease in the database, what must run in exactly one process.

Most of bluewire runs in every process at once and shares work through claims. A few things
must not: a line served by a Mac holds one connection to that Mac, wherever the gateway runs.
Each such thing has a name (`line:+14155550123`); a process takes a lease on the name when it
starts the thing, renews it every third of its term, and runs the thing only while it holds
the lease. A process that dies stops renewing, and after at most one term another may take the
lease. A process that cannot renew in time (its database unreachable) loses the lease by its
own clock and stops the thing before the lease can pass to another, so two processes never run
it at once. A lost lease is not taken back on its own: whoever took it decides again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from collections.abc import Awaitable, Callable
from functools import partial

from ..store import leases
from ..store.database import Database
from ..store.writer import Writer

log = logging.getLogger(__name__)


def process_identity() -> str:
    """This process, as lease owners are named: host, pid and a start time."""
    return f"{socket.gethostname()}:{os.getpid()}:{time.time_ns() // 1_000_000}"


class LeaseKeeper:
    """Takes leases on request (`take`), renews them, and releases them (`give_up`);
    `on_lost(name)` runs when one is lost without being given up."""

    def __init__(self, database: Database, writer: Writer, *, owner: str, term_ms: int,
                 on_lost: Callable[[str], Awaitable[None]]) -> None:
        self._database = database
        self._writer = writer
        self.owner = owner
        self._term_ms = term_ms
        self._on_lost = on_lost
        self._held: dict[str, float] = {}  # name -> monotonic time our lease surely ends
        self._task: asyncio.Task[None] | None = None

    def holds(self, name: str) -> bool:
        return self._held.get(name, 0.0) > time.monotonic()

    async def take(self, name: str) -> bool:
        """Take `name` now if it is free, expired or ours; whether it is held. Raises when the
        database cannot be reached."""
        asked_at = time.monotonic()
        held = await self._take_or_renew(name)
        if held:
            # Counted from before we asked, so we stop before anyone else may start.
            self._held[name] = asked_at + self._term_ms / 1000
        return held

    async def give_up(self, name: str) -> None:
        """Release `name` now, so another process need not wait out the term (no `on_lost`:
        the caller has already stopped what the lease was for)."""
        if self._held.pop(name, None) is not None:
            await self._release(name)

    async def held_anywhere(self, names: list[str]) -> set[str]:
        """Which of `names` some process (this one or another) holds now."""
        return await self._database.read_async(partial(leases.live, names=names))

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="leases")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        for name in list(self._held):
            await self._lose(name)
            await self._release(name)

    async def _run(self) -> None:
        while True:
            await self.renew()
            await asyncio.sleep(self._term_ms / 3000)

    async def renew(self) -> None:
        """Renew every lease held; stop what was lost."""
        for name in sorted(self._held):
            asked_at = time.monotonic()
            try:
                held = await self._take_or_renew(name)
            except Exception:
                log.warning("could not renew the lease on %s", name, exc_info=True)
                held = self.holds(name)  # still ours until the term we last took runs out
            if name not in self._held:  # given up while we asked: not ours to keep
                continue
            if held:
                self._held[name] = asked_at + self._term_ms / 1000
            else:
                await self._lose(name)
        for name in [n for n, until in self._held.items() if until <= time.monotonic()]:
            await self._lose(name)

    async def _take_or_renew(self, name: str) -> bool:
        return await self._writer.submit(partial(leases.take_or_renew, name=name,
                                                 owner=self.owner, term_ms=self._term_ms))

    async def _release(self, name: str) -> None:
        try:
            await self._writer.submit(lambda tx: leases.release(tx, name, self.owner))
        except Exception:
            log.warning("could not release the lease on %s; it runs out on its own", name,
                        exc_info=True)

    async def _lose(self, name: str) -> None:
        self._held.pop(name, None)
        log.warning("no longer holds the lease on %s", name)
        try:
            await self._on_lost(name)
        except Exception:
            log.exception("lease hook for %s failed", name)
