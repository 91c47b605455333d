"""The loop the dispatch and delivery workers share: a round of work whenever woken, and every
sweep interval in any case, so a wake-up that was missed only delays work by one sweep.

Each completed round is stamped (`last_round_at`, monotonic seconds) so readiness can tell a
worker that runs from one that is stuck. A round that keeps finding work runs on batch after
batch; subclasses stamp each batch they claim (`_beat`), so a busy worker is not taken for a
stalled one."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

log = logging.getLogger(__name__)


class SweepingWorker:
    def __init__(self, sweep_ms: int) -> None:
        self._sweep_s = sweep_ms / 1000
        self._wake = asyncio.Event()
        self._stopping = False
        self.running_since: float | None = None  # when `run` began (monotonic seconds)
        self.last_round_at: float | None = None  # the last completed round or claimed batch

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        self.running_since = time.monotonic()
        while not self._stopping:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self._sweep_s)
            self._wake.clear()
            try:
                await self._round()
            except Exception:
                log.exception("%s round failed; retrying on the next sweep",
                              type(self).__name__)
            else:
                self._beat()

    async def _round(self) -> None:
        """Do whatever work is due now."""
        raise NotImplementedError

    def _beat(self) -> None:
        """Record progress: a round completed, or a batch of work claimed within one."""
        self.last_round_at = time.monotonic()

    def _begin_stop(self) -> None:
        self._stopping = True
        self._wake.set()
