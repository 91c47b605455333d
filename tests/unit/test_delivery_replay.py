"""Replay's bound, over a real store on each engine (10,000 events are too slow to make over
HTTP)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import msgspec
import pytest
from sqlalchemy import func, insert, select

from bluewire.domain.errors import ApiError
from bluewire.domain.wire.webhooks import MAX_REPLAY_EVENTS, ReplayRequest
from bluewire.services.delivery_log import DeliveryLog
from bluewire.store.accounts import Account
from bluewire.store.database import Database
from bluewire.store.notifications import DELIVERIES
from bluewire.store.schema import accounts, deliveries, events
from bluewire.store.webhooks import NewEndpoint, add_endpoints
from bluewire.store.writer import Writer

from ..databases import Engine

ACCOUNT = Account(1, "a@x.com", "blue")
URL = "https://hooks.example.com/late"
RANGE = ReplayRequest(url=URL, since="1970-01-01T00:00:01Z", until="1970-01-01T00:00:09Z")


class Store:
    def __init__(self, database: Database, writer: Writer) -> None:
        self.database = database
        self.writer = writer
        self.woken = 0
        self.log = DeliveryLog(database, writer)
        writer.listen(DELIVERIES, self._wake)
        self.events = 0

    def _wake(self) -> None:
        self.woken += 1

    def add_events(self, count: int, type_: str = "message.updated") -> None:
        rows = [{"public_id": f"evt_{self.events + n}", "account_id": 1, "type": type_,
                 "occurred_at": 5_000, "message_handle": f"m{(self.events + n) % 7}",
                 "data": json.dumps({"n": self.events + n, "sendblue_number": "+14155550199"})}
                for n in range(count)]
        self.events += count
        with self.database.engine.begin() as conn:
            conn.execute(insert(events), rows)

    def deliveries(self) -> int:
        return self.database.read(
            lambda conn: conn.execute(select(func.count()).select_from(deliveries)).scalar_one())


@pytest.fixture
async def store(tmp_path: Path, engine: Engine) -> AsyncIterator[Store]:
    database = Database(engine.create(tmp_path))
    database.migrate()
    with database.engine.begin() as conn:
        conn.execute(insert(accounts), [{"id": 1, "email": "a@x.com", "created_at": 0}])
    writer = Writer(database)
    writer.start(asyncio.get_running_loop())
    await writer.submit(lambda tx: add_endpoints(tx, 1, [NewEndpoint("outbound", URL)], 0))
    yield Store(database, writer)
    writer.stop()
    database.dispose()


async def test_a_replay_of_up_to_the_bound_is_queued_and_wakes_the_worker(store: Store) -> None:
    store.add_events(MAX_REPLAY_EVENTS - 1)
    store.add_events(5, type_="message.received")  # heard by `receive` endpoints, not this one
    store.add_events(1)
    answer = await store.log.replay(ACCOUNT, RANGE)
    assert answer["queued"] == MAX_REPLAY_EVENTS
    assert store.deliveries() == MAX_REPLAY_EVENTS
    assert store.woken == 1


async def test_a_replay_above_the_bound_is_refused_whole(store: Store) -> None:
    store.add_events(MAX_REPLAY_EVENTS + 1)
    with pytest.raises(ApiError) as refused:
        await store.log.replay(ACCOUNT, RANGE)
    assert refused.value.http_status == 400 and refused.value.error_code == 4000
    assert f"more than {MAX_REPLAY_EVENTS} events" in refused.value.message
    assert store.deliveries() == 0 and store.woken == 0
    earlier = msgspec.structs.replace(RANGE, until="1970-01-01T00:00:04Z")
    narrower = await store.log.replay(ACCOUNT, earlier)
    assert narrower["queued"] == 0  # the events occurred at 5 s
