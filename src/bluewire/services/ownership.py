"""Owning, through a lease in the database, what must run in exactly one process.

Most of bluewire runs in every process at once and shares work through claims. A few things
must not: a line served by a Mac holds one connection to that Mac, wherever the gateway runs.
Each such thing has a name (`line:+14155550123`); a process that wants it takes a lease on the
name, renews it every third of its term, and runs the thing only while it holds the lease. A
process that dies stops renewing, and after at most one term another takes the lease over. A
process that cannot renew in time (its database unreachable) stops the thing before its lease
can pass to another, so two processes never run it at once.
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
from ..store.writer import Writer

log = logging.getLogger(__name__)

Hook = Callable[[str], Awaitable[None]]


def process_identity() -> str:
    """This process, as lease owners are named: host, pid and a start time."""
    return f"{socket.gethostname()}:{os.getpid()}:{time.time_ns() // 1_000_000}"


class LeaseKeeper:
    """Takes and keeps leases on `names`; `on_gained(name)` runs once this process holds one,
    `on_lost(name)` once it no longer does."""

    def __init__(self, writer: Writer, *, owner: str, term_ms: int,
                 on_gained: Hook, on_lost: Hook) -> None:
        self._writer = writer
        self.owner = owner
        self._term_ms = term_ms
        self._on_gained = on_gained
        self._on_lost = on_lost
        self._wanted: set[str] = set()
        self._held: dict[str, float] = {}  # name -> monotonic time our lease surely ends
        self._task: asyncio.Task[None] | None = None

    def want(self, name: str) -> None:
        self._wanted.add(name)

    async def take(self, name: str) -> bool:
        """Take `name` now, for one who must know at once (an agent waiting on its hello).
        Held: it is kept and renewed until `give_up`, and `on_lost` runs should it be lost.
        Raises when the database cannot be reached."""
        asked_at = time.monotonic()
        held = await self._writer.submit(partial(leases.take_or_renew, name=name,
                                                 owner=self.owner, term_ms=self._term_ms))
        if held:
            self._wanted.add(name)
            self._held[name] = asked_at + self._term_ms / 1000
        return held

    async def held_anywhere(self, names: list[str]) -> set[str]:
        """Which of `names` any process (this one or another) holds now."""
        ours = {name for name in names if self.holds(name)}
        others = set(names) - ours
        if not others:
            return ours
        return ours | await self._writer.submit(partial(leases.live, names=sorted(others)))

    async def give_up(self, name: str) -> None:
        """Stop wanting `name` and release it now, so another process need not wait out the
        term (no `on_lost`: the caller has already stopped what the lease was for)."""
        self._wanted.discard(name)
        if self._held.pop(name, None) is not None:
            try:
                await self._writer.submit(lambda tx: leases.release(tx, name, self.owner))
            except Exception:
                log.warning("could not release the lease on %s; it runs out on its own",
                            name, exc_info=True)

    def holds(self, name: str) -> bool:
        return self._held.get(name, 0.0) > time.monotonic()

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
            with contextlib.suppress(Exception):
                await self._writer.submit(lambda tx, n=name: leases.release(tx, n, self.owner))

    async def _run(self) -> None:
        while True:
            await self.renew()
            await asyncio.sleep(self._term_ms / 3000)

    async def renew(self) -> None:
        """Take or renew every lease wanted; start what was gained, stop what was lost."""
        for name in sorted(self._wanted):
            asked_at = time.monotonic()
            try:
                held = await self._writer.submit(
                    partial(leases.take_or_renew, name=name, owner=self.owner,
                            term_ms=self._term_ms))
            except Exception:
                log.warning("could not renew the lease on %s", name, exc_info=True)
                held = self.holds(name)  # still ours until the term we last took runs out
            if name not in self._wanted:  # given up while we asked: not ours to keep
                continue
            if held:
                had = name in self._held
                # Counted from before we asked, so we stop before anyone else may start.
                self._held[name] = asked_at + self._term_ms / 1000
                if not had:
                    log.info("took the lease on %s", name)
                    await self._run_hook(self._on_gained, name)
            elif name in self._held:
                await self._lose(name)
        for name in [n for n, until in self._held.items() if until <= time.monotonic()]:
            await self._lose(name)

    async def _lose(self, name: str) -> None:
        self._held.pop(name, None)
        log.warning("no longer holds the lease on %s", name)
        await self._run_hook(self._on_lost, name)

    @staticmethod
    async def _run_hook(hook: Hook, name: str) -> None:
        try:
            await hook(name)
        except Exception:
            log.exception("lease hook for %s failed", name)
