"""Claims due messages with a lease and hands each to its line's connector.

A message claimed for the first time is sent. A message claimed again has not reached a
terminal status within its lease (or the process holding it died), and may already have been
handed over, so it is never sent twice: its connector is asked what became of it. A connector
that still follows it answers with its latest status, and the message waits another lease; one
that knows it never received the message has it sent now; one that cannot say ends it in
ERROR 10002.
"""

from __future__ import annotations

import asyncio
import logging
import time

from ..connectors.protocol import (
    Connector,
    LineOffline,
    OutboundMessage,
    SendFailed,
    StatusUpdate,
)
from ..domain.errors import ERROR_TEXT, ErrorCode
from ..domain.messages import MessageRecord
from ..domain.statuses import UNRESOLVED, Status
from ..services.lines import ConnectorRegistry
from ..store import messages as store
from ..store.database import now_ms
from ..store.leases import lease_clock_ms
from ..store.writer import Tx, Writer
from ..sweeping import SweepingWorker
from .sink import NetworkSink

log = logging.getLogger(__name__)

# A message for a line whose connection is not in this process (a Mac's agent away, or
# connected to another process) is handed back for this long. The process that holds the
# connection makes its lines' messages due again at once (`_pull_held_lines`), so this only
# bounds how often an offline line's whole queue is claimed and handed back.
_OFFLINE_RETRY_MS = 30_000
_PULL_EVERY_S = 0.5


class Dispatcher(SweepingWorker):
    def __init__(self, writer: Writer, registry: ConnectorRegistry, sink: NetworkSink, *,
                 lease_ms: int, batch: int, sweep_ms: int) -> None:
        super().__init__(sweep_ms)
        self._writer = writer
        self._registry = registry
        self._sink = sink
        self._lease_ms = lease_ms
        self._batch = batch
        self._in_hand: set[str] = set()
        self._pulled_at = float("-inf")

    async def _round(self) -> None:
        """Dispatch everything due, batch after batch."""
        await self._pull_held_lines()
        while not self._stopping:
            claimed = await self._writer.submit(self._claim)
            if not claimed:
                return
            self._beat()
            self._in_hand.update(message.handle for message in claimed)
            await asyncio.gather(*(self._dispatch(message) for message in claimed))
            if len(claimed) < self._batch:
                return  # every due message was claimed: what comes due next wakes the worker

    def _claim(self, tx: Tx) -> list[MessageRecord]:
        now = lease_clock_ms(tx)
        return store.claim_due(tx, now, now + self._lease_ms, self._batch)

    async def _dispatch(self, message: MessageRecord) -> None:
        try:
            if self._stopping:
                return  # handed back by stop()
            self._in_hand.discard(message.handle)
            connector = self._registry.for_line(message.line)
            if connector is None:
                self._fail(message, ErrorCode.SEND_FAILED,
                           f"line {message.line} has no connector serving it")
            elif message.dispatch_attempts == 1 and message.status is Status.QUEUED:
                await self._send(message, connector)
            else:
                await self._resolve(message, connector)
        except Exception:
            log.exception("dispatch of %s failed", message.handle,
                          extra={"message_handle": message.handle})

    async def _send(self, message: MessageRecord, connector: Connector) -> None:
        try:
            await connector.send(OutboundMessage(
                handle=message.handle, line=message.line, number=message.number,
                content=message.content, media_url=message.media_url,
                send_style=message.send_style, group_id=message.group_id,
                participants=message.participants, reply_to=message.reply_to,
                reply_to_part=message.reply_to_part,
            ))
        except LineOffline:
            # Stays QUEUED, the attempt not used: sent once the line's agent is back.
            await self._writer.submit(lambda tx: store.release_claims(
                tx, [message.handle], due_at=lease_clock_ms(tx) + _OFFLINE_RETRY_MS))
        except SendFailed as exc:
            self._fail(message, exc.code, exc.reason)
        except Exception as exc:
            log.exception("connector failed to send %s", message.handle,
                          extra={"message_handle": message.handle})
            self._fail(message, ErrorCode.SEND_FAILED, f"the connector failed: {exc}")

    async def _resolve(self, message: MessageRecord, connector: Connector) -> None:
        try:
            update = await connector.resolve(message.handle)
        except Exception:
            log.exception("connector failed to resolve %s", message.handle,
                          extra={"message_handle": message.handle})
            update = None
        if update is not None and update.status is Status.QUEUED:
            log.info("%s was never handed over; sending it now", message.handle,
                     extra={"message_handle": message.handle})
            await self._send(message, connector)
        elif update is not None and update.status not in UNRESOLVED:
            self._sink.status(update)
        else:
            self._fail(message, ErrorCode.UNRESOLVED, ERROR_TEXT[ErrorCode.UNRESOLVED])

    def _fail(self, message: MessageRecord, code: int, reason: str) -> None:
        log.warning("message %s failed with %d: %s", message.handle, code, reason,
                    extra={"message_handle": message.handle})
        self._sink.status(StatusUpdate(handle=message.handle, status=Status.ERROR,
                                       at_ms=now_ms(), error_code=code, error_message=reason))

    async def _pull_held_lines(self) -> None:
        """Make due now what was handed back for the lines whose connection this process holds
        (by this process before it connected, or by others), every half second at most."""
        if time.monotonic() - self._pulled_at < _PULL_EVERY_S:
            return
        self._pulled_at = time.monotonic()
        lines = self._registry.held_lines()
        if lines:
            await self._writer.submit(lambda tx: store.due_now_on(tx, lines, lease_clock_ms(tx)))

    def lines_connected(self) -> None:
        """A connection serving lines arrived here: pull their messages on the next round."""
        self._pulled_at = float("-inf")
        self.wake()

    async def stop(self) -> None:
        """Stop claiming; hand back what was claimed but not yet given to a connector."""
        self._begin_stop()
        if self._in_hand:
            handles, self._in_hand = list(self._in_hand), set()
            await self._writer.submit(lambda tx: store.release_claims(tx, handles))
