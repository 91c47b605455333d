"""The sink connectors report to: events are buffered and applied in group commits."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial

from ..connectors.protocol import GroupChange, Inbound, Reaction, StatusUpdate, Typing
from ..domain.handles import new_handle
from ..services.network import NetworkReports
from ..store.writer import Tx, Writer

log = logging.getLogger(__name__)

Report = StatusUpdate | Inbound | Typing | GroupChange | Reaction

_RETRY_SECONDS = 0.5


@dataclass(slots=True)
class _Together:
    """A connector's own state change and the reports it makes, in one transaction."""

    step: Callable[[Tx], Sequence[Report]]
    done: asyncio.Future[None]


class NetworkSink:
    """Collects what connectors report and writes it, in order, one batch per commit."""

    def __init__(self, writer: Writer, reports: NetworkReports,
                 on_applied: Callable[[], None] = lambda: None) -> None:
        self._writer = writer
        self._reports = reports
        self._on_applied = on_applied
        self._pending: list[tuple[Report | _Together, str | None]] = []
        self._flusher: asyncio.Task[None] | None = None
        self._given: Counter[str] = Counter()  # handles to check, by reports pending

    def status(self, update: StatusUpdate) -> None:
        self._add(update, None)

    def inbound(self, message: Inbound, handle: str | None = None) -> None:
        """With `handle` (derived from a re-sendable event id) the inbound is recorded once:
        skipped, in the transaction that would insert it, if that handle exists already."""
        if handle is not None:
            self._given[handle] += 1
        self._add(message, handle or new_handle())

    def typing(self, event: Typing) -> None:
        self._add(event, None)

    def reaction(self, event: Reaction, handle: str | None = None) -> None:
        """As `inbound`: with `handle` (derived from a re-sendable event id) recorded once."""
        if handle is not None:
            self._given[handle] += 1
        self._add(event, handle or new_handle())

    def group_change(self, change: GroupChange) -> None:
        self._add(change, None)

    def together(self, step: Callable[[Tx], Sequence[Report]]) -> asyncio.Future[None]:
        """Run `step` in the transaction that records what it returns, in order with the
        reports made before it: a connector whose own state is in the database (the sandbox
        network) moves it with what it reports, so neither happens without the other. The
        future is done once that has committed (`step` runs again if the commit failed)."""
        done = asyncio.get_running_loop().create_future()
        self._add(_Together(step, done), None)
        return done

    def _add(self, report: Report | _Together, handle: str | None) -> None:
        self._pending.append((report, handle))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.get_running_loop().create_task(self._flush())

    async def _flush(self) -> None:
        while self._pending:
            reports, self._pending = self._pending, []
            try:
                await self._writer.submit(lambda tx, reports=reports: self._apply(tx, reports))
            except Exception:
                log.exception("could not record %d network reports; retrying", len(reports))
                self._pending[:0] = reports
                await asyncio.sleep(_RETRY_SECONDS)

    def _apply(self, tx: Tx, reports: list[tuple[Report | _Together, str | None]]) -> None:
        run: list[StatusUpdate] = []
        for entry, given in reports:
            if isinstance(entry, _Together):
                if run:  # the step sees the database as the reports before it left it
                    self._reports.apply_status_updates(tx, run)
                    run = []
                made = [(report, new_handle() if isinstance(report, Inbound | Reaction)
                         else None) for report in entry.step(tx)]
                tx.after_commit(partial(_finish, entry.done))
            else:
                made = [(entry, given)]
            for report, handle in made:
                if isinstance(report, StatusUpdate):
                    run.append(report)
                    continue
                if run:
                    self._reports.apply_status_updates(tx, run)
                    run = []
                if isinstance(report, Inbound):
                    assert handle is not None
                    if self._recorded(tx, handle, "messages"):
                        continue
                    self._reports.record_inbound(tx, report, handle)
                elif isinstance(report, Reaction):
                    assert handle is not None
                    if self._recorded(tx, handle, "reactions"):
                        continue
                    self._reports.record_reaction(tx, report, handle)
                elif isinstance(report, GroupChange):
                    self._reports.record_group_change(tx, report)
                else:
                    self._reports.record_typing(tx, report)
        if run:
            self._reports.apply_status_updates(tx, run)
        tx.after_commit(self._on_applied)

    def _recorded(self, tx: Tx, handle: str, table: str) -> bool:
        """Whether a report given `handle` by its connector is in `table` already (only those
        are looked up: a handle made here is new)."""
        if not self._given[handle]:
            return False
        tx.after_commit(partial(self._forget, handle))
        return bool(tx.query(f"SELECT 1 FROM {table} WHERE handle = ?", (handle,)))

    def _forget(self, handle: str) -> None:
        self._given[handle] -= 1
        if self._given[handle] <= 0:
            del self._given[handle]

    async def drain(self) -> None:
        """Wait until everything reported so far is committed."""
        while self._flusher is not None and not self._flusher.done():
            await asyncio.shield(self._flusher)


def _finish(done: asyncio.Future[None]) -> None:
    if not done.done():
        done.set_result(None)
