"""The sandbox network as the gateway runs it: the phones' state is in the database, so the
network outlives any one process, as a real network outlives a gateway.

Every message a phone receives is a row (store/sandbox_network.py) with what the phone knows
of it and what it does next (deliver, read) at a due time. The process that made the step due
holds a lease on it and does it on a timer; a process that dies leaves leases that run out,
and any process's sweep claims them and carries on. A step changes the row and reports what
it did (a status, a reply) in one transaction (`NetworkSink.together`), so neither happens
without the other and nothing is done twice.

The phones behave as connectors/sandbox.py describes; that module's in-memory network is what
an agent runs when it simulates a Mac (`bluewire agent --engine sandbox`). This is a gateway
component (it holds the store), as the agent hub is the agent connector's.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Protocol

from ..connectors.protocol import (
    EventSink,
    Inbound,
    OutboundMessage,
    OutboundReaction,
    Reaction,
    SendFailed,
    StatusUpdate,
    Typing,
)
from ..connectors.sandbox import (
    Behaviour,
    PhoneActionRefused,
    PhoneRead,
    PhoneSent,
    SandboxConnector,
    SandboxTiming,
    TypingSeen,
    behaviour_of,
    service_of,
)
from ..domain.errors import ErrorCode
from ..domain.statuses import RANK, Service, Status
from ..store import sandbox_network as store
from ..store.database import Database, now_ms
from ..store.leases import lease_clock_ms
from ..store.sandbox_network import Received
from ..store.writer import Tx, Writer

log = logging.getLogger(__name__)

Report = StatusUpdate | Inbound | Typing

# How long past its due time a step stays with the process that scheduled it; after that any
# process may take it (its holder is taken for dead).
SANDBOX_LEASE_MS = 10_000
_CLAIM_BATCH = 256

DELIVER, READ = "deliver", "read"


class TransactionalSink(EventSink, Protocol):
    def together(self, step: Callable[[Tx], Sequence[Report]]) -> asyncio.Future[None]: ...


@dataclass(slots=True)
class _Outcome:
    read: tuple[str, ...] = ()
    reported: tuple[str, ...] = ()
    delivered: tuple[str, ...] = ()


class SandboxNetwork:
    """The built-in network, shared through the database by every process on it."""

    capabilities = SandboxConnector.capabilities

    def __init__(self, writer: Writer, database: Database, timing: SandboxTiming | None = None,
                 *, lease_ms: int = SANDBOX_LEASE_MS, sweep_ms: int = 500) -> None:
        self.timing = timing or SandboxTiming()
        self._writer = writer
        self._database = database
        self._lease_ms = lease_ms
        self._sweep_s = sweep_ms / 1000
        self._sink: TransactionalSink | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        # The steps this process holds: their lease token, and the timer that does them.
        self._held: dict[tuple[str, str], int] = {}
        self._timers: dict[tuple[str, str], asyncio.TimerHandle] = {}
        self._sweeper: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        # Handed to the phones, not yet committed (the store is slow or down): the network has
        # these, though its rows do not say so yet.
        self._handing: Counter[str] = Counter()
        # What this turn of the loop handed over, and the steps that came due in it: each
        # batch is one statement or a few, in one transaction with what it reports.
        self._receiving: list[tuple[OutboundMessage, list[str]]] = []
        self._due_now: list[tuple[tuple[str, str], int, str]] = []

    async def start(self, sink: EventSink) -> None:
        assert hasattr(sink, "together"), "the sandbox network needs a transactional sink"
        self._sink = sink  # type: ignore[assignment]
        self._loop = asyncio.get_running_loop()
        self._sweeper = self._loop.create_task(self._sweep(), name="sandbox-network")

    async def stop(self) -> None:
        """Stop doing steps; let the ones held go, to whichever process is next (this one,
        restarted, or another)."""
        self._stopping.set()
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        held = [(handle, number, token) for (handle, number), token in self._held.items()]
        self._held.clear()
        if held:
            try:
                await self._writer.submit(lambda tx: store.release(tx, held))
            except Exception:  # their leases run out instead
                log.warning("could not hand back %d sandbox steps", len(held), exc_info=True)

    # -- the line's side: the connector protocol --------------------------------------------

    async def send(self, message: OutboundMessage) -> None:
        numbers = message.participants if message.group_id is not None else (message.number,)
        taking = [n for n in numbers if behaviour_of(n) is not Behaviour.FAILS]
        if not taking:
            if message.group_id is not None:
                raise SendFailed(ErrorCode.SEND_FAILED,
                                 f"no phone of group {message.group_id} takes the message")
            raise SendFailed(ErrorCode.SEND_FAILED,
                             f"the sandbox phone {message.number} refuses every message")
        self._handing[message.handle] += 1
        if not self._receiving:
            asyncio.get_running_loop().call_soon(self._flush_receiving)
        self._receiving.append((message, taking))

    def _flush_receiving(self) -> None:
        batch, self._receiving = self._receiving, []
        self._together(partial(self._receive, batch))

    def _receive(self, batch: list[tuple[OutboundMessage, list[str]]], tx: Tx) -> list[Report]:
        clock, now = lease_clock_ms(tx), now_ms()
        rows: list[Received] = []
        reports: list[Report] = []
        for message, numbers in batch:
            tx.after_commit(partial(self._handed, message.handle))
            self._received(message, numbers, clock, now, rows, reports)
        store.receive(tx, rows)
        for row in rows:
            if row.step is not None:
                tx.after_commit(partial(self._hold, row, self.timing.deliver_ms))
        return reports

    def _received(self, message: OutboundMessage, numbers: list[str], clock: int, now: int,
                  rows: list[Received], reports: list[Report]) -> None:
        group = message.group_id is not None
        for number in numbers:
            behaviour = behaviour_of(number)
            service = Service.IMESSAGE if group else service_of(behaviour)
            acts = behaviour not in (Behaviour.NEVER_RESOLVES, Behaviour.SMS, Behaviour.MANUAL)
            due = clock + self.timing.deliver_ms if acts else None
            rows.append(Received(
                handle=message.handle, number=number, line=message.line,
                group_id=message.group_id, status=Status.SENT.value, received_at=now,
                read_at=None, step=DELIVER if acts else None, due_at=due,
                claimed_until=due + self._lease_ms if due is not None else None))
            if behaviour is not Behaviour.NEVER_RESOLVES:
                reports.append(StatusUpdate(
                    handle=message.handle, status=Status.SENT, at_ms=now, service=service,
                    was_downgraded=True if service is Service.SMS else None,
                    number=number if group else None))

    def _handed(self, handle: str) -> None:
        self._handing[handle] -= 1
        if self._handing[handle] <= 0:
            del self._handing[handle]

    async def send_reaction(self, reaction: OutboundReaction) -> None:
        """The phones have it once its row says `sent` (the reactions table is what they see:
        every process shows the same); a phone on SMS, or that refuses everything, cannot."""
        numbers = reaction.participants if reaction.group_id is not None else (reaction.number,)
        if not any(behaviour_of(n) not in (Behaviour.SMS, Behaviour.FAILS) for n in numbers):
            raise SendFailed(ErrorCode.SEND_FAILED, f"the sandbox phone {reaction.number} "
                             "takes no tapbacks (SMS, or it refuses every message)")

    async def mark_read(self, line: str, number: str) -> None:
        """Nothing to keep: the receipts a line sent are the store's (read_receipts)."""

    async def set_typing(self, line: str, number: str, typing: bool) -> None:
        """The line shows (or stops showing) `number` that it is typing; SMS has no typing."""
        if behaviour_of(number) is not Behaviour.SMS:
            at = now_ms()
            await self._writer.submit(
                lambda tx: store.set_typing(tx, number, line, "line", typing, at))

    async def evaluate_service(self, line: str, number: str) -> Service | None:
        return service_of(behaviour_of(number))

    async def resolve(self, handle: str) -> StatusUpdate | None:
        """What the phones know of `handle`: nothing (never handed over: QUEUED, sent now), or
        the furthest any phone that reports got, as the line would have heard it."""
        if handle in self._handing:
            # Handed over by this process, its commit still waiting on the store: the phones
            # have it, so it is not sent again; it is followed for another lease.
            return StatusUpdate(handle=handle, status=Status.SENT, at_ms=now_ms())
        rows = await self._database.read_async(lambda conn: store.of_handle(conn, handle))
        if not rows:
            return StatusUpdate(handle=handle, status=Status.QUEUED, at_ms=now_ms())
        best: StatusUpdate | None = None
        for row in rows:
            behaviour = behaviour_of(row.number)
            if behaviour is Behaviour.NEVER_RESOLVES:
                continue
            service = Service.IMESSAGE if row.group_id else service_of(behaviour)
            status = Status(row.status)
            if status is Status.READ and behaviour in (Behaviour.NO_READ_RECEIPTS,
                                                       Behaviour.SMS):
                status = Status.SENT if service is Service.SMS else Status.DELIVERED
            if service is Service.SMS:
                status = Status.SENT
            if best is None or RANK[status] > RANK[best.status]:
                best = StatusUpdate(handle=handle, status=status, at_ms=now_ms(),
                                    service=service,
                                    was_downgraded=True if service is Service.SMS else None)
        return best

    # -- steps: what the phones do next -------------------------------------------------------

    def _together(self, step: Callable[[Tx], Sequence[Report]]) -> asyncio.Future[None]:
        assert self._sink is not None
        return self._sink.together(step)

    def _hold(self, row: Received, delay_ms: int) -> None:
        """Do `row`'s step in `delay_ms`, under the lease its `claimed_until` is."""
        if self._stopping.is_set() or self._loop is None:
            return
        assert row.claimed_until is not None and row.step is not None
        key = row.key
        self._held[key] = row.claimed_until
        old = self._timers.pop(key, None)
        if old is not None:
            old.cancel()
        self._timers[key] = self._loop.call_later(max(0, delay_ms) / 1000, self._due, key,
                                                  row.claimed_until, row.step)

    def _due(self, key: tuple[str, str], token: int, step: str) -> None:
        self._timers.pop(key, None)
        if self._stopping.is_set():
            return
        if not self._due_now:
            asyncio.get_running_loop().call_soon(self._flush_due)
        self._due_now.append((key, token, step))

    def _flush_due(self) -> None:
        batch, self._due_now = self._due_now, []
        self._together(partial(self._steps, batch))

    def _steps(self, batch: list[tuple[tuple[str, str], int, str]], tx: Tx) -> list[Report]:
        """Do the steps of `batch` still ours (a step taken over by another process, or done
        by hand meanwhile, is not): one statement for each kind of step and what follows it."""
        now, clock = now_ms(), lease_clock_ms(tx)
        plans: dict[tuple[str, int | None], list[tuple[str, str, int]]] = {}
        for (handle, number), token, step in batch:
            plans.setdefault((step, self._read_delay(number) if step == DELIVER else None),
                             []).append((handle, number, token))
        reports: list[Report] = []
        replies: list[tuple[str, str, str, Behaviour]] = []
        for (step, delay), keys in plans.items():
            if step == DELIVER:
                due = clock + delay if delay is not None else None
                done = store.advance(tx, keys, DELIVER, Status.DELIVERED.value, None,
                                     READ if due is not None else None, due,
                                     due + self._lease_ms if due is not None else None)
            else:
                due = None
                done = store.advance(tx, keys, READ, Status.READ.value, now, None, None, None)
            for handle, number, line, group_id in done:
                behaviour = behaviour_of(number)
                service = Service.IMESSAGE if group_id else service_of(behaviour)
                status = Status.DELIVERED if step == DELIVER else Status.READ
                reports.append(StatusUpdate(handle=handle, status=status, at_ms=now,
                                            service=service,
                                            number=number if group_id else None))
                if step == DELIVER and group_id is None and behaviour in (
                        Behaviour.ECHO, Behaviour.REPLIES_STOP):
                    replies.append((handle, number, line, behaviour))
                if due is not None:
                    after = Received(handle, number, line, group_id, status.value, now, None,
                                     READ, due, due + self._lease_ms)
                    tx.after_commit(partial(self._hold, after, delay or 0))
        for (handle, number), token, _ in batch:
            tx.after_commit(partial(self._let_go, (handle, number), token))
        if replies:
            contents = store.contents(tx, [handle for handle, *_ in replies])
            for handle, number, line, behaviour in replies:
                text = "STOP" if behaviour is Behaviour.REPLIES_STOP \
                    else f"echo: {contents.get(handle) or ''}"
                reports.append(Inbound(line=line, number=number, content=text, at_ms=now,
                                       service=service_of(behaviour)))
        return reports

    def _read_delay(self, number: str) -> int | None:
        """How long after delivery `number` reads (None: it never reads by itself)."""
        behaviour = behaviour_of(number)
        if behaviour is Behaviour.NO_READ_RECEIPTS:
            return None
        return self.timing.slow_read_ms if behaviour is Behaviour.SLOW_READ \
            else self.timing.read_ms

    def _let_go(self, key: tuple[str, str], token: int) -> None:
        if self._held.get(key) == token:
            del self._held[key]

    async def _sweep(self) -> None:
        """Claim, every sweep, the steps whose process is gone, and do them."""
        while not self._stopping.is_set():
            try:
                while claimed := await self._writer.submit(self._claim):
                    for row in claimed:
                        self._hold(row, 0)  # overdue: its holder let it go or died
                    if len(claimed) < _CLAIM_BATCH:
                        break
            except Exception:
                log.warning("could not claim sandbox steps; trying again", exc_info=True)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=self._sweep_s)

    def _claim(self, tx: Tx) -> list[Received]:
        now = lease_clock_ms(tx)
        return store.claim_orphans(tx, now, now + self._lease_ms, _CLAIM_BATCH)

    # -- the phone's side: what the sandbox API does when a test or a person acts as a phone --

    def phone_send(self, number: str, line: str, content: str | None,
                   media_urls: tuple[str, ...] = (), group_id: str | None = None, *,
                   route_to: int | None = None, reply_to: str | None = None,
                   handle: str | None = None) -> PhoneSent:
        """The phone sends one message (text, media or both) to `line`, or to the group
        `group_id` that `line` is in, answering `reply_to` inline if given: one Inbound (for
        account `route_to` only, when set), its first part stored as `handle` when given."""
        if not content and not media_urls:
            raise PhoneActionRefused("a message needs content or media")
        assert self._sink is not None
        service = service_of(behaviour_of(number))
        sent = PhoneSent(line, content, media_urls, service, now_ms(), group_id=group_id,
                         reply_to=reply_to)
        self._sink.inbound(Inbound(line=line, number=number, content=content,
                                   at_ms=sent.at_ms, service=service, media_urls=media_urls,
                                   group_id=group_id, route_to=route_to, reply_to=reply_to),
                          handle)
        return sent

    def phone_react(self, number: str, line: str, message_handle: str, reaction: str, *,
                    removed: bool = False, part_index: int = 0, group_id: str | None = None,
                    route_to: int | None = None) -> int:
        """The phone puts a tapback on (or takes it off) `message_handle`, a message it got
        from `line`: one Reaction report (for account `route_to` only, when set). Its time."""
        if behaviour_of(number) is Behaviour.SMS:
            raise PhoneActionRefused("is on SMS, which has no tapbacks")
        assert self._sink is not None
        at = now_ms()
        self._sink.reaction(Reaction(line=line, number=number, message_handle=message_handle,
                                     reaction=reaction, at_ms=at, removed=removed,
                                     part_index=part_index, group_id=group_id,
                                     route_to=route_to))
        return at

    async def phone_read(self, number: str, line: str, account_id: int) -> PhoneRead:
        """The phone opens its conversation with `line`: what it has of `account_id`'s
        messages and has not read is read now. DELIVERED messages are reported READ unless the
        phone has read receipts off or is on SMS (an SMS phone reads what it was sent, SENT)."""
        behaviour = behaviour_of(number)
        on_phone = (Status.DELIVERED, Status.SENT) if behaviour is Behaviour.SMS \
            else (Status.DELIVERED,)
        reports_reads = behaviour not in (Behaviour.NO_READ_RECEIPTS, Behaviour.SMS)
        outcome = _Outcome()

        def read(tx: Tx) -> list[Report]:
            now = now_ms()
            rows = store.held(tx, number, line, account_id, [s.value for s in on_phone])
            reports: list[Report] = []
            for row in rows:
                if row.status == Status.DELIVERED.value and reports_reads:
                    reports.append(StatusUpdate(
                        handle=row.handle, status=Status.READ, at_ms=now,
                        service=service_of(behaviour) if not row.group_id else Service.IMESSAGE,
                        number=number if row.group_id else None))
                row.status, row.read_at = Status.READ.value, now
                if row.step == READ:
                    row.step = row.due_at = row.claimed_until = None
            store.save(tx, rows)
            outcome.read = tuple(row.handle for row in rows)
            outcome.reported = tuple(report.handle for report in reports
                                     if isinstance(report, StatusUpdate))
            return reports

        await self._together(read)
        return PhoneRead(outcome.read, outcome.reported)

    async def phone_deliver(self, number: str, line: str, account_id: int) -> tuple[str, ...]:
        """A manual phone reports DELIVERED for what it has of `account_id`'s messages from
        `line` that is still SENT."""
        if behaviour_of(number) is not Behaviour.MANUAL:
            raise PhoneActionRefused(
                f"{number} is not a manual phone (+1 NPA 555-0108): it delivers by itself")
        outcome = _Outcome()

        def deliver(tx: Tx) -> list[Report]:
            now = now_ms()
            rows = store.held(tx, number, line, account_id, [Status.SENT.value])
            for row in rows:
                row.status = Status.DELIVERED.value
            store.save(tx, rows)
            outcome.delivered = tuple(row.handle for row in rows)
            return [StatusUpdate(handle=row.handle, status=Status.DELIVERED, at_ms=now,
                                 service=Service.IMESSAGE,
                                 number=number if row.group_id else None) for row in rows]

        await self._together(deliver)
        return outcome.delivered

    async def phone_type(self, number: str, line: str, typing: bool, *,
                         route_to: int | None = None) -> TypingSeen:
        """The phone starts (or stops) typing to `line` (seen by account `route_to` only, when
        set). On SMS nobody sees it."""
        state = TypingSeen(line, typing, now_ms())

        def type_(tx: Tx) -> list[Report]:
            store.set_typing(tx, number, line, "phone", typing, state.at_ms)
            if behaviour_of(number) is Behaviour.SMS:
                return []
            return [Typing(line, number, typing, state.at_ms, route_to=route_to)]

        await self._together(type_)
        return state

