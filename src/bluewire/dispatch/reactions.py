"""Hands queued reactions (services/reactions.py) to their line's connector.

Each round claims the reactions due with a lease (`due_at` moves to the lease's end), so a
process that dies while handing one over leaves it to any process's next sweep. A reaction
is handed over at least once: a second time only puts the same tapback on again. A line that
is offline gets it later; a connector that refuses it (or has no `send_reaction`) ends it
`failed`, as does a reaction tried `MAX_ATTEMPTS` times.
"""

from __future__ import annotations

import asyncio
import logging

from ..connectors.protocol import LineOffline, OutboundReaction, SendFailed
from ..domain.reactions import ReactionRecord
from ..services.lines import ConnectorRegistry
from ..store import groups as group_store
from ..store import reactions as store
from ..store.leases import lease_clock_ms
from ..store.writer import Tx, Writer
from ..sweeping import SweepingWorker

log = logging.getLogger(__name__)

_OFFLINE_RETRY_MS = 30_000
MAX_ATTEMPTS = 5


class ReactionDispatcher(SweepingWorker):
    def __init__(self, writer: Writer, registry: ConnectorRegistry, *, lease_ms: int,
                 batch: int, sweep_ms: int) -> None:
        super().__init__(sweep_ms)
        self._writer = writer
        self._registry = registry
        self._lease_ms = lease_ms
        self._batch = batch

    async def _round(self) -> None:
        while not self._stopping:
            claimed = await self._writer.submit(self._claim)
            if not claimed:
                return
            self._beat()
            await asyncio.gather(*(self._dispatch(record, attempts)
                                   for record, attempts in claimed))

    def _claim(self, tx: Tx) -> list[tuple[ReactionRecord, int]]:
        now = lease_clock_ms(tx)
        return store.claim_due(tx, now, now + self._lease_ms, self._batch)

    async def _dispatch(self, record: ReactionRecord, attempts: int) -> None:
        try:
            await self._send(record, attempts)
        except Exception:
            log.exception("dispatch of reaction %s failed", record.handle)

    async def _send(self, record: ReactionRecord, attempts: int) -> None:
        if attempts > MAX_ATTEMPTS:
            await self._settle(record, store.FAILED, f"not handed over in {MAX_ATTEMPTS} tries")
            return
        connector = self._registry.for_line(record.line)
        send = getattr(connector, "send_reaction", None)
        if connector is None or send is None:
            await self._settle(record, store.FAILED,
                               f"line {record.line} has no connector that sends reactions")
            return
        participants: tuple[str, ...] = ()
        if record.group_id is not None:
            group_id = record.group_id
            group = await self._writer.submit(lambda tx: group_store.group_by_id(tx, group_id))
            participants = tuple(group.members) if group is not None else ()
        try:
            await send(OutboundReaction(
                handle=record.handle, line=record.line, number=record.number,
                message_handle=record.message_handle, reaction=record.reaction,
                removed=record.removed, part_index=record.part_index,
                group_id=record.group_id, participants=participants))
        except LineOffline:
            await self._writer.submit(lambda tx: store.retry_at(
                tx, record.handle, lease_clock_ms(tx) + _OFFLINE_RETRY_MS))
        except SendFailed as exc:
            await self._settle(record, store.FAILED, exc.reason)
        except Exception as exc:
            log.warning("connector failed to send reaction %s", record.handle, exc_info=True)
            if attempts >= MAX_ATTEMPTS:
                await self._settle(record, store.FAILED, f"the connector failed: {exc}")
            # else: tried again once its lease runs out
        else:
            await self._settle(record, store.SENT)

    async def _settle(self, record: ReactionRecord, state: str, error: str | None = None) -> None:
        if error is not None:
            log.warning("reaction %s failed: %s", record.handle, error)
        await self._writer.submit(lambda tx: store.settle(tx, record.handle, state, error))

    async def stop(self) -> None:
        self._begin_stop()
