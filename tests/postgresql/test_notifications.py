"""Processes wake each other through LISTEN/NOTIFY: a commit that makes work wakes every other
process at once, and a rolled-back one wakes no one."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from functools import partial
from pathlib import Path

import pytest

from bluewire.store import messages
from bluewire.store.database import Database, now_ms
from bluewire.store.notifications import CHANNELS, DELIVERIES, MESSAGES, Listener
from bluewire.store.writer import Writer

from ..databases import Postgres


class Process:
    """A writer and a listener on their own connections, recording what woke it."""

    def __init__(self, url: str) -> None:
        self.database = Database(url)
        self.writer = Writer(self.database)
        self.woken: list[str] = []
        self.heard = asyncio.Event()
        self.listener = Listener(self.database.libpq_dsn(), self._notified,
                                 own_pids=lambda: {self.writer.backend_pid or 0})

    def _notified(self, channel: str) -> None:
        self.woken.append(channel)
        self.heard.set()

    async def start(self) -> None:
        self.writer.start(asyncio.get_running_loop())
        self.listener.start()
        async with asyncio.timeout(10):  # a listener wakes everything once it is connected,
            await self.heard.wait()  # for what was notified while no one listened
        assert self.listener.connected and sorted(self.woken) == sorted(CHANNELS)
        self.woken.clear()
        self.heard.clear()

    async def stop(self) -> None:
        await self.listener.stop()
        self.writer.stop()
        self.database.dispose()


@pytest.fixture
async def two(tmp_path: Path, postgres: Postgres) -> AsyncIterator[tuple[Process, Process]]:
    url = postgres.create(tmp_path)
    a, b = Process(url), Process(url)
    await a.start()
    await b.start()
    yield a, b
    await a.stop()
    await b.stop()


async def test_a_commit_that_makes_work_wakes_the_other_process(
        two: tuple[Process, Process]) -> None:
    a, b = two
    await b.writer.submit(lambda tx: (tx.query("SELECT 1"), tx.notify(MESSAGES)))
    async with asyncio.timeout(5):
        await a.heard.wait()
    assert a.woken == [MESSAGES]
    assert b.woken == []  # its own commit woke its workers directly, not through LISTEN


async def test_a_rolled_back_write_wakes_no_one(two: tuple[Process, Process]) -> None:
    a, b = two

    def fails(tx: object) -> None:
        tx.notify(DELIVERIES)  # type: ignore[attr-defined]
        raise ValueError("refused")

    with pytest.raises(ValueError):
        await b.writer.submit(fails)
    await b.writer.submit(lambda tx: tx.notify(MESSAGES))  # a later commit, as a marker
    async with asyncio.timeout(5):
        await a.heard.wait()
    await asyncio.sleep(0.2)
    assert a.woken == [MESSAGES]


async def test_pulling_a_connected_lines_messages_wakes_no_one_when_there_are_none(
        two: tuple[Process, Process]) -> None:
    """The process serving a Mac's agent pulls its lines' handed-back messages every half
    second: with none to pull, the other processes are left asleep."""
    a, b = two
    b.database.migrate()
    await b.writer.submit(partial(messages.due_now_on, lines=["+14155550123"], now=now_ms()))
    await b.writer.submit(lambda tx: tx.notify(DELIVERIES))  # a later commit, as a marker
    async with asyncio.timeout(5):
        await a.heard.wait()
    await asyncio.sleep(0.2)
    assert a.woken == [DELIVERIES]
