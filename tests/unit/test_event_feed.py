"""The live event feed over a real event log (on each engine), woken by the writer's group
commits."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert

from bluewire.domain.account_events import ALL_TYPES
from bluewire.services.event_feed import EventFeed, Subscription
from bluewire.store.database import Database
from bluewire.store.notifications import EVENTS
from bluewire.store.schema import accounts, events
from bluewire.store.writer import Writer

from ..databases import Engine


class Log:
    """A migrated store with two accounts, its writer, and a running feed."""

    def __init__(self, database: Database, writer: Writer, feed: EventFeed) -> None:
        self.database = database
        self.writer = writer
        self.feed = feed
        self.added = 0

    async def add(self, account_id: int | None, type_: str, **data: Any) -> None:
        self.added += 1
        row: dict[str, Any] = {"account_id": account_id, "type": type_, "occurred_at": 1_000,
                               "message_handle": None, "data": json.dumps(data)}
        row["public_id"] = f"evt_test_{self.added}"
        await self.writer.submit(lambda tx: (tx.insert(events, row), tx.notify(EVENTS)))


@pytest.fixture
async def log(tmp_path: Path, engine: Engine) -> AsyncIterator[Log]:
    async with open_log(engine.create(tmp_path)) as opened:
        yield opened


@asynccontextmanager
async def open_log(url: str) -> AsyncIterator[Log]:
    """A migrated store at `url` with two accounts, its writer, and a running feed."""
    database = Database(url)
    database.migrate()
    with database.engine.begin() as conn:
        conn.execute(insert(accounts), [{"id": 1, "email": "a@x.com", "created_at": 0},
                                        {"id": 2, "email": "b@x.com", "created_at": 0}])
    writer = Writer(database)
    writer.start(asyncio.get_running_loop())
    # A poll interval far longer than any test: only the writer's notification can wake the feed.
    feed = EventFeed(database, poll_interval_s=60, queue_limit=3)
    writer.listen(EVENTS, feed.wake)
    task = asyncio.create_task(feed.run())
    yield Log(database, writer, feed)
    feed.close()
    await task
    writer.stop()
    database.dispose()


async def received(subscription: Subscription, count: int) -> list[dict[str, Any]]:
    """The next `count` events of the subscription (they may come in several wake-ups)."""
    events: list[dict[str, Any]] = []
    async with asyncio.timeout(2):
        while len(events) < count:
            for frame in await subscription.next():
                event_line, data_line = frame.decode().rstrip("\n").split("\n")
                event = json.loads(data_line.removeprefix("data: "))
                assert event_line == f"event: {event['type']}"
                events.append(event)
    assert len(events) == count
    return events


async def test_a_subscription_gets_its_accounts_events_committed_after_it(log: Log) -> None:
    await log.add(1, "message.created", n=0)  # before: not sent
    mine = log.feed.subscribe(1, ALL_TYPES)
    other = log.feed.subscribe(2, ALL_TYPES)
    await log.add(1, "message.created", n=1)
    await log.add(2, "message.created", n=2)
    await log.add(None, "message.received", n=3)  # unrouted: no one's
    await log.add(1, "webhook.internal", n=4)  # not one of the 12 types
    await log.add(1, "message.updated", n=5)
    mine_events = await received(mine, 2)
    assert [(e["type"], e["data"]["n"]) for e in mine_events] == [("message.created", 1),
                                                                  ("message.updated", 5)]
    assert [e["data"]["n"] for e in await received(other, 1)] == [2]
    assert [e["id"] for e in mine_events] == ["evt_test_2", "evt_test_6"]  # the stored ids


async def test_the_types_filter_applies_per_subscription(log: Log) -> None:
    typing_only = log.feed.subscribe(1, frozenset({"typing.changed"}))
    await log.add(1, "message.created", n=1)
    await log.add(1, "typing.changed", n=2)
    assert [e["data"]["n"] for e in await received(typing_only, 1)] == [2]


async def test_a_subscriber_that_falls_behind_is_closed_not_buffered(log: Log) -> None:
    slow = log.feed.subscribe(1, ALL_TYPES)
    witness = log.feed.subscribe(2, ALL_TYPES)
    for n in range(4):  # one more than the queue limit, never read
        await log.add(1, "message.created", n=n)
    await log.add(2, "message.created", n=4)
    await received(witness, 1)  # so the feed has handed out everything before it
    assert slow.closed_reason == "fell behind"
    assert await slow.next() == []
    assert log.feed.subscribers == 1


async def test_closing_the_feed_ends_every_subscription_and_refuses_new_ones(log: Log) -> None:
    waiting = log.feed.subscribe(1, ALL_TYPES)
    pending = asyncio.create_task(waiting.next())
    await asyncio.sleep(0)
    log.feed.close()
    async with asyncio.timeout(1):
        assert await pending == []
    assert waiting.closed_reason == "server stopping"
    with pytest.raises(Exception, match="shutting down"):
        log.feed.subscribe(1, ALL_TYPES)


async def test_an_unsubscribed_stream_leaves_the_feed(log: Log) -> None:
    first = log.feed.subscribe(1, ALL_TYPES)
    second = log.feed.subscribe(1, ALL_TYPES)
    first.close("client disconnected")
    assert log.feed.subscribers == 1
    await log.add(1, "message.created", n=1)
    assert [e["data"]["n"] for e in await received(second, 1)] == [1]
    second.close("client disconnected")
    assert log.feed.subscribers == 0

