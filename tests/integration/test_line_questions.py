"""Questions for a line's agent connected to another process, through the database, on each
engine. Two relays on connections of their own stand for two processes; no notification
crosses between them here, so every answer is found by polling, as after a missed NOTIFY."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, text

from bluewire.agents.questions import FORGET_AFTER_MS, QuestionRelay
from bluewire.store import line_questions
from bluewire.store.database import Database, now_ms
from bluewire.store.writer import Writer

from ..databases import Engine

LINE = "+14155550123"


class Process:
    """A relay with its own database connections, serving `lines` with a scripted agent."""

    def __init__(self, url: str, lines: list[str]) -> None:
        self.url = url
        self.database = Database(url)
        self.writer = Writer(self.database)
        self.lines = lines
        self.asked: list[tuple[str, str, dict[str, Any]]] = []
        self.failures = 0  # answers to refuse before answering
        self.relay = QuestionRelay(self.database, self.writer, serving=lambda: self.lines,
                                   answerer=self._answer)
        self.task: asyncio.Task[None] | None = None

    async def _answer(self, line: str, kind: str, body: dict[str, Any]) -> dict[str, Any]:
        self.asked.append((line, kind, body))
        if self.failures:
            self.failures -= 1
            raise ConnectionError("the agent went away mid-question")
        return {"service": "SMS" if body["number"].endswith("1") else "iMessage"}

    def questions_left(self) -> int:
        return self.database.read(_count)

    async def close(self) -> None:
        if self.task is not None:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)
        await self.relay.stop()
        self.writer.stop()
        self.database.dispose()


def _count(conn: Connection) -> int:
    return int(conn.execute(text("SELECT count(*) FROM line_questions")).scalar_one())


@pytest.fixture
async def two(tmp_path: Path, engine: Engine) -> AsyncIterator[tuple[Process, Process]]:
    """`asking` serves no line; `serving` has the agent of LINE."""
    url = engine.create(tmp_path)
    Database(url).migrate()
    asking, serving = Process(url, []), Process(url, [LINE])
    loop = asyncio.get_running_loop()
    for process in (asking, serving):
        process.writer.start(loop)
        process.task = loop.create_task(process.relay.run())
    yield asking, serving
    await asking.close()
    await serving.close()


async def test_a_question_is_answered_by_the_process_serving_the_line(
        two: tuple[Process, Process]) -> None:
    asking, serving = two
    assert await asking.relay.ask(LINE, "lookup", {"number": "+12125550101"}, 10) == {
        "service": "SMS"}
    assert await asking.relay.ask(LINE, "lookup", {"number": "+12125550102"}, 10) == {
        "service": "iMessage"}
    assert serving.asked == [(LINE, "lookup", {"number": "+12125550101"}),
                             (LINE, "lookup", {"number": "+12125550102"})]
    assert asking.questions_left() == 0  # the asker cleared its questions away


async def test_a_question_no_process_answers_gives_up_and_leaves_nothing(
        two: tuple[Process, Process]) -> None:
    asking, serving = two
    assert await asking.relay.ask("+14155550999", "lookup", {"number": "+12125550101"},
                                  1.5) is None
    assert serving.asked == [] and asking.questions_left() == 0


async def test_an_answer_that_failed_is_tried_again_while_the_asker_waits(
        two: tuple[Process, Process]) -> None:
    asking, serving = two
    serving.failures = 1
    assert await asking.relay.ask(LINE, "lookup", {"number": "+12125550102"}, 10) == {
        "service": "iMessage"}
    assert len(serving.asked) == 2


async def test_questions_whose_asker_never_came_back_are_forgotten(
        two: tuple[Process, Process]) -> None:
    asking, _ = two
    await asking.writer.submit(partial(line_questions.ask, line="+14155550999", kind="lookup",
                                       body="{}", now=now_ms() - 2 * FORGET_AFTER_MS))
    fresh = Process(asking.url, [])  # a process starting now sweeps at once
    fresh.writer.start(asyncio.get_running_loop())
    fresh.task = asyncio.get_running_loop().create_task(fresh.relay.run())
    try:
        for _ in range(200):  # 10 s
            if not asking.questions_left():
                break
            await asyncio.sleep(0.05)
        assert asking.questions_left() == 0
    finally:
        await fresh.close()
