"""The live event feed: new rows of the event log, fanned out to the open event streams.

One feed per process reads the log, not the writer's objects, so that a stream also carries
events another process committed (PostgreSQL). It keeps a cursor, the highest event id it has
read; woken after each group commit, and every `poll_interval_s` as a safety net (and for other
processes' commits), it reads the rows above the cursor once and hands each to the subscriptions
of its account that want its type. It reads nothing while no stream is open.

On PostgreSQL, ids are drawn when a transaction inserts and become visible when it commits,
so a row can appear below the cursor after the rows above it. The feed notes every id it
skipped as a gap and looks for it again on each read for `GAP_WAIT_S`; a gap that fills in is
fanned out late (out of id order), one that does not was a transaction that rolled back.

Each subscription buffers at most `queue_limit` frames. One that falls further behind is closed
rather than let grow: its client reconnects and repairs the gap over REST.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque

from ..domain.account_events import sse_frame
from ..domain.errors import ApiError
from ..store.database import Database
from ..store.events import (
    EventRow,
    event_ids_above,
    events_after,
    events_with_ids,
    last_event_id,
)

log = logging.getLogger(__name__)

GAP_WAIT_S = 10.0  # how long a transaction that drew an event id may take to commit it
GAP_PROBE = 1000  # ids below the floor checked for transactions still in flight, when starting
MAX_GAPS = 10_000


class Subscription:
    """What one open event stream receives: the frames of its account's events, in id order."""

    __slots__ = ("_feed", "_frames", "_limit", "_ready", "account_id", "closed_reason",
                 "floor", "sent", "types")

    def __init__(self, feed: EventFeed, account_id: int, types: frozenset[str], floor: int,
                 limit: int) -> None:
        self._feed = feed
        self.account_id = account_id
        self.types = types
        self.floor = floor  # events at or below it were committed before the subscription
        self._limit = limit
        self._frames: deque[bytes] = deque()
        self._ready = asyncio.Event()
        self.closed_reason: str | None = None
        self.sent = 0

    def push(self, frame: bytes) -> None:
        if self.closed_reason is not None:
            return
        if len(self._frames) >= self._limit:
            self.close("fell behind")
            return
        self._frames.append(frame)
        self._ready.set()

    async def next(self) -> list[bytes]:
        """The frames waiting, once there is at least one; an empty list once closed."""
        while not self._frames and self.closed_reason is None:
            self._ready.clear()
            await self._ready.wait()
        if self.closed_reason is not None:
            return []
        frames = list(self._frames)
        self._frames.clear()
        self.sent += len(frames)
        return frames

    def close(self, reason: str) -> None:
        """Stop receiving (idempotent). A waiting `next` returns at once."""
        if self.closed_reason is not None:
            return
        self.closed_reason = reason
        self._frames.clear()
        self._ready.set()
        self._feed._remove(self)


class EventFeed:
    def __init__(self, database: Database, *, poll_interval_s: float = 0.25, page: int = 500,
                 queue_limit: int = 10_000) -> None:
        self._database = database
        self._poll_interval_s = poll_interval_s
        self._page = page
        self._queue_limit = queue_limit
        self._cursor = 0
        self._gaps: dict[int, float] = {}  # an id skipped over -> when to stop looking for it
        self._by_account: dict[int, list[Subscription]] = {}
        self._count = 0
        self._wake = asyncio.Event()
        self._closed = False

    @property
    def subscribers(self) -> int:
        return self._count

    def wake(self) -> None:
        """Read the log soon (after a commit). Wake-ups before the read coalesce, and with no
        stream open there is nothing to do: the hot path pays one attribute test."""
        if self._count:
            self._wake.set()

    def subscribe(self, account_id: int, types: frozenset[str]) -> Subscription:
        """A subscription to the events the account commits from now on.

        Synchronous, so it holds before the caller answers: an event committed once the client
        has its response headers is always delivered.
        """
        if self._closed:
            raise ApiError(503, "The server is shutting down")
        floor = self._database.read(last_event_id)
        if self._count == 0:  # the feed was idle: what it skipped is no one's concern
            self._cursor = floor
            present = self._database.read(lambda conn: event_ids_above(conn, floor - GAP_PROBE))
            self._gaps = {}
            self._note_gaps(range(max(1, floor - GAP_PROBE + 1), floor + 1), set(present))
        subscription = Subscription(self, account_id, types, floor, self._queue_limit)
        self._by_account.setdefault(account_id, []).append(subscription)
        self._count += 1
        self._wake.set()  # from idle to polling
        return subscription

    def _remove(self, subscription: Subscription) -> None:
        subscriptions = self._by_account.get(subscription.account_id)
        if subscriptions and subscription in subscriptions:
            subscriptions.remove(subscription)
            self._count -= 1
            if not subscriptions:
                del self._by_account[subscription.account_id]

    def close(self) -> None:
        """End every subscription and refuse new ones (the server is stopping)."""
        self._closed = True
        for subscriptions in list(self._by_account.values()):
            for subscription in list(subscriptions):
                subscription.close("server stopping")
        self._wake.set()

    async def run(self) -> None:
        while not self._closed:
            if self._count == 0:
                await self._wake.wait()
            else:
                try:
                    async with asyncio.timeout(self._poll_interval_s):
                        await self._wake.wait()
                except TimeoutError:
                    pass
            self._wake.clear()
            if self._count and not self._closed:
                try:
                    full = await self._read_once()
                except Exception:
                    log.exception("reading the event log failed; retrying")
                    await asyncio.sleep(self._poll_interval_s)
                    continue
                if full:
                    self._wake.set()  # more rows wait: read again, after others had a turn
                    await asyncio.sleep(0)

    async def _read_once(self) -> bool:
        """Fan out the next page of the log, and the gaps that filled in; True when the page
        was full."""
        now = time.monotonic()
        self._gaps = {id_: until for id_, until in self._gaps.items() if until > now}
        gaps, cursor = list(self._gaps), self._cursor
        late, rows = await self._database.read_async(lambda conn: (
            events_with_ids(conn, gaps) if gaps else [],
            events_after(conn, cursor, self._page)))
        for row in late:
            del self._gaps[row.id]
            self._fan_out(row, late=True)
        if rows:
            self._note_gaps(range(cursor + 1, rows[-1].id), {row.id for row in rows})
            self._cursor = rows[-1].id
        for row in rows:
            self._fan_out(row)
        return len(rows) == self._page

    def _note_gaps(self, ids: range, present: set[int]) -> None:
        until = time.monotonic() + GAP_WAIT_S
        for id_ in ids[-MAX_GAPS:]:
            if id_ not in present and len(self._gaps) < MAX_GAPS:
                self._gaps[id_] = until

    def _fan_out(self, row: EventRow, *, late: bool = False) -> None:
        if row.account_id is None:
            return
        subscriptions = self._by_account.get(row.account_id)
        if not subscriptions:
            return
        frame: bytes | None = None
        for subscription in list(subscriptions):
            if (row.id <= subscription.floor and not late) or row.type not in subscription.types:
                continue
            if frame is None:
                frame = sse_frame(row.public_id, row.type, row.occurred_at, row.data)
                if frame is None:
                    log.warning("event %d (%s) has data that is not a JSON object; not sent",
                                row.id, row.type)
                    return
            subscription.push(frame)
