"""Asking a line's agent that is connected to another gateway process.

A Mac's agent holds one connection, to the process holding its line's lease; a request that
needs an answer from it (is this number on iMessage?) can reach any process. That process
writes the question to the database, the serving process answers it there, and the asker reads
the answer. NOTIFY wakes both ends at once; a missed one costs a poll interval.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from ..store import line_questions as store
from ..store.database import Database, now_ms
from ..store.line_questions import Question
from ..store.writer import Writer

log = logging.getLogger(__name__)

POLL_S = 0.5  # for a missed notification
FORGET_AFTER_MS = 60_000  # a question whose asker never came back for its answer

Answer = dict[str, Any]
Answerer = Callable[[str, str, Answer], Awaitable[Answer]]  # (line, kind, body) -> answer


class QuestionRelay:
    """`ask` puts a question to the process serving a line; `run` answers, with `answerer`,
    the questions for the lines `serving()` names (those whose agent is connected here)."""

    def __init__(self, database: Database, writer: Writer, *,
                 serving: Callable[[], list[str]], answerer: Answerer) -> None:
        self._database = database
        self._writer = writer
        self._serving = serving
        self._answerer = answerer
        self._waiting: dict[int, asyncio.Future[Answer]] = {}
        self._answering: set[int] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._woken = asyncio.Event()
        self._forgot_at = 0

    def wake(self) -> None:
        self._woken.set()

    async def ask(self, line: str, kind: str, body: Answer, timeout_s: float) -> Answer | None:
        """The serving process's answer, or None if none came within `timeout_s`."""
        question_id = await self._writer.submit(partial(
            store.ask, line=line, kind=kind, body=json.dumps(body), now=now_ms()))
        waiter: asyncio.Future[Answer] = asyncio.get_running_loop().create_future()
        self._waiting[question_id] = waiter
        try:
            return await asyncio.wait_for(asyncio.shield(waiter), timeout_s)
        except TimeoutError:
            log.info("no answer to a %s question for line %s within %.0f s",
                     kind, line, timeout_s)
            return None
        finally:
            del self._waiting[question_id]
            with contextlib.suppress(Exception):  # left behind, it is forgotten later
                await self._writer.submit(partial(store.forget, question_ids=[question_id]))

    async def run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(POLL_S):
                    await self._woken.wait()
            self._woken.clear()
            try:
                await self._round()
            except Exception as exc:  # the database is away: the next round tries again
                log.warning("line questions could not be read (%s)", exc)

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _round(self) -> None:
        if self._waiting:
            found = await self._database.read_async(
                partial(store.answers, question_ids=list(self._waiting)))
            for question_id, answer in found.items():
                waiter = self._waiting.get(question_id)
                if waiter is not None and not waiter.done():
                    waiter.set_result(json.loads(answer))
        lines = self._serving()
        if lines:
            for question in await self._database.read_async(partial(store.open_for,
                                                                    lines=lines)):
                if question.id not in self._answering:
                    self._answering.add(question.id)
                    task = asyncio.get_running_loop().create_task(self._answer(question))
                    self._tasks.add(task)
                    task.add_done_callback(self._tasks.discard)
        now = now_ms()
        if now - self._forgot_at > FORGET_AFTER_MS:
            self._forgot_at = now
            await self._writer.submit(partial(store.forget_asked_before,
                                              before=now - FORGET_AFTER_MS))

    async def _answer(self, question: Question) -> None:
        try:
            answer = await self._answerer(question.line, question.kind, json.loads(question.body))
            await self._writer.submit(partial(store.answer, question_id=question.id,
                                              answer=json.dumps(answer), now=now_ms()))
        except Exception:
            log.warning("question %d for line %s could not be answered", question.id,
                        question.line, exc_info=True)
        finally:
            self._answering.discard(question.id)
