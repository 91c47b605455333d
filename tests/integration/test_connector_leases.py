"""Owning what must run in one process: leases in the database, on each engine.

Two keepers on two connections of their own stand for two processes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bluewire.services.ownership import LeaseKeeper
from bluewire.store.database import Database
from bluewire.store.writer import Writer

from ..databases import Engine

LINE = "line:+14155550123"
TERM_MS = 2000  # far above a stall of a loaded machine: the test's steps are well inside it


class Process:
    """A keeper with its own database connections, recording the leases it lost."""

    def __init__(self, url: str, name: str) -> None:
        self.database = Database(url)
        self.writer = Writer(self.database)
        self.lost: list[str] = []
        self.keeper = LeaseKeeper(self.database, self.writer, owner=name, term_ms=TERM_MS,
                                  on_lost=self._lost)

    async def _lost(self, name: str) -> None:
        self.lost.append(name)

    def close(self) -> None:
        self.writer.stop()
        self.database.dispose()


@pytest.fixture
async def two(tmp_path: Path, engine: Engine) -> AsyncIterator[tuple[Process, Process]]:
    url = engine.create(tmp_path)
    Database(url).migrate()
    a, b = Process(url, "a"), Process(url, "b")
    loop = asyncio.get_running_loop()
    a.writer.start(loop)
    b.writer.start(loop)
    yield a, b
    a.close()
    b.close()


async def test_one_process_holds_a_lease_and_another_takes_it_over_when_it_dies(
        two: tuple[Process, Process]) -> None:
    a, b = two
    assert await a.keeper.take(LINE)
    assert not await b.keeper.take(LINE)
    assert a.keeper.holds(LINE) and not b.keeper.holds(LINE)
    assert await a.keeper.held_anywhere([LINE, "line:+10000000000"]) == {LINE}
    assert await b.keeper.held_anywhere([LINE]) == {LINE}  # b sees a's lease

    await asyncio.sleep(TERM_MS / 3000)
    await a.keeper.renew()  # a renews within its term: b still waits
    assert not await b.keeper.take(LINE)
    assert a.keeper.holds(LINE)

    await asyncio.sleep(TERM_MS / 1000 + 0.1)  # a "dies": it renews no more
    assert not a.keeper.holds(LINE)  # and knows by its own clock it may no longer run it
    assert await b.keeper.held_anywhere([LINE]) == set()
    assert await b.keeper.take(LINE)
    assert b.keeper.holds(LINE)

    await a.keeper.renew()  # a comes back: b holds it now, so a stops and does not retake it
    assert not a.keeper.holds(LINE) and a.lost == [LINE]
    await a.keeper.renew()
    assert a.lost == [LINE] and await b.keeper.held_anywhere([LINE]) == {LINE}
    await b.keeper.renew()
    assert b.keeper.holds(LINE) and b.lost == []


async def test_a_lease_given_up_passes_on_at_once(two: tuple[Process, Process]) -> None:
    a, b = two
    assert await a.keeper.take(LINE)
    await a.keeper.give_up(LINE)
    assert a.lost == []  # given up, not lost
    assert await b.keeper.take(LINE)  # no waiting out the term


async def test_a_clean_stop_releases_what_is_held(two: tuple[Process, Process]) -> None:
    a, b = two
    assert await a.keeper.take(LINE)
    await a.keeper.stop()
    assert a.lost == [LINE]  # what ran under it is stopped
    assert await b.keeper.take(LINE)
