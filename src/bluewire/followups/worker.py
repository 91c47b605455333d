"""Claims due follow-ups with a lease and settles each in a writer transaction.

A claim (one transaction) sets each due follow-up's lease; each claimed one is then settled
in a transaction of its own (they group-commit together), which judges its condition and
commits its outcome (services/follow_ups.py `settle`). A process killed between the two
leaves a lease that runs out (on SQLite, every lease is ended at start): the follow-up is
claimed again, and, since an outcome only moves a row still `scheduled`, ends once.
"""

from __future__ import annotations

import asyncio
import logging
from functools import partial

from ..services.follow_ups import FollowUpService
from ..store import follow_ups as store
from ..store.database import now_ms
from ..store.leases import lease_clock_ms
from ..store.writer import Tx, Writer
from ..sweeping import SweepingWorker

log = logging.getLogger(__name__)


class FollowUpWorker(SweepingWorker):
    def __init__(self, writer: Writer, service: FollowUpService, *, lease_ms: int = 60_000,
                 batch: int = 256, sweep_ms: int = 500) -> None:
        super().__init__(sweep_ms)
        self._writer = writer
        self._service = service
        self._lease_ms = lease_ms
        self._batch = batch
        service.on_scheduled.append(self.due_at)

    async def _round(self) -> None:
        while not self._stopping:
            claimed = await self._writer.submit(self._claim)
            if not claimed:
                return
            self._beat()
            results = await asyncio.gather(
                *(self._writer.submit(partial(self._service.settle, follow_up_id=follow_up_id))
                  for follow_up_id in claimed), return_exceptions=True)
            for follow_up_id, result in zip(claimed, results, strict=True):
                if isinstance(result, BaseException):
                    log.error("follow-up %d could not be settled; retried when its lease "
                              "runs out", follow_up_id, exc_info=result)
            if len(claimed) < self._batch:
                return

    def _claim(self, tx: Tx) -> list[int]:
        now = lease_clock_ms(tx)
        return store.claim_due(tx, now, now + self._lease_ms, self._batch)

    def due_at(self, due_ms: int) -> None:
        """A follow-up of this process comes due at `due_ms`: wake then, not a sweep later."""
        delay = max(0.0, (due_ms - now_ms()) / 1000)
        if delay >= self._sweep_s:
            return
        asyncio.get_running_loop().call_later(delay, self.wake)

    async def stop(self) -> None:
        self._begin_stop()
