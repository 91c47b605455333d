"""The loop the dispatch and delivery workers share: a round of work whenever woken, and every
sweep interval in any case, so a wake-up that was missed only delays work by one sweep."""

from __future__ import annotations

import asyncio
import contextlib
import logging

log = logging.getLogger(__name__)


class SweepingWorker:
    def __init__(self, sweep_ms: int) -> None:
        self._sweep_s = sweep_ms / 1000
        self._wake = asyncio.Event()
        self._stopping = False

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        while not self._stopping:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self._sweep_s)
            self._wake.clear()
            try:
                await self._round()
            except Exception:
                log.exception("%s round failed; retrying on the next sweep",
                              type(self).__name__)

    async def _round(self) -> None:
        """Do whatever work is due now."""
        raise NotImplementedError

    def _begin_stop(self) -> None:
        self._stopping = True
        self._wake.set()
