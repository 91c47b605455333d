"""The event feed on PostgreSQL, where ids can become visible out of order."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import insert

from bluewire.domain.account_events import ALL_TYPES
from bluewire.store.schema import events

from ..databases import Postgres
from ..unit.test_event_feed import Log, open_log, received


@pytest.fixture
async def log(tmp_path: Path, postgres: Postgres) -> AsyncIterator[Log]:
    async with open_log(postgres.create(tmp_path)) as opened:
        yield opened


async def test_an_event_that_commits_after_a_higher_id_still_reaches_the_stream(
        log: Log) -> None:
    """A transaction that drew a lower id commits after one with a higher id was read: the
    feed must not skip it."""
    mine = log.feed.subscribe(1, ALL_TYPES)
    slow = log.database.engine.connect()  # another process's transaction, still open
    slow_tx = slow.begin()
    slow.execute(insert(events), {"public_id": "evt_slow", "account_id": 1,
                                  "type": "message.created", "occurred_at": 1_000,
                                  "message_handle": None, "data": json.dumps({"n": "slow"})})
    await log.add(1, "message.created", n="fast")  # a higher id, committed first
    assert [e["data"]["n"] for e in await received(mine, 1)] == ["fast"]
    slow_tx.commit()
    slow.close()
    log.feed.wake()  # its commit's NOTIFY, in a deployment
    assert [e["id"] for e in await received(mine, 1)] == ["evt_slow"]
